"""Threads: four threads training four models give the sequential results bit for bit, and
really run at once (the kernels release the GIL); one model used from two threads runs its
calls one at a time (docs/model.md, "Threads"); an optimizer, schedule or early stopper is
used by one running fit at a time. Every join has a timeout, so a deadlock fails the test
instead of hanging the suite."""
import copy
import pickle
import sys
import threading

import numpy as np
import pytest

import pynn
from helpers import assert_bitwise_equal

pytestmark = pytest.mark.usefixtures("restore_threads")
TIMEOUT = 120  # seconds for any thread: far above the runs here, which take well under one


def _data(n, features, n_classes, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, features))
    return X, rng.integers(0, n_classes, n)


def _dense(dtype):
    return pynn.Sequential(pynn.Dense(60, 48, "relu"), pynn.Dense(48, 5), dtype=dtype,
                           random_state=1)


def _layers(dtype):  # trained one kernel call per stage (not DenseStackStep)
    return pynn.Sequential(pynn.Dense(60, 32), pynn.PReLU(32), pynn.Maxout(32, 12, 3),
                           pynn.Dense(12, 5), dtype=dtype, random_state=2)


# Four different trainings: both step paths, both dtypes, three optimizers, a validation
# split and a schedule; the data are float64, so the float32 models gather with a cast.
JOBS = [
    (_dense, np.float32, lambda: pynn.Adam(0.01), {}),
    (_dense, np.float64, lambda: pynn.SGD(0.05, momentum=0.9), {"validation_split": 0.25}),
    (_layers, np.float32, lambda: pynn.SGD(0.05, momentum=0.9, nesterov=True), {}),
    (_layers, np.float64, lambda: pynn.AdamW(0.01),
     {"lr_scheduler": pynn.StepLR(1, gamma=0.5)}),
]


def _train(job, batch_callback=None):
    make, dtype, optimizer, options = job
    X, y = _data(480, 60, 5, seed=3)
    model = make(dtype)
    options = copy.deepcopy(options)  # a schedule is bound to one optimizer
    model.fit(X, y, loss="softmax_cross_entropy", optimizer=optimizer(), epochs=3,
              batch_size=32, batch_callback=batch_callback, **options)
    return model


def _run_threads(targets, timeout=TIMEOUT):
    """Run each callable in its own thread; re-raise the first error; fail on a hang."""
    errors = []

    def guarded(target):
        try:
            target()
        except BaseException as error:  # reported in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(target,), daemon=True)
               for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread hung (deadlock?)"
    if errors:
        raise errors[0]


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
    _run_threads([job_runner(i) for i in range(len(JOBS))])
    for i, (model, expected) in enumerate(zip(models, sequential)):
        _assert_same_training(model, expected, f"job {i}")


def test_kernels_release_the_gil_during_training():
    """With a switch interval far longer than the test, Python hands the GIL to another
    thread only where a thread releases it itself. A Dense stack's step is two kernel calls
    (DenseStackStep and the update) between Python code that never releases the GIL, so
    another thread's step between two steps of one epoch means a kernel released it."""
    X, y = _data(512, 300, 5, seed=4)
    log = []

    def trainer(i):
        def run():
            model = pynn.Sequential(pynn.Dense(300, 64, "relu"), pynn.Dense(64, 5),
                                    random_state=i)
            model.fit(X.astype(np.float32), y, loss="softmax_cross_entropy", epochs=2,
                      batch_size=32, shuffle=False,
                      batch_callback=lambda m, epoch, step, n: log.append((i, epoch)))
        return run

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1000.0)
    try:
        _run_threads([trainer(0), trainer(1)])
    finally:
        sys.setswitchinterval(interval)
    within_epochs = sum(a[0] != b[0] and c == a for a, b, c in zip(log, log[1:], log[2:]))
    assert within_epochs > 0, "no thread ran while another was inside an epoch"


def test_two_threads_predicting_with_one_model_get_the_sequential_answers():
    X, y = _data(2000, 60, 5, seed=5)
    model = _dense(np.float32)
    model.fit(X, y, loss="softmax_cross_entropy", epochs=1, batch_size=64)
    # Different sizes share the 1024-row plan and need other plans too.
    parts = [(X[:1500], y[:1500]), (X[300:1500], y[300:1500])]
    expected = [(model.decision_function(Xp), model.predict_proba(Xp), model.evaluate(Xp, yp))
                for Xp, yp in parts]

    def predictor(i):
        def run():
            Xp, yp = parts[i]
            for _ in range(15):
                out, proba, scores = expected[i]
                assert_bitwise_equal(model.decision_function(Xp), out, f"thread {i} outputs")
                assert_bitwise_equal(model.predict_proba(Xp), proba, f"thread {i} proba")
                assert model.evaluate(Xp, yp) == scores, f"thread {i} evaluate"
        return run

    _run_threads([predictor(0), predictor(1)])


def _one_model_two_threads(first, second):
    """Run first(model) in a thread and, once its fit is inside an epoch, second(model) in
    another: second's call waits for first's to end."""
    X, y = _data(256, 60, 5, seed=6)
    model = _dense(np.float32)
    model.fit(X, y, loss="softmax_cross_entropy", optimizer=pynn.Adam(0.01), epochs=1)
    running = threading.Event()

    def in_epoch(m, epoch, step, n):
        if not running.is_set():
            running.set()
            threading.Event().wait(0.05)  # let the second call arrive while this one runs

    def second_after():
        assert running.wait(TIMEOUT)
        second(model)

    _run_threads([lambda: first(model, in_epoch), second_after])
    return model


def test_two_threads_partial_fitting_one_model_run_one_after_the_other():
    XA, yA = _data(192, 60, 5, seed=7)
    XB, yB = _data(160, 60, 5, seed=8)
    model = _one_model_two_threads(
        lambda m, cb: m.partial_fit(XA, yA, epochs=3, batch_callback=cb),
        lambda m: m.partial_fit(XB, yB, epochs=2))
    expected = _dense(np.float32)
    X, y = _data(256, 60, 5, seed=6)
    expected.fit(X, y, loss="softmax_cross_entropy", optimizer=pynn.Adam(0.01), epochs=1)
    expected.partial_fit(XA, yA, epochs=3).partial_fit(XB, yB, epochs=2)
    _assert_same_training(model, expected, "A then B")


def test_predict_during_another_threads_fit_waits_for_it():
    X, y = _data(256, 60, 5, seed=9)
    seen = {}
    model = _one_model_two_threads(
        lambda m, cb: m.fit(X, y, optimizer=pynn.Adam(0.01), epochs=4, random_state=11,
                            batch_callback=cb,
                            callback=lambda m, e, logs: seen.update(inner=m.evaluate(X, y))),
        lambda m: seen.update(out=m.decision_function(X)))
    assert_bitwise_equal(seen["out"], model.decision_function(X), "predict after the fit")
    assert seen["inner"] == model.evaluate(X, y)  # the callback's call (same thread) ran
    expected = _dense(np.float32).fit(X, y, loss="softmax_cross_entropy",
                                      optimizer=pynn.Adam(0.01), epochs=4, random_state=11)
    _assert_same_training(model, expected, "the fit")


@pytest.mark.parametrize("shared", ["optimizer", "lr_scheduler", "early_stopping"])
def test_a_helper_in_use_by_another_running_fit_is_an_error(shared):
    X, y = _data(256, 60, 5, seed=10)
    helpers = {"optimizer": pynn.Adam(0.01), "lr_scheduler": pynn.StepLR(1),
               "early_stopping": pynn.EarlyStopping(patience=100)}

    def options():  # the shared helper, and fresh ones for the rest
        own = {"optimizer": pynn.Adam(0.01), "lr_scheduler": pynn.StepLR(1),
               "early_stopping": pynn.EarlyStopping(patience=100)}
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

    _run_threads([lambda: first.fit(X, y, loss="softmax_cross_entropy", epochs=2,
                                    batch_callback=in_first_fit, **options()), second_fit])
    assert "copy.deepcopy" in str(refused["error"])
    assert second.targets_ is None  # refused before the model was touched
    # The first fit was not disturbed, and the helper serves one fit after another.
    expected = _dense(np.float32).fit(X, y, loss="softmax_cross_entropy", epochs=2,
                                      **{k: copy.deepcopy(v) for k, v in options().items()})
    _assert_same_training(first, expected, "the first fit")
    second.fit(X, y, loss="softmax_cross_entropy", epochs=1, **options())


def test_copies_have_their_own_lock_and_train_alongside_the_original():
    X, y = _data(256, 60, 5, seed=12)
    model = _layers(np.float64).fit(X, y, loss="softmax_cross_entropy", epochs=1)
    copies = [copy.deepcopy(model), pickle.loads(pickle.dumps(model))]
    locks = {id(model._lock)} | {id(c._lock) for c in copies}
    assert len(locks) == 3 and "_lock" not in model.__getstate__()
    expected = copy.deepcopy(model).partial_fit(X, y, epochs=2)
    _run_threads([lambda m=m: m.partial_fit(X, y, epochs=2) for m in [model] + copies])
    for m in [model] + copies:
        _assert_same_training(m, expected, "a copy trained in its own thread")
