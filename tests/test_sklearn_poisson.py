"""pynn.sklearn.MLPRegressor(loss="poisson") against scikit-learn's: the network's output
is the log-rate, predict returns exp of it (out_activation_ "exp"), score is the R² of those
predictions, and loss_ is half the mean Poisson deviance (scikit-learn's poisson_loss)."""

import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.metrics import r2_score  # noqa: E402
from sklearn.neural_network import MLPRegressor as SklearnMLPRegressor  # noqa: E402
from sklearn.neural_network._base import poisson_loss  # noqa: E402

from pynn.sklearn import MLPRegressor  # noqa: E402

PARAMS = dict(
    hidden_layer_sizes=(8,),
    activation="tanh",
    loss="poisson",
    learning_rate_init=0.01,
    max_iter=60,
    batch_size=64,
    random_state=0,
)


def counts(n, outputs=1, seed=5):
    """Poisson counts of the rate exp(X·w + 0.5), and that rate."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.5, 1.5, (n, 3))
    w = np.array([[0.6, -0.4, 0.3], [-0.2, 0.5, 0.1]])[:outputs].T
    rate = np.exp(X @ w + 0.5)
    y = rng.poisson(rate).astype(np.float64)
    return X, (y[:, 0], rate[:, 0]) if outputs == 1 else (y, rate)


def fit(cls, X, y, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn's ConvergenceWarning
        return cls(**{**PARAMS, **params}).fit(X, y)


@pytest.mark.parametrize("outputs", [1, 2])
def test_same_meaning_as_scikit_learns(outputs):
    """Same data and settings: the same output activation and shapes, positive predictions,
    score = r2_score of predict, and about the same fit (measured with one output: R² 0.502
    against scikit-learn's 0.500, the true rate's 0.511; loss_ 0.579 against 0.573)."""
    X, (y, rate) = counts(1500, outputs)
    X_train, y_train, X_test, y_test = X[:1000], y[:1000], X[1000:], y[1000:]
    ours, theirs = fit(MLPRegressor, X_train, y_train), fit(SklearnMLPRegressor, X_train, y_train)
    assert ours.out_activation_ == theirs.out_activation_ == "exp"
    p, q = ours.predict(X_test), theirs.predict(X_test)
    assert p.shape == q.shape == y_test.shape and p.dtype == np.float64
    assert (p > 0).all() and (q > 0).all()
    for est, pred in ((ours, p), (theirs, q)):
        assert est.score(X_test, y_test) == pytest.approx(r2_score(y_test, pred), rel=1e-12)
    best = r2_score(y_test, rate[1000:])
    assert ours.score(X_test, y_test) > best - 0.05
    assert abs(ours.score(X_test, y_test) - theirs.score(X_test, y_test)) < 0.03
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=0.03)


def test_loss_is_scikit_learns_poisson_loss():
    """One full batch per partial_fit: loss_ is scikit-learn's poisson_loss (half the
    deviance, its y log y - y term included) of the predictions before the step (alpha=0:
    no penalty term), in float64 to 1e-12."""
    X, (y, _) = counts(200)
    est = MLPRegressor(**{**PARAMS, "batch_size": 200, "alpha": 0.0, "dtype": "float64"})
    est.partial_fit(X, y)
    before = est.predict(X)
    est.partial_fit(X, y)
    assert est.loss_ == pytest.approx(poisson_loss(y, before), rel=1e-12)
    assert est.loss_curve_[-1] == est.loss_


def test_predict_is_exp_of_the_network_output():
    X, (y, _) = counts(300)
    est = fit(MLPRegressor, X, y, max_iter=5)
    z = est.model_.decision_function(np.asarray(X, dtype=np.float32))
    np.testing.assert_array_equal(est.predict(X), np.exp(z[:, 0]).astype(np.float64))


@pytest.mark.parametrize("bad, message", [(-1.0, "y for the poisson loss"), (np.nan, "NaN")])
def test_targets_must_be_finite_and_non_negative(bad, message):
    X, (y, _) = counts(50)
    y[3] = bad
    with pytest.raises(ValueError, match=message):
        fit(MLPRegressor, X, y)


def test_normalize_y_is_refused_with_poisson():
    X, (y, _) = counts(50)
    est = MLPRegressor(loss="poisson", normalize_y=True)
    with pytest.raises(ValueError, match="normalize_y=True does not go with loss='poisson'"):
        est.fit(X, y)
    assert not hasattr(est, "model_")
