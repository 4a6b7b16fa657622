"""pynn.sklearn trains scikit-learn's network: with the same parameters and random_state (and
dtype="float64") its initial parameters, validation split, batches, steps, logged losses and
stopping epoch are scikit-learn's, within rounding."""

import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")
from sklearn import neural_network  # noqa: E402
from sklearn_cases import fit_quietly, regression, three_classes  # noqa: E402

from pynn.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

CASES = ["multiclass", "binary", "multilabel", "regression", "two outputs", "poisson"]


def case_data(case):
    """(pynn's estimator class, scikit-learn's, X, y, extra parameters)."""
    if case in ("multiclass", "binary", "multilabel"):
        X, y = three_classes(150)
        if case == "binary":
            y = np.where(y == "ant", "ant", "no")
        if case == "multilabel":
            y = np.column_stack([y == "ant", y == "bee", X[:, 2] > 0]).astype(int)
        return MLPClassifier, neural_network.MLPClassifier, X, y, {}
    X, y = regression(outputs=2 if case == "two outputs" else None)
    if case == "poisson":
        return MLPRegressor, neural_network.MLPRegressor, X, np.exp(y / 2), {"loss": "poisson"}
    return MLPRegressor, neural_network.MLPRegressor, X, y, {}


def both(case, X=None, **params):
    ours, theirs, X_case, y, extra = case_data(case)
    X = X_case if X is None else X
    params = dict(extra, **params)
    mine = fit_quietly(ours(**params, dtype="float64", n_threads=1), X, y)
    return mine, fit_quietly(theirs(**params), X, y), X, y


def assert_same_network(mine, theirs, X, rtol=1e-12):
    assert mine.n_iter_ == theirs.n_iter_ and mine.t_ == theirs.t_
    np.testing.assert_allclose(mine.loss_curve_, theirs.loss_curve_, rtol=rtol)
    for a, b in zip(mine.coefs_ + mine.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol)
    if isinstance(mine, MLPClassifier):
        assert np.array_equal(mine.predict(X), theirs.predict(X))
    else:
        np.testing.assert_allclose(mine.predict(X), theirs.predict(X), rtol=rtol)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_the_same_random_state_trains_scikit_learns_network(case, solver):
    # alpha's L2 term and decay batch by batch, the last batch smaller (150 = 3·40 + 30)
    mine, theirs, X, _ = both(
        case,
        hidden_layer_sizes=(7, 5),
        solver=solver,
        batch_size=40,
        alpha=0.3,
        learning_rate_init=0.01,
        max_iter=8,
        random_state=3,
    )
    assert_same_network(mine, theirs, X)


@pytest.mark.parametrize("case", ["binary", "multiclass", "regression"])
def test_the_validation_split_and_scores_are_scikit_learns(case):
    mine, theirs, X, _ = both(
        case, hidden_layer_sizes=(6,), early_stopping=True, max_iter=6, random_state=5
    )
    assert_same_network(mine, theirs, X)
    np.testing.assert_allclose(mine.validation_scores_, theirs.validation_scores_, rtol=1e-12)


def test_the_defaults_stop_at_scikit_learns_epoch():
    # the default network, Adam and stopping rule, until the loss stalls
    mine, theirs, X, _ = both("multiclass", max_iter=400, random_state=0, tol=1e-3)
    assert mine.n_iter_ < 400
    assert_same_network(mine, theirs, X, rtol=1e-9)


def test_a_log_loss_past_minus_log_eps_is_logged_clipped_as_scikit_learns():
    # unscaled inputs: some rows' probability of their class is below eps, where
    # scikit-learn clips it; its gradient is the unclipped loss's, and so is pynn's
    _, _, X, y, _ = case_data("multiclass")
    X = X * 300.0
    mine, theirs, _, _ = both(
        "multiclass", X=X, hidden_layer_sizes=(8,), max_iter=3, random_state=0
    )
    assert_same_network(mine, theirs, X)
    # rows past the bound: the trained network's loss on some rows is above -log(eps)
    logits = mine.model_.decision_function(X)
    rows = np.log(np.exp(logits - logits.max(1, keepdims=True)).sum(1)) + logits.max(1)
    rows -= logits[np.arange(len(y)), np.searchsorted(mine.classes_, y)]
    assert rows.max() > -np.log(np.finfo(np.float64).eps)


@pytest.mark.parametrize("case", ["multiclass", "regression"])
def test_partial_fit_and_warm_start_continue_as_scikit_learns(case):
    ours, theirs, X, y, extra = case_data(case)
    params = dict(extra, hidden_layer_sizes=(6,), batch_size=50, random_state=2, max_iter=3)
    fitted = []
    for cls, own in ((ours, dict(dtype="float64", n_threads=1)), (theirs, {})):
        est = cls(**params, **own)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for _ in range(3):  # each call: a new RandomState(2), as scikit-learn's
                if cls is MLPClassifier or cls is neural_network.MLPClassifier:
                    est.partial_fit(X, y, classes=np.unique(y))
                else:
                    est.partial_fit(X, y)
            est.set_params(warm_start=True).fit(X, y)
        fitted.append(est)
    assert_same_network(*fitted, X)


def test_a_random_state_object_is_drawn_from_as_scikit_learns():
    _, _, X, y, _ = case_data("binary")
    params = dict(hidden_layer_sizes=(4,), max_iter=3)
    mine = MLPClassifier(**params, random_state=np.random.RandomState(9), dtype="float64")
    theirs = neural_network.MLPClassifier(**params, random_state=np.random.RandomState(9))
    assert_same_network(fit_quietly(mine, X, y), fit_quietly(theirs, X, y), X)
