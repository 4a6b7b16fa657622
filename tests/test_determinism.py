"""A full training run gives the same bits with 1 and 2 threads, and in two processes.

Sizes: batches of 128 rows of 300 features into 64 units are 2.5 M multiply-adds per
GEMM, far above the kernels' threshold for going parallel (PYNN_PARALLEL_MIN_WORK, 32768,
csrc/parallel.h), so with 2 threads they really use 2; the processes show it (their OS
thread count). What is compared: the parameters, the optimizer state and step count, and
the history's losses and metrics."""

import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from helpers import HANG_SECONDS, assert_bitwise_equal

import pynn

pytestmark = pytest.mark.usefixtures("restore_threads")
N, FEATURES, CLASSES, BATCH = 384, 300, 10, 128


def _dense(dtype):  # trained by the network's step
    return pynn.Sequential(
        pynn.Dense(FEATURES, 64, "relu"),
        pynn.Dense(64, 32, "tanh"),
        pynn.Dense(32, CLASSES),
        dtype=dtype,
        random_state=0,
    )


def _layers(dtype):  # trained one kernel call per stage
    return pynn.Sequential(
        pynn.Dense(FEATURES, 64),
        pynn.PReLU(64),
        pynn.Maxout(64, 32, 3),
        pynn.Dense(32, CLASSES),
        dtype=dtype,
        random_state=0,
    )


CASES = {
    "dense-float32-adam": (_dense, np.float32, lambda: pynn.Adam(1e-3)),
    "dense-float64-sgd": (_dense, np.float64, lambda: pynn.SGD(0.02, momentum=0.9)),
    "layers-float32-sgd": (_layers, np.float32, lambda: pynn.SGD(0.02, momentum=0.9)),
    "layers-float64-adam": (_layers, np.float64, lambda: pynn.Adam(1e-3)),
}


def train(case):
    make, dtype, optimizer = CASES[case]
    rng = np.random.default_rng(1)
    X = rng.standard_normal((N, FEATURES)).astype(dtype)
    y = rng.integers(0, CLASSES, N)
    return make(dtype).fit(
        X,
        y,
        loss="softmax_cross_entropy",
        optimizer=optimizer(),
        epochs=2,
        batch_size=BATCH,
        validation_split=0.25,
    )


def outcome(model):
    """The arrays and numbers a training run leaves."""
    arrays = {"parameters": model.flat_params, "step_count": np.int64(model.optimizer_.step_count)}
    arrays.update(model.optimizer_.state)
    for key, values in model.history_.items():
        if key != "time":
            arrays["history " + key] = np.array(values, np.float64)
    return arrays


def digest(model):
    sha = hashlib.sha256()
    for name, value in sorted(outcome(model).items()):
        sha.update(name.encode() + np.ascontiguousarray(value).tobytes())
    return sha.hexdigest()


def digests_in_this_process(threads):
    """What a child process prints: the digests of every case, and its OS threads."""
    pynn.set_num_threads(threads)
    digests = {case: digest(train(case)) for case in CASES}
    tasks = len(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else None
    return {"digests": digests, "os_threads": tasks}


@pytest.mark.skipif(not pynn.threads_enabled(), reason="built without threads: one thread")
@pytest.mark.parametrize("case", sorted(CASES))
def test_one_and_two_threads_train_the_same_bits(case):
    pynn.set_num_threads(1)
    one = outcome(train(case))
    pynn.set_num_threads(2)
    two = outcome(train(case))
    assert one.keys() == two.keys()
    for name in one:
        assert_bitwise_equal(two[name], one[name], f"{case}: {name}, 2 threads vs 1")


def test_two_processes_train_the_same_bits(tmp_path):
    """Two fresh interpreters (other hash seeds; 1 and 2 threads) and this one agree. They
    run in a scratch directory, so they import the pynn this test imported."""
    env = dict(
        os.environ,
        OPENBLAS_NUM_THREADS="1",
        PYTHONPATH=os.pathsep.join(
            [os.path.dirname(__file__), os.path.dirname(os.path.dirname(pynn.__file__))]
        ),
    )
    runs = []
    for threads, hash_seed in ((1, "1"), (2, "2")):
        code = (
            "import json, test_determinism as t; "
            f"print(json.dumps(t.digests_in_this_process({threads})))"
        )
        run = subprocess.run(
            [sys.executable, "-c", code],
            env=dict(env, PYTHONHASHSEED=hash_seed),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=HANG_SECONDS,
        )
        assert run.returncode == 0, run.stderr[-3000:]
        runs.append(json.loads(run.stdout))
    here = {case: digest(train(case)) for case in CASES}
    assert runs[0]["digests"] == here, "process 1 (1 thread) differs from this one"
    assert runs[1]["digests"] == here, "process 2 (2 threads) differs from this one"
    if runs[0]["os_threads"] is not None and pynn.threads_enabled():
        assert runs[1]["os_threads"] > runs[0]["os_threads"], runs  # 2 threads did run
