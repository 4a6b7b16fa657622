"""pynn.LBFGS through Sequential.fit: scipy's L-BFGS-B on the full-batch loss and gradient.
Its iterates are scipy's own on the same function, one history_ entry per iteration, the
same bits for 1 and 2 threads; limits warn; a callback, Ctrl-C and a NaN loss leave the
model at the last accepted iterate; what does not apply is refused by name."""

import warnings

import numpy as np
import pytest
import scipy.optimize
from helpers import assert_bitwise_equal

import pynn
from pynn.core.full_batch import full_batch_loss_and_grad

pytestmark = pytest.mark.usefixtures("restore_threads")


def data(n=300, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    y = (X[:, 0] * X[:, 1] + 0.3 * X[:, 2] > 0).astype(int) + (X[:, 3] > 1)
    return X, y


def model_of(dtype="float64", dropout=False, width=12):
    layers = [pynn.Dense(5, width, activation="tanh")]
    layers += [pynn.Dropout(0.2)] if dropout else []
    return pynn.Sequential(*layers, pynn.Dense(width, 3), dtype=dtype, random_state=7)


def fit_lbfgs(model, X, y, epochs=15, **kwargs):
    options = {key: kwargs.pop(key) for key in list(kwargs) if key in ("max_fun", "tol")}
    decay = {key: kwargs.pop(key) for key in list(kwargs) if key.startswith("weight_decay")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pynn.ConvergenceWarning)
        return model.fit(
            X,
            y,
            loss="softmax_cross_entropy",
            optimizer=pynn.LBFGS(**options, **decay),
            epochs=epochs,
            **kwargs,
        )


def scipy_reference(X, y, epochs, weight_decay=0.0, sample_weight=None):
    """scipy's L-BFGS-B on the model's full-batch loss (plus the weights' L2 penalty),
    and its objective after each iteration."""
    model = model_of()
    model.fit(X, y, loss="softmax_cross_entropy", epochs=0)  # the loss and targets set
    target = model.targets_.encode(y, model.dtype)
    ranges = model.weight_ranges()
    curve = []

    def after_iteration(intermediate_result):  # scipy passes the result by this name
        curve.append(intermediate_result.fun)

    def function(x):
        model.flat_params[...] = x
        value, grad = full_batch_loss_and_grad(model, X, target, sample_weight)
        squares = 0.0
        for a, b in ranges:
            squares += float(np.dot(x[a:b], x[a:b]))
            grad[a:b] += weight_decay * x[a:b]
        return value + 0.5 * weight_decay * squares, grad

    result = scipy.optimize.minimize(
        function,
        model.flat_params.copy(),
        method="L-BFGS-B",
        jac=True,
        callback=after_iteration,
        options={"maxiter": epochs, "maxfun": 15000, "gtol": 1e-5},
    )
    return result, curve


@pytest.mark.parametrize("weighted", [False, True])
def test_the_iterates_are_scipys_on_the_full_batch_loss(weighted):
    X, y = data()
    w = np.random.default_rng(3).uniform(0.2, 2, len(X)) if weighted else None
    model = fit_lbfgs(
        model_of(), X, y, 12, sample_weight=w, weight_decay=0.01, weight_decay_scope="weights"
    )
    result, curve = scipy_reference(X, y, 12, 0.01, w)
    assert_bitwise_equal(model.flat_params, result.x, "parameters")
    assert model.history_["objective"] == curve
    assert model.optimizer_.n_iter == result.nit == len(model.history_["loss"]) == 12
    assert model.optimizer_.n_fun == result.nfev and model.optimizer_.fun == result.fun
    evaluated = model.evaluate(X, y, sample_weight=w)["loss"]
    assert model.history_["loss"][-1] == pytest.approx(evaluated, rel=1e-12)
    assert model.history_["loss"][-1] < model.history_["loss"][0]


def test_the_limits_warn_with_scipys_reason():
    X, y = data()
    with pytest.warns(pynn.ConvergenceWarning, match="ITERATIONS REACHED LIMIT"):
        model_of().fit(X, y, loss="softmax_cross_entropy", optimizer=pynn.LBFGS(), epochs=3)
    model = model_of()
    with pytest.warns(pynn.ConvergenceWarning, match="EVALUATIONS EXCEEDS LIMIT"):
        model.fit(X, y, loss="softmax_cross_entropy", optimizer=pynn.LBFGS(max_fun=6), epochs=50)
    assert model.optimizer_.status == 1 and model.optimizer_.n_iter <= 6


def test_convergence_gives_no_warning():
    X, y = data(60)
    with warnings.catch_warnings():
        warnings.simplefilter("error", pynn.ConvergenceWarning)
        model = model_of().fit(
            X, y, loss="softmax_cross_entropy", optimizer=pynn.LBFGS(tol=1e-2), epochs=500
        )
    assert model.optimizer_.status == 0 and model.optimizer_.n_iter < 500


class NaNAfter(pynn.losses.Loss):
    """mse-free softmax cross-entropy that turns NaN after `calls` evaluations."""

    def __init__(self, calls):
        base = pynn.losses.LOSSES["softmax_cross_entropy"]
        super().__init__(base.name, base.kernel, base.grad_name, base.proba, base.target_kinds)
        self.calls = calls

    def __call__(self, *args, **kwargs):
        self.calls -= 1
        value = super().__call__(*args, **kwargs)
        return np.nan if self.calls < 0 else value


def test_a_nan_loss_leaves_the_last_accepted_iterate():
    X, y = data()
    model = model_of()
    with pytest.raises(pynn.NonFiniteLossError, match="last accepted iterate"):
        model.fit(X, y, loss=NaNAfter(8), optimizer=pynn.LBFGS(), epochs=50)
    accepted = len(model.history_["loss"])
    assert 1 <= accepted < 8
    expected = fit_lbfgs(model_of(), X, y, accepted).flat_params
    np.testing.assert_allclose(model.flat_params, expected, rtol=1e-12, atol=1e-14)


def test_hyperparameters_are_checked_and_it_takes_no_step():
    with pytest.raises(ValueError, match="max_fun"):
        pynn.LBFGS(max_fun=0)
    with pytest.raises(ValueError, match="tol"):
        pynn.LBFGS(tol=-1.0)
    with pytest.raises(TypeError, match="history_size"):
        pynn.LBFGS(history_size=2.5)
    with pytest.raises(TypeError, match="no steps"):
        pynn.LBFGS().step()
    assert repr(pynn.LBFGS(max_fun=9)).startswith("LBFGS(max_fun=9, tol=1e-05")
