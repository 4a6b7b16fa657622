"""The two conventions pynn.sklearn takes from scikit-learn, as pynn options: Adam's eps on
sqrt(v) (Adam(eps_on="v")) and a loss whose rows are logged clipped
(Loss.with_logged_bounds)."""

import numpy as np
import pytest
from helpers import DTYPES, K

import pynn
from pynn import reference
from pynn.core.losses import get_loss

sklearn_optimizers = pytest.importorskip("sklearn.neural_network._stochastic_optimizers")


# ---- Adam(eps_on="v") ------------------------------------------------------------------------
@pytest.mark.parametrize("kernels", [K, reference], ids=["kernels", "reference"])
def test_adam_with_eps_on_v_steps_as_scikit_learns_adam(kernels):
    rng = np.random.default_rng(0)
    params = rng.standard_normal(40)
    grads = [rng.standard_normal(40) * 10.0 ** rng.integers(-9, 1) for _ in range(6)]
    mine = pynn.Adam(lr=0.01, betas=(0.8, 0.99), eps=1e-3, eps_on="v")
    flat, flat_grad = params.copy(), np.zeros(40)
    mine.bind(flat, flat_grad, kernels)
    theirs = [params.copy()]
    adam = sklearn_optimizers.AdamOptimizer(theirs, 0.01, 0.8, 0.99, 1e-3)
    for g in grads:  # eps large beside some gradients: the two placements differ there
        flat_grad[...] = g
        mine.step()
        adam.update_params(theirs, [g])
        np.testing.assert_allclose(flat, theirs[0], rtol=1e-13, atol=1e-15)
    torch_like = pynn.Adam(lr=0.01, betas=(0.8, 0.99), eps=1e-3)
    other, other_grad = params.copy(), np.zeros(40)
    torch_like.bind(other, other_grad, kernels)
    for g in grads:
        other_grad[...] = g
        torch_like.step()
    assert np.abs(other - flat).max() > 1e-6


@pytest.mark.parametrize("dtype", DTYPES)
def test_without_eps_both_placements_take_the_same_steps(dtype):
    rng = np.random.default_rng(1)
    start = rng.standard_normal(30).astype(dtype)
    ends = []
    for eps_on in ("v_hat", "v"):
        opt = pynn.AdamW(lr=0.1, eps=0.0, weight_decay=0.1, eps_on=eps_on)
        params, grads = start.copy(), np.zeros(30, dtype)
        opt.bind(params, grads, K)
        for _ in range(4):
            grads[...] = rng.standard_normal(30)
            opt.step()
        ends.append(params)
        rng = np.random.default_rng(1)
        rng.standard_normal(30)
    assert np.array_equal(*ends)


def test_eps_on_is_checked_and_in_the_config():
    with pytest.raises(ValueError, match="eps_on"):
        pynn.Adam(eps_on="sqrt_v")
    assert pynn.Adam(eps_on="v").config()["eps_on"] == "v"
    assert pynn.AdamW().config()["eps_on"] == "v_hat"


# ---- Loss.with_logged_bounds -----------------------------------------------------------------
def _clipped_model(dtype, bounds):
    model = pynn.Sequential(
        pynn.Dense(4, 6, activation="tanh"), pynn.Dense(6, 3), dtype=dtype, random_state=0
    )
    loss = get_loss("softmax_cross_entropy")
    return model, loss if bounds is None else loss.with_logged_bounds(*bounds)


def _row_losses(model, X, y):
    z = model.decision_function(X).astype(np.float64)
    m = z.max(1, keepdims=True)
    return (np.log(np.exp(z - m).sum(1)) + m[:, 0]) - z[np.arange(len(y)), y]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weighted", [False, True])
def test_the_logs_clip_each_rows_loss_and_the_training_is_unchanged(dtype, weighted):
    rng = np.random.default_rng(2)
    X = (rng.standard_normal((60, 4)) * 3).astype(dtype)
    y = rng.integers(0, 3, 60)
    w = rng.uniform(0.5, 2.0, 60) if weighted else None
    start, _ = _clipped_model(dtype, None)
    rows = _row_losses(start, X, y)
    low, high = np.quantile(rows, [0.2, 0.8])
    runs = {}
    for bounds in (None, (low, high)):
        model, loss = _clipped_model(dtype, bounds)
        # one batch: the logged loss is that of the starting parameters
        model.fit(X, y, w, loss=loss, optimizer=pynn.SGD(lr=0.1), epochs=2, batch_size=60)
        runs[bounds is None] = model
    clipped = np.clip(rows, low, high)
    expected = np.average(clipped, weights=w)
    assert runs[False].history_["loss"][0] == pytest.approx(expected, rel=1e-5)
    assert runs[True].history_["loss"][0] == pytest.approx(np.average(rows, weights=w), rel=1e-5)
    # the gradient is the unclipped loss's: the same parameters, bit for bit
    assert np.array_equal(runs[False].flat_params, runs[True].flat_params)


def test_no_row_out_of_bounds_logs_the_kernels_mean_itself():
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((50, 4)), rng.integers(0, 3, 50)
    histories = []
    for bounds in (None, (0.0, 1e9)):
        model, loss = _clipped_model(np.float64, bounds)
        model.fit(X, y, loss=loss, epochs=3, batch_size=16)
        histories.append(model.history_["loss"])
    assert histories[0] == histories[1]


def test_with_logged_bounds_makes_a_copy_and_checks_its_bounds():
    loss = get_loss("softmax_cross_entropy")
    bounded = loss.with_logged_bounds(0.0, 36.0)
    assert loss.logged_bounds is None and bounded.logged_bounds == (0.0, 36.0)
    assert bounded.kernel == loss.kernel and "logged_bounds" in repr(bounded)
    with pytest.raises(ValueError, match="low <= high"):
        loss.with_logged_bounds(2.0, 1.0)


def test_a_bounded_copy_is_fused_into_the_step_as_its_loss():
    from pynn.core.losses import LOSSES, Loss
    from pynn.core.network import fused_kernel

    for loss in LOSSES.values():
        assert fused_kernel(loss.with_logged_bounds(0.0, 1.0)) == fused_kernel(loss) == loss.kernel
    # a Loss built by hand with a catalogue name is not the catalogue's: the Python path
    by_hand = Loss("mse", "mse", "dpred", None, ("values",))
    assert fused_kernel(by_hand) is None
    assert fused_kernel(by_hand.with_logged_bounds(0.0, 1.0)) is None
