"""Training behind Sequential.fit and partial_fit: fit, its arguments checked
(pynn.core.training_checks), the helpers it claims and Ctrl-C deferred, then the loop
(pynn.core.training_loop).

One step (shared/DESIGN.md) is two calls: the plan's network step (pynn.core.network: gather
the batch rows into the plan's input and target buffers, every layer's forward, the fused
loss and its gradient, every layer's backward, overwriting the flat gradient) and one
optimizer kernel over the flat buffers. The loop talks to the plans (TrainingPlan.step,
InferencePlan views' forward), not to the model's layers.

Every argument is checked before the model is touched, so a bad call leaves a trained
model as it was. A non-finite loss, parameters an update made non-finite and (when
`divergence` is a factor) a loss that diverges while staying finite stop the fit with the
model on its last good parameters (pynn.core.training_loop).

Ctrl-C: while fit runs in the main thread under Python's default SIGINT handler, a
handler that only records the interrupt takes its place; fit raises KeyboardInterrupt
at the next step boundary, so the model keeps a consistent state: that of its last
completed step (an interrupt landing inside a step would leave, say, the optimizer's step
count ahead of its update). A user's own handler, and other threads, are left alone.

Threads: Sequential.fit holds the model's lock. The optimizer, lr_scheduler and
EarlyStopping are bound to one model's buffers for a fit, so one in use by another running
fit is an error rather than two models' updates mixed.
"""

import signal
import threading

from pynn.core.full_batch_training import FullBatchRun, check_full_batch_options
from pynn.core.training_checks import FitOptions, check_fit_arguments, sort_callbacks
from pynn.core.training_loop import Divergence, Run, all_finite


# ---- the guards of a fit -----------------------------------------------------------------
class _DeferredInterrupt:
    """Ctrl-C recorded (`requested`) rather than raised, while fit runs in the main thread
    with Python's default SIGINT handler; fit checks `requested` between steps. Leaving
    restores the handler and raises an interrupt that came after fit's last check."""

    def __init__(self):
        self.requested = False
        self._previous = None

    def __enter__(self):
        if (
            threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler
        ):
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


# ids of the optimizers, schedules and early stoppers of the running fits
_in_use: set[int] = set()
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
                        f"own, e.g. copy.deepcopy({name})"
                    )
            _in_use.update(id(value) for value in self.helpers.values())
        return self

    def __exit__(self, kind, error, traceback):
        with _in_use_lock:
            _in_use.difference_update(id(value) for value in self.helpers.values())
        return False


# ---- fit ---------------------------------------------------------------------------------
def fit(
    model,
    X,
    y,
    *,
    loss,
    optimizer,
    epochs,
    batch_size,
    shuffle,
    validation_data,
    validation_split,
    early_stopping,
    lr_scheduler,
    callback,
    batch_callback,
    verbose,
    random_state,
    classes,
    warm_start,
    divergence=None,
    clip_norm=None,
    clip_value=None,
    sample_weight=None,
    callbacks=None,
):
    """Train `model` on (X, y): the loop behind Sequential.fit and Sequential.partial_fit.

    Every argument is checked before the model is touched, so a call that raises on its
    arguments (or runs out of memory allocating) leaves the model as it was. The model
    methods hold the model's lock and give the defaults noted below; this function takes
    every option by keyword.

    Parameters
    ----------
    model : pynn.Sequential
        The model to train, in place. Every layer must be trainable (no "step" or "sign"
        activation).
    X : array-like of shape (n_samples, n_features)
        The inputs: any 2-D numeric array-like, checked for NaN and infinity. A NumPy
        array or np.memmap of the model's dtype is read in place, batch by batch.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        The targets, whose meaning the loss decides: class labels for the classification
        losses, numbers for "mse" and "l1", counts >= 0 for "poisson" (docs/model.md,
        "Losses and targets").
    loss : str, pynn.losses.Loss or None
        One of pynn.losses.LOSSES, by name or record. None keeps the model's loss, which
        only a trained model has (the first fit must name one).
    optimizer : pynn.optim.Optimizer or None
        An instance (SGD, Adam, AdamW; LBFGS, CG run full-batch), bound for the fit. None: a fresh
        Adam(), or, with warm_start, the model's own optimizer when it has one.
    epochs : int
        The number of passes over the training rows, >= 0 (Sequential.fit: 10,
        partial_fit: 1).
    batch_size : int or None
        Rows per optimizer step, >= 1 (the last batch of an epoch may be smaller); None
        is full-batch gradient descent. Sequential's default: 32.
    shuffle : bool
        Draw a new row order each epoch (from the row-order stream of random_state);
        False keeps the rows in order. Default True.
    validation_data : tuple (X_val, y_val) or None
        A separate validation set, evaluated after each epoch (val_loss and val_accuracy
        or val_r2 in the logs).
    validation_split : float
        A share of X's rows in [0, 1) held out for validation instead: seeded, never
        copied, the same rows on each partial_fit call. Default 0.0: none. Not with
        validation_data.
    early_stopping : bool, pynn.EarlyStopping or None
        True for EarlyStopping() (patience 10 on val_loss, else loss), an EarlyStopping
        for its own settings, None or False for none.
    lr_scheduler : pynn.optim.LRScheduler or None
        A schedule (StepLR, InverseScalingLR, ReduceLROnPlateau) stepped once per epoch
        with that epoch's logs. None: a constant rate.
    callback : callable or None
        callback(model, epoch, logs), called after each epoch with that epoch's logs (a
        dict: loss, accuracy or r2, val_ values, lr, time); returning True stops training.
    batch_callback : callable or None
        batch_callback(model, epoch, step, n_steps), called after each optimizer step
        (a progress bar, say).
    verbose : {0, 1, 2}
        0 prints nothing; 1 or 2 print one line per epoch. Default 0.
    random_state : None, int, numpy.random.SeedSequence or numpy.random.Generator
        The seed of the initial parameters, the row order and the validation split; None
        is the model's own random_state. With warm_start and None, the row order goes on
        from the previous call's stream.
    classes : array-like or None
        Every class label, for a classification loss whose y may lack some (a first
        partial_fit on a chunk); None takes the labels found in y.
    warm_start : bool
        False (Sequential.fit): new parameters from random_state, a fresh optimizer state
        and schedule, a new history_. True (Sequential.partial_fit): continue from the
        model's parameters, its optimizer, schedule, row-order stream and history_.
    divergence : float or None
        None (the default) or False turns the divergence check off; a finite factor > 1
        (1e4, say) stops the fit at the end of an epoch whose mean training loss is more
        than `divergence` times the best loss and above both the loss before training and
        that of an all-zero output (docs/model.md).
    clip_norm : float or None
        None (the default): no clipping; a finite max_norm > 0: after each step's backward
        pass, the whole flat gradient is scaled by max_norm / (norm + 1e-6) when that is
        below 1, norm being its global L2 norm (torch.nn.utils.clip_grad_norm_); the
        epoch's mean norm before clipping is logged as grad_norm.
    clip_value : float or None
        None (the default): no clipping; a finite value > 0: each gradient element is
        clamped to [-clip_value, clip_value] (torch.nn.utils.clip_grad_value_), after
        clip_norm when both are given.
    sample_weight : array-like of shape (n_samples,) or None
        None (the default): every row weighs 1; else one finite weight >= 0 per row of X,
        not all zero: each batch's loss is sum_i w_i l_i / sum_i w_i over its rows (the
        weights gathered and shuffled with them), validation_split holds out the rows'
        weights with them, and the logged loss and metric are weighted (docs/model.md,
        "Sample weights"). A batch whose weights are all zero takes no step.
    callbacks : list or None
        Keras's habit, sorted into the arguments above: an EarlyStopping (for
        early_stopping), a learning-rate schedule (for lr_scheduler) and functions
        callback(model, epoch, logs), called after `callback` in order (any true result
        stops training). Each kind may be given once, here or by its own argument.

    Returns
    -------
    pynn.Sequential
        `model`, trained: its parameters, loss_, targets_ (and classes_), optimizer_ and
        history_ ({name: list of per-epoch values}) set.

    Raises
    ------
    TypeError
        An argument of the wrong kind: a class where an instance is needed (Adam for
        Adam()), a callback that is not callable, validation_data that is not a pair.
    ValueError
        An argument out of range (epochs < 0, batch_size < 1, validation_split outside
        [0, 1) or with validation_data, verbose not 0, 1 or 2, divergence <= 1, clip_norm
        or clip_value not finite and > 0), a first
        fit without loss, a layer for inference only, X or y that do not fit the model,
        classes that differ from a trained model's, or (warm_start) parameters already
        holding NaN or infinity.
    pynn.NonFiniteLossError
        A NaN or infinite loss (the step's update is not applied), or an update that made
        the parameters non-finite (the model is back at the start of that epoch).
    pynn.DivergenceError
        With `divergence`, an epoch whose loss diverged; the model is back at the start
        of that epoch and history_ ends before it.
    RuntimeError
        The optimizer, lr_scheduler or EarlyStopping is in use by another running fit.
    KeyboardInterrupt
        Ctrl-C (in the main thread, under Python's default handler), raised at the end of
        the step running with the model as that step left it.
    """
    early_stopping, lr_scheduler, callback = sort_callbacks(
        callbacks, early_stopping, lr_scheduler, callback
    )
    options = FitOptions(
        loss=loss,
        optimizer=optimizer,
        epochs=epochs,
        batch_size=batch_size,
        shuffle=shuffle,
        validation_data=validation_data,
        validation_split=validation_split,
        early_stopping=early_stopping,
        lr_scheduler=lr_scheduler,
        callback=callback,
        batch_callback=batch_callback,
        verbose=verbose,
        random_state=random_state,
        classes=classes,
        warm_start=warm_start,
        divergence=divergence,
        clip_norm=clip_norm,
        clip_value=clip_value,
        sample_weight=sample_weight,
    )
    checked = check_fit_arguments(model, X, y, options)
    train = _full_batch_checked(model, checked, options, lr_scheduler)
    claim = _Claim(
        optimizer=checked.optimizer, lr_scheduler=lr_scheduler, early_stopping=checked.stopper
    )
    with claim, _DeferredInterrupt() as interrupt:
        train(model, checked, options, interrupt)
    return model


def _full_batch_checked(model, checked, options, lr_scheduler):
    """The training function: _train_full_batch for a full-batch solver (LBFGS, NewtonCG,
    NaturalGradient), whose own refusals are checked here, else _train."""
    if not getattr(checked.optimizer, "full_batch", False):
        return _train
    check_full_batch_options(
        model,
        options,
        lr_scheduler,
        checked.clip_norm,
        checked.clip_value,
        checked.divergence,
        checked.optimizer,
    )
    return _train_full_batch


def _train_full_batch(model, checked, options, interrupt):
    """fit with a full-batch solver, its arguments checked: allocate, set the
    model up as _train does, then run the solver (pynn.core.full_batch_training)."""
    warm_start, val = options.warm_start, checked.val
    metric = checked.targets.metric_name
    logged = ["loss", "objective"] + (["val_loss", "val_" + metric] if val is not None else [])
    _last_checks(model, checked.stopper, None, warm_start, logged)
    run = FullBatchRun(model, checked, options, interrupt)
    run.allocate(checked.loss, warm_start)
    model._shuffle_rng = checked.shuffle_rng
    if not warm_start:
        model.reset_parameters(checked.init_rng)
    model.optimizer_ = checked.optimizer
    model._loss_reference = None
    if model.history_ is None or not warm_start:
        model.history_ = {}
    run.iterations()


def _train(model, checked, options, interrupt):
    """fit once every argument is checked (`checked`, a CheckedFit of the FitOptions
    `options`): the last checks that need the claimed helpers, then set the model up and
    train. Raises KeyboardInterrupt at the first step boundary after `interrupt.requested`
    is set."""
    warm_start, lr_scheduler = options.warm_start, options.lr_scheduler
    optimizer, val, divergence = checked.optimizer, checked.val, checked.divergence
    metric = checked.targets.metric_name
    logged = ["loss", metric] + (["val_loss", "val_" + metric] if val is not None else [])
    _last_checks(model, checked.stopper, lr_scheduler, warm_start, logged)
    # partial_fit with the scheduler already driving this optimizer continues its schedule
    continue_schedule = (
        warm_start
        and lr_scheduler is not None
        and getattr(lr_scheduler, "optimizer", None) is optimizer
        and optimizer is model.optimizer_
    )
    run = Run(
        model,
        checked.X,
        checked.target,
        checked.targets,
        optimizer,
        checked.train_rows,
        val,
        epochs=checked.epochs,
        batch_size=checked.batch_size,
        shuffle=options.shuffle,
        shuffle_rng=checked.shuffle_rng,
        stopper=checked.stopper,
        lr_scheduler=lr_scheduler,
        callback=options.callback,
        batch_callback=options.batch_callback,
        verbose=options.verbose,
        interrupt=interrupt,
        clip=(checked.clip_norm, checked.clip_value),
        weights=(checked.sample_weight, checked.step_weight),
    )
    # partial_fit with the check on keeps the divergence reference of the calls before
    keep_reference = (
        divergence is not None
        and warm_start
        and checked.loss is model.loss_
        and getattr(model, "_loss_reference", None) is not None
    )
    run.allocate(
        checked.loss, warm_start, measure_start=divergence is not None and not keep_reference
    )
    model._shuffle_rng = checked.shuffle_rng
    if checked.dropout_seed is not None:  # a new dropout stream: this seed, from step 0
        model._dropout_stream[...] = (checked.dropout_seed, 0)
    if not warm_start:
        model.reset_parameters(checked.init_rng)
    model.optimizer_ = optimizer
    if not keep_reference:
        model._loss_reference = None
    run.rule = None if divergence is None else Divergence(model, divergence)
    if lr_scheduler is not None and not continue_schedule:
        lr_scheduler.bind(optimizer, logged)
    if model.history_ is None or not warm_start:
        model.history_ = {}
    run.epochs()


def _last_checks(model, stopper, lr_scheduler, warm_start, logged):
    """The checks that need the claimed helpers (the early stopper started on the logged
    names, the schedule's monitored name among them) and, for partial_fit, finite
    parameters to continue from."""
    if stopper is not None:
        stopper.start(model, logged)
    if lr_scheduler is not None:
        lr_scheduler.check_logged(logged)
    if warm_start and not all_finite(model.flat_params):
        raise ValueError(
            "the model's parameters hold NaN or infinity: call fit to start again from new ones"
        )
