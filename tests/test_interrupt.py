"""Ctrl-C during fit: the model stops at the end of the step running, in the state of its
last completed step (parameters, optimizer state and step count), keeps the history of its
completed epochs, and trains on. A KeyboardInterrupt raised by a callback leaves it the
same way. Only the main thread under Python's default SIGINT handler is changed, and only
while fit runs."""

import json
import os
import select
import signal
import subprocess
import sys
import threading

import numpy as np
import pytest
from helpers import HANG_SECONDS, assert_bitwise_equal

import pynn

pytestmark = pytest.mark.skipif(
    not hasattr(signal, "raise_signal") or sys.platform == "win32", reason="POSIX signals"
)
N, FEATURES, BATCH = 256, 12, 32  # 8 steps an epoch, the last one full
LATE = 400  # steps a real-process child trains on past asking for SIGINT, then it waits


def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, FEATURES))
    return X, (X[:, 0] + X[:, 1] ** 2 > 0.5).astype(np.int64)


MODELS = {
    "dense": lambda: pynn.Sequential(
        pynn.Dense(FEATURES, 16, "tanh"), pynn.Dense(16, 2), random_state=0
    ),
    "layers": lambda: pynn.Sequential(
        pynn.Dense(FEATURES, 16),
        pynn.PReLU(16),
        pynn.Maxout(16, 8, 2),
        pynn.Dense(8, 2),
        dtype=np.float64,
        random_state=0,
    ),
}
OPTIMIZERS = {
    "dense": lambda: pynn.Adam(0.01),
    "layers": lambda: pynn.SGD(0.05, momentum=0.9, nesterov=True),
}
FIT = dict(loss="softmax_cross_entropy", batch_size=BATCH, shuffle=False)


def replay(kind, epochs_steps):
    """A fresh model trained on exactly the steps listed, as (steps in that epoch) per
    epoch: without shuffling, an epoch's first s steps are the rows [0, s * BATCH)."""
    X, y = data()
    model = MODELS[kind]()
    model.fit(X, y, optimizer=OPTIMIZERS[kind](), epochs=0, **FIT)
    for steps in epochs_steps:
        model.partial_fit(X[: steps * BATCH], y[: steps * BATCH], **FIT)
    return model


def steps_per_epoch(log):
    """[(epoch, step)] of the completed steps, from fit calls one after another, as the step
    count of each epoch run (a new fit call starts at epoch 0)."""
    counts = []
    for _epoch, step in log:
        if step == 0:
            counts.append(0)
        counts[-1] += 1
    return counts


def check_state(model, kind, log):
    """The model is that of the completed steps, and finite, usable and trainable."""
    expected = replay(kind, steps_per_epoch(log))
    assert model.optimizer_.step_count == len(log) == expected.optimizer_.step_count
    assert_bitwise_equal(model.flat_params, expected.flat_params, "parameters")
    for name, state in expected.optimizer_.state.items():
        assert_bitwise_equal(model.optimizer_.state[name], state, name)
    assert np.isfinite(model.flat_params).all()
    X, y = data()
    assert model.predict(X).shape == (N,)
    model.partial_fit(X, y, **FIT)
    expected.partial_fit(X, y, **FIT)
    assert_bitwise_equal(model.flat_params, expected.flat_params, "after partial_fit")


def _main_thread_default_handler():
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("SIGINT has a handler other than Python's default here")


class SignallingSGD(pynn.SGD):
    """SIGINT at a chosen update, after the step count moved and before the kernel: where
    an interrupt raised at once would leave the count one ahead of the parameters."""

    def __init__(self, at, **kwargs):
        super().__init__(**kwargs)
        self.at = at

    def _update(self):
        if self.step_count == self.at:
            signal.raise_signal(signal.SIGINT)
        super()._update()


@pytest.mark.parametrize("at", [1, 8, 13])
def test_sigint_inside_an_update_stops_after_that_step(at):
    _main_thread_default_handler()
    X, y = data()
    model = MODELS["layers"]()
    log = []
    with pytest.raises(KeyboardInterrupt):
        model.fit(
            X,
            y,
            optimizer=SignallingSGD(at, lr=0.05, momentum=0.9, nesterov=True),
            epochs=5,
            batch_callback=lambda m, e, s, n: log.append((e, s)),
            **FIT,
        )
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert len(log) == at
    assert len(model.history_.get("loss", [])) == (at - 1) // 8  # epochs that ended
    model.optimizer_.at = None
    check_state(model, "layers", log)


def test_keyboard_interrupt_from_a_batch_callback_leaves_the_completed_steps():
    X, y = data()
    log = []

    def stop_at_step_11(model, epoch, step, n_steps):
        log.append((epoch, step))
        if len(log) == 11:
            raise KeyboardInterrupt

    model = MODELS["dense"]()
    with pytest.raises(KeyboardInterrupt):
        model.fit(
            X, y, optimizer=OPTIMIZERS["dense"](), epochs=5, batch_callback=stop_at_step_11, **FIT
        )
    assert len(model.history_["loss"]) == 1
    check_state(model, "dense", log)


def test_keyboard_interrupt_from_a_callback_keeps_that_epoch():
    X, y = data()

    def stop_after_epoch_2(model, epoch, logs):
        if epoch == 1:
            raise KeyboardInterrupt

    model = MODELS["dense"]()
    with pytest.raises(KeyboardInterrupt):
        model.fit(
            X, y, optimizer=OPTIMIZERS["dense"](), epochs=5, callback=stop_after_epoch_2, **FIT
        )
    expected = MODELS["dense"]().fit(X, y, optimizer=OPTIMIZERS["dense"](), epochs=2, **FIT)
    assert_bitwise_equal(model.flat_params, expected.flat_params, "parameters")
    assert model.history_["loss"] == expected.history_["loss"]
    check_state(model, "dense", [(e, s) for e in range(2) for s in range(N // BATCH)])


def test_sigint_handlers_are_changed_only_in_the_main_thread_and_only_during_fit():
    _main_thread_default_handler()
    X, y = data()
    seen = []
    record = lambda m, e, s, n: seen.append(signal.getsignal(signal.SIGINT))  # noqa: E731
    MODELS["dense"]().fit(X, y, epochs=1, batch_callback=record, **FIT)
    assert seen[0] is not signal.default_int_handler  # deferred while fit runs
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler

    seen.clear()
    thread = threading.Thread(
        target=lambda: MODELS["dense"]().fit(X, y, epochs=1, batch_callback=record, **FIT)
    )
    thread.start()
    thread.join(HANG_SECONDS)
    assert not thread.is_alive()
    assert seen == [signal.default_int_handler] * (N // BATCH)

    def own(signum, frame):
        own.calls += 1

    own.calls = 0
    previous = signal.signal(signal.SIGINT, own)
    try:
        seen.clear()
        MODELS["dense"]().fit(X, y, epochs=1, batch_callback=record, **FIT)
        assert seen == [own] * (N // BATCH)
        signal.raise_signal(signal.SIGINT)
        assert own.calls == 1 and signal.getsignal(signal.SIGINT) is own
    finally:
        signal.signal(signal.SIGINT, previous)


# ---- a real Ctrl-C: SIGINT from another process, at whatever point the training is ----
CHILD = """
import json, os, signal, sys
import test_interrupt as t

kind, rounds = sys.argv[1], int(sys.argv[2])
X, y = t.data()
model = t.MODELS[kind]()
log, epochs_ended = [], []
# Python's C-level handler writes a byte here for each SIGINT it receives, before Python
# runs the handler: a blocking read of `arrived` waits for the signal without a race.
arrived, wakeup = os.pipe()
os.set_blocking(wakeup, False)
signal.set_wakeup_fd(wakeup)

def on_step(model, epoch, step, n_steps):
    log.append((epoch, step))
    if len(log) - started == 5 + 9 * round:  # under way (a new place each round): signal
        print("training", flush=True)
    elif len(log) - started == 5 + 9 * round + t.LATE:  # the signal is late: wait for it
        os.read(arrived, 1)
        waited[0] = True

results = []
for round in range(rounds):
    started, waited = len(log), [False]
    try:
        if round == 0:
            model.fit(X, y, optimizer=t.OPTIMIZERS[kind](), epochs=10**6, batch_callback=on_step,
                      callback=lambda m, e, logs: epochs_ended.append(e), **t.FIT)
        else:
            model.partial_fit(X, y, epochs=10**6, batch_callback=on_step,
                              callback=lambda m, e, logs: epochs_ended.append(e), **t.FIT)
    except KeyboardInterrupt:
        results.append(len(log) - started)
    if not waited[0]:
        os.read(arrived, 1)  # this round's signal: its byte is there, so the next round waits
assert len(model.history_.get("loss", [])) == len(epochs_ended)
t.check_state(model, kind, log)
print(json.dumps(results), flush=True)
"""


def _line(process):
    """The child's next line of output; a failure (not a hang) if it never comes."""
    ready = select.select([process.stdout], [], [], HANG_SECONDS)[0]
    assert ready, "the child printed nothing: " + (process.kill() or process.stderr.read()[-3000:])
    return process.stdout.readline()


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_ctrl_c_in_a_real_process_leaves_the_last_completed_step(kind, tmp_path):
    """SIGINT sent three times to a process training 'forever' (fit, then partial_fit
    twice): each stops it at some step, and the model is that of all completed steps.

    The signal lands wherever the training happens to be when this process gets to send
    it (a kernel, an update, Python code), which is the point; how late it comes depends on
    the scheduler, so the child trains at most LATE steps past the line that asks for it,
    then waits for it in the batch callback (a blocking read of the signal's wake-up byte,
    no timeout). A slow parent therefore changes where the signal lands, never the outcome
    nor the work left to check (at most about 3 * LATE steps to replay)."""
    rounds = 3
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(
            [os.path.dirname(__file__), os.path.dirname(os.path.dirname(pynn.__file__))]
        ),
    )
    process = subprocess.Popen(
        [sys.executable, "-c", CHILD, kind, str(rounds)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(rounds):
            line = _line(process)
            assert line == "training\n", line + process.stderr.read()[-3000:]
            os.kill(process.pid, signal.SIGINT)
        out, err = process.communicate(timeout=HANG_SECONDS)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err[-3000:]
    steps = json.loads(out)
    assert len(steps) == rounds and min(steps) >= 5, steps
