"""Divergence that stays finite (issue 15): the `divergence` option of fit and partial_fit,
the estimators' `divergence` parameter (on by default) and `pynn train --divergence`.

The rule (pynn.core.training_loop.Divergence): at an epoch's end, the epoch diverged when its mean
training loss is more than `divergence` times the best loss (the start loss and every
completed epoch's) and above both the loss before training and that of an all-zero
output. Then pynn.DivergenceError, a NonFiniteLossError, and the model is back as the last
good epoch left it. Checked through the network's step on models of Dense layers, with an
Activation layer and with PReLU, in both dtypes.
"""

import warnings

import numpy as np
import pytest
from helpers import ADDRESS_CAP, needs_address_cap, run_python

import pynn
from pynn import SGD, Activation, Adam, Dense, PReLU, Sequential
from pynn.cli import main

DTYPES = (np.float32, np.float64)
PATHS = ("stack", "activation", "prelu")


def model_on(path, dtype, outputs):
    hidden = {
        "stack": [Dense(3, 8, "relu")],
        "activation": [Dense(3, 8), Activation("tanh")],
        "prelu": [Dense(3, 8), PReLU(8)],
    }
    model = Sequential(*hidden[path], Dense(8, outputs), dtype=dtype, random_state=0)
    return model


def problem(kind, n=64):
    """(X, y, loss, outputs): a small regression or a two-class classification."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 3))
    if kind == "regression":
        return X, X @ np.array([1.0, -2.0, 0.5]) + 0.3, "mse", 1
    return X, (X[:, 0] + X[:, 1] > 0).astype(np.int64), "softmax_cross_entropy", 2


def assert_path(model, path, n):
    """The model trains on the path under test (a plan exists after a fit)."""
    assert model._plan(n).step is not None  # every path is the network's step


class EpochRecorder:
    """A fit callback keeping the parameters after each epoch; from `raise_after` on, it
    sets the optimizer's learning rate to `lr` (a run that goes well, then diverges)."""

    def __init__(self, start_params, raise_after=None, lr=1e6):
        self.after = [start_params.copy()]  # after[e]: the parameters at the start of epoch e+1
        self.raise_after, self.lr = raise_after, lr

    def __call__(self, model, epoch, logs):
        self.after.append(model.flat_params.copy())
        if self.raise_after is not None and epoch + 1 == self.raise_after:
            model.optimizer_.lr = self.lr


def start_params(model, X, y, loss):
    """The parameters fit starts from (fit with epochs=0 draws them from the same seed)."""
    model.fit(X, y, loss=loss, epochs=0)
    return model.flat_params.copy()


# ---- a diverging fit stops, back at its last good epoch -------------------------------------
@pytest.mark.parametrize("kind", ["regression", "classification"])
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_a_fit_that_diverges_after_two_good_epochs(dtype, path, kind):
    """Adam at lr=0.01 for two epochs, then lr=1e6: epoch 3's loss is finite but huge. The
    error names epoch 3 and the factor; the parameters are those after epoch 2, bit for
    bit, and history_ holds epochs 1 and 2 only. The optimizer's state is not rolled back
    (as after a non-finite loss): its step count includes epoch 3's steps."""
    X, y, loss, outputs = problem(kind)
    model = model_on(path, dtype, outputs)
    recorder = EpochRecorder(start_params(model, X, y, loss), raise_after=2)
    optimizer = Adam(lr=0.01)
    with pytest.raises(pynn.DivergenceError) as info:
        model.fit(
            X,
            y,
            loss=loss,
            optimizer=optimizer,
            epochs=20,
            batch_size=16,
            divergence=1e4,
            callback=recorder,
        )
    message = str(info.value)
    assert "training diverged at epoch 3" in message, message
    assert "divergence=10000" in message and "start of epoch 3" in message, message
    assert model.flat_params.tobytes() == recorder.after[2].tobytes()
    assert {key: len(values) for key, values in model.history_.items()} == {
        "loss": 2,
        "accuracy" if kind == "classification" else "r2": 2,
        "lr": 2,
        "time": 2,
    }
    assert optimizer.step_count == 3 * 4
    assert_path(model, path, 16)

    # The same run with the check off completes, as before the option existed.
    model = model_on(path, dtype, outputs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # R² of a huge loss may overflow
        model.fit(
            X,
            y,
            loss=loss,
            optimizer=Adam(lr=0.01),
            epochs=20,
            batch_size=16,
            callback=EpochRecorder(model.flat_params, raise_after=2),
        )
    assert len(model.history_["loss"]) == 20
    assert max(model.history_["loss"]) > 1e4 * min(model.history_["loss"])  # it did diverge


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")  # float32 R² sums
@pytest.mark.parametrize("kind", ["regression", "classification"])
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_adam_at_1e6_diverges_in_the_first_epoch(dtype, path, kind):
    """The issue's case: fit goes back to its initial parameters with an empty history;
    partial_fit goes back to the parameters it was called with and keeps the history of
    the calls before."""
    X, y, loss, outputs = problem(kind)
    model = model_on(path, dtype, outputs)
    initial = start_params(model, X, y, loss)
    with pytest.raises(pynn.DivergenceError, match=r"diverged at epoch 1: .*divergence=10000"):
        model.fit(X, y, loss=loss, optimizer=Adam(lr=1e6), epochs=5, batch_size=16, divergence=1e4)
    assert model.flat_params.tobytes() == initial.tobytes()
    assert model.history_ == {}

    model.fit(X, y, loss=loss, optimizer=Adam(lr=0.01), epochs=2, batch_size=16)
    before, history = model.flat_params.copy(), {k: list(v) for k, v in model.history_.items()}
    with pytest.raises(pynn.DivergenceError, match="diverged at epoch 1"):
        model.partial_fit(X, y, optimizer=Adam(lr=1e6), epochs=5, batch_size=16, divergence=1e4)
    assert model.flat_params.tobytes() == before.tobytes()
    assert model.history_ == history
    # The model trains on: fit starts again.
    model.fit(X, y, optimizer=Adam(lr=0.01), epochs=2, batch_size=16, divergence=1e4)
    assert len(model.history_["loss"]) == 2


def test_divergence_error_is_a_non_finite_loss_error():
    """Handlers written for a blown-up training (`except NonFiniteLossError`) catch it."""
    assert issubclass(pynn.DivergenceError, pynn.NonFiniteLossError)
    assert issubclass(pynn.DivergenceError, FloatingPointError)
    assert "DivergenceError" in pynn.__all__
    X, y, loss, outputs = problem("regression")
    model = model_on("stack", np.float32, outputs)
    try:
        model.fit(X, y, loss=loss, optimizer=Adam(lr=1e6), epochs=3, divergence=1e4)
    except pynn.NonFiniteLossError as error:
        assert type(error) is pynn.DivergenceError
    else:
        raise AssertionError("no error")


# ---- the check changes nothing in a run that does not diverge -------------------------------
def run_state(model):
    history = {k: v for k, v in model.history_.items() if k != "time"}
    optimizer = model.optimizer_
    return (
        model.flat_params.tobytes(),
        history,
        optimizer.step_count,
        {name: state.tobytes() for name, state in optimizer.state.items()},
        model._shuffle_rng.bit_generator.state,
    )


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_a_normal_run_is_bit_identical_with_the_check_on(dtype, path):
    """The extra forward pass reads the model only: the parameters, history, optimizer
    state and row-order stream are the same bits with divergence on and off, through fit
    (with a validation split and shuffling) and the partial_fit calls after it."""
    X, y, loss, outputs = problem("classification", n=300)
    states = []
    for divergence in (None, 1e4):
        model = model_on(path, dtype, outputs)
        model.fit(
            X,
            y,
            loss=loss,
            optimizer=Adam(lr=0.01),
            epochs=4,
            batch_size=32,
            validation_split=0.2,
            divergence=divergence,
        )
        for _ in range(2):
            model.partial_fit(X, y, batch_size=32, divergence=divergence)
        states.append(run_state(model))
    assert states[0] == states[1]


@pytest.mark.parametrize("layers", ["linear", "prelu"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_zero_hinge_loss_then_fluctuating_is_not_stopped(dtype, layers):
    """Separable data with a margin: the hinge loss reaches exactly 0; each time it does, a
    callback shrinks the parameters so that the next epoch's loss is positive again, any
    number of times its best of 0. Not divergence: the loss stays below that of an all-zero
    output (1). The linear model's initial parameters already separate the data (a start
    loss of 0, which alone would be no bar); the PReLU model's losses rise above its start."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 2))
    X[:, 0] += np.where(X[:, 0] > 0, 2.0, -2.0)
    y = np.where(X[:, 0] > 0, 1, -1)
    # Glorot with zero biases (not the default's drawn ones): the initial parameters the
    # docstring describes, seed 0's under that scheme.
    init = "glorot_uniform"
    hidden = [] if layers == "linear" else [Dense(2, 4, init=init), PReLU(4)]
    model = Sequential(
        *hidden, Dense(4 if hidden else 2, 1, init=init), dtype=dtype, random_state=0
    )

    def shake(model, epoch, logs):
        if logs["loss"] == 0:
            model.flat_params[:] *= 0.3

    model.fit(
        X,
        y,
        loss="hinge",
        optimizer=SGD(lr=0.05),
        epochs=30,
        batch_size=16,
        divergence=1e4,
        callback=shake,
    )
    losses = model.history_["loss"]
    assert len(losses) == 30
    first_zero = losses.index(0.0)
    assert max(losses[first_zero:]) > 0.1  # positive again after a best of 0
    start = model._loss_reference[0]
    assert (start == 0) if layers == "linear" else (max(losses[first_zero:]) > start)


# ---- partial_fit keeps its reference ---------------------------------------------------------
def test_partial_fit_measures_the_start_once(monkeypatch):
    """Streaming partial_fit with the check on measures the start loss on its first call
    only; fit, a change of loss, new parameters and a call with the check off forget it."""
    from pynn.core import training_loop

    measured = []
    original = training_loop.Divergence.measure
    monkeypatch.setattr(
        training_loop.Divergence,
        "measure",
        lambda self, *args: (measured.append(1), original(self, *args)),
    )
    X, y, loss, outputs = problem("regression", n=200)
    model = model_on("stack", np.float64, outputs)
    for chunk in range(0, 200, 20):
        model.partial_fit(X[chunk : chunk + 20], y[chunk : chunk + 20], loss=loss, divergence=1e4)
    assert len(measured) == 1
    reference = model._loss_reference
    model.partial_fit(X, y, divergence=1e4)
    assert len(measured) == 1 and model._loss_reference[:2] == reference[:2]
    model.partial_fit(X, y, loss="l1", divergence=1e4)  # another loss: measured again
    assert len(measured) == 2
    model.partial_fit(X, y)  # off: forgotten
    assert model._loss_reference is None
    model.partial_fit(X, y, divergence=1e4)
    assert len(measured) == 3
    model.reset_parameters(1)
    assert model._loss_reference is None
    model.partial_fit(X, y, divergence=1e4)
    model.load_state_dict(model.state_dict())
    assert model._loss_reference is None
    model.fit(X, y, epochs=1, divergence=1e4)
    assert len(measured) == 5


def test_partial_fit_diverging_in_a_later_call():
    """One epoch per partial_fit call: the best of the calls before is the reference, and
    the diverging call leaves the model as the call before it."""
    X, y, loss, outputs = problem("classification", n=128)
    model = model_on("prelu", np.float32, outputs)
    optimizer = Adam(lr=0.01)
    for _ in range(3):
        model.partial_fit(X, y, loss=loss, optimizer=optimizer, divergence=1e4)
    best = model._loss_reference[2]
    assert best == min(model.history_["loss"] + [model._loss_reference[0]])
    before = model.flat_params.copy()
    optimizer.lr = 1e6
    with pytest.raises(pynn.DivergenceError, match=f"best loss, {best:.4g}"):
        model.partial_fit(X, y, divergence=1e4)
    assert model.flat_params.tobytes() == before.tobytes()
    assert len(model.history_["loss"]) == 3


# In a fresh interpreter: a model whose hidden layer is 100,000 wide trains with batches of
# one row (small buffers), then fit and partial_fit with the check on, under an address
# space capped 64 MB above what the process maps: the start loss's forward pass over 1024
# rows needs about 800 MB, allocated before the model changes, so both raise MemoryError
# and leave parameters, history and predictions bit for bit. The same fit with the check
# off then runs under the cap (the check's buffers were what did not fit).
OUT_OF_MEMORY = (
    ADDRESS_CAP
    + r"""
import numpy as np
import pynn

rng = np.random.default_rng(0)
X = rng.standard_normal((2048, 1))
y = np.sin(X[:, 0])
model = pynn.Sequential(pynn.Dense(1, 100_000, "relu"), pynn.Dense(100_000, 1), random_state=0)
model.fit(X[:16], y[:16], loss="mse", epochs=1, batch_size=1)
params, history, expected = model.flat_params.copy(), dict(model.history_), model.predict(X)
lift = cap_address_space(64 << 20)
for train in (model.fit, model.partial_fit):
    try:
        train(X, y, epochs=1, batch_size=1, divergence=1e4)
    except MemoryError:
        print("MemoryError", flush=True)
    assert model.flat_params.tobytes() == params.tobytes(), "parameters changed"
    assert model.history_ == history, "history changed"
model.fit(X[:256], y[:256], epochs=1, batch_size=1)
lift()
print("trained", len(model.history_["loss"]), flush=True)
"""
)


@needs_address_cap
def test_the_start_loss_buffers_are_allocated_before_the_model_changes(tmp_path):
    run = run_python(OUT_OF_MEMORY, tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.split() == ["MemoryError", "MemoryError", "trained", "1"], run.stdout


# ---- checking the option ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "value,error,fragment",
    [
        (True, TypeError, "divergence must be None"),
        ("1e4", TypeError, "divergence must be None"),
        ([10], TypeError, "divergence must be None"),
        (1, ValueError, "divergence must be a finite factor > 1"),
        (0.5, ValueError, "divergence must be a finite factor > 1"),
        (0, ValueError, "divergence must be a finite factor > 1"),
        (-10, ValueError, "divergence must be a finite factor > 1"),
        (float("nan"), ValueError, "divergence must be a finite factor > 1"),
        (float("inf"), ValueError, "divergence must be a finite factor > 1"),
    ],
)
def test_bad_divergence_is_refused_before_the_model_changes(value, error, fragment):
    X, y, loss, outputs = problem("regression")
    model = model_on("stack", np.float32, outputs)
    model.fit(X, y, loss=loss, epochs=1)
    params, history = model.flat_params.copy(), dict(model.history_)
    for train in (model.fit, model.partial_fit):
        with pytest.raises(error, match=fragment):
            train(X, y, divergence=value)
    assert model.flat_params.tobytes() == params.tobytes() and model.history_ == history


@pytest.mark.parametrize("value", [None, False, np.False_, 2, 1.5, np.float32(1e4), 10**6])
def test_good_divergence_values(value):
    X, y, loss, outputs = problem("regression")
    model_on("stack", np.float32, outputs).fit(X, y, loss=loss, epochs=1, divergence=value)


# ---- the estimators: on by default ------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_estimators_stop_a_diverging_fit_by_default(dtype):
    pytest.importorskip("sklearn")
    from sklearn.base import clone

    from pynn.sklearn import MLPClassifier, MLPRegressor

    X, y, _, _ = problem("classification", n=150)
    y_reg = np.sin(X[:, 0])
    cases = ((MLPClassifier, y, {"classes": [0, 1]}), (MLPRegressor, y_reg, {}))
    for cls, target, classes in cases:
        est = cls(
            (8,), learning_rate_init=1e6, max_iter=20, batch_size=32, random_state=0, dtype=dtype
        )
        assert est.divergence == 1e4 and est.get_params()["divergence"] == 1e4
        assert clone(est).divergence == 1e4
        with pytest.raises(pynn.DivergenceError, match="divergence=10000"):
            est.fit(X, target)
        with pytest.raises(pynn.DivergenceError, match="divergence=10000"):
            clone(est).partial_fit(X, target, **classes)
        # The check off; n_iter_no_change at max_iter keeps scikit-learn's stopping rule
        # (whose firing depends on the initial draw at this rate) out of the way.
        est.set_params(divergence=None, n_iter_no_change=20)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning; R² overflowing
            est.fit(X, target)  # the check off: it runs to the end, as before
        assert est.n_iter_ == 20
        for bad, error in ((0.5, ValueError), ("big", TypeError)):
            with pytest.raises(error, match="divergence must be"):
                clone(est).set_params(divergence=bad).fit(X, target)


def test_the_estimators_default_changes_nothing_in_a_normal_run():
    pytest.importorskip("sklearn")
    from pynn.sklearn import MLPClassifier

    X, y, _, _ = problem("classification", n=200)
    coefs = []
    for divergence in (None, 1e4):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning
            est = MLPClassifier((8,), max_iter=15, random_state=0, divergence=divergence)
            est.fit(X, y)
        coefs.append((est.model_.flat_params.tobytes(), est.loss_curve_))
    assert coefs[0] == coefs[1]


# ---- the command line ---------------------------------------------------------------------------
def test_pynn_train_with_a_huge_learning_rate_is_a_one_line_error(capsys):
    argv = [
        "train",
        "--data",
        "red_blue",
        "--samples",
        "200",
        "--lr",
        "1e6",
        "--quiet",
        "--epochs",
        "5",
    ]
    assert main(argv) == 1
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("pynn: error: training diverged at epoch 1: "), err
    assert "divergence=10000" in lines[0]

    # --divergence 0 (or none) turns the check off: the run ends as before
    for off in ("0", "none"):
        assert main(argv + ["--divergence", off]) == 0
        assert "trained 5 epochs" in capsys.readouterr().out
    # a factor of its own
    assert main(argv + ["--divergence", "1e30"]) == 0
    assert main(argv + ["--divergence", "1e3"]) == 1
    assert "divergence=1000 " in capsys.readouterr().err


@pytest.mark.parametrize("value", ["1", "0.5", "-2", "nan", "inf", "big"])
def test_pynn_train_bad_divergence_is_a_usage_error(value, capsys):
    assert main(["train", "--data", "red_blue", "--divergence", value]) == 2
    err = capsys.readouterr().err
    assert "usage: pynn" in err and "--divergence: expected a factor > 1" in err
