"""The training loop behind Sequential.fit and partial_fit.

One step (shared/DESIGN.md) is two calls: the plan's network step (pynn.network: gather
the batch rows into the plan's input and target buffers, every layer's forward, the fused
loss and its gradient, every layer's backward, overwriting the flat gradient) and one
optimizer kernel over the flat buffers. The loop talks to the plans (TrainingPlan.step,
InferencePlan views' forward), not to the model's layers.

Every argument is checked before the model is touched, so a bad call leaves a trained
model as it was. The loss is checked before each update, so a non-finite loss leaves the
parameters of the last good step. An update can also overflow while its loss was finite
(a huge learning rate or gradient); the parameters are checked after each epoch and, at a
non-finite loss, before they are kept: when they are no longer finite, the model goes back
to the copy taken at the start of the epoch (one flat copy of the parameters, the only
memory fit adds to the model's own).

Divergence that stays finite (a huge learning rate: the loss grows to 1e14 and beyond
before it overflows, if it ever does) is caught when `divergence` is a factor: see
_Divergence. It is checked at each epoch's end.

Ctrl-C: while fit runs in the main thread under Python's default SIGINT handler, a
handler that only records the interrupt takes its place; fit raises KeyboardInterrupt
at the next step boundary, so the model keeps a consistent state: that of its last
completed step (an interrupt landing inside a step would leave, say, the optimizer's step
count ahead of its update). A user's own handler, and other threads, are left alone.

Threads: Sequential.fit holds the model's lock. The optimizer, lr_scheduler and
EarlyStopping are bound to one model's buffers for a fit, so one in use by another running
fit is an error rather than two models' updates mixed.
"""
import math
import numbers
import signal
import sys
import threading
import time

import numpy as np

from pynn.checks import check_count
from pynn.early_stopping import EarlyStopping
from pynn.errors import DivergenceError, NonFiniteLossError
from pynn.inputs import y_checked
from pynn.losses import get_loss
from pynn.optim import Adam, LRScheduler, Optimizer
from pynn.random_state import check_random_state, spawn_generators
from pynn.targets import Targets, check_classes


# ---- checking the arguments ------------------------------------------------------------
def _instance_hint(value, base):
    """A hint for the common slip of passing the class (Adam) for an instance (Adam())."""
    if isinstance(value, type) and issubclass(value, base):
        return f": pass an instance, {value.__name__}(...), not the class"
    return ""


def _check_options(epochs, batch_size, shuffle, validation_data, validation_split, verbose,
                   callback, batch_callback, lr_scheduler, early_stopping):
    """The checked epochs and batch_size, and the EarlyStopping to use (or None)."""
    epochs = check_count(epochs, "epochs", 0)
    if batch_size is not None:
        batch_size = check_count(batch_size, "batch_size (None for full batch)", 1)
    if not isinstance(shuffle, (bool, np.bool_)):
        raise TypeError(f"shuffle must be True or False, got {shuffle!r}")
    if isinstance(validation_split, bool) or not isinstance(validation_split, numbers.Real):
        raise TypeError(f"validation_split must be a number in [0, 1), got "
                        f"{validation_split!r}")
    if not 0 <= validation_split < 1:
        raise ValueError(f"validation_split must be in [0, 1), got {validation_split!r}")
    if validation_data is not None and validation_split > 0:
        raise ValueError("give validation_data or validation_split, not both")
    if verbose not in (0, 1, 2, False, True):
        raise ValueError(f"verbose must be 0, 1 or 2, got {verbose!r}")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable: callback(model, epoch, logs), got "
                        f"{callback!r}")
    if batch_callback is not None and not callable(batch_callback):
        raise TypeError(f"batch_callback must be callable: batch_callback(model, epoch, step, "
                        f"n_steps), got {batch_callback!r}")
    if lr_scheduler is not None and not isinstance(lr_scheduler, LRScheduler):
        raise TypeError(f"lr_scheduler must be a pynn.optim scheduler (StepLR, "
                        f"InverseScalingLR, ReduceLROnPlateau) or None, got {lr_scheduler!r}"
                        f"{_instance_hint(lr_scheduler, LRScheduler)}")
    if early_stopping is None or early_stopping is False:
        stopper = None
    elif early_stopping is True:
        stopper = EarlyStopping()
    elif isinstance(early_stopping, EarlyStopping):
        stopper = early_stopping
    else:
        raise TypeError(f"early_stopping must be True/False or a pynn.EarlyStopping, got "
                        f"{early_stopping!r}{_instance_hint(early_stopping, EarlyStopping)}")
    return epochs, batch_size, stopper


def check_divergence(divergence):
    """None (the check off) or the factor as a float > 1. False is off too; True is refused
    (which factor would it mean?)."""
    if divergence is None or (isinstance(divergence, (bool, np.bool_)) and not divergence):
        return None
    if isinstance(divergence, (bool, np.bool_)) or not isinstance(divergence, numbers.Real):
        raise TypeError(f"divergence must be None (off) or a factor > 1 such as 1e4, got "
                        f"{divergence!r}")
    factor = float(divergence)
    if not (math.isfinite(factor) and factor > 1):
        raise ValueError(f"divergence must be a finite factor > 1 (None turns the check "
                         f"off), got {divergence!r}")
    return factor


def _check_trainable(model):
    for i, layer in enumerate(model.layers):
        if not layer.differentiable:
            raise ValueError(f"layer {i} ({layer!r}) is for inference only and cannot be trained")


def _choose_loss(model, loss):
    if loss is None:
        if model.loss_ is None:
            raise ValueError("fit needs loss= (one of pynn.losses.LOSSES) the first time")
        return model.loss_
    loss = get_loss(loss)
    last = model.layers[-1]
    if loss.proba == "sigmoid" and getattr(last, "activation", None) == "sigmoid":
        raise ValueError("binary_cross_entropy applies the sigmoid itself: end the model in "
                         "logits (no sigmoid activation on the last layer)")
    return loss


def _choose_targets(model, loss, y, classes, warm_start):
    """Reuse the model's targets when continuing with the same loss, else derive them from y."""
    if warm_start and model.targets_ is not None and model.loss_ is loss:
        classes = check_classes(loss, classes)
        if classes is not None and not (len(classes) == len(model.classes_) and
                                        np.array_equal(classes, model.classes_)):
            raise ValueError(f"classes {classes[:10].tolist()} differ from the classes the "
                             f"model was trained on, {model.classes_[:10].tolist()}")
        return model.targets_
    return Targets.for_loss(loss, y, model.n_outputs_, classes)


def _choose_optimizer(model, optimizer, warm_start):
    if optimizer is None:
        optimizer = model.optimizer_ if (warm_start and model.optimizer_ is not None) else Adam()
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be a pynn optimizer (SGD, Adam, AdamW), got "
                        f"{optimizer!r}{_instance_hint(optimizer, Optimizer)}")
    return optimizer


def _validation(model, X, target, targets, validation_data, validation_split, rng):
    """(training rows, validation set or None); the set is (X, rows or None, encoded y).
    validation_split holds out a seeded random share of X's rows, never copied."""
    n = X.shape[0]
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise TypeError("validation_data must be a pair (X_val, y_val)")
        Xv, yv = validation_data
        Xv = model._check_X(Xv, "validation_data X")
        return np.arange(n), (Xv, None, targets.encode(y_checked(yv, Xv.shape[0]),
                                                       model.dtype))
    if validation_split == 0:
        return np.arange(n), None
    n_val = int(n * validation_split)
    if n_val < 1 or n_val >= n:
        raise ValueError(f"validation_split={validation_split} leaves {n_val} of {n} "
                         f"samples for validation: need at least 1 in each part")
    perm = rng.permutation(n)
    rows, val_rows = np.sort(perm[n_val:]), np.sort(perm[:n_val])
    return rows, (X, val_rows, target[val_rows])


def _all_finite(array):
    """True when no element is NaN or infinite: one sum, and a full look only when the sum
    is not finite (it also overflows for large finite values)."""
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(np.add.reduce(array, axis=None)):
            return True
    return bool(np.isfinite(array).all())


class _EpochStart:
    """The parameters at the start of the current epoch, to go back to when an update made
    them non-finite (which the loss shows only at the next step, or not at all)."""

    def __init__(self, model):
        self.params = model.flat_params
        self.copy = np.empty_like(self.params)

    def save(self):
        np.copyto(self.copy, self.params)

    def restore(self):
        np.copyto(self.params, self.copy)


class _Divergence:
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

    def measure(self, X, rows, target, plan):
        """Set the start and zero-output losses over X[rows], reusing `plan` (allocated
        before the model was changed)."""
        model, kernels = self.model, self.model._kernels
        out = plan.forward(X, rows)
        target.take(rows, axis=0, out=plan.target, mode="clip")
        start = model.loss_(kernels, out, plan.target, sample_loss=plan.sample_loss)
        out.fill(0)  # the eval plan's own output buffer: nothing reads it after this
        zero = model.loss_(kernels, out, plan.target, sample_loss=plan.sample_loss)
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
                f"epoch left them (history_ ends there)")
        self.model._loss_reference = (start, zero, min(best, mean))
        return None


class _DeferredInterrupt:
    """Ctrl-C recorded (`requested`) rather than raised, while fit runs in the main thread
    with Python's default SIGINT handler; fit checks `requested` between steps. Leaving
    restores the handler and raises an interrupt that came after fit's last check."""

    def __init__(self):
        self.requested = False
        self._previous = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread() \
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            try:
                self._previous = signal.signal(signal.SIGINT, self._record)
            except ValueError:  # not the main interpreter: signals stay as they are
                self._previous = None
        return self

    def _record(self, signum, frame):
        self.requested = True

    def __exit__(self, kind, error, traceback):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        if self.requested and kind is None:
            raise KeyboardInterrupt
        return False


_in_use = set()  # ids of the optimizers, schedules and early stoppers of the running fits
_in_use_lock = threading.Lock()


class _Claim:
    """Holds a fit's optimizer, lr_scheduler and early stopper for the fit: each is bound
    to one model at a time, so a fit (in another thread, or in a callback) using one that
    another running fit holds raises, naming it."""

    def __init__(self, **helpers):
        self.helpers = {name: value for name, value in helpers.items() if value is not None}

    def __enter__(self):
        with _in_use_lock:
            for name, value in self.helpers.items():
                if id(value) in _in_use:
                    raise RuntimeError(
                        f"{name} {value!r} is in use by another fit running now (another "
                        f"thread's, or the fit whose callback this is): give each model its "
                        f"own, e.g. copy.deepcopy({name})")
            _in_use.update(id(value) for value in self.helpers.values())
        return self

    def __exit__(self, kind, error, traceback):
        with _in_use_lock:
            _in_use.difference_update(id(value) for value in self.helpers.values())
        return False


# ---- fit ---------------------------------------------------------------------------------
def fit(model, X, y, *, loss, optimizer, epochs, batch_size, shuffle, validation_data,
        validation_split, early_stopping, lr_scheduler, callback, batch_callback, verbose,
        random_state, classes, warm_start, divergence=None):
    epochs, batch_size, stopper = _check_options(
        epochs, batch_size, shuffle, validation_data, validation_split, verbose, callback,
        batch_callback, lr_scheduler, early_stopping)
    divergence = check_divergence(divergence)
    _check_trainable(model)
    X = model._check_X(X)
    n = X.shape[0]
    y = y_checked(y, n)
    loss = _choose_loss(model, loss)
    targets = _choose_targets(model, loss, y, classes, warm_start)
    target = targets.encode(y, model.dtype)
    optimizer = _choose_optimizer(model, optimizer, warm_start)
    seed = check_random_state(model.random_state if random_state is None else random_state)
    # One stream each for the initial parameters, the row order and the validation split;
    # partial_fit continues the row order of the previous call (a fresh seed restarts it),
    # and draws the same split each call, so it never trains on the rows it validates on.
    init_rng, shuffle_rng, split_rng = spawn_generators(seed, 3)
    if warm_start and random_state is None and getattr(model, "_shuffle_rng", None) is not None:
        shuffle_rng = model._shuffle_rng
    train_rows, val = _validation(model, X, target, targets, validation_data,
                                  validation_split, split_rng)
    with _Claim(optimizer=optimizer, lr_scheduler=lr_scheduler, early_stopping=stopper), \
            _DeferredInterrupt() as interrupt:
        _train(model, X, target, targets, loss, optimizer, train_rows, val, init_rng,
               shuffle_rng, epochs=epochs, batch_size=batch_size, shuffle=shuffle,
               stopper=stopper, lr_scheduler=lr_scheduler, callback=callback,
               batch_callback=batch_callback, verbose=verbose, warm_start=warm_start,
               divergence=divergence, interrupt=interrupt)
    return model


def _train(model, X, target, targets, loss, optimizer, train_rows, val, init_rng, shuffle_rng,
           *, epochs, batch_size, shuffle, stopper, lr_scheduler, callback, batch_callback,
           verbose, warm_start, divergence, interrupt):
    """fit once every argument is checked: the last checks that need the claimed helpers,
    then set the model up and train. Raises KeyboardInterrupt at the first step boundary
    after `interrupt.requested` is set."""
    metric = targets.metric_name
    logged = ["loss", metric] + (["val_loss", "val_" + metric] if val is not None else [])
    if stopper is not None:
        stopper.start(model, logged)
    # partial_fit with the scheduler already driving this optimizer continues its schedule
    continue_schedule = (warm_start and lr_scheduler is not None
                         and getattr(lr_scheduler, "optimizer", None) is optimizer
                         and optimizer is model.optimizer_)
    if lr_scheduler is not None:
        lr_scheduler.check_logged(logged)
    if warm_start and not _all_finite(model.flat_params):
        raise ValueError("the model's parameters hold NaN or infinity: call fit to start "
                         "again from new ones")

    # Every argument is good. Allocate first (the step's buffers, the optimizer's state, the
    # copies fit keeps), then change the model: a fit that runs out of memory leaves a
    # trained model as it was.
    n_train = len(train_rows)
    batch = n_train if batch_size is None else min(batch_size, n_train)
    n_steps = -(-n_train // batch)
    rebind = not (warm_start and optimizer is model.optimizer_
                  and optimizer.params is model.flat_params)
    saved = model.loss_, model.targets_, model._plans
    # partial_fit with the check on keeps the divergence reference of the calls before
    keep_reference = (divergence is not None and warm_start and loss is saved[0]
                      and getattr(model, "_loss_reference", None) is not None)
    start_plan = None
    try:
        model.loss_, model.targets_ = loss, targets
        model._plans = type(saved[2])()  # target buffers depend on the targets
        for size in {batch, n_train - (n_steps - 1) * batch}:
            model._plan(size)
        if val is not None:  # the validation passes' buffers
            model._inference_plan(len(val[0]) if val[1] is None else len(val[1]), "eval")
        if rebind:
            optimizer.bind(model.flat_params, model.flat_grads, model._kernels)
        order = train_rows.copy()  # this epoch's row order: train_rows shuffled afresh
        epoch_start = _EpochStart(model)
        if divergence is not None and not keep_reference and epochs > 0:
            plan, rows = model._inference_plan(n_train, "eval")  # for the rule's start loss
            start_plan = plan.rows(rows, model)
            if X.dtype != model.dtype:
                start_plan.stage(X.dtype)
    except BaseException:
        model.loss_, model.targets_, model._plans = saved
        raise
    model._shuffle_rng = shuffle_rng
    if not warm_start:
        model.reset_parameters(init_rng)
    model.optimizer_ = optimizer
    if not keep_reference:
        model._loss_reference = None
    rule = None if divergence is None else _Divergence(model, divergence)
    if lr_scheduler is not None and not continue_schedule:
        lr_scheduler.bind(optimizer, logged)
    if model.history_ is None or not warm_start:
        model.history_ = {}

    denominator = None if targets.is_classifier else targets.r2_denominator(target[train_rows])
    kernels = model._kernels
    # The network's step reads batches straight from X when it has the model's dtype and is
    # a plain array or memmap: a subclass may define reading rows itself (take). Kernels
    # take aligned arrays only (a view at an odd byte offset is not): take copies those.
    direct = (type(X) in (np.ndarray, np.memmap) and X.dtype == model.dtype
              and X.flags.c_contiguous and X.flags.aligned)
    last_epoch = None
    for epoch in range(epochs):
        started = time.perf_counter()
        epoch_start.save()
        if shuffle:  # from the sorted rows, so an epoch's order depends on the stream alone
            np.copyto(order, train_rows)
            shuffle_rng.shuffle(order)
        if start_plan is not None:  # before the first update: the rule's start loss
            rule.measure(X, order[:start_plan.n], target, start_plan)
            start_plan = None
        total, loss_sum = targets.new_total(), 0.0
        plan = None
        for step, start in enumerate(range(0, n_train, batch)):
            part = order[start:start + batch]
            # The plan depends on the batch size and the thread count, which only a
            # batch_callback could change within an epoch.
            if plan is None or plan.n != len(part) or batch_callback is not None:
                plan = model._plan(len(part))
                run_step = plan.step if direct else plan.read_step
            value, hits = run_step(X, part, target)  # the network's step: one call
            if not math.isfinite(value):
                raise _non_finite_loss(model, epoch_start, value, epoch, step, plan.n)
            optimizer.step()
            loss_sum += value * plan.n
            if hits is not None:
                total[0] += hits
            else:
                targets.accumulate(kernels, total, plan.out, plan.target, plan.scratch)
            if batch_callback is not None:
                batch_callback(model, epoch, step, n_steps)
            if interrupt.requested:  # the step is complete: stop here (Ctrl-C)
                raise KeyboardInterrupt
        if not _all_finite(model.flat_params):
            epoch_start.restore()
            raise NonFiniteLossError(
                f"an update of epoch {epoch + 1} made the parameters NaN or infinite although "
                f"the loss stayed finite: lower the learning rate or scale the inputs; the "
                f"model is back at its parameters from the start of epoch {epoch + 1}")
        if rule is not None:
            error = rule.check(epoch, loss_sum / n_train)
            if error is not None:
                epoch_start.restore()
                raise error
        logs = {"loss": loss_sum / n_train, metric: targets.metric(total, n_train, denominator)}
        if val is not None:
            scores = model._evaluate(*val)
            logs.update({"val_" + k: v for k, v in scores.items()})
        logs["lr"] = optimizer.lr
        logs["time"] = time.perf_counter() - started
        for key, value in logs.items():
            model.history_.setdefault(key, []).append(value)
        last_epoch = epoch
        if verbose:
            _print_epoch(epoch, epochs, logs)
        if lr_scheduler is not None:
            lr_scheduler.step(logs)
        stop = stopper.update(epoch, logs) if stopper is not None else False
        if callback is not None and callback(model, epoch, logs):
            stop = True
        if interrupt.requested:  # during the epoch's end: it is complete, history too
            raise KeyboardInterrupt
        if stop:
            break
    if stopper is not None and last_epoch is not None:
        stopper.finish(last_epoch)


def _non_finite_loss(model, epoch_start, value, epoch, step, n):
    """The error for a NaN or infinite loss at (epoch, step), with the model put back on
    finite parameters: those of the last step when they are, else the epoch's first."""
    where = f"the loss became {value} at epoch {epoch + 1}, step {step + 1} (batch of {n} samples)"
    if _all_finite(model.flat_params):
        kept = "the model keeps the parameters from before this step"
    else:
        epoch_start.restore()
        kept = (f"an earlier update had already made the parameters non-finite, so the model "
                f"is back at its parameters from the start of epoch {epoch + 1}")
    return NonFiniteLossError(f"{where}: lower the learning rate or scale the inputs; {kept}")


def _print_epoch(epoch, epochs, logs):
    parts = [f"epoch {epoch + 1}/{epochs}"]
    parts += [f"{key} {value:.4g}" for key, value in logs.items() if key not in ("time", "lr")]
    parts += [f"lr {logs['lr']:.4g}", f"{logs['time']:.2f}s"]
    print("  ".join(parts), file=sys.stdout, flush=True)
