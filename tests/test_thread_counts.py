"""Thread counts belong to the work, not to the process (issue 14; shared/DESIGN.md,
"Threads").

* pynn.set_num_threads(n) is the process-wide count; it starts the workers it needs at once
  and raises ValueError naming n, keeping the previous count, when they cannot be started.
* pynn.threads(n) sets the calling thread's count for a block; other threads are unaffected.
* pynn.get_num_threads() is the calling thread's count if set, capped by the process-wide one.
* A plan keeps the count it was made with, so what another thread does to the counts never
  breaks a running fit or predict (it once stopped a fit with "workspace must have at least
  ... elements"); estimators' n_threads use pynn.threads, so concurrent fits leave the
  process-wide count alone.
* threadpoolctl sees pynn (internal_api "pynn") and limits it.

Tests of the new runtime's API fail on a build without it, through `_require` (a clear
failure, never a skip): pynn.threads, threadpoolctl's view of pynn, and set_num_threads
refusing a count it cannot start.

No test depends on timing or scheduling: threads meet at Events and Barriers, every wait
and join has a timeout far above the work (a hang fails the test), nothing sleeps, and no
result assertion depends on how the threads interleaved (the test that forces one handoff
between two threads does not assert that it happened).
"""

import re
import threading
import time

import numpy as np
import pytest
from helpers import (
    ADDRESS_CAP,
    HANG_SECONDS,
    arg,
    assert_bitwise_equal,
    needs_address_cap,
    run_python,
    run_threads,
)

import pynn

pytestmark = pytest.mark.usefixtures("restore_threads")
TIMEOUT = HANG_SECONDS  # for any wait or join: a deadlock guard only (helpers.HANG_SECONDS)
FEATURES, CLASSES, N, BATCH = 300, 10, 384, 128


def _require(*names):
    """Fail (not skip) when pynn lacks the new thread runtime's API."""
    missing = [name for name in names if not hasattr(pynn, name)]
    if missing:
        pytest.fail(
            f"pynn.{missing[0]} is missing: this test needs pynn's own thread pool "
            f"(issue 14), not in this build"
        )


# ---- models and what a training run leaves ---------------------------------------------
def _data(n=N, features=FEATURES, classes=CLASSES, seed=14):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, features)), rng.integers(0, classes, n)


def _layers(dtype):
    """Every layer whose workspace depends on the thread count: trained one call per stage."""
    return pynn.Sequential(
        pynn.Standardize(np.linspace(-0.5, 0.5, FEATURES), np.linspace(0.5, 2.0, FEATURES)),
        pynn.Dense(FEATURES, 64),
        pynn.PReLU(64),
        pynn.Maxout(64, 32, 3),
        pynn.Activation("tanh"),
        pynn.Dense(32, CLASSES),
        dtype=dtype,
        random_state=0,
    )


def _dense(dtype):  # trained by the network's step
    return pynn.Sequential(
        pynn.Dense(FEATURES, 64, "relu"),
        pynn.Dense(64, 32, "tanh"),
        pynn.Dense(32, CLASSES),
        dtype=dtype,
        random_state=0,
    )


MODELS = {"layers": _layers, "dense": _dense}


def _fit(model, optimizer=None):
    X, y = _data()
    return model.fit(
        X,
        y,
        loss="softmax_cross_entropy",
        epochs=3,
        batch_size=BATCH,
        optimizer=optimizer or pynn.SGD(0.02, momentum=0.9),
        random_state=5,
    )


def _outcome(model):
    """The parameters, optimizer state, history and predictions of a trained model."""
    X, _ = _data()
    arrays = {
        "parameters": model.flat_params,
        "step_count": np.int64(model.optimizer_.step_count),
        "decision_function": model.decision_function(X),
        "predict_proba": model.predict_proba(X[:129]),
    }
    arrays.update({"optimizer " + k: v for k, v in model.optimizer_.state.items()})
    arrays.update(
        {"history " + k: np.array(v, np.float64) for k, v in model.history_.items() if k != "time"}
    )
    return arrays


def _assert_same(actual, expected, what):
    assert actual.keys() == expected.keys(), what
    for name in expected:
        assert_bitwise_equal(actual[name], expected[name], f"{what}: {name}")


class _PausingSGD(pynn.SGD):
    """SGD whose first step, once done, sets `paused` and waits for `resume`, and whose
    second sets `second`: so that another thread changes the counts between the first two
    steps of the fit's first epoch, and waits for the second before going on."""

    def __init__(self, paused, resume, second, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._paused, self._resume, self._second = paused, resume, second

    def step(self):
        result = super().step()
        if not self._paused.is_set():
            self._paused.set()
            assert self._resume.wait(TIMEOUT), "the other thread never answered"
        else:
            self._second.set()
        return result


# ---- (a) a fit while other threads change counts ---------------------------------------
def _small_estimator_data():
    return _data(n=200, features=20, classes=3, seed=15)


def _estimators():
    """pynn.sklearn (skips the test without scikit-learn)."""
    pytest.importorskip("sklearn")
    import pynn.sklearn

    return pynn.sklearn


def _small_classifier(n_threads):
    return _estimators().MLPClassifier(
        hidden_layer_sizes=(16,), max_iter=5, batch_size=50, random_state=0, n_threads=n_threads
    )


@pytest.mark.filterwarnings("ignore:Stochastic Optimizer")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fit_is_not_disturbed_by_other_threads_changing_counts(dtype):
    """A model with PReLU, Maxout, Standardize and Activation layers fits in one thread
    while another fits MLPClassifier(n_threads=1) again and again and a third switches the
    process-wide count between 1 and 2: no error, and the bits of a lone run.

    One handoff is forced, to make a bug show whatever the scheduler does: the fit starts
    with the process-wide count at 1; after its first step it waits until the switching
    thread has set 2, and the others start once its second step is done (or the fit has
    ended, say because it failed: nobody waits for a fit that will not get there). That it
    happened is not asserted."""
    Xs, ys = _small_estimator_data()
    pynn.set_num_threads(1)
    lone = _outcome(_fit(_layers(dtype)))
    lone_estimator = _small_classifier(1).fit(Xs, ys).predict_proba(Xs)

    pynn.set_num_threads(1)
    paused, switched, second, done = (threading.Event() for _ in range(4))
    result = {}

    def fitter():
        try:
            model = _fit(_layers(dtype), _PausingSGD(paused, switched, second, 0.02, momentum=0.9))
            result["outcome"] = _outcome(model)  # predicts while the counts keep changing
        finally:
            done.set()
            paused.set()
            second.set()

    def switcher():
        assert paused.wait(TIMEOUT)
        pynn.set_num_threads(2)
        switched.set()
        assert second.wait(TIMEOUT)
        count = 1
        while not done.is_set():
            pynn.set_num_threads(count)
            count = 3 - count
        pynn.set_num_threads(2)

    def estimators():
        assert second.wait(TIMEOUT)
        fits = 0
        while fits == 0 or not done.is_set():
            proba = _small_classifier(1).fit(Xs, ys).predict_proba(Xs)
            assert_bitwise_equal(proba, lone_estimator, f"estimator fit {fits}")
            fits += 1

    run_threads([fitter, switcher, estimators], TIMEOUT)
    _assert_same(result["outcome"], lone, "the fit beside the others")


# ---- (b) estimators with n_threads in several threads ----------------------------------
ESTIMATORS = [
    ("MLPClassifier", 1),
    ("MLPRegressor", 2),
    ("MLPClassifier", 3),
    ("MLPRegressor", None),
]


def _estimator_run(kind, n_threads):
    X, y = _data(n=300, features=40, classes=4, seed=16)
    if kind == "MLPRegressor":
        y = np.sin(X[:, 0]) + 0.1 * y
    estimator = getattr(_estimators(), kind)(
        hidden_layer_sizes=(64, 32), max_iter=4, batch_size=64, random_state=0, n_threads=n_threads
    ).fit(X, y)
    out = estimator.predict_proba(X) if kind == "MLPClassifier" else estimator.predict(X)
    return estimator.model_.flat_params.copy(), out


@pytest.mark.filterwarnings("ignore:Stochastic Optimizer")
def test_estimators_fitted_in_threads_leave_the_count_alone():
    """Four estimators with different n_threads fitted (and predicting) in four threads at
    once: the main thread's count is what it was, during and after, and so is each worker
    thread's once its estimator is done; each estimator gets the bits of a lone fit."""
    _estimators()
    pynn.set_num_threads(2)
    lone = [_estimator_run(kind, n) for kind, n in ESTIMATORS]
    start = threading.Barrier(len(ESTIMATORS) + 1, timeout=TIMEOUT)
    results = [None] * len(ESTIMATORS)
    after = [None] * len(ESTIMATORS)

    def runner(i):
        def run():
            start.wait()
            results[i] = _estimator_run(*ESTIMATORS[i])
            after[i] = pynn.get_num_threads()

        return run

    errors = []
    threads = [
        threading.Thread(target=lambda r=runner(i): _capture(r, errors), daemon=True)
        for i in range(len(ESTIMATORS))
    ]
    for thread in threads:
        thread.start()
    start.wait()
    seen = set()
    deadline = time.monotonic() + TIMEOUT
    for thread in threads:  # the main thread looks at its count while the fits run
        while thread.is_alive():
            assert time.monotonic() < deadline, "a thread hung (deadlock?)"
            seen.add(pynn.get_num_threads())
            thread.join(0.01)  # only paces the looking: nothing depends on how often
    assert not errors, errors[0]
    assert pynn.get_num_threads() == 2, "the estimators changed the process-wide count"
    assert seen == {2}, f"the main thread's count changed during the fits: {sorted(seen)}"
    assert after == [2] * len(ESTIMATORS), f"a thread's count after its fit: {after}"
    for i, (result, expected) in enumerate(zip(results, lone)):
        for j, (r, e) in enumerate(zip(result, expected)):
            assert_bitwise_equal(r, e, f"estimator {i} ({ESTIMATORS[i]}) result {j}")


def _capture(target, errors):
    try:
        target()
    except BaseException as error:
        errors.append(error)


# ---- (c) pynn.threads ------------------------------------------------------------------
def test_threads_sets_the_calling_threads_count_for_the_block():
    _require("threads")
    pynn.set_num_threads(4)
    with pynn.threads(3):
        assert pynn.get_num_threads() == 3
        with pynn.threads(1):  # nests
            assert pynn.get_num_threads() == 1
            with pynn.threads(2):
                assert pynn.get_num_threads() == 2
            assert pynn.get_num_threads() == 1
        assert pynn.get_num_threads() == 3
        with pynn.threads(np.int64(2)):  # any integer type, as set_num_threads takes
            assert pynn.get_num_threads() == 2
        assert pynn.get_num_threads() == 3
    assert pynn.get_num_threads() == 4


def test_threads_is_restored_on_exception():
    _require("threads")
    pynn.set_num_threads(2)
    with pytest.raises(KeyError):
        with pynn.threads(1):
            assert pynn.get_num_threads() == 1
            with pynn.threads(2):
                raise KeyError("out of both blocks")
    assert pynn.get_num_threads() == 2
    with pynn.threads(1):
        with pytest.raises(KeyError):
            with pynn.threads(2):
                raise KeyError("out of the inner block")
        assert pynn.get_num_threads() == 1
    assert pynn.get_num_threads() == 2


def test_threads_is_capped_by_the_process_wide_count():
    """The thread's count, capped by the process-wide count when that is lower, also when
    the process-wide count changes inside the block; leaving the block never writes the
    process-wide count."""
    _require("threads")
    pynn.set_num_threads(2)
    with pynn.threads(3):
        assert pynn.get_num_threads() == 2
        pynn.set_num_threads(1)
        assert pynn.get_num_threads() == 1
        pynn.set_num_threads(4)
        assert pynn.get_num_threads() == 3
    assert pynn.get_num_threads() == 4  # what was set inside the block stays
    with pynn.threads(1):
        pynn.set_num_threads(3)
    assert pynn.get_num_threads() == 3


def test_threads_affects_only_the_calling_thread():
    _require("threads")
    pynn.set_num_threads(2)
    seen = {}

    # Another thread inside its block; this one outside, looking.
    entered, looked = threading.Event(), threading.Event()
    errors = []

    def inside():
        with pynn.threads(1):
            seen["inside"] = pynn.get_num_threads()
            entered.set()
            assert looked.wait(TIMEOUT)
        seen["after"] = pynn.get_num_threads()

    other = threading.Thread(target=lambda: _capture(inside, errors), daemon=True)
    other.start()
    assert entered.wait(TIMEOUT)
    seen["outside while the other is inside"] = pynn.get_num_threads()
    looked.set()
    other.join(TIMEOUT)
    assert not other.is_alive() and not errors, errors
    assert seen == {"inside": 1, "after": 2, "outside while the other is inside": 2}

    # This thread inside its block; a thread started and joined within it, looking.
    with pynn.threads(1):
        looker = threading.Thread(
            target=lambda: seen.update(other=pynn.get_num_threads()), daemon=True
        )
        looker.start()
        looker.join(TIMEOUT)
        assert not looker.is_alive()
        assert pynn.get_num_threads() == 1
    assert seen["other"] == 2, "a thread started inside another's block got its count"
    assert pynn.get_num_threads() == 2


@pytest.mark.parametrize(
    "value,error",
    [
        (0, ValueError),
        (-1, ValueError),
        (4097, ValueError),
        (1.5, TypeError),
        ("2", TypeError),
        (True, TypeError),
        (np.bool_(True), TypeError),
        (2.0, TypeError),
    ],
    ids=repr,
)
def test_threads_refuses_bad_counts_as_set_num_threads_does(value, error):
    _require("threads")
    pynn.set_num_threads(2)
    with pytest.raises(error, match=arg("n")):
        pynn.set_num_threads(value)
    with pytest.raises(error, match=arg("n")):
        with pynn.threads(value):
            pass
    assert pynn.get_num_threads() == 2


# ---- (d) threadpoolctl -----------------------------------------------------------------
def _pynn_pools(info):
    return [pool for pool in info if pool.get("internal_api") == "pynn"]


def test_threadpoolctl_sees_and_limits_pynn():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    pynn.set_num_threads(2)
    pools = _pynn_pools(threadpoolctl.threadpool_info())
    assert len(pools) == 1, (
        f"threadpoolctl does not list pynn once: {threadpoolctl.threadpool_info()}"
    )
    assert pools[0]["num_threads"] == 2
    user_api = pools[0]["user_api"]

    with threadpoolctl.threadpool_limits(limits=1):
        assert pynn.get_num_threads() == 1
        assert _pynn_pools(threadpoolctl.threadpool_info())[0]["num_threads"] == 1
    assert pynn.get_num_threads() == 2

    with threadpoolctl.threadpool_limits(limits=1, user_api=user_api):
        assert pynn.get_num_threads() == 1
    assert pynn.get_num_threads() == 2

    controller = threadpoolctl.ThreadpoolController()
    with controller.limit(limits=1, user_api=user_api):
        assert pynn.get_num_threads() == 1
    assert pynn.get_num_threads() == 2


def test_threadpoolctl_inside_a_threads_block_restores_the_process_wide_count():
    """threadpoolctl saves and restores the process-wide count: a thread's own count
    (which get_num_threads reports inside pynn.threads) must not become the process's."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    _require("threads")
    pynn.set_num_threads(2)
    with pynn.threads(1):
        with threadpoolctl.threadpool_limits(limits=1):
            assert pynn.get_num_threads() == 1
        assert pynn.get_num_threads() == 1
    assert pynn.get_num_threads() == 2


# ---- (e) a count the machine cannot start -----------------------------------------------
# In a fresh interpreter: set 3 threads (starting their workers), then cap the address
# space 32 MB above what the process maps. pthread_create needs address space for each
# thread's stack (and guard page): the most threads pynn takes (MAX_THREADS, 256) need
# 512 MB of pynn's 2 MB stacks (over 5 MB even with the smallest, 16 KB), so starting them
# fails. RLIMIT_AS binds root too, unlike RLIMIT_NPROC,
# which the kernel does not apply to root (uid 0 with CAP_SYS_RESOURCE: 4096 threads start
# under RLIMIT_NPROC=10).
UNSTARTABLE = (
    ADDRESS_CAP
    + r"""
import numpy as np
import pynn

X = np.random.default_rng(0).standard_normal((512, 200))
model = pynn.Sequential(pynn.Dense(200, 256, "relu"), pynn.Dense(256, 3), random_state=0)
pynn.set_num_threads(3)
expected = model.decision_function(X)
lift = cap_address_space(32 << 20)
try:
    pynn.set_num_threads(pynn._kernels.MAX_THREADS)
except ValueError as error:
    print("ValueError:", error, flush=True)
else:
    sys.exit("set_num_threads(MAX_THREADS) did not raise ValueError under RLIMIT_AS")
# Still under the limit: the previous count, the workers started meanwhile, and smaller
# counts.
assert pynn.get_num_threads() == 3, pynn.get_num_threads()
assert model.decision_function(X).tobytes() == expected.tobytes()
pynn.set_num_threads(2)
assert pynn.get_num_threads() == 2
pynn.set_num_threads(1)
assert pynn.get_num_threads() == 1
# The limit lifted: every count works and computes the same bits.
lift()
for n in (2, 1, 3):
    pynn.set_num_threads(n)
    assert pynn.get_num_threads() == n
    assert model.decision_function(X).tobytes() == expected.tobytes(), n
print("done", flush=True)
"""
)


@needs_address_cap
def test_set_num_threads_refuses_a_count_it_cannot_start(tmp_path):
    run = run_python(UNSTARTABLE, tmp_path)
    report = f"status {run.returncode}\nstdout:\n{run.stdout}\nstderr:\n{run.stderr[-3000:]}"
    assert run.returncode == 0, report  # no abort, no exit from inside the thread runtime
    assert "Thread creation failed" not in run.stderr, report
    first = run.stdout.splitlines()[0]
    assert first.startswith("ValueError:") and "started only" in first, report
    assert re.search(rf"\b{pynn._kernels.MAX_THREADS}\b", first), report
    assert run.stdout.splitlines()[-1] == "done", report


# ---- (f) bits at 1 and 2 threads, set per thread ---------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("model", sorted(MODELS))
def test_fits_inside_threads_1_and_2_give_the_same_bits(model, dtype):
    _require("threads")
    pynn.set_num_threads(2)
    outcomes = {}
    for n in (1, 2):
        with pynn.threads(n):
            assert pynn.get_num_threads() == n
            outcomes[n] = _outcome(_fit(MODELS[model](dtype)))
    _assert_same(outcomes[2], outcomes[1], f"{model} {np.dtype(dtype)}: 2 threads vs 1")
