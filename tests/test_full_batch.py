"""pynn.core.full_batch: the loss and gradient over all rows in fixed row blocks equal one
plan over all rows within rounding, are bitwise the same for 1 and 2 threads, follow the
weighted formula sum_b L_b W_b / W, and refuse Dropout."""

import numpy as np
import pytest

import pynn
from pynn.core.full_batch import FullBatch, full_batch_loss_and_grad
from pynn.losses import Loss

pytestmark = pytest.mark.usefixtures("restore_threads")


def trained(
    dtype="float64", loss="softmax_cross_entropy", n=2600, outputs=3, dropout=False, width=9
):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(n, 7)).astype(dtype)
    y = rng.integers(0, outputs, n) if "entropy" in str(loss) else rng.normal(size=(n, outputs))
    layers = [pynn.Dense(7, width, activation="tanh")]
    layers += [pynn.Dropout(0.3)] if dropout else []
    model = pynn.Sequential(*layers, pynn.Dense(width, outputs), dtype=dtype, random_state=1)
    model.fit(X, y, loss=loss, epochs=1, batch_size=256)
    return model, X, model.targets_.encode(y, model.dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("loss", ["softmax_cross_entropy", "mse"])
def test_blocks_equal_one_plan_over_all_rows(dtype, loss):
    model, X, target = trained(dtype, loss)
    value, grad = full_batch_loss_and_grad(model, X, target, block_rows=1000)  # 3 blocks
    reference = model.loss_and_grad(X, target)  # one plan of 2600 rows
    rtol = 1e-12 if dtype == "float64" else 2e-5
    assert value == pytest.approx(reference, rel=rtol)
    scale = np.abs(model.flat_grads).max()
    np.testing.assert_allclose(grad, model.flat_grads, rtol=0, atol=rtol * scale)


def test_one_block_is_one_step_exactly():
    model, X, target = trained(n=700)
    value, grad = full_batch_loss_and_grad(model, X, target)
    assert value == model.loss_and_grad(X, target)
    assert np.array_equal(grad, model.flat_grads)


@pytest.mark.skipif(not pynn.threads_enabled(), reason="built without threads: one thread")
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_one_and_two_threads_give_the_same_bits(dtype):
    model, X, target = trained(dtype, n=3000, width=64)  # work past the kernels' grain
    weights = np.random.default_rng(2).uniform(0, 2, len(X)).astype(dtype)
    results = []
    for threads in (1, 2):
        pynn.set_num_threads(threads)
        with pynn.threads(threads):
            results.append(full_batch_loss_and_grad(model, X, target, weights))
            results.append(full_batch_loss_and_grad(model, X, target))
    for one, two in zip(results[:2], results[2:], strict=True):
        assert one[0] == two[0]
        assert np.array_equal(one[1], two[1])


def test_weighted_follows_the_block_formula_and_skips_zero_blocks():
    model, X, target = trained(n=2500)
    weights = np.random.default_rng(5).uniform(0, 3, len(X))
    weights[1000:2000] = 0  # the second block weighs nothing
    value, grad = full_batch_loss_and_grad(model, X, target, weights, block_rows=1000)
    losses, grads, totals = [], [], []
    for block in (slice(0, 1000), slice(2000, 2500)):
        losses.append(model.loss_and_grad(X[block], target[block], weights[block]))
        grads.append(model.flat_grads.copy())
        totals.append(weights[block].sum())
    W = sum(totals)
    assert value == pytest.approx(sum(v * t / W for v, t in zip(losses, totals)), rel=1e-13)
    expected = sum(g * t / W for g, t in zip(grads, totals))
    np.testing.assert_allclose(grad, expected, rtol=1e-12, atol=1e-15)
    # and it is the weighted mean over all rows, as one plan gives it
    assert value == pytest.approx(model.loss_and_grad(X, target, weights), rel=1e-12)
    np.testing.assert_allclose(grad, model.flat_grads, rtol=1e-10, atol=1e-14)


def test_all_zero_weights_are_refused():
    model, X, target = trained(n=50)
    with pytest.raises(ValueError, match="sample_weight"):
        full_batch_loss_and_grad(model, X, target, np.zeros(len(X)))


class HalvedMSE(Loss):
    """A custom loss (not fused: called from Python between forward and backward)."""

    def __init__(self):
        super().__init__("mse", "mse", "dpred", None, ("values",))

    def __call__(self, kernels, out, target, *, grad=None, sample_loss=None, **w):
        value = super().__call__(kernels, out, target, grad=grad, sample_loss=sample_loss, **w)
        if grad is not None:
            grad *= 0.5
        return 0.5 * value


def test_a_custom_loss_goes_through_the_python_path():
    model, X, target = trained(loss="mse", n=1500, outputs=2)
    plain, plain_grad = full_batch_loss_and_grad(model, X, target, block_rows=600)
    weights = np.random.default_rng(1).uniform(0, 1, len(X))
    plain_weighted, plain_weighted_grad = full_batch_loss_and_grad(model, X, target, weights, 600)
    model.loss_ = HalvedMSE()
    model._forget_plans()
    value, grad = full_batch_loss_and_grad(model, X, target, block_rows=600)
    assert value == pytest.approx(plain / 2, rel=1e-13)
    np.testing.assert_allclose(grad, plain_grad / 2, rtol=1e-12)
    weighted, weighted_grad = full_batch_loss_and_grad(model, X, target, weights, 600)
    assert weighted == pytest.approx(plain_weighted / 2, rel=1e-13)
    np.testing.assert_allclose(weighted_grad, plain_weighted_grad / 2, rtol=1e-12)


def test_dropout_is_refused_by_name():
    model, X, target = trained(n=40, dropout=True)
    with pytest.raises(ValueError, match="Dropout"):
        FullBatch(model, X, target)
