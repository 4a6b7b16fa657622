"""How every full-batch solver (LBFGS, CG, NewtonCG, NaturalGradient) stops inside fit's
loop: a callback's True, early stopping and Ctrl-C each leave the model at the last
accepted iterate, with one history_ entry per completed iteration."""

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
