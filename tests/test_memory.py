"""A training step allocates no arrays: every buffer comes from the per-batch-size plan.

tracemalloc sees NumPy's data allocations, so a temporary the size of a batch (tens of KB
here) would show as a peak above the current traced memory between two optimizer steps.
"""

import json
import os
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest
from helpers import HANG_SECONDS

import pynn

N, FEATURES = 4000, 40
BATCH = 400  # every (batch, width) buffer is >= 400 * 5 * 4 = 8 KB, most far more
STEP_SLACK = 4096  # Python objects (views, floats, small reductions) per step


def _models():
    yield (
        "dense",
        lambda: pynn.Sequential(
            pynn.Dense(FEATURES, 64, "relu"), pynn.Dense(64, 5), random_state=0
        ),
    )
    yield (
        "all layers",
        lambda: pynn.Sequential(
            pynn.Dense(FEATURES, 64, "elu"),
            pynn.Maxout(64, 16, 3),
            pynn.PReLU(16),
            pynn.Tanh(),
            pynn.Dense(16, 5, "leaky_relu"),
            pynn.Dense(5, 5),
            random_state=0,
        ),
    )
    # Standardize first (no input gradient) and inside (with one): its constants are cast
    # to the model's dtype once and its outputs reuse the plan's buffers.
    yield (
        "standardize",
        lambda: pynn.Sequential(
            pynn.Standardize(np.linspace(-1, 1, FEATURES), np.linspace(0.5, 2, FEATURES)),
            pynn.Dense(FEATURES, 32, "relu"),
            pynn.Standardize(np.linspace(-1, 1, 32), np.linspace(0.5, 2, 32)),
            pynn.Dense(32, 5),
            random_state=0,
        ),
    )


def _targets(loss, rng):
    if loss == "softmax_cross_entropy":
        return rng.integers(0, 5, N)
    if loss == "binary_cross_entropy":
        return (rng.random((N, 5)) > 0.5).astype(np.int8)
    if loss == "hinge":
        return np.where(rng.random((N, 5)) > 0.5, 1, -1)
    return rng.standard_normal((N, 5))


OPTIMIZERS = {"sgd": lambda: pynn.SGD(0.01, momentum=0.9), "adam": pynn.Adam}
LOSSES = ["softmax_cross_entropy", "binary_cross_entropy", "mse", "l1", "hinge"]
MODELS = dict(_models())
CASES = [
    (model, loss, dtype, opt)
    for opt in OPTIMIZERS
    for dtype in ("float32", "float64")
    for loss in LOSSES
    for model in MODELS
]


def measure(model_name, loss, x_dtype, optimizer_name):
    """The memory allocated and freed again within each optimizer step of two epochs."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, FEATURES)).astype(x_dtype)
    y = _targets(loss, rng)
    model = MODELS[model_name]()
    opt = OPTIMIZERS[optimizer_name]()
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
    return transient


@pytest.fixture(scope="module")
def transients(tmp_path_factory):
    """Every case measured in a fresh interpreter: tracemalloc counts the allocations of all
    threads, and earlier tests leave threads behind (dask's IO loop, joblib's executor).
    It runs in a scratch directory: `python -c` puts its working directory first on the
    path, where a checkout's unbuilt pynn/ would shadow the installed one."""
    code = (
        "import json, sys, test_memory as t; "
        "print(json.dumps([t.measure(*case) for case in t.CASES]))"
    )
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(
            [os.path.dirname(__file__), os.path.dirname(os.path.dirname(pynn.__file__))]
        ),
    )
    run = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=HANG_SECONDS,
        cwd=tmp_path_factory.mktemp("memory"),
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return dict(zip(CASES, json.loads(run.stdout)))


@pytest.mark.parametrize("case", CASES, ids=["-".join(case) for case in CASES])
def test_training_steps_allocate_no_arrays(transients, case):
    transient = transients[case]
    assert len(transient) == 2 * N // BATCH
    # The first step's window includes partial_fit's set-up (encoding y, the row order).
    assert max(transient[1:]) < STEP_SLACK, transient
