"""pynn.NewtonCG through Sequential.fit: scipy's trust-ncg on the full-batch loss with the
exact Hessian-vector product. Its iterates are scipy's own on the same functions (the
weight-decay penalty's Hessian term included), it converges on a small problem, it counts
evaluations and products, a callback, early stopping and Ctrl-C leave the model at the
last accepted iterate, and what does not apply is refused by name."""

import warnings

import numpy as np
import pytest
import scipy.optimize
from helpers import assert_bitwise_equal
from test_lbfgs import data, model_of

import pynn
from pynn.core.full_batch import FullBatch
from pynn.core.full_batch_curvature import FullBatchCurvature

pytestmark = pytest.mark.usefixtures("restore_threads")


def fit_newton(model, X, y, epochs=10, loss="softmax_cross_entropy", **kwargs):
    names = ("tol", "initial_trust_radius", "max_trust_radius", "eta")
    options = {key: kwargs.pop(key) for key in list(kwargs) if key in names}
    decay = {key: kwargs.pop(key) for key in list(kwargs) if key.startswith("weight_decay")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pynn.ConvergenceWarning)
        return model.fit(
            X, y, loss=loss, optimizer=pynn.NewtonCG(**options, **decay), epochs=epochs, **kwargs
        )


def scipy_reference(X, y, epochs, weight_decay=0.0, sample_weight=None):
    """scipy's trust-ncg on the model's full-batch loss plus the weights' L2 penalty, its
    hessp the full-batch Hessian product plus the penalty's weight_decay * v."""
    model = model_of()
    model.fit(X, y, loss="softmax_cross_entropy", epochs=0)  # the loss and targets set
    target = model.targets_.encode(y, model.dtype)
    w = None if sample_weight is None else sample_weight.astype(model.dtype)
    full = FullBatch(model, X, target, w, logged_value=True)
    curvature = FullBatchCurvature(full)
    ranges = model.weight_ranges()
    curve = []
    result = scipy.optimize.OptimizeResult(products=0)  # hessp's calls, counted here

    def function(x):
        model.flat_params[...] = x
        value = full.evaluate()
        grad = full.grad.copy()
        squares = 0.0
        for a, b in ranges:
            squares += float(np.dot(x[a:b], x[a:b]))
            grad[a:b] += weight_decay * x[a:b]
        return value + 0.5 * weight_decay * squares, grad

    def hessp(x, v):
        result.products += 1
        model.flat_params[...] = x
        curvature.evaluate(v)
        product = curvature.product.copy()
        for a, b in ranges:
            product[a:b] += weight_decay * v[a:b]
        return product

    result.update(
        scipy.optimize.minimize(
            function,
            model.flat_params.copy(),
            method="trust-ncg",
            jac=True,
            hessp=hessp,
            callback=lambda intermediate_result: curve.append(intermediate_result.fun),
            options={"maxiter": epochs, "gtol": 1e-5},
        )
    )
    return result, curve


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("weight_decay", [0.0, 0.05])
def test_the_iterates_are_scipys_on_the_full_batch_functions(weighted, weight_decay):
    X, y = data()
    w = np.random.default_rng(3).uniform(0.2, 2, len(X)) if weighted else None
    model = fit_newton(
        model_of(), X, y, 8, sample_weight=w, weight_decay=weight_decay,
        weight_decay_scope="weights",
    )  # fmt: skip
    result, curve = scipy_reference(X, y, 8, weight_decay, w)
    assert_bitwise_equal(model.flat_params, result.x, "parameters")
    assert model.history_["objective"] == curve
    optimizer = model.optimizer_
    assert optimizer.n_iter == result.nit == len(model.history_["loss"]) == 8
    assert optimizer.n_fun == result.nfev and optimizer.fun == result.fun
    assert optimizer.n_products == result.products > optimizer.n_iter  # several CG steps each
    assert model.history_["loss"][-1] < model.history_["loss"][0]


def test_the_penalty_adds_its_hessian_term():
    """NewtonCG's penalty_product adds weight_decay * v on the decayed ranges only: the
    central difference of its penalty's gradient."""
    X, y = data(30)
    model = fit_newton(model_of(), X, y, 1, weight_decay=0.3, weight_decay_scope="weights")
    optimizer = model.optimizer_
    rng = np.random.default_rng(0)
    x, v = rng.normal(size=(2, model.flat_params.size))
    product = np.zeros_like(v)
    optimizer.penalty_product(v, product)
    grads = []
    for sign in (1, -1):
        grads.append(np.zeros_like(x))
        optimizer.penalty(x + sign * 1e-3 * v, grads[-1])
    np.testing.assert_allclose(product, (grads[0] - grads[1]) / 2e-3, rtol=1e-10, atol=1e-12)
    decayed = np.zeros(v.size, bool)
    for a, b in model.weight_ranges():
        decayed[a:b] = True
    assert (product[~decayed] == 0).all() and (product[decayed] != 0).all()


def test_it_converges_on_a_small_problem_without_a_warning():
    X, y = data(60)
    with warnings.catch_warnings():
        warnings.simplefilter("error", pynn.ConvergenceWarning)
        model = model_of().fit(
            X,
            y,
            loss="softmax_cross_entropy",
            optimizer=pynn.NewtonCG(tol=1e-4, weight_decay=1e-3),
            epochs=300,
        )
    optimizer = model.optimizer_
    assert optimizer.status == 0 and optimizer.n_iter < 300
    # converged: the objective's gradient norm is below tol
    target = model.targets_.encode(y, model.dtype)
    full = FullBatch(model, X, target, logged_value=True)
    full.evaluate()
    grad = full.grad + 1e-3 * model.flat_params
    assert np.linalg.norm(grad) < 1e-4


def test_mse_regression_fits_and_the_limit_warns():
    rng = np.random.default_rng(1)
    X = rng.uniform(-1, 1, size=(200, 1))
    y = np.sin(3 * X)
    model = pynn.Sequential(
        pynn.Dense(1, 10, activation="tanh"), pynn.Dense(10, 1), dtype="float64", random_state=0
    )
    with pytest.warns(pynn.ConvergenceWarning, match="Newton-CG failed to converge"):
        model.fit(X, y, loss="mse", optimizer=pynn.NewtonCG(tol=1e-12), epochs=40)
    assert model.optimizer_.status == 1
    assert model.history_["loss"][-1] < 1e-3 * model.history_["loss"][0]


def test_the_reference_backend_trains_alike():
    X, y = data()
    fitted = fit_newton(model_of(), X, y, 4)
    reference = pynn.Sequential(
        pynn.Dense(5, 12, activation="tanh"), pynn.Dense(12, 3), dtype="float64",
        random_state=7, backend="reference",
    )  # fmt: skip
    fit_newton(reference, X, y, 4)
    np.testing.assert_allclose(reference.flat_params, fitted.flat_params, rtol=1e-8, atol=1e-10)


class HalvedMSE(pynn.losses.Loss):
    def __init__(self):
        super().__init__("mse", "mse", "dpred", None, ("values",))


def test_a_custom_loss_is_refused():
    X, y = data(30)
    model = model_of()
    before = model.flat_params.copy()
    with pytest.raises(ValueError, match="custom loss"):
        model.fit(X, np.c_[y, y, y], loss=HalvedMSE(), optimizer=pynn.NewtonCG())
    assert_bitwise_equal(model.flat_params, before, "untouched")


def test_hyperparameters_are_checked_and_it_takes_no_step():
    with pytest.raises(ValueError, match="tol"):
        pynn.NewtonCG(tol=-1.0)
    with pytest.raises(ValueError, match="initial_trust_radius"):
        pynn.NewtonCG(initial_trust_radius=2000.0)
    with pytest.raises(ValueError, match="eta"):
        pynn.NewtonCG(eta=0.5)
    with pytest.raises(TypeError, match="weight_decay"):
        pynn.NewtonCG(weight_decay="0.1")
    with pytest.raises(TypeError, match="no steps"):
        pynn.NewtonCG().step()
    assert repr(pynn.NewtonCG(tol=1e-3)).startswith("NewtonCG(tol=0.001, initial_trust_radius")
    with pytest.raises(TypeError, match="curvature"):
        pynn.NewtonCG().minimize(lambda x: (0.0, x), np.zeros(2), 1, print)
