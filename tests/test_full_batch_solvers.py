"""What every full-batch solver (LBFGS, CG, NewtonCG, NaturalGradient) does the same way
in fit's loop: a callback's True, early stopping and Ctrl-C each leave the model at the
last accepted iterate, with one history_ entry per completed iteration; the same bits on 1
and 2 threads; the options that need a step rule, and Dropout, refused by name. Each
solver's own iterates and options are tested in its own file."""

import signal
import warnings

import numpy as np
import pytest
from helpers import assert_bitwise_equal
from test_lbfgs import data, model_of

import pynn

SOLVERS = [pynn.LBFGS, pynn.CG, pynn.NewtonCG, pynn.NaturalGradient]


def fit_with(solver, model, X, y, epochs, **kwargs):
    """fit with a new solver at its defaults, the limit's warning silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pynn.ConvergenceWarning)
        return model.fit(
            X, y, loss="softmax_cross_entropy", optimizer=solver(), epochs=epochs, **kwargs
        )


@pytest.mark.parametrize("solver", SOLVERS, ids=lambda s: s.__name__)
def test_a_callback_stops_at_the_accepted_iterate(solver):
    X, y = data()
    stopped = fit_with(solver, model_of(), X, y, 50, callback=lambda m, it, logs: it == 4)
    assert len(stopped.history_["loss"]) == 5
    assert stopped.optimizer_.status is None  # stopped by the callback, not the solver
    assert_bitwise_equal(stopped.flat_params, fit_with(solver, model_of(), X, y, 5).flat_params)


@pytest.mark.parametrize("solver", SOLVERS, ids=lambda s: s.__name__)
def test_early_stopping_restores_the_best_iterate(solver):
    X, y = data()
    validation = (X[200:], y[200:])
    model = fit_with(solver, model_of(), X[:200], y[:200], 300, validation_data=validation)
    assert len(model.history_["val_loss"]) == len(model.history_["loss"])
    stopper = pynn.EarlyStopping(monitor="val_loss", patience=1, restore_best_weights=True)
    stopped = fit_with(
        solver, model_of(), X[:200], y[:200], 300, validation_data=validation,
        early_stopping=stopper,
    )  # fmt: skip
    assert len(stopped.history_["val_loss"]) < 300  # it overfits 200 rows: val_loss rises
    best = int(np.argmin(stopped.history_["val_loss"]))
    assert stopped.evaluate(*validation)["loss"] == pytest.approx(
        stopped.history_["val_loss"][best], rel=1e-12
    )


@pytest.mark.parametrize("solver", SOLVERS, ids=lambda s: s.__name__)
def test_ctrl_c_stops_at_the_end_of_the_iteration(solver):
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("SIGINT has a handler other than Python's default here")
    X, y = data()

    def interrupt(model, iteration, logs):
        if iteration == 2:
            signal.raise_signal(signal.SIGINT)

    model = model_of()
    with pytest.raises(KeyboardInterrupt):
        fit_with(solver, model, X, y, 50, callback=interrupt)
    assert len(model.history_["loss"]) == 3
    assert_bitwise_equal(model.flat_params, fit_with(solver, model_of(), X, y, 3).flat_params)


@pytest.mark.skipif(not pynn.threads_enabled(), reason="built without threads: one thread")
@pytest.mark.parametrize("solver", SOLVERS, ids=lambda s: s.__name__)
def test_one_and_two_threads_train_the_same_bits(solver):
    X, y = data(2500)  # three blocks
    results = []
    for threads in (1, 2):
        with pynn.threads(threads):
            model = model_of("float32", width=64)  # work past the kernels' grain
            results.append(fit_with(solver, model, X, y, 4).flat_params.copy())
    assert_bitwise_equal(results[1], results[0], "2 threads vs 1")


@pytest.mark.parametrize(
    "option",
    [
        {"lr_scheduler": pynn.StepLR(5)},
        {"clip_norm": 1.0},
        {"clip_value": 1.0},
        {"divergence": 1e4},
        {"batch_callback": lambda *args: None},
    ],
)
@pytest.mark.parametrize("solver", SOLVERS, ids=lambda s: s.__name__)
def test_what_does_not_apply_is_refused_by_name(solver, option):
    X, y = data(30)
    model = model_of()
    before = model.flat_params.copy()
    name = next(iter(option))
    message = f"{name} does not apply to the full-batch solver {solver.__name__}"
    with pytest.raises(ValueError, match=message):
        model.fit(X, y, loss="softmax_cross_entropy", optimizer=solver(), **option)
    assert_bitwise_equal(model.flat_params, before, "untouched")


@pytest.mark.parametrize("solver", SOLVERS, ids=lambda s: s.__name__)
def test_dropout_is_refused_by_name(solver):
    X, y = data(30)
    with pytest.raises(ValueError, match="Dropout"):
        model_of(dropout=True).fit(X, y, loss="softmax_cross_entropy", optimizer=solver())
