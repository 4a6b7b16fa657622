"""pynn.NaturalGradient through Sequential.fit: CG on damped full-batch Gauss-Newton
products, Levenberg-Marquardt damping. It lowers the loss monotonically and needs fewer
iterations than full-batch gradient descent at its best fixed rate; its inner solve is
numpy.linalg.solve's on the explicit G + lambda I; its iterates are a hand-built run's on
the same functions (the penalty's term included); it stops as the other full-batch
solvers do, and refuses l1, hinge and bad hyperparameters by name."""

import warnings

import numpy as np
import pytest
from helpers import assert_bitwise_equal
from test_lbfgs import data, model_of

import pynn
from pynn.core.full_batch import FullBatch
from pynn.core.full_batch_curvature import FullBatchCurvature
from pynn.core.optim.natural_gradient import conjugate_gradient

pytestmark = pytest.mark.usefixtures("restore_threads")


def fit_natural(model, X, y, epochs=10, loss="softmax_cross_entropy", **kwargs):
    names = ("lr", "damping", "cg_iters", "cg_tol", "tol", "weight_decay", "weight_decay_scope")
    options = {key: kwargs.pop(key) for key in list(kwargs) if key in names}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pynn.ConvergenceWarning)
        return model.fit(
            X, y, loss=loss, optimizer=pynn.NaturalGradient(**options), epochs=epochs, **kwargs
        )


def regression():
    rng = np.random.default_rng(1)
    X = rng.uniform(-1, 1, size=(200, 1))
    model = pynn.Sequential(
        pynn.Dense(1, 10, activation="tanh"), pynn.Dense(10, 1), dtype="float64", random_state=0
    )
    return model, X, np.sin(3 * X), "mse"


def classification():
    X, y = data()
    return model_of(), X, y, "softmax_cross_entropy"


def gradient_descent_best(make, iterations):
    """Full-batch gradient descent (SGD over one batch of all rows) at the best of a grid
    of fixed rates: its final training loss."""
    best = np.inf
    for lr in (0.1, 0.3, 1.0, 3.0, 10.0):
        model, X, y, loss = make()
        try:
            model.fit(
                X, y, loss=loss, optimizer=pynn.SGD(lr=lr), epochs=iterations,
                batch_size=len(X), shuffle=False,
            )  # fmt: skip
        except pynn.NonFiniteLossError:  # the rate is past the stable ones
            continue
        best = min(best, model.evaluate(X, y)["loss"])
    return best


@pytest.mark.parametrize("make", [regression, classification])
def test_monotone_and_fewer_iterations_than_gradient_descent(make):
    target = gradient_descent_best(make, 200)
    model, X, y, loss = make()
    fit_natural(model, X, y, 50, loss)
    objective = np.array(model.history_["objective"])
    assert (np.diff(objective) <= 0).all()  # accepted steps lower it; rejected keep it
    assert np.array_equal(objective, model.history_["loss"])  # no penalty
    # gradient descent's loss after 200 iterations, in at most 50 (it takes 10-13 here)
    assert objective.min() <= target
    assert model.evaluate(X, y)["loss"] == pytest.approx(objective[-1], rel=1e-9)
    assert model.optimizer_.n_products > model.optimizer_.n_iter


def explicit_gauss_newton(model, X, target):
    curvature = FullBatchCurvature(FullBatch(model, X, target))
    n = model.flat_params.size
    G = np.empty((n, n))
    for i in range(n):
        curvature.evaluate(np.eye(n)[i], gauss_newton=True)
        G[:, i] = curvature.product
    return G


def test_the_inner_solve_is_numpys_on_the_explicit_matrix():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(40, 3))
    y = rng.integers(0, 2, 40)
    model = pynn.Sequential(
        pynn.Dense(3, 4, activation="tanh"), pynn.Dense(4, 2), dtype="float64", random_state=3
    )
    model.fit(X, y, loss="softmax_cross_entropy", epochs=0)
    target = model.targets_.encode(y, model.dtype)
    x0 = model.flat_params.copy()
    G = explicit_gauss_newton(model, X, target)
    np.testing.assert_allclose(G, G.T, rtol=0, atol=1e-14)
    full = FullBatch(model, X, target, logged_value=True)
    initial = full.evaluate()
    g = full.grad.copy()
    A = G + 0.5 * np.eye(len(g))
    expected = np.linalg.solve(A, g)
    d, Ad, iterations = conjugate_gradient(lambda v: A @ v, g, 200, 1e-13)
    np.testing.assert_allclose(d, expected, rtol=1e-8, atol=1e-10 * np.abs(expected).max())
    np.testing.assert_allclose(Ad, g, rtol=0, atol=1e-10 * np.abs(g).max())
    assert iterations <= len(g) + 5
    # a few iterations stop at the tolerance: less exact, still a descent direction
    rough, _, few = conjugate_gradient(lambda v: A @ v, g, 3, 1e-2)
    assert few == 3 and float(rough @ g) > 0
    # fit's first step: x0 - lr * d with the same solve (the step lowers the loss here)
    fit_natural(model, X, y, 1, lr=0.5, damping=0.5, cg_iters=200, cg_tol=1e-13)
    assert model.history_["loss"][0] < initial  # accepted
    np.testing.assert_allclose(
        model.flat_params, x0 - 0.5 * expected, rtol=0, atol=1e-9 * np.abs(x0).max()
    )


def hand_built_run(X, y, epochs, weight_decay, sample_weight=None, hessian_term=True):
    """NaturalGradient.minimize on functions built here from FullBatch and the
    Gauss-Newton product, plus the weights' L2 penalty and its Hessian term."""
    model = model_of()
    model.fit(X, y, loss="softmax_cross_entropy", epochs=0)
    target = model.targets_.encode(y, model.dtype)
    full = FullBatch(model, X, target, sample_weight, logged_value=True)
    curvature = FullBatchCurvature(full)
    ranges = model.weight_ranges()

    def function(x):
        model.flat_params[...] = x
        value, grad = full.evaluate(), full.grad.copy()
        squares = 0.0
        for a, b in ranges:
            squares += float(np.dot(x[a:b], x[a:b]))
            grad[a:b] += weight_decay * x[a:b]
        return value + 0.5 * weight_decay * squares, grad

    def product(x, v, gauss_newton):
        assert gauss_newton
        model.flat_params[...] = x
        curvature.evaluate(v, gauss_newton)
        result = curvature.product.copy()
        for a, b in ranges:
            result[a:b] += weight_decay * v[a:b] if hessian_term else 0.0
        return result

    solver = pynn.NaturalGradient(weight_decay=weight_decay)
    return solver.minimize(function, model.flat_params.copy(), epochs, lambda r: None, product)


@pytest.mark.parametrize("weighted", [False, True])
def test_the_iterates_are_a_hand_built_runs_with_the_penalty(weighted):
    X, y = data()
    w = np.random.default_rng(3).uniform(0.2, 2, len(X)) if weighted else None
    model = fit_natural(
        model_of(), X, y, 8, sample_weight=w, weight_decay=0.05, weight_decay_scope="weights"
    )
    result = hand_built_run(X, y, 8, 0.05, w)
    assert_bitwise_equal(model.flat_params, result.x, "parameters")
    optimizer = model.optimizer_
    assert optimizer.n_iter == result.nit == len(model.history_["loss"]) == 8
    assert optimizer.n_fun == result.nfev == 9 and optimizer.fun == result.fun
    assert optimizer.n_products == result.nhev
    assert model.history_["objective"][-1] == result.fun
    # without the penalty's Hessian term in the products the run differs
    without = hand_built_run(X, y, 8, 0.05, w, hessian_term=False)
    assert not np.array_equal(without.x, result.x)


def test_it_converges_and_adapts_the_damping():
    X, y = data(60)
    with warnings.catch_warnings():
        warnings.simplefilter("error", pynn.ConvergenceWarning)
        model = fit_natural(model_of(), X, y, 500, tol=1e-4, weight_decay=1e-2)
    optimizer = model.optimizer_
    assert optimizer.status == 0 and optimizer.n_iter < 500
    assert optimizer.damping_ != optimizer.damping


def test_the_iteration_limit_warns():
    model, X, y, loss = regression()
    with pytest.warns(pynn.ConvergenceWarning, match="natural gradient failed to converge"):
        model.fit(X, y, loss=loss, optimizer=pynn.NaturalGradient(tol=1e-12), epochs=3)
    assert model.optimizer_.status == 1


@pytest.mark.parametrize("loss", ["l1", "hinge"])
def test_losses_without_curvature_are_refused_by_name(loss):
    X, y = data(30)
    model = pynn.Sequential(pynn.Dense(5, 1), dtype="float64", random_state=0)
    before = model.flat_params.copy()
    target = np.where(y > 0, 1.0, -1.0)[:, None]
    with pytest.raises(ValueError, match=f"loss '{loss}' does not work with NaturalGradient"):
        model.fit(X, target, loss=loss, optimizer=pynn.NaturalGradient())
    assert_bitwise_equal(model.flat_params, before, "untouched")
    # NewtonCG takes them (the Hessian keeps the layers' curvature)
    with pytest.warns(pynn.ConvergenceWarning, match="Newton-CG"):
        model.fit(X, target, loss=loss, optimizer=pynn.NewtonCG(), epochs=2)


def test_hyperparameters_are_checked_and_it_takes_no_step():
    for name in ("lr", "damping"):
        with pytest.raises(ValueError, match=name):
            pynn.NaturalGradient(**{name: 0.0})
    with pytest.raises(ValueError, match="cg_iters"):
        pynn.NaturalGradient(cg_iters=0)
    with pytest.raises(TypeError, match="cg_tol"):
        pynn.NaturalGradient(cg_tol="small")
    with pytest.raises(TypeError, match="no steps"):
        pynn.NaturalGradient().step()
    with pytest.raises(TypeError, match="curvature"):
        pynn.NaturalGradient().minimize(lambda x: (0.0, x), np.zeros(2), 1, print)
    assert repr(pynn.NaturalGradient(lr=0.5)).startswith("NaturalGradient(lr=0.5, damping=1.0")
