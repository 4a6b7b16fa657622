"""pynn.CG through Sequential.fit: scipy's nonlinear conjugate gradients on the full-batch
loss and gradient. Its iterates are scipy's own on the same function, one history_ entry
per iteration, the same bits for 1 and 2 threads; the iteration limit warns; a callback,
early stopping, Ctrl-C and a NaN loss leave the model at the last accepted iterate; what
does not apply is refused by name. It shares LBFGS's fit loop (tests/test_lbfgs.py)."""

import warnings

import numpy as np
import pytest
import scipy.optimize
from helpers import assert_bitwise_equal
from test_lbfgs import NaNAfter, data, model_of

import pynn
from pynn.core.full_batch import full_batch_loss_and_grad

pytestmark = pytest.mark.usefixtures("restore_threads")


def fit_cg(model, X, y, epochs=15, **kwargs):
    names = ("tol", "c1", "c2", "weight_decay", "weight_decay_scope")
    options = {key: kwargs.pop(key) for key in list(kwargs) if key in names}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pynn.ConvergenceWarning)
        return model.fit(
            X, y, loss="softmax_cross_entropy", optimizer=pynn.CG(**options), epochs=epochs,
            **kwargs,
        )  # fmt: skip


def scipy_reference(X, y, epochs, weight_decay=0.0, sample_weight=None, c2=0.4):
    """scipy's CG on the model's full-batch loss (plus the weights' L2 penalty), its
    objective after each iteration, and how often it evaluated the function."""
    model = model_of()
    model.fit(X, y, loss="softmax_cross_entropy", epochs=0)  # the loss and targets set
    target = model.targets_.encode(y, model.dtype)
    ranges = model.weight_ranges()
    curve, calls = [], [0]

    def after_iteration(intermediate_result):  # scipy passes the result by this name
        curve.append(intermediate_result.fun)

    def function(x):
        calls[0] += 1
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
        method="CG",
        jac=True,
        callback=after_iteration,
        options={"maxiter": epochs, "gtol": 1e-5, "c2": c2},
    )
    return result, curve, calls[0]


@pytest.mark.parametrize("weighted", [False, True])
def test_the_iterates_are_scipys_on_the_full_batch_loss(weighted):
    X, y = data()
    w = np.random.default_rng(3).uniform(0.2, 2, len(X)) if weighted else None
    model = fit_cg(
        model_of(), X, y, 20, sample_weight=w, weight_decay=0.01, weight_decay_scope="weights"
    )
    result, curve, calls = scipy_reference(X, y, 20, 0.01, w)
    assert_bitwise_equal(model.flat_params, result.x, "parameters")
    assert model.history_["objective"] == curve
    assert model.optimizer_.n_iter == result.nit == len(model.history_["loss"]) == 20
    # scipy's nfev is every evaluation: each is one pass over all rows
    assert model.optimizer_.n_fun == result.nfev == calls
    assert model.optimizer_.fun == result.fun
    evaluated = model.evaluate(X, y, sample_weight=w)["loss"]
    assert model.history_["loss"][-1] == pytest.approx(evaluated, rel=1e-12)
    assert model.history_["loss"][-1] < 0.8 * model.history_["loss"][0]


def test_the_line_search_constant_reaches_scipy():
    X, y = data()
    model = fit_cg(model_of(), X, y, 8, c2=0.1)
    result, curve, _ = scipy_reference(X, y, 8, c2=0.1)
    assert_bitwise_equal(model.flat_params, result.x, "parameters")
    assert model.history_["objective"] == curve
    default, _, _ = scipy_reference(X, y, 8)
    assert not np.array_equal(default.x, result.x)  # c2 changed the run


def test_the_iteration_limit_warns_with_scipys_reason_naming_cg():
    X, y = data()
    model = model_of()
    with pytest.warns(pynn.ConvergenceWarning, match="CG failed to converge") as caught:
        model.fit(X, y, loss="softmax_cross_entropy", optimizer=pynn.CG(), epochs=3)
    message = str(caught[0].message)
    assert "Maximum number of iterations has been exceeded" in message
    assert "max_fun" not in message  # CG has no evaluation limit
    assert model.optimizer_.status == 1 and model.optimizer_.n_iter == 3


def test_convergence_gives_no_warning():
    X, y = data(60)
    with warnings.catch_warnings():
        warnings.simplefilter("error", pynn.ConvergenceWarning)
        model = model_of().fit(
            X, y, loss="softmax_cross_entropy", optimizer=pynn.CG(tol=1e-2), epochs=2000
        )
    assert model.optimizer_.status == 0 and model.optimizer_.n_iter < 2000
    X_all, y_all = data(60)
    target = model.targets_.encode(y_all, model.dtype)
    _, grad = full_batch_loss_and_grad(model, X_all, target)
    assert np.max(np.abs(grad)) <= 1e-2


def test_a_nan_loss_leaves_the_last_accepted_iterate():
    X, y = data()
    model = model_of()
    with pytest.raises(pynn.NonFiniteLossError, match="CG iteration .*last accepted iterate"):
        model.fit(X, y, loss=NaNAfter(8), optimizer=pynn.CG(), epochs=50)
    accepted = len(model.history_["loss"])
    assert 1 <= accepted < 8
    expected = fit_cg(model_of(), X, y, accepted).flat_params
    np.testing.assert_allclose(model.flat_params, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(
    "arguments, error, match",
    [
        (dict(tol=-1.0), ValueError, "tol"),
        (dict(tol="small"), TypeError, "tol"),
        (dict(c1=0.0), ValueError, "0 < c1 < c2 < 1"),
        (dict(c1=0.5, c2=0.4), ValueError, "0 < c1 < c2 < 1"),
        (dict(c2=1.0), ValueError, "c2"),
        (dict(weight_decay=-0.1), ValueError, "weight_decay"),
        (dict(weight_decay_scope="biases"), ValueError, "weight_decay_scope"),
    ],
)
def test_hyperparameters_are_checked(arguments, error, match):
    with pytest.raises(error, match=match):
        pynn.CG(**arguments)


def test_it_takes_no_step_and_shows_its_settings():
    with pytest.raises(TypeError, match="CG takes no steps"):
        pynn.CG().step()
    assert repr(pynn.CG(tol=1e-3)) == (
        "CG(tol=0.001, c1=0.0001, c2=0.4, weight_decay=0.0, weight_decay_scope='all')"
    )
    assert pynn.CG.full_batch and pynn.optim.CG is pynn.CG
