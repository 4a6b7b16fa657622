"""Fork (issue 14): after a process has trained and predicted on 2 threads, a forked child
trains and predicts, and gets the bits the parent got computing the same thing.

Every way a Python program forks is covered: os.fork itself, a multiprocessing pool with
the fork start method, joblib's "multiprocessing" backend, scikit-learn's cross_val_score
with n_jobs=2 under that backend, and a pre-fork server (the parent fits, forks children
that only predict, and goes on predicting itself).

A child that hangs (as one did, waiting in libgomp for the parent's worker threads, which
fork does not copy) must fail the test, never hang the suite: each scenario runs in a fresh
interpreter, in a session of its own, with a hard timeout far above its work (about a
second): on timeout the whole session is killed and the test fails. Inside, a child made
by os.fork always leaves by os._exit.

What is compared is deterministic: the parameters, optimizer state and predictions of a
training run, which do not depend on the thread count (shared/DESIGN.md, "Threads"), nor
on which process, worker or order ran them. A task asserts that it ran in a forked child
(it sees a mark the parent set at run time, which a spawned interpreter would not have,
and another pid); which worker ran which task is never asserted.

Sizes: 784-256-128-10 at batch 128 is 25 M multiply-adds per GEMM, far above the kernels'
threshold for going parallel (PYNN_PARALLEL_MIN_WORK, csrc/parallel.h): the parent's
kernels really run on 2 threads (checked: more than one OS thread, with OpenBLAS on one).
"""

import hashlib
import os
import signal
import subprocess
import sys
import traceback

import numpy as np
import pytest
from helpers import HANG_SECONDS, without_leak_check

import pynn

TIMEOUT = HANG_SECONDS  # per scenario, a deadlock guard only: each takes about a second
FEATURES, HIDDEN, CLASSES, N, BATCH = 784, (256, 128), 10, 384, 128
THREADS = 2

# Set by the parent at run time, just before it forks: a forked child inherits them, a
# spawned or forkserver interpreter (which imports this module afresh) sees None.
_FORKED_FROM = None
_STATE = None  # (models, expected digests), for the tasks run in pool workers


# ---- the work: two models (both step paths), trained and asked for predictions ---------
def _data():
    rng = np.random.default_rng(14)
    X = rng.standard_normal((N, FEATURES)).astype(np.float32)
    return X, rng.integers(0, CLASSES, N)


def _dense():  # trained by the network's step
    return pynn.Sequential(
        pynn.Dense(FEATURES, HIDDEN[0], "relu"),
        pynn.Dense(HIDDEN[0], HIDDEN[1], "relu"),
        pynn.Dense(HIDDEN[1], CLASSES),
        random_state=0,
    )


def _layers():  # trained one kernel call per stage; thread-sized workspaces
    return pynn.Sequential(
        pynn.Standardize(np.linspace(-0.5, 0.5, FEATURES), np.linspace(0.5, 2.0, FEATURES)),
        pynn.Dense(FEATURES, HIDDEN[0]),
        pynn.PReLU(HIDDEN[0]),
        pynn.Maxout(HIDDEN[0], HIDDEN[1], 2),
        pynn.Activation("tanh"),
        pynn.Dense(HIDDEN[1], CLASSES),
        random_state=0,
    )


MODELS = {"dense": _dense, "layers": _layers}


def _train(make):
    X, y = _data()
    return make().fit(
        X,
        y,
        loss="softmax_cross_entropy",
        optimizer=pynn.SGD(0.01, momentum=0.9),
        epochs=1,
        batch_size=BATCH,
        random_state=3,
    )


def _predictions(model):
    """Predictions over whole-model blocks and over odd slices (other plans)."""
    X, _ = _data()
    return {
        "decision_function": model.decision_function(X),
        "predict_proba": model.predict_proba(X[:101]),
        "predict": model.predict(X[7:300]),
    }


def _digest(model):
    """One hash of the parameters, optimizer state, step count and predictions."""
    arrays = {"parameters": model.flat_params, "step_count": np.int64(model.optimizer_.step_count)}
    arrays.update({"optimizer " + k: v for k, v in model.optimizer_.state.items()})
    arrays.update(_predictions(model))
    sha = hashlib.sha256()
    for name, value in sorted(arrays.items()):
        sha.update(name.encode() + np.ascontiguousarray(value).tobytes())
    return sha.hexdigest()


def _os_threads():
    return len(os.listdir("/proc/self/task"))


def _parent():
    """Train and predict on 2 threads, so the kernels' worker threads exist; return the
    models and the digest of each, and mark this process as the one that forks."""
    global _FORKED_FROM, _STATE
    pynn.set_num_threads(THREADS)
    assert pynn.get_num_threads() == THREADS
    models = {name: _train(make) for name, make in MODELS.items()}
    expected = {name: _digest(model) for name, model in models.items()}
    threaded = getattr(pynn, "openmp_enabled", lambda: True)()  # False: a one-thread build
    if threaded and os.path.isdir("/proc/self/task"):
        assert _os_threads() > 1, "the parent's kernels never went parallel"
    _FORKED_FROM, _STATE = os.getpid(), (models, expected)
    sys.stdout.flush()  # nothing buffered is copied into a child, to be written twice
    sys.stderr.flush()
    return models, expected


def _assert_forked():
    assert _FORKED_FROM is not None, "this task ran in a process that was not forked"
    assert os.getpid() != _FORKED_FROM, "this task ran in the parent, not in a child"


def _digests(models):
    """The given models' digests (their predictions made now), and fresh training runs'."""
    return {
        "inherited": {name: _digest(model) for name, model in models.items()},
        "trained": {name: _digest(_train(make)) for name, make in MODELS.items()},
    }


def _child_digests(models):
    """In a child: the inherited models' predictions, then fresh training runs."""
    _assert_forked()
    return _digests(models)


def _assert_same_digests(digests, expected, who):
    for kind in ("inherited", "trained"):
        assert digests[kind] == expected, f"{who}: {kind} models differ from the parent's"


def _in_child(work):
    """Run work() in a child made by os.fork and leave by os._exit whatever happens:
    status 0 if it returned, 1 (with the traceback on stderr) if it raised."""
    status = 1
    try:
        work()
        status = 0
    except BaseException:
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(status)


def _wait(pid, who):
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, f"{who} failed (traceback above)"


def _task(i):
    """A pool task: the child's digests, checked by the parent."""
    _assert_forked()  # before _STATE is read: a spawned worker has none
    return _child_digests(_STATE[0])


# ---- the scenarios, each run by a fresh interpreter (see _run) -------------------------
def scenario_os_fork():
    models, expected = _parent()
    pid = os.fork()
    if pid == 0:

        def child():
            _assert_same_digests(_child_digests(models), expected, "child at 2 threads")
            for threads in (1, 3):  # and at other counts
                pynn.set_num_threads(threads)
                _assert_same_digests(
                    _child_digests(models), expected, f"child at {threads} threads"
                )

        _in_child(child)
    _wait(pid, "the forked child")
    _assert_same_digests(_digests(models), expected, "the parent after the fork")


def scenario_multiprocessing_pool():
    import multiprocessing

    _, expected = _parent()
    with multiprocessing.get_context("fork").Pool(2) as pool:
        results = pool.map(_task, range(4), chunksize=1)
    for i, digests in enumerate(results):
        _assert_same_digests(digests, expected, f"pool task {i}")


def scenario_joblib_multiprocessing():
    from joblib import Parallel, delayed

    _, expected = _parent()
    results = Parallel(n_jobs=2, backend="multiprocessing")(delayed(_task)(i) for i in range(4))
    for i, digests in enumerate(results):
        _assert_same_digests(digests, expected, f"joblib task {i}")


def _log_likelihood(estimator, X, y):
    """A cross_val_score scorer as sensitive as the bits of predict_proba (accuracy is not);
    in the parallel run it also checks that it runs in a forked child."""
    if not _SERIAL:
        _assert_forked()
    proba = estimator.predict_proba(X).astype(np.float64)
    columns = np.searchsorted(estimator.classes_, y)
    return float(np.sum(np.log(proba[np.arange(len(y)), columns])))


_SERIAL = False  # True while the parent computes the expected scores itself


def scenario_sklearn_cross_val_score():
    global _SERIAL
    import joblib
    from sklearn.model_selection import cross_val_score

    import pynn.sklearn

    _parent()
    X, y = _data()

    def scores(n_jobs):
        estimator = pynn.sklearn.MLPClassifier(
            hidden_layer_sizes=HIDDEN,
            max_iter=2,
            batch_size=BATCH,
            random_state=0,
            n_threads=THREADS,
        )
        return cross_val_score(
            estimator, X, y, cv=3, n_jobs=n_jobs, scoring=_log_likelihood, error_score="raise"
        )

    _SERIAL = True
    expected = scores(None)
    _SERIAL = False
    sys.stdout.flush()
    sys.stderr.flush()
    with joblib.parallel_backend("multiprocessing"):
        parallel = scores(2)
    assert parallel.tobytes() == expected.tobytes(), (parallel, expected)


def scenario_prefork_server():
    models, expected = _parent()
    answers = {name: _predictions(model) for name, model in models.items()}

    def serve():
        _assert_forked()
        for _ in range(3):
            for name, model in models.items():
                for method, value in _predictions(model).items():
                    assert value.tobytes() == answers[name][method].tobytes(), (
                        f"child {os.getpid()}: {name}.{method} differs from the parent's"
                    )

    children = []
    for _ in range(2):
        pid = os.fork()
        if pid == 0:
            _in_child(serve)
        children.append(pid)
    # The parent goes on serving while its children run.
    for _ in range(3):
        for name, model in models.items():
            for method, value in _predictions(model).items():
                assert value.tobytes() == answers[name][method].tobytes(), (
                    f"parent: {name}.{method} differs after forking"
                )
    for i, pid in enumerate(children):
        _wait(pid, f"pre-fork child {i}")
    assert {name: _digest(m) for name, m in models.items()} == expected


def scenario_fork_while_training():
    """Fork while another thread of the parent is inside a fit (its kernels' workers may be
    busy, their locks held): the child, which has only the forking thread, trains and
    predicts. Where the other thread is at the fork is up to the scheduler: the child must
    work wherever it is."""
    import threading

    models, expected = _parent()
    started, stop = threading.Event(), threading.Event()
    errors = []

    def trainer():
        X, y = _data()
        try:
            while not stop.is_set():
                _dense().fit(
                    X,
                    y,
                    loss="softmax_cross_entropy",
                    epochs=2,
                    batch_size=BATCH,
                    batch_callback=lambda *args: started.set(),
                )
        except BaseException as error:
            errors.append(error)
        finally:
            started.set()

    thread = threading.Thread(target=trainer, daemon=True)
    thread.start()
    try:
        assert started.wait(TIMEOUT)
        pid = os.fork()
        if pid == 0:
            _in_child(
                lambda: _assert_same_digests(
                    _child_digests(models), expected, "child forked during a fit"
                )
            )
        _wait(pid, "the child forked during a fit")
    finally:
        stop.set()
        thread.join(TIMEOUT)
    assert not thread.is_alive(), "the parent's training thread hung"
    assert not errors, errors[0]
    _assert_same_digests(_digests(models), expected, "the parent after the fork")


SCENARIOS = [
    "os_fork",
    "multiprocessing_pool",
    "joblib_multiprocessing",
    "sklearn_cross_val_score",
    "prefork_server",
    "fork_while_training",
]


def _run(name, tmp_path):
    """Run scenario_<name> in a fresh interpreter in its own session; kill the session and
    fail if it has not finished after TIMEOUT seconds."""
    here = os.path.dirname(os.path.abspath(__file__))
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(
            [here, os.path.dirname(os.path.dirname(os.path.abspath(pynn.__file__)))]
        ),
        OPENBLAS_NUM_THREADS="1",  # so that the parent's extra OS threads are pynn's
        JOBLIB_START_METHOD="fork",
    )  # joblib's pool forks (the default may change)
    env = without_leak_check(env)  # (helpers.without_leak_check says why)
    code = f"import test_fork as t; t.scenario_{name}(); print('scenario {name}: OK', flush=True)"
    out_path, err_path = tmp_path / "stdout", tmp_path / "stderr"
    with open(out_path, "w") as out, open(err_path, "w") as err:
        # Python 3.12+ warns that fork with threads running may deadlock the child: that
        # is what these scenarios test.
        command = [sys.executable, "-W", "ignore:This process:DeprecationWarning", "-c", code]
        process = subprocess.Popen(
            command, cwd=tmp_path, env=env, stdout=out, stderr=err, start_new_session=True
        )
        try:
            status = process.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            status = None
        finally:  # the session is this test's own: end whatever is left of it
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()
    stdout, stderr = out_path.read_text(), err_path.read_text()
    report = f"\n--- stdout:\n{stdout[-3000:]}\n--- stderr:\n{stderr[-5000:]}"
    if status is None:
        pytest.fail(
            f"scenario {name} hung: not finished after {TIMEOUT} s (a forked "
            f"child waiting forever for threads it does not have?){report}"
        )
    assert status == 0, f"scenario {name} failed with status {status}{report}"
    assert f"scenario {name}: OK" in stdout, report


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork on this platform")
@pytest.mark.parametrize("name", SCENARIOS)
def test_forked_child_trains_and_predicts(name, tmp_path):
    if name == "joblib_multiprocessing":
        pytest.importorskip("joblib")
    if name == "sklearn_cross_val_score":
        pytest.importorskip("sklearn")
    _run(name, tmp_path)
