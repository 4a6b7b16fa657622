"""Threads: four threads training four models give the sequential results bit for bit, and
really can run at once: the kernels release the GIL (shown by a handshake, not by a
hoped-for interleaving). One model used from two threads runs its calls one at a time
(docs/model.md, "Threads"); an optimizer, schedule or early stopper is used by one running
fit at a time. No assertion depends on timing or on the scheduler; every join and wait has
a timeout far beyond any run (helpers.HANG_SECONDS), so a deadlock fails the test instead
of hanging the suite."""

import copy
import json
import os
import pickle
import subprocess
import sys
import threading

import numpy as np
import pytest
from helpers import HANG_SECONDS, assert_bitwise_equal, run_threads

import pynn

pytestmark = pytest.mark.usefixtures("restore_threads")
TIMEOUT = HANG_SECONDS  # a deadlock detector only (helpers.HANG_SECONDS)


def _data(n, features, n_classes, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, features))
    return X, rng.integers(0, n_classes, n)


def _dense(dtype):
    return pynn.Sequential(
        pynn.Dense(60, 48, "relu"), pynn.Dense(48, 5), dtype=dtype, random_state=1
    )


def _layers(dtype):  # trained by the network's step (with activation layers)
    return pynn.Sequential(
        pynn.Dense(60, 32),
        pynn.PReLU(32),
        pynn.Maxout(32, 12, 3),
        pynn.Dense(12, 5),
        dtype=dtype,
        random_state=2,
    )


# Four different trainings: both step paths, both dtypes, three optimizers, a validation
# split and a schedule; the data are float64, so the float32 models gather with a cast.
JOBS = [
    (_dense, np.float32, lambda: pynn.Adam(0.01), {}),
    (_dense, np.float64, lambda: pynn.SGD(0.05, momentum=0.9), {"validation_split": 0.25}),
    (_layers, np.float32, lambda: pynn.SGD(0.05, momentum=0.9, nesterov=True), {}),
    (_layers, np.float64, lambda: pynn.AdamW(0.01), {"lr_scheduler": pynn.StepLR(1, gamma=0.5)}),
]


def _train(job, batch_callback=None):
    make, dtype, optimizer, options = job
    X, y = _data(480, 60, 5, seed=3)
    model = make(dtype)
    options = copy.deepcopy(options)  # a schedule is bound to one optimizer
    model.fit(
        X,
        y,
        loss="softmax_cross_entropy",
        optimizer=optimizer(),
        epochs=3,
        batch_size=32,
        batch_callback=batch_callback,
        **options,
    )
    return model


def _assert_same_training(model, expected, what):
    assert_bitwise_equal(model.flat_params, expected.flat_params, f"{what}: parameters")
    for name, state in expected.optimizer_.state.items():
        assert_bitwise_equal(model.optimizer_.state[name], state, f"{what}: {name}")
    assert model.optimizer_.step_count == expected.optimizer_.step_count
    for key, values in expected.history_.items():
        if key != "time":
            assert model.history_[key] == values, f"{what}: history {key}"


def test_four_threads_train_four_models_as_sequential_runs():
    pynn.set_num_threads(2)
    sequential = [_train(job) for job in JOBS]
    models = [None] * len(JOBS)
    start = threading.Barrier(len(JOBS), timeout=TIMEOUT)

    def job_runner(i):
        def run():
            start.wait()
            models[i] = _train(JOBS[i])

        return run

    # How much the runs overlap depends on the scheduler (on a busy machine they may not);
    # that the kernels let them overlap is shown deterministically by the next test.
    run_threads([job_runner(i) for i in range(len(JOBS))])
    for i, (model, expected) in enumerate(zip(models, sequential)):
        _assert_same_training(model, expected, f"job {i}")


# The handshake of test_kernels_release_the_gil_during_training, in a fresh interpreter.
# X lives in an anonymous private mapping registered with userfaultfd (Linux): after the
# first step the batch callback drops X's pages, so the next step's first read of X blocks
# the training thread inside that read until the server thread, a Python thread of the same
# interpreter, puts the page back (UFFDIO_COPY). The server needs the GIL for that.
GIL_CHILD = r"""
import ctypes, errno, fcntl, json, linecache, mmap, os, platform, select, struct, sys
import faulthandler, threading
import numpy as np
import pynn

faulthandler.dump_traceback_later(int(sys.argv[1]), exit=True)  # a hang: show where
PAGE = mmap.PAGESIZE
SYSCALL = {"x86_64": 323, "aarch64": 282}.get(platform.machine())  # userfaultfd(2)
API, REGISTER, COPY = 0xC018AA3F, 0xC020AA00, 0xC028AA03  # _IOWR(0xAA, nr, size)
FEATURE_THREAD_ID, MODE_MISSING, EVENT_PAGEFAULT = 1 << 8, 1, 0x12


def userfaultfd():
    # USER_MODE_ONLY (1) lets an unprivileged process use it; older kernels lack the flag
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    for flags in (os.O_CLOEXEC | os.O_NONBLOCK | 1, os.O_CLOEXEC | os.O_NONBLOCK):
        fd = libc.syscall(SYSCALL, flags) if SYSCALL is not None else -1
        if fd >= 0:
            for features in (FEATURE_THREAD_ID, 0):
                try:
                    fcntl.ioctl(fd, API, bytearray(struct.pack("QQQ", 0xAA, features, 0)))
                    return fd, bool(features)
                except OSError:
                    pass
            os.close(fd)
    return None, False


uffd, thread_ids = userfaultfd()
if uffd is None:
    print(json.dumps({"available": False}))
    sys.exit(0)

pynn.set_num_threads(1)  # the training thread itself reads X (no OpenMP worker)
rng = np.random.default_rng(4)
data = rng.standard_normal((512, 300)).astype(np.float32)
y = rng.integers(0, 5, 512)
size = -(-data.nbytes // PAGE) * PAGE
region = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE)  # anonymous, private
X = np.frombuffer(region, np.float32, count=data.size).reshape(data.shape)
X[:] = data  # every page present before the registration: only dropped pages fault
base = X.ctypes.data
saved = (ctypes.c_char * size).from_buffer_copy(region)
fcntl.ioctl(uffd, REGISTER, bytearray(struct.pack("QQQQ", base, size, MODE_MISSING, 0)))

faults = []
stop_r, stop_w = os.pipe()


def serve():  # the other Python thread: it needs the GIL to run any of this
    while True:
        ready = select.select([uffd, stop_r], [], [])[0]
        if uffd not in ready:
            return
        try:
            message = os.read(uffd, 32)
        except BlockingIOError:  # another reader's wake-up (there is none): wait again
            continue
        assert message[0] == EVENT_PAGEFAULT, message[0]
        address, ptid = struct.unpack_from("QI", message, 16)
        frame = sys._current_frames()[trainer.ident]  # the trainer waits: it cannot move
        faults.append({"ptid": ptid if thread_ids else None,
                       "file": frame.f_code.co_filename, "function": frame.f_code.co_name,
                       "line": linecache.getline(frame.f_code.co_filename,
                                                 frame.f_lineno).strip()})
        page = address & ~(PAGE - 1)
        copy = struct.pack("QQQQq", page, ctypes.addressof(saved) + page - base, PAGE, 0, 0)
        try:
            fcntl.ioctl(uffd, COPY, bytearray(copy))
        except OSError as error:  # already put back: the copy woke the reader
            if error.errno != errno.EEXIST:
                raise


def drop_pages_once(model, epoch, step, n_steps):
    if (epoch, step) == (0, 0):
        region.madvise(mmap.MADV_DONTNEED)  # X reads as missing pages from now on


def train(X, callback):
    return pynn.Sequential(pynn.Dense(300, 64, "relu"), pynn.Dense(64, 5), random_state=0).fit(
        X, y, loss="softmax_cross_entropy", epochs=2, batch_size=32, shuffle=False,
        batch_callback=callback)


trained = {}
trainer = threading.Thread(target=lambda: trained.update(model=train(X, drop_pages_once)))
server = threading.Thread(target=serve)
server.start()
trainer.start()
trainer.join()
os.write(stop_w, b"x")
server.join()
expected = train(data, None)
model = trained["model"]
print(json.dumps({
    "available": True, "faults": faults, "trainer": trainer.native_id,
    "same": bool(np.array_equal(model.flat_params, expected.flat_params))
            and model.history_["loss"] == expected.history_["loss"]}))
"""


def test_kernels_release_the_gil_during_training(tmp_path):
    """A training thread blocks inside the network's step (Network.step) until another
    Python thread of its interpreter has run: the kernel's first read of X after the first
    step faults on a page the batch callback dropped, and only the server thread, which
    needs the GIL to run its Python code, can put that page back (userfaultfd). No timing
    and no scheduling choice is involved: if the kernel released the GIL the server gets it
    (no other thread wants it: the main thread waits in join) and the training goes on; if
    the kernel held the GIL, both threads wait for ever, and the parent's timeout (a
    deadlock detector, hundreds of times the second the child needs) fails the test. The
    server also sees where the blocked thread is: inside the step kernel's call in
    pynn/training_loop.py. The model is bitwise the one trained on an ordinary array."""
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(pynn.__file__)))
    try:
        run = subprocess.run(
            [sys.executable, "-c", GIL_CHILD, str(HANG_SECONDS)],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=2 * HANG_SECONDS,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the child hung even past its own watchdog")
    assert run.returncode == 0, (
        "a hang (the step kernel held the GIL while it read X, "
        "so the thread serving the page fault never ran?) or an "
        "error:\n" + run.stderr[-3000:]
    )
    result = json.loads(run.stdout)
    if not result["available"]:
        pytest.skip("userfaultfd(2) is not available here (Linux x86_64 or aarch64 only)")
    faults = result["faults"]
    assert faults, "the kernel never read a dropped page of X"
    for fault in faults:
        assert (os.path.basename(fault["file"]), fault["function"]) == (
            "training_loop.py",
            "_steps",
        )
        assert "run_step(X" in fault["line"], fault  # plan.step: Network.step
        assert fault["ptid"] in (None, result["trainer"]), fault
    assert result["same"], "training on the faulting X differs from training on a copy"


def test_two_threads_predicting_with_one_model_get_the_sequential_answers():
    X, y = _data(2000, 60, 5, seed=5)
    model = _dense(np.float32)
    model.fit(X, y, loss="softmax_cross_entropy", epochs=1, batch_size=64)
    # Different sizes share the 1024-row plan and need other plans too.
    parts = [(X[:1500], y[:1500]), (X[300:1500], y[300:1500])]
    expected = [
        (model.decision_function(Xp), model.predict_proba(Xp), model.evaluate(Xp, yp))
        for Xp, yp in parts
    ]

    def predictor(i):
        def run():
            Xp, yp = parts[i]
            for _ in range(15):
                out, proba, scores = expected[i]
                assert_bitwise_equal(model.decision_function(Xp), out, f"thread {i} outputs")
                assert_bitwise_equal(model.predict_proba(Xp), proba, f"thread {i} proba")
                assert model.evaluate(Xp, yp) == scores, f"thread {i} evaluate"

        return run

    run_threads([predictor(0), predictor(1)])


class _WatchedLock:
    """A model's lock that sets `asked` when `thread` asks for it (before it waits)."""

    def __init__(self, lock):
        self.lock, self.thread, self.asked = lock, None, threading.Event()

    def __enter__(self):
        if threading.current_thread() is self.thread:
            self.asked.set()
        return self.lock.__enter__()

    def __exit__(self, *error):
        return self.lock.__exit__(*error)


def _one_model_two_threads(first, second):
    """Run first(model) in a thread and, once its fit is inside an epoch, second(model) in
    another: second's call waits for first's to end. First's fit goes on only once second's
    call has asked for the model's lock, which first holds: so second's call did arrive
    while first's ran, whatever the scheduler does (no sleep that is hoped long enough)."""
    X, y = _data(256, 60, 5, seed=6)
    model = _dense(np.float32)
    model.fit(X, y, loss="softmax_cross_entropy", optimizer=pynn.Adam(0.01), epochs=1)
    model._lock = watched = _WatchedLock(model._lock)
    running = threading.Event()

    def in_epoch(m, epoch, step, n):
        if not running.is_set():
            running.set()
            assert watched.asked.wait(TIMEOUT), "the second call never asked for the lock"

    def second_after():
        assert running.wait(TIMEOUT)
        watched.thread = threading.current_thread()
        second(model)

    run_threads([lambda: first(model, in_epoch), second_after])
    assert watched.asked.is_set()
    return model


def test_two_threads_partial_fitting_one_model_run_one_after_the_other():
    XA, yA = _data(192, 60, 5, seed=7)
    XB, yB = _data(160, 60, 5, seed=8)
    model = _one_model_two_threads(
        lambda m, cb: m.partial_fit(XA, yA, epochs=3, batch_callback=cb),
        lambda m: m.partial_fit(XB, yB, epochs=2),
    )
    expected = _dense(np.float32)
    X, y = _data(256, 60, 5, seed=6)
    expected.fit(X, y, loss="softmax_cross_entropy", optimizer=pynn.Adam(0.01), epochs=1)
    expected.partial_fit(XA, yA, epochs=3).partial_fit(XB, yB, epochs=2)
    _assert_same_training(model, expected, "A then B")


def test_predict_during_another_threads_fit_waits_for_it():
    X, y = _data(256, 60, 5, seed=9)
    seen = {}
    model = _one_model_two_threads(
        lambda m, cb: m.fit(
            X,
            y,
            optimizer=pynn.Adam(0.01),
            epochs=4,
            random_state=11,
            batch_callback=cb,
            callback=lambda m, e, logs: seen.update(inner=m.evaluate(X, y)),
        ),
        lambda m: seen.update(out=m.decision_function(X)),
    )
    assert_bitwise_equal(seen["out"], model.decision_function(X), "predict after the fit")
    assert seen["inner"] == model.evaluate(X, y)  # the callback's call (same thread) ran
    expected = _dense(np.float32).fit(
        X, y, loss="softmax_cross_entropy", optimizer=pynn.Adam(0.01), epochs=4, random_state=11
    )
    _assert_same_training(model, expected, "the fit")


@pytest.mark.parametrize("shared", ["optimizer", "lr_scheduler", "early_stopping"])
def test_a_helper_in_use_by_another_running_fit_is_an_error(shared):
    X, y = _data(256, 60, 5, seed=10)
    helpers = {
        "optimizer": pynn.Adam(0.01),
        "lr_scheduler": pynn.StepLR(1),
        "early_stopping": pynn.EarlyStopping(patience=100),
    }

    def options():  # the shared helper, and fresh ones for the rest
        own = {
            "optimizer": pynn.Adam(0.01),
            "lr_scheduler": pynn.StepLR(1),
            "early_stopping": pynn.EarlyStopping(patience=100),
        }
        own[shared] = helpers[shared]
        return own

    first, second = _dense(np.float32), _dense(np.float64)
    running, tried = threading.Event(), threading.Event()
    refused = {}

    def in_first_fit(m, epoch, step, n):  # wait inside the first fit for the second's try
        if not running.is_set():
            running.set()
            assert tried.wait(TIMEOUT)

    def second_fit():
        assert running.wait(TIMEOUT)
        try:
            with pytest.raises(RuntimeError, match=f"{shared} .* in use by another fit") as e:
                second.fit(X, y, loss="softmax_cross_entropy", epochs=1, **options())
            refused["error"] = e.value
        finally:
            tried.set()

    run_threads(
        [
            lambda: first.fit(
                X,
                y,
                loss="softmax_cross_entropy",
                epochs=2,
                batch_callback=in_first_fit,
                **options(),
            ),
            second_fit,
        ]
    )
    assert "copy.deepcopy" in str(refused["error"])
    assert second.targets_ is None  # refused before the model was touched
    # The first fit was not disturbed, and the helper serves one fit after another.
    expected = _dense(np.float32).fit(
        X,
        y,
        loss="softmax_cross_entropy",
        epochs=2,
        **{k: copy.deepcopy(v) for k, v in options().items()},
    )
    _assert_same_training(first, expected, "the first fit")
    second.fit(X, y, loss="softmax_cross_entropy", epochs=1, **options())


def test_copies_have_their_own_lock_and_train_alongside_the_original():
    X, y = _data(256, 60, 5, seed=12)
    model = _layers(np.float64).fit(X, y, loss="softmax_cross_entropy", epochs=1)
    copies = [copy.deepcopy(model), pickle.loads(pickle.dumps(model))]
    locks = {id(model._lock)} | {id(c._lock) for c in copies}
    assert len(locks) == 3 and "_lock" not in model.__getstate__()
    expected = copy.deepcopy(model).partial_fit(X, y, epochs=2)
    run_threads([lambda m=m: m.partial_fit(X, y, epochs=2) for m in [model] + copies])
    for m in [model] + copies:
        _assert_same_training(m, expected, "a copy trained in its own thread")
