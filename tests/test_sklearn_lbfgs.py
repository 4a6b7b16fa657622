"""solver="lbfgs" in pynn.sklearn follows scikit-learn's L-BFGS run: with the same
random_state and dtype="float64", the same iterations, objective per iteration, losses,
parameters and predictions within rounding, for 25 iterations (L-BFGS amplifies rounding:
after a few hundred iterations the two runs part, as two scikit-learn builds would); the
same warnings; the stochastic solvers' options ignored as there."""

import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")
import scipy.optimize  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from test_sklearn_same_model import CASES, case_data  # noqa: E402

RTOL = 1e-8  # what holds over 25 iterations (seen: 1e-9 at worst)


def scikit_learn_curve(estimator, X, y, sample_weight, monkeypatch):
    """Fit scikit-learn's estimator, recording the objective after each L-BFGS iteration
    (scikit-learn keeps no loss_curve_ for lbfgs)."""
    curve, minimize = [], scipy.optimize.minimize

    def recording(*args, **kwargs):
        def after_iteration(intermediate_result):
            curve.append(intermediate_result.fun)

        return minimize(*args, callback=after_iteration, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(scipy.optimize, "minimize", recording)
        estimator.fit(X, y, sample_weight=sample_weight)
    return curve


def both(case, monkeypatch, weighted=False, **params):
    ours, theirs, X, y, extra = case_data(case)
    w = np.random.default_rng(0).uniform(0, 2, len(X)) if weighted else None
    params = dict(extra, solver="lbfgs", **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mine = ours(**params, dtype="float64", n_threads=1).fit(X, y, sample_weight=w)
        theirs = theirs(**params)
        curve = scikit_learn_curve(theirs, X, y, w, monkeypatch)
    return mine, theirs, curve, X


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("case", CASES)
def test_the_same_random_state_follows_scikit_learns_lbfgs(case, weighted, monkeypatch):
    mine, theirs, curve, X = both(
        case, monkeypatch, weighted, hidden_layer_sizes=(7, 5), alpha=0.3, max_iter=25,
        random_state=3,
    )  # fmt: skip
    assert mine.n_iter_ == theirs.n_iter_ == len(curve) == 25
    np.testing.assert_allclose(mine.loss_curve_, curve, rtol=RTOL)
    assert mine.loss_ == pytest.approx(theirs.loss_, rel=RTOL)
    assert mine.loss_curve_[-1] == mine.loss_
    for a, b in zip(mine.coefs_ + mine.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=RTOL)
    if case in ("multiclass", "binary", "multilabel"):
        assert np.array_equal(mine.predict(X), theirs.predict(X))
        np.testing.assert_allclose(mine.predict_proba(X), theirs.predict_proba(X), rtol=RTOL)
    else:
        np.testing.assert_allclose(mine.predict(X), theirs.predict(X), rtol=RTOL)


@pytest.mark.parametrize("case", ["binary", "regression"])
def test_max_fun_stops_as_scikit_learns(case, monkeypatch):
    mine, theirs, curve, _ = both(case, monkeypatch, max_fun=12, max_iter=100, random_state=1)
    assert mine.n_iter_ == theirs.n_iter_ == len(curve) <= 12
    np.testing.assert_allclose(mine.loss_curve_, curve, rtol=RTOL)


def warning_texts(estimator, X, y):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        estimator.fit(X, y)
    return [(w.category, str(w.message)) for w in caught]


@pytest.mark.parametrize("limits", [dict(max_iter=4), dict(max_fun=5, max_iter=50)])
def test_the_convergence_warning_is_scikit_learns(limits):
    ours, theirs, X, y, _ = case_data("multiclass")
    params = dict(solver="lbfgs", hidden_layer_sizes=(6,), random_state=0, **limits)
    mine = warning_texts(ours(**params, dtype="float64"), X, y)
    expected = warning_texts(theirs(**params), X, y)
    assert mine == expected and expected[0][0] is ConvergenceWarning


def test_convergence_gives_no_warning_and_stops_early():
    ours, theirs, X, y, _ = case_data("binary")
    params = dict(solver="lbfgs", hidden_layer_sizes=(6,), tol=1e-2, random_state=0)
    assert warning_texts(ours(**params, dtype="float64"), X, y) == []
    est = ours(**params, dtype="float64").fit(X, y)
    assert est.n_iter_ == theirs(**params).fit(X, y).n_iter_ < 200


def test_the_stochastic_options_are_ignored():
    ours, _, X, y, _ = case_data("multiclass")
    params = dict(solver="lbfgs", hidden_layer_sizes=(6,), random_state=0, max_iter=15)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = ours(**params).fit(X, y)
        other = ours(
            **params, early_stopping=True, batch_size=7, shuffle=False, learning_rate_init=0.5
        ).fit(X, y)
    assert np.array_equal(plain.model_.flat_params, other.model_.flat_params)
    assert other.validation_scores_ is None and other.best_loss_ is None


def test_partial_fit_is_refused_as_scikit_learn_refuses_it():
    ours, theirs, X, y, _ = case_data("multiclass")
    for cls in (ours, theirs):
        with pytest.raises(AttributeError, match="has no attribute 'partial_fit'"):
            cls(solver="lbfgs").partial_fit(X, y, classes=np.unique(y))


def test_warm_start_continues_from_the_fitted_network(monkeypatch):
    ours, theirs, X, y, _ = case_data("regression")
    params = dict(solver="lbfgs", hidden_layer_sizes=(5,), random_state=2, max_iter=8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mine = ours(**params, warm_start=True, dtype="float64").fit(X, y).fit(X, y)
        sk = theirs(**params, warm_start=True).fit(X, y).fit(X, y)
    assert len(mine.loss_curve_) == 16 and mine.n_iter_ == sk.n_iter_ == 8
    assert mine.loss_ == pytest.approx(sk.loss_, rel=RTOL)
