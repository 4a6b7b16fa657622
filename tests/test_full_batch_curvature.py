"""pynn.core.full_batch_curvature: the Hessian- and Gauss-Newton-vector products of the
full-batch loss. One block is the network's own hvp exactly; many blocks equal one
within rounding; 1 and 2 threads give the same bits; weights follow the gradient's block
formula; H v matches central differences of FullBatch's gradient; the reference backend
gives the same products; a custom loss (no fused product) is refused."""

import numpy as np
import pytest
from test_full_batch import HalvedMSE, trained

import pynn
from pynn.core.full_batch import FullBatch
from pynn.core.full_batch_curvature import FullBatchCurvature

pytestmark = pytest.mark.usefixtures("restore_threads")


def product(model, X, target, v, gauss_newton=False, weights=None, block_rows=1024):
    full = FullBatch(model, X, target, weights, block_rows=block_rows)
    curvature = FullBatchCurvature(full)
    value = curvature.evaluate(v, gauss_newton)
    return value, curvature.product.copy()


def direction(model, seed=0):
    return np.random.default_rng(seed).normal(size=model.flat_params.size)


@pytest.mark.parametrize("gauss_newton", [False, True], ids=["hessian", "gauss_newton"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_one_block_is_the_networks_hvp_exactly(dtype, gauss_newton):
    model, X, target = trained(dtype, n=700)
    v = direction(model)
    value, result = product(model, X, target, v, gauss_newton)
    plan = model._plan(len(X))
    plan.read(X, np.arange(len(X)))
    plan.target[...] = target
    expected = np.empty(model.flat_params.size, model.dtype)
    assert value == plan.network.hvp(v.astype(model.dtype), expected, gauss_newton)
    assert result.dtype == np.float64
    assert np.array_equal(result, expected.astype(np.float64))


@pytest.mark.parametrize("gauss_newton", [False, True], ids=["hessian", "gauss_newton"])
@pytest.mark.parametrize("loss", ["softmax_cross_entropy", "mse"])
def test_many_blocks_equal_one_block(loss, gauss_newton):
    model, X, target = trained("float64", loss, n=2600)
    v = direction(model, 1)
    value, many = product(model, X, target, v, gauss_newton, block_rows=300)  # 9 blocks
    one_value, one = product(model, X, target, v, gauss_newton, block_rows=2600)
    assert value == pytest.approx(one_value, rel=1e-12)
    np.testing.assert_allclose(many, one, rtol=0, atol=1e-12 * np.abs(one).max())


@pytest.mark.skipif(not pynn.threads_enabled(), reason="built without threads: one thread")
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_one_and_two_threads_give_the_same_bits(dtype):
    model, X, target = trained(dtype, n=3000, width=64)  # work past the kernels' grain
    weights = np.random.default_rng(2).uniform(0, 2, len(X)).astype(dtype)
    v = direction(model, 2)
    results = []
    for threads in (1, 2):
        pynn.set_num_threads(threads)
        with pynn.threads(threads):
            for gauss_newton in (False, True):
                results.append(product(model, X, target, v, gauss_newton, weights))
                results.append(product(model, X, target, v, gauss_newton))
    for one, two in zip(results[:4], results[4:], strict=True):
        assert one[0] == two[0]
        assert np.array_equal(one[1], two[1])


@pytest.mark.parametrize("gauss_newton", [False, True], ids=["hessian", "gauss_newton"])
def test_weighted_follows_the_block_formula_and_skips_zero_blocks(gauss_newton):
    model, X, target = trained(n=2500)
    weights = np.random.default_rng(5).uniform(0, 3, len(X))
    weights[1000:2000] = 0  # the second block weighs nothing
    v = direction(model, 3)
    value, result = product(model, X, target, v, gauss_newton, weights, block_rows=1000)
    parts, totals = [], []
    for block in (slice(0, 1000), slice(2000, 2500)):
        parts.append(product(model, X[block], target[block], v, gauss_newton, weights[block])[1])
        totals.append(weights[block].sum())
    W = sum(totals)
    expected = sum(p * t / W for p, t in zip(parts, totals))
    np.testing.assert_allclose(result, expected, rtol=1e-12, atol=1e-15)
    # and it is the weighted mean over all rows, as one block gives it
    whole = product(model, X, target, v, gauss_newton, weights, block_rows=2500)[1]
    np.testing.assert_allclose(result, whole, rtol=0, atol=1e-12 * np.abs(whole).max())
    # a weighted product differs from the plain one (the weights are read)
    plain = product(model, X, target, v, gauss_newton, block_rows=1000)[1]
    assert np.abs(plain - result).max() > 1e-3 * np.abs(result).max()


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("loss", ["softmax_cross_entropy", "mse"])
def test_the_hessian_product_is_the_gradients_central_difference(loss, weighted):
    model, X, target = trained("float64", loss, n=1300)  # two blocks, tanh (smooth)
    weights = np.random.default_rng(6).uniform(0, 2, len(X)) if weighted else None
    v = direction(model, 4)
    _, result = product(model, X, target, v, weights=weights)
    full = FullBatch(model, X, target, weights)
    x0, h = model.flat_params.copy(), 1e-5
    grads = []
    for sign in (1, -1):
        model.flat_params[...] = x0 + sign * h * v
        full.evaluate()
        grads.append(full.grad.copy())
    model.flat_params[...] = x0
    difference = (grads[0] - grads[1]) / (2 * h)
    # the difference's truncation error is O(h^2) ~ 1e-10 relative; 1e-7 holds with margin
    np.testing.assert_allclose(result, difference, rtol=0, atol=1e-7 * np.abs(result).max())


def test_the_gauss_newton_product_is_positive_semidefinite_and_differs_from_h():
    model, X, target = trained("float64", n=500)
    v = direction(model, 7)
    _, gv = product(model, X, target, v, True)
    _, hv = product(model, X, target, v, False)
    assert float(v @ gv) >= 0
    assert np.abs(gv - hv).max() > 1e-6 * np.abs(hv).max()


def test_the_workspace_is_allocated_once():
    model, X, target = trained("float64", n=1500)
    curvature = FullBatchCurvature(FullBatch(model, X, target, block_rows=600))
    workspace = curvature.workspace
    for seed in range(3):
        curvature.evaluate(direction(model, seed))
    assert curvature.workspace is workspace
    with pytest.raises(ValueError, match="v must have shape"):
        curvature.evaluate(np.zeros(3))


def test_a_custom_loss_is_refused():
    model, X, target = trained(loss="mse", n=100, outputs=2)
    model.loss_ = HalvedMSE()
    model._forget_plans()
    with pytest.raises(ValueError, match="custom loss"):
        FullBatchCurvature(FullBatch(model, X, target), "NewtonCG")


@pytest.mark.parametrize("gauss_newton", [False, True], ids=["hessian", "gauss_newton"])
def test_the_reference_backend_gives_the_same_products(gauss_newton):
    """The reference network's hvp (pynn.reference_hvp) is the C network's twin."""
    model, X, target = trained("float64", n=1300)
    reference = pynn.Sequential(
        pynn.Dense(7, 9, activation="tanh"), pynn.Dense(9, 3), dtype="float64",
        backend="reference",
    )  # fmt: skip
    reference.fit(X[:10], np.arange(10) % 3, loss="softmax_cross_entropy", epochs=0)
    reference.flat_params[...] = model.flat_params
    weights = np.random.default_rng(8).uniform(0, 2, len(X))
    v = direction(model, 9)
    for w in (None, weights):
        value, expected = product(model, X, target, v, gauss_newton, w)
        twin_value, twin = product(reference, X, target, v, gauss_newton, w)
        assert twin_value == pytest.approx(value, rel=1e-12)
        np.testing.assert_allclose(twin, expected, rtol=0, atol=1e-12 * np.abs(expected).max())
