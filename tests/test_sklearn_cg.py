"""solver="cg" in pynn.sklearn (pynn's own: scikit-learn has no such solver): pynn.CG over
all rows with solver="lbfgs"'s meanings of max_iter, tol, alpha, n_iter_, loss_curve_ and
the ConvergenceWarning. The estimator's run is a direct pynn.CG fit of the same network on
the same objective, bit for bit."""

import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn_cases import regression, three_classes  # noqa: E402

import pynn  # noqa: E402
from pynn.sklearn import MLPClassifier, MLPRegressor  # noqa: E402
from pynn.sklearn.full_batch import FULL_BATCH_SOLVERS  # noqa: E402
from pynn.sklearn.params import SOLVERS  # noqa: E402
from pynn.sklearn.random_streams import fit_random_state  # noqa: E402


def quietly(estimator, X, y, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y, **kwargs)


@pytest.mark.parametrize("weighted", [False, True])
def test_the_run_is_a_direct_pynn_cg_fit_of_the_same_network(weighted):
    X, y = regression()
    w = np.random.default_rng(1).uniform(0.5, 2, len(X)) if weighted else None
    params = dict(hidden_layer_sizes=(7,), activation="tanh", alpha=0.3, max_iter=20)
    est = quietly(
        MLPRegressor(solver="cg", random_state=3, dtype="float64", n_threads=1, **params),
        X, y, sample_weight=w,
    )  # fmt: skip
    # the estimator's initial network: the first draws of the fit's random stream
    model = est._new_model((7,), "tanh", np.dtype("float64"), 3, 1, fit_random_state(3))
    n_weight = len(X) if w is None else float(np.sum(w))
    optimizer = pynn.CG(tol=1e-4, weight_decay=0.3 / n_weight, weight_decay_scope="weights")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pynn.ConvergenceWarning)
        model.partial_fit(
            X, y, sample_weight=w, loss="mse", optimizer=optimizer, epochs=20, batch_size=None,
            shuffle=False,
        )  # fmt: skip
    assert np.array_equal(est.model_.flat_params, model.flat_params)
    assert est.loss_curve_ == model.history_["objective"]
    assert est.n_iter_ == optimizer.n_iter == len(est.loss_curve_) == 20
    assert est.loss_ == optimizer.fun == est.loss_curve_[-1]


def test_it_converges_on_small_data_and_fits():
    X, y = three_classes(150)
    est = MLPClassifier(
        solver="cg", hidden_layer_sizes=(10,), activation="tanh", tol=1e-3, max_iter=3000,
        random_state=0, dtype="float64",
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.fit(X, y)
    assert est.model_.optimizer_.status == 0 and est.n_iter_ < 3000
    assert len(est.loss_curve_) == est.n_iter_
    assert est.loss_curve_[-1] < 0.3 * est.loss_curve_[0]
    assert est.score(X, y) > 0.95
    assert est.best_loss_ is None and est.validation_scores_ is None


def test_the_convergence_warning_at_max_iter_names_cg():
    X, y = three_classes(150)
    est = MLPClassifier(solver="cg", hidden_layer_sizes=(6,), max_iter=4, random_state=0)
    with pytest.warns(ConvergenceWarning) as caught:
        est.fit(X, y)
    message = str(caught[0].message)
    assert message.startswith("cg failed to converge after 4 iteration(s) (status=1):")
    assert "Increase the number of iterations to improve the convergence (max_iter=4)" in (message)
    assert est.n_iter_ == 4 == len(est.loss_curve_)


def test_max_fun_and_the_stochastic_options_are_not_read():
    X, y = regression()
    params = dict(solver="cg", hidden_layer_sizes=(5,), random_state=0, max_iter=15)
    plain = quietly(MLPRegressor(**params), X, y)
    other = quietly(
        MLPRegressor(
            **params, max_fun=2, early_stopping=True, batch_size=7, learning_rate_init=0.5
        ),
        X, y,
    )  # fmt: skip
    assert np.array_equal(plain.model_.flat_params, other.model_.flat_params)
    assert other.n_iter_ == 15


def test_partial_fit_is_refused_and_warm_start_continues():
    X, y = three_classes(150)
    with pytest.raises(AttributeError, match="cg is not stochastic"):
        MLPClassifier(solver="cg").partial_fit(X, y, classes=np.unique(y))
    est = MLPClassifier(solver="cg", hidden_layer_sizes=(5,), max_iter=6, warm_start=True)
    quietly(quietly(est, X, y), X, y)
    assert len(est.loss_curve_) == 12 and est.n_iter_ == 6
    assert est.loss_curve_[6] < est.loss_curve_[5]


def test_each_full_batch_solver_is_an_estimator_solver():
    """The table from solver name to pynn class: each entry a public full-batch optimizer
    that the estimators accept and train with."""
    assert {"lbfgs": pynn.LBFGS, "cg": pynn.CG}.items() <= FULL_BATCH_SOLVERS.items()
    X, y = regression(40)
    for name, solver_class in FULL_BATCH_SOLVERS.items():
        assert solver_class.full_batch and getattr(pynn, solver_class.__name__) is solver_class
        assert name in SOLVERS  # the table is the only list of their names
        est = quietly(MLPRegressor(solver=name, hidden_layer_sizes=(3,), max_iter=3), X, y)
        assert type(est.model_.optimizer_) is solver_class
