"""Long training and many models do not grow the process's resident memory.

10,000 training steps (both dtypes, SGD and Adam, several batch sizes, a Dense-only model
that trains through the whole-step kernel and one with Standardize, PReLU and Maxout that
trains layer by layer), then 1,000 models created, fitted, used and dropped, after a
warm-up that makes every batch plan and fills NumPy's and the allocator's caches.

The bound, GROWTH_LIMIT, is 2 MB: after the warm-up a correct run grows by at most about
0.5 MB (allocator noise, and the history_ lists partial_fit extends: 4 floats an epoch). A
leak is caught when it keeps about 250 bytes a step (a batch of 30 row numbers) or 2 KB a
model (every model here holds more than 10 KB of parameters, gradients, optimizer state
and batch buffers).
"""

import gc
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest
from helpers import HANG_SECONDS

import pynn

FEATURES, CLASSES, N = 20, 3, 240
BATCH_SIZES = (8, 30, 240)  # 30, 8 and 1 steps an epoch: three batch plans per model
STEPS = 10_000
MODELS_DROPPED = 1_000
GROWTH_LIMIT = 2 * 2**20  # bytes; see the module docstring


def _dense(dtype):
    return pynn.Sequential(
        pynn.Dense(FEATURES, 32, "relu"), pynn.Dense(32, CLASSES), dtype=dtype, random_state=0
    )


def _layers(dtype):
    return pynn.Sequential(
        pynn.Standardize(np.linspace(-1, 1, FEATURES), np.linspace(0.5, 2, FEATURES)),
        pynn.Dense(FEATURES, 32, "elu"),
        pynn.PReLU(32),
        pynn.Maxout(32, 16, 2),
        pynn.Dense(16, CLASSES),
        dtype=dtype,
        random_state=0,
    )


OPTIMIZERS = (lambda: pynn.SGD(0.01, momentum=0.9), lambda: pynn.Adam(1e-3))
CONFIGS = [
    (make, dtype, opt)
    for make in (_dense, _layers)
    for dtype in (np.float32, np.float64)
    for opt in OPTIMIZERS
]


def rss():
    """The process's resident memory in bytes (Linux's /proc/self/statm)."""
    gc.collect()
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _data():
    rng = np.random.default_rng(0)
    # float64 X: float64 models read batches straight from it, float32 ones gather in Python
    return rng.standard_normal((N, FEATURES)), rng.integers(0, CLASSES, N)


def train_steps(models, X, y, n_steps):
    """partial_fit epochs over every model and batch size in turn until n_steps steps ran;
    returns the number of steps."""
    steps = 0
    while steps < n_steps:
        for model in models:
            for batch in BATCH_SIZES:
                model.partial_fit(X, y, batch_size=batch)
                steps += -(-N // batch)
    return steps


def create_and_drop(X, y, n_models):
    for i in range(n_models):
        make, dtype, opt = CONFIGS[i % len(CONFIGS)]
        model = make(dtype).fit(
            X,
            y,
            loss="softmax_cross_entropy",
            optimizer=opt(),
            epochs=1,
            batch_size=60,
            random_state=i,
        )
        model.predict(X)
        model.predict_proba(X)
        del model


def measure():
    """RSS after the warm-up, after STEPS training steps and after MODELS_DROPPED models."""
    X, y = _data()
    models = [
        make(dtype).fit(X, y, loss="softmax_cross_entropy", optimizer=opt(), epochs=0)
        for make, dtype, opt in CONFIGS
    ]
    # The warm-up runs the same work at a tenth of the size: every batch plan, and the
    # allocator's and NumPy's caches at their working size.
    train_steps(models, X, y, STEPS // 10)
    create_and_drop(X, y, MODELS_DROPPED // 10)
    started = time.perf_counter()
    before = rss()
    steps = train_steps(models, X, y, STEPS)
    after_steps = rss()
    create_and_drop(X, y, MODELS_DROPPED)
    after_models = rss()
    return {
        "before": before,
        "after_steps": after_steps,
        "after_models": after_models,
        "steps": steps,
        "seconds": time.perf_counter() - started,
    }


@pytest.fixture(scope="module")
def growth(tmp_path_factory):
    """Measured in a fresh interpreter, so that no other test's threads, caches or garbage
    move the process's memory; in a scratch directory, so that `python -c` does not put a
    checkout's unbuilt pynn/ ahead of the installed one."""
    if not os.path.exists("/proc/self/statm"):
        pytest.skip("resident memory is read from /proc/self/statm (Linux)")
    code = "import json, test_memory_growth as t; print(json.dumps(t.measure()))"
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
        cwd=tmp_path_factory.mktemp("memory_growth"),
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout)


def test_training_steps_do_not_grow_memory(growth):
    assert growth["steps"] >= STEPS
    grown = growth["after_steps"] - growth["before"]
    assert grown <= GROWTH_LIMIT, f"{growth['steps']} steps grew RSS by {grown} bytes: {growth}"


def test_dropped_models_do_not_grow_memory(growth):
    grown = growth["after_models"] - growth["after_steps"]
    assert grown <= GROWTH_LIMIT, f"{MODELS_DROPPED} models grew RSS by {grown} bytes: {growth}"
