"""The training loop of pynn.core.training.fit, once its arguments are checked: the buffers a
fit allocates before it changes the model, the epochs, one epoch's steps, and the checks at
each epoch's end (non-finite parameters, divergence), its logs and callbacks.

Non-finite parameters: the loss is checked before each update, so a non-finite loss
leaves the parameters of the last good step; an update can also overflow while its loss
was finite, so the parameters are checked after each epoch and, at a non-finite loss,
before they are kept: when they are no longer finite, the model goes back to the copy
taken at the start of the epoch (EpochStart: one flat copy of the parameters, the only
memory fit adds to the model's own). Divergence that stays finite: Divergence.
"""

import math
import sys
import time

import numpy as np

from pynn.core.errors import DivergenceError, NonFiniteLossError


def all_finite(array):
    """True when no element is NaN or infinite: one sum, and a full look only when the sum
    is not finite (it also overflows for large finite values)."""
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(np.add.reduce(array, axis=None)):
            return True
    return bool(np.isfinite(array).all())


class EpochStart:
    """The parameters at the start of the current epoch, to go back to when an update made
    them non-finite (which the loss shows only at the next step, or not at all)."""

    def __init__(self, model):
        self.params = model.flat_params
        self.copy = np.empty_like(self.params)

    def save(self):
        np.copyto(self.copy, self.params)

    def restore(self):
        np.copyto(self.params, self.copy)


class Divergence:
    """The divergence rule, checked at each epoch's end: the epoch diverged when its mean
    training loss is more than `factor` times the best loss and above the bar, the larger of
    the start loss and the loss of an all-zero output.

    The start loss is the model's mean loss over the first min(n_train, 1024) rows of the
    first epoch's order, before any update (one forward pass in eval mode: a single batch's
    loss is too noisy); the zero-output loss is the loss of those rows' targets against an
    output of zeros (per output: log 2 for binary cross-entropy, 1 for hinge; log K for
    softmax over K classes; half the mean squared target for mse). The best is the minimum
    of the start loss and every completed epoch's mean loss. The bar keeps a model whose
    loss reached (near) zero, as hinge's can, from being stopped by ordinary noise: it must
    be worse than where it started, and worse than predicting nothing (a start loss of 0,
    as a model that already separates the data has, would alone be no bar).

    The (start, zero-output, best) losses live on the model (`_loss_reference`), so
    consecutive partial_fit calls with the check on keep them and measure once; fit, a
    change of loss, new parameters and a call with the check off forget them."""

    def __init__(self, model, factor):
        self.model, self.factor = model, factor

    def measure(self, X, rows, target, plan, weights=None):
        """Set the start and zero-output losses over X[rows], reusing `plan` (allocated
        before the model was changed); weighted by weights (the model's dtype) when given
        and not all zero on those rows."""
        model, kernels = self.model, self.model._kernels
        out = plan.forward(X, rows)
        target.take(rows, axis=0, out=plan.target, mode="clip")
        w = None if weights is None else weights[rows]
        w = w if w is not None and w.any() else None
        extra = {} if w is None else {"sample_weight": w}
        start = model.loss_(kernels, out, plan.target, sample_loss=plan.sample_loss, **extra)
        out.fill(0)  # the eval plan's own output buffer: nothing reads it after this
        zero = model.loss_(kernels, out, plan.target, sample_loss=plan.sample_loss, **extra)
        # A non-finite start loss is no reference (the first step stops at it anyway)
        start = start if math.isfinite(start) else math.inf
        model._loss_reference = (start, zero, start)

    def check(self, epoch, mean):
        """The DivergenceError for an epoch whose mean loss diverged (the caller restores
        the parameters), else None after counting the epoch into the best."""
        start, zero, best = self.model._loss_reference
        if mean > self.factor * best and mean > max(start, zero):
            return DivergenceError(
                f"training diverged at epoch {epoch + 1}: its mean loss {mean:.4g} is more "
                f"than divergence={self.factor:g} times the best loss, {best:.4g}, and above "
                f"both the loss before training, {start:.4g}, and that of an all-zero "
                f"output, {zero:.4g}: lower the learning rate or scale the inputs, or raise "
                f"the divergence factor (or turn the check off); the model is back at its "
                f"parameters from the start of epoch {epoch + 1}, as the last completed "
                f"epoch left them (history_ ends there)"
            )
        self.model._loss_reference = (start, zero, min(best, mean))
        return None


class Run:
    """One fit's training once the arguments are checked: the buffers it allocates before
    the model changes (allocate), the epoch loop (epochs), one epoch's steps, and the
    end-of-epoch checks, logs and callbacks."""

    def __init__(
        self,
        model,
        X,
        target,
        targets,
        optimizer,
        train_rows,
        val,
        *,
        epochs,
        batch_size,
        shuffle,
        shuffle_rng,
        stopper,
        lr_scheduler,
        callback,
        batch_callback,
        verbose,
        interrupt,
        clip=(None, None),
        weights=(None, None),
    ):
        self.model, self.X, self.target, self.targets = model, X, target, targets
        # the sample weights: float64 (the logs' sums) and the model's dtype (the steps'),
        # or None
        self.sample_weight, self.step_weight = weights
        self.clip_norm, self.clip_value = clip  # None: off (fit checked them)
        self.clipping = clip != (None, None)
        self.norm_sum = 0.0  # the epoch's sum of the gradient norms before clipping
        self.optimizer, self.train_rows, self.val = optimizer, train_rows, val
        self.n_epochs, self.shuffle, self.shuffle_rng = epochs, shuffle, shuffle_rng
        self.stopper, self.lr_scheduler, self.callback = stopper, lr_scheduler, callback
        self.batch_callback, self.verbose, self.interrupt = batch_callback, verbose, interrupt
        self.n_train = len(train_rows)
        self.batch = self.n_train if batch_size is None else min(batch_size, self.n_train)
        self.n_steps = -(-self.n_train // self.batch)
        self.rule = self.start_plan = None

    def allocate(self, loss, warm_start, measure_start):
        """Allocate first (the step's buffers, the optimizer's state, the copies fit keeps),
        and set the model's loss and targets, put back when allocating fails: a fit that
        runs out of memory leaves a trained model as it was. `measure_start`: the plan of
        the divergence rule's start loss too."""
        model, optimizer = self.model, self.optimizer
        rebind = not (
            warm_start and optimizer is model.optimizer_ and optimizer.params is model.flat_params
        )
        saved = model.loss_, model.targets_, model._plans
        try:
            model.loss_, model.targets_ = loss, self.targets
            model._plans = type(saved[2])()  # target buffers depend on the targets
            for size in {self.batch, self.n_train - (self.n_steps - 1) * self.batch}:
                model._plan(size)
            if self.val is not None:  # the validation passes' buffers
                val = self.val
                model._inference_plan(len(val[0]) if val[1] is None else len(val[1]), "eval")
            if rebind:
                optimizer.bind(
                    model.flat_params, model.flat_grads, model._kernels, model.weight_ranges()
                )
            self.order = self.train_rows.copy()  # this epoch's order: train_rows shuffled
            self.epoch_start = EpochStart(model)
            if measure_start and self.n_epochs > 0:
                plan, rows = model._inference_plan(self.n_train, "eval")  # the start loss's
                self.start_plan = plan.rows(rows, model)
                if self.X.dtype != model.dtype:
                    self.start_plan.stage(self.X.dtype)
        except BaseException:
            model.loss_, model.targets_, model._plans = saved
            raise

    def epochs(self):
        """The epoch loop, until the last epoch, early stopping or a callback's True."""
        model, targets, X = self.model, self.targets, self.X
        rows, w = self.train_rows, self.sample_weight
        self.denominator = (
            None
            if targets.is_classifier
            else targets.r2_denominator(self.target[rows], None if w is None else w[rows])
        )
        # the logs' divisor: the training rows, or their weights' sum
        self.n_logged = self.n_train if w is None else float(np.add.accumulate(w[rows])[-1])
        # The network's step reads batches straight from X when it has the model's dtype
        # and is a plain array or memmap: a subclass may define reading rows itself (take).
        # Kernels take aligned arrays only (a view at an odd byte offset is not): take
        # copies those.
        self.direct = (
            type(X) in (np.ndarray, np.memmap)
            and X.dtype == model.dtype
            and X.flags.c_contiguous
            and X.flags.aligned
        )
        last_epoch = None
        for epoch in range(self.n_epochs):
            started = time.perf_counter()
            self.epoch_start.save()
            if self.shuffle:  # from the sorted rows: an epoch's order is the stream's alone
                np.copyto(self.order, self.train_rows)
                self.shuffle_rng.shuffle(self.order)
            if self.start_plan is not None:  # before the first update: the start loss
                first = self.order[: self.start_plan.n]
                self.rule.measure(X, first, self.target, self.start_plan, self.step_weight)
                self.start_plan = None
            total, loss_sum, logged_sum = self._steps(epoch)
            self._check_parameters(epoch, loss_sum)
            logs = self._log(epoch, total, logged_sum, started)
            last_epoch = epoch
            if self._end_of_epoch(epoch, logs):
                break
        if self.stopper is not None and last_epoch is not None:
            self.stopper.finish(last_epoch)

    def _steps(self, epoch):
        """One epoch's steps: (the metric's running total, the sum of the batch losses
        weighted by the batch sizes, or with sample weights by the batches' weights). With
        sample weights each batch's weights are gathered with its rows, and a batch whose
        weights are all zero takes no step (its rows count for nothing, as dropped rows
        would); and that sum for the logs, each row's loss clipped to the loss's
        logged_bounds when it has them."""
        model, targets, kernels = self.model, self.targets, self.model._kernels
        bounds = getattr(model.loss_, "logged_bounds", None)
        X, target, weights = self.X, self.target, self.step_weight
        total, loss_sum = targets.new_total(weighted=weights is not None), 0.0
        logged_sum = 0.0
        self.norm_sum = 0.0
        plan = None
        for step, start in enumerate(range(0, self.n_train, self.batch)):
            part = self.order[start : start + self.batch]
            # The plan depends on the batch size and the thread count, which only a
            # batch_callback could change within an epoch.
            if plan is None or plan.n != len(part) or self.batch_callback is not None:
                plan = model._plan(len(part))
                run_step = plan.step if self.direct else plan.read_step
                if model._dropout_stream is not None:
                    run_step = _advancing(run_step, model._dropout_stream)
            batch_weight = None if weights is None else weights[part]
            if batch_weight is None or batch_weight.any():
                # the network's step: one call
                value, hits = run_step(X, part, target, *(() if weights is None else (weights,)))
                if not math.isfinite(value):
                    raise _non_finite_loss(model, self.epoch_start, value, epoch, step, plan.n)
                if self.clipping:
                    self._clip(kernels, model.flat_grads)
                self.optimizer.step()
                batch_total = _batch_total(plan.n, batch_weight)
                loss_sum += value * batch_total
                if bounds is not None:
                    value = clipped_mean(plan.sample_loss, batch_weight, bounds, value)
                logged_sum += value * batch_total
                if hits is not None and batch_weight is None:
                    total[0] += hits
                else:
                    targets.accumulate(
                        kernels, total, plan.out, plan.target, plan.scratch, batch_weight
                    )
            if self.batch_callback is not None:
                self.batch_callback(model, epoch, step, self.n_steps)
            if self.interrupt.requested:  # the step is complete: stop here (Ctrl-C)
                raise KeyboardInterrupt
        return total, loss_sum, logged_sum

    def _clip(self, kernels, grads):
        """The step's gradient clipped in place: by its global norm, then by value."""
        if self.clip_norm is not None:
            self.norm_sum += kernels.clip_grad_norm(grads, self.clip_norm)
        if self.clip_value is not None:
            kernels.clip_grad_value(grads, self.clip_value)

    def _check_parameters(self, epoch, loss_sum):
        """At the epoch's end, the parameters back at its start and an error when an update
        made them non-finite or the epoch diverged."""
        if not all_finite(self.model.flat_params):
            self.epoch_start.restore()
            raise NonFiniteLossError(
                f"an update of epoch {epoch + 1} made the parameters NaN or infinite although "
                f"the loss stayed finite: lower the learning rate or scale the inputs; the "
                f"model is back at its parameters from the start of epoch {epoch + 1}"
            )
        if self.rule is not None:
            error = self.rule.check(epoch, loss_sum / self.n_logged)
            if error is not None:
                self.epoch_start.restore()
                raise error

    def _log(self, epoch, total, logged_sum, started):
        """The epoch's logs, appended to the model's history_ and printed when verbose."""
        model, targets, n_logged = self.model, self.targets, self.n_logged
        logs = {
            "loss": logged_sum / n_logged,
            targets.metric_name: targets.metric(total, n_logged, self.denominator),
        }
        if self.val is not None:
            scores = model._evaluate(*self.val)
            logs.update({"val_" + k: v for k, v in scores.items()})
        if self.clip_norm is not None:  # the mean global norm before clipping
            logs["grad_norm"] = self.norm_sum / self.n_steps
        logs["lr"] = self.optimizer.lr
        logs["time"] = time.perf_counter() - started
        for key, value in logs.items():
            model.history_.setdefault(key, []).append(value)
        if self.verbose:
            _print_epoch(epoch, self.n_epochs, logs)
        return logs

    def _end_of_epoch(self, epoch, logs):
        """The schedule, early stopping and the callback after an epoch: True to stop."""
        if self.lr_scheduler is not None:
            self.lr_scheduler.step(logs)
        stop = self.stopper.update(epoch, logs) if self.stopper is not None else False
        if self.callback is not None and self.callback(self.model, epoch, logs):
            stop = True
        if self.interrupt.requested:  # during the epoch's end: it is complete, history too
            raise KeyboardInterrupt
        return stop


def _batch_total(n, weights):
    """What a batch's mean loss is weighted by in the epoch's loss: its size, or its weights'
    sum (in double, in row order, as the loss kernel sums them)."""
    if weights is None:
        return n
    return float(np.add.accumulate(weights, dtype=np.float64)[-1])


def clipped_mean(sample_loss, weights, bounds, mean):
    """A batch's mean loss with each row's loss clipped to bounds (low, high), summed in
    double in row order; `mean`, the unclipped one, when no row is out of bounds."""
    low, high = bounds
    if sample_loss.min() >= low and sample_loss.max() <= high:
        return mean
    clipped = np.clip(sample_loss.astype(np.float64), low, high)
    if weights is None:
        return float(np.add.accumulate(clipped)[-1]) / len(clipped)
    return float(np.add.accumulate(weights * clipped)[-1] / np.add.accumulate(weights)[-1])


def _advancing(step, stream):
    """`step`, then the dropout stream's step count advanced: each training step of a
    model with Dropout layers draws new masks (those of the next count)."""

    def run(X, rows, target, *weights):
        result = step(X, rows, target, *weights)
        stream[1] += np.uint64(1)
        return result

    return run


def _non_finite_loss(model, epoch_start, value, epoch, step, n):
    """The error for a NaN or infinite loss at (epoch, step), with the model put back on
    finite parameters: those of the last step when they are, else the epoch's first."""
    where = f"the loss became {value} at epoch {epoch + 1}, step {step + 1} (batch of {n} samples)"
    if all_finite(model.flat_params):
        kept = "the model keeps the parameters from before this step"
    else:
        epoch_start.restore()
        kept = (
            f"an earlier update had already made the parameters non-finite, so the model "
            f"is back at its parameters from the start of epoch {epoch + 1}"
        )
    return NonFiniteLossError(f"{where}: lower the learning rate or scale the inputs; {kept}")


def _print_epoch(epoch, epochs, logs):
    parts = [f"epoch {epoch + 1}/{epochs}"]
    parts += [f"{key} {value:.4g}" for key, value in logs.items() if key not in ("time", "lr")]
    parts += [f"lr {logs['lr']:.4g}", f"{logs['time']:.2f}s"]
    print("  ".join(parts), file=sys.stdout, flush=True)
