"""A training step allocates no arrays: every buffer comes from the per-batch-size plan.

tracemalloc sees NumPy's data allocations, so a temporary the size of a batch (tens of KB
here) would show as a peak above the current traced memory between two optimizer steps.
"""
import tracemalloc

import numpy as np
import pytest

import pynn

N, FEATURES = 4000, 40
BATCH = 400  # every (batch, width) buffer is >= 400 * 5 * 4 = 8 KB, most far more
STEP_SLACK = 4096  # Python objects (views, floats, small reductions) per step


def _models():
    yield "dense", lambda: pynn.Sequential(pynn.Dense(FEATURES, 64, "relu"),
                                           pynn.Dense(64, 5), random_state=0)
    yield "all layers", lambda: pynn.Sequential(
        pynn.Dense(FEATURES, 64, "elu"), pynn.Maxout(64, 16, 3), pynn.PReLU(16), pynn.Tanh(),
        pynn.Dense(16, 5, "leaky_relu"), pynn.Dense(5, 5), random_state=0)


def _targets(loss, rng):
    if loss == "softmax_cross_entropy":
        return rng.integers(0, 5, N)
    if loss == "binary_cross_entropy":
        return (rng.random((N, 5)) > 0.5).astype(np.int8)
    if loss == "hinge":
        return np.where(rng.random((N, 5)) > 0.5, 1, -1)
    return rng.standard_normal((N, 5))


@pytest.mark.parametrize("make", [m for _, m in _models()], ids=[i for i, _ in _models()])
@pytest.mark.parametrize("loss", ["softmax_cross_entropy", "binary_cross_entropy", "mse", "l1",
                                  "hinge"])
@pytest.mark.parametrize("x_dtype", [np.float32, np.float64])
@pytest.mark.parametrize("optimizer", [lambda: pynn.SGD(0.01, momentum=0.9), pynn.Adam])
def test_training_steps_allocate_no_arrays(make, loss, x_dtype, optimizer):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, FEATURES)).astype(x_dtype)
    y = _targets(loss, rng)
    model = make()
    opt = optimizer()
    model.fit(X, y, loss=loss, optimizer=opt, epochs=1, batch_size=BATCH)  # makes the plans
    transient = []
    update = opt.step

    def measured_step():
        update()
        current, peak = tracemalloc.get_traced_memory()
        transient.append(peak - current)
        tracemalloc.reset_peak()

    opt.step = measured_step
    tracemalloc.start()
    try:
        model.partial_fit(X, y, epochs=2, batch_size=BATCH)
    finally:
        tracemalloc.stop()
    assert len(transient) == 2 * N // BATCH
    # The first step's window includes partial_fit's set-up (encoding y, the row order).
    assert max(transient[1:]) < STEP_SLACK, transient
