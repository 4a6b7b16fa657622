"""fit with a full-batch solver (pynn.LBFGS): its own checks, and the loop that hands
scipy the loss and gradient over all training rows (pynn.core.full_batch).

An "epoch" of fit is one solver iteration: `epochs` is the most iterations, history_ gets
one entry per iteration (the data loss "loss", the "objective" the solver minimises, which
adds the weight-decay penalty, the validation scores when there is validation data, and
"time"), and the epoch callback, early stopping and verbose run after each iteration.

The model is always left at the last accepted iterate: the parameters scipy's callback
last reported (the start, before the first iteration). A function evaluation inside a
line search moves the parameters to a trial point; an interrupt (Ctrl-C, acted on at the
next evaluation or iteration), a NaN or infinite loss (pynn.NonFiniteLossError) or any
other error puts them back there before it propagates.
"""

import math
import sys
import time
import warnings

import numpy as np

from pynn.core.errors import ConvergenceWarning, NonFiniteLossError
from pynn.core.full_batch import FullBatch, check_deterministic


def check_full_batch_options(model, options, lr_scheduler, clip_norm, clip_value, divergence):
    """Refuse what a full-batch solver cannot do, naming the argument (ValueError): a
    learning-rate schedule, gradient clipping, the divergence check, a batch callback, and
    Dropout layers (a random loss)."""
    refused = {
        "lr_scheduler": lr_scheduler is not None,
        "clip_norm": clip_norm is not None,
        "clip_value": clip_value is not None,
        "divergence": divergence is not None,
        "batch_callback": options.batch_callback is not None,
    }
    solver = type(options.optimizer).__name__
    for name, given in refused.items():
        if given:
            raise ValueError(
                f"{name} does not apply to the full-batch solver {solver} (its line search "
                f"chooses every step, over all rows): leave {name} at None, or train with "
                f"SGD or Adam"
            )
    check_deterministic(model)


class FullBatchRun:
    """One fit with a full-batch solver once its arguments are checked: allocate (before
    the model changes), then iterations()."""

    def __init__(self, model, checked, options, interrupt):
        self.model, self.checked, self.interrupt = model, checked, interrupt
        self.optimizer, self.val = checked.optimizer, checked.val
        self.max_iter, self.stopper = checked.epochs, checked.stopper
        self.callback, self.verbose = options.callback, options.verbose
        self.full = None

    def allocate(self, loss, warm_start):
        """The blocks' plans, the optimizer bound and the validation plan, with the model's
        loss and targets set; all put back when allocating fails."""
        model, checked, optimizer = self.model, self.checked, self.optimizer
        saved = model.loss_, model.targets_, model._plans
        try:
            model.loss_, model.targets_ = loss, checked.targets
            model._plans = type(saved[2])()  # target buffers depend on the targets
            self.full = FullBatch(
                model,
                checked.X,
                checked.target,
                checked.step_weight,
                checked.train_rows,
                logged_value=True,
            )
            if self.val is not None:
                val = self.val
                model._inference_plan(len(val[0]) if val[1] is None else len(val[1]), "eval")
            optimizer.bind(
                model.flat_params, model.flat_grads, model._kernels, model.weight_ranges()
            )
            self.accepted = np.empty(model.flat_params.size, np.float64)
        except BaseException:
            model.loss_, model.targets_, model._plans = saved
            raise

    def iterations(self):
        """Run the solver from the model's parameters, at most max_iter iterations."""
        model, optimizer = self.model, self.optimizer
        optimizer.status = optimizer.message = optimizer.fun = None
        optimizer.n_iter = optimizer.n_fun = 0
        if self.max_iter == 0:
            return
        params = model.flat_params
        np.copyto(self.accepted, params)
        self.stopped, self.last = False, None
        self.started = time.perf_counter()
        try:
            result = optimizer.minimize(
                self._objective, self.accepted.copy(), self.max_iter, self._after_iteration
            )
        except BaseException:
            np.copyto(params, self.accepted, casting="same_kind")
            raise
        np.copyto(params, self.accepted, casting="same_kind")
        optimizer.n_fun, optimizer.fun = int(result.nfev), float(result.fun)
        if self.stopper is not None and optimizer.n_iter > 0:
            self.stopper.finish(optimizer.n_iter - 1)
        if self.stopped:
            return
        optimizer.status, optimizer.message = int(result.status), str(result.message)
        if result.status != 0:
            limits = "epochs (the most iterations)" + (
                " or max_fun" if hasattr(optimizer, "max_fun") else ""
            )
            warnings.warn(
                f"{type(optimizer).__name__} failed to converge after {optimizer.n_iter} "
                f"iteration(s) (status={result.status}): {result.message}; raise {limits}, "
                f"or scale the data",
                ConvergenceWarning,
                stacklevel=6,  # fit's caller
            )

    def _objective(self, x):
        """(objective, gradient) at x: the mean loss over the training rows plus the
        optimizer's penalty; the parameters are left at x."""
        if self.interrupt.requested:
            raise KeyboardInterrupt
        model, optimizer = self.model, self.optimizer
        np.copyto(model.flat_params, x, casting="same_kind")
        value = self.full.evaluate()
        optimizer.n_fun += 1
        if not math.isfinite(value):
            raise NonFiniteLossError(
                f"the loss became {value} at {type(optimizer).__name__} iteration "
                f"{optimizer.n_iter + 1} (evaluation {optimizer.n_fun}): scale the inputs or "
                f"add weight decay; the model is back at its parameters of the last accepted "
                f"iterate"
            )
        grad = self.full.grad.copy()  # scipy may keep it: the buffer is reused
        objective = value * optimizer.value_scale + optimizer.penalty(x, grad)
        self.last = (x.copy(), value, objective)
        return objective, grad

    def _after_iteration(self, intermediate_result):
        """scipy's callback: the accepted iterate kept, the iteration logged, and early
        stopping, the epoch callback and Ctrl-C acted on (StopIteration stops scipy)."""
        model, optimizer = self.model, self.optimizer
        x = intermediate_result.x
        np.copyto(self.accepted, x)
        np.copyto(model.flat_params, x, casting="same_kind")
        iteration = optimizer.n_iter
        optimizer.n_iter += 1
        if self.last is not None and np.array_equal(self.last[0], x):
            value, objective = self.last[1], self.last[2]
        else:  # not the last evaluation's point (scipy's rule is that it is): evaluate
            objective, _ = self._objective(x.copy())
            value = self.last[1]
        logs = {"loss": value, "objective": objective}
        if self.val is not None:
            logs.update({"val_" + k: v for k, v in model._evaluate(*self.val).items()})
        now = time.perf_counter()
        logs["time"], self.started = now - self.started, now
        for key, item in logs.items():
            model.history_.setdefault(key, []).append(item)
        if self.verbose:
            parts = [f"iteration {iteration + 1}/{self.max_iter}"]
            parts += [f"{k} {v:.6g}" for k, v in logs.items() if k != "time"]
            print("  ".join(parts), file=sys.stdout, flush=True)
        stop = self.stopper.update(iteration, logs) if self.stopper is not None else False
        if self.callback is not None and self.callback(model, iteration, logs):
            stop = True
        if self.interrupt.requested:  # the iteration is complete, history too
            raise KeyboardInterrupt
        if stop:
            self.stopped = True
            raise StopIteration
