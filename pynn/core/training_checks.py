"""Checking fit's arguments (pynn.core.training.fit) before the model is touched, and choosing
what they leave open: the loss, the targets' encoding, the optimizer and the rows held out
for validation. Every function here only reads the model.

fit's keyword arguments travel as one FitOptions; check_fit_arguments checks them all, in
one order (so the first bad argument is the one reported), and gives a CheckedFit.
"""

import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from pynn.core.checks import check_count
from pynn.core.early_stopping import EarlyStopping
from pynn.core.inputs import y_checked
from pynn.core.losses import get_loss
from pynn.core.optim import Adam, LRScheduler, Optimizer
from pynn.core.random_state import check_random_state, spawn_generators
from pynn.core.sample_weights import check_sample_weight
from pynn.core.targets import Targets, check_classes


def _instance_hint(value, base):
    """A hint for the common slip of passing the class (Adam) for an instance (Adam())."""
    if isinstance(value, type) and issubclass(value, base):
        return f": pass an instance, {value.__name__}(...), not the class"
    return ""


def _callback_hint(value):
    """Where a non-callable callback belongs, for the guesses of Keras users."""
    if isinstance(value, EarlyStopping):
        return " (an EarlyStopping goes to fit(early_stopping=...))"
    if isinstance(value, LRScheduler):
        return " (a learning-rate schedule goes to fit(lr_scheduler=...))"
    if isinstance(value, (list, tuple)):
        return (
            " (one function: pass early_stopping=EarlyStopping(...) and "
            "lr_scheduler=... as fit's own arguments, and call several functions from one)"
        )
    return ""


def sort_callbacks(callbacks, early_stopping, lr_scheduler, callback):
    """fit's `callbacks` list (Keras's habit) sorted into the arguments that take its items:
    an EarlyStopping into early_stopping, a learning-rate schedule into lr_scheduler, and
    functions after `callback`, all called after each epoch in order (any true result stops
    training). Returns (early_stopping, lr_scheduler, callback); an item given twice, or one
    of another kind, raises ValueError or TypeError naming it."""
    if callbacks is None:
        return early_stopping, lr_scheduler, callback
    if not isinstance(callbacks, (list, tuple)):
        raise TypeError(f"callbacks must be a list, got {type(callbacks).__name__}")
    functions = [] if callback is None else [callback]
    for i, item in enumerate(callbacks):
        if isinstance(item, EarlyStopping):
            if early_stopping not in (None, False):
                raise ValueError(f"callbacks[{i}]: early stopping is given twice")
            early_stopping = item
        elif isinstance(item, LRScheduler):
            if lr_scheduler is not None:
                raise ValueError(f"callbacks[{i}]: a learning-rate schedule is given twice")
            lr_scheduler = item
        elif callable(item) and not isinstance(item, type):
            functions.append(item)
        else:
            raise TypeError(
                f"callbacks[{i}] must be an EarlyStopping, a learning-rate schedule (StepLR, "
                f"InverseScalingLR, ReduceLROnPlateau) or a function callback(model, epoch, "
                f"logs), got {item!r}{_instance_hint(item, (EarlyStopping, LRScheduler))}"
            )
    if len(functions) > 1:
        callback = _EveryCallback(functions)
    elif functions:
        callback = functions[0]
    return early_stopping, lr_scheduler, callback


class _EveryCallback:
    """Several epoch callbacks as one: each called in order; a true result of any stops."""

    def __init__(self, functions):
        self.functions = functions

    def __call__(self, model, epoch, logs):
        results = [function(model, epoch, logs) for function in self.functions]
        return any(results)


def check_options(
    epochs,
    batch_size,
    shuffle,
    validation_data,
    validation_split,
    verbose,
    callback,
    batch_callback,
    lr_scheduler,
    early_stopping,
):
    """The checked epochs and batch_size, and the EarlyStopping to use (or None)."""
    epochs = check_count(epochs, "epochs", 0)
    if batch_size is not None:
        batch_size = check_count(batch_size, "batch_size (None for full batch)", 1)
    if not isinstance(shuffle, (bool, np.bool_)):
        raise TypeError(f"shuffle must be True or False, got {shuffle!r}")
    if isinstance(validation_split, bool) or not isinstance(validation_split, numbers.Real):
        raise TypeError(f"validation_split must be a number in [0, 1), got {validation_split!r}")
    if not 0 <= validation_split < 1:
        raise ValueError(f"validation_split must be in [0, 1), got {validation_split!r}")
    if validation_data is not None and validation_split > 0:
        raise ValueError("give validation_data or validation_split, not both")
    if verbose not in (0, 1, 2, False, True):
        raise ValueError(f"verbose must be 0, 1 or 2, got {verbose!r}")
    if callback is not None and not callable(callback):
        raise TypeError(
            f"callback must be callable: callback(model, epoch, logs), got {callback!r}"
            f"{_callback_hint(callback)}"
        )
    if batch_callback is not None and not callable(batch_callback):
        raise TypeError(
            f"batch_callback must be callable: batch_callback(model, epoch, step, "
            f"n_steps), got {batch_callback!r}"
        )
    if lr_scheduler is not None and not isinstance(lr_scheduler, LRScheduler):
        raise TypeError(
            f"lr_scheduler must be a pynn.optim scheduler (StepLR, "
            f"InverseScalingLR, ReduceLROnPlateau) or None, got {lr_scheduler!r}"
            f"{_instance_hint(lr_scheduler, LRScheduler)}"
        )
    if early_stopping is None or early_stopping is False:
        stopper = None
    elif early_stopping is True:
        stopper = EarlyStopping()
    elif isinstance(early_stopping, EarlyStopping):
        stopper = early_stopping
    else:
        raise TypeError(
            f"early_stopping must be True/False or a pynn.EarlyStopping, got "
            f"{early_stopping!r}{_instance_hint(early_stopping, EarlyStopping)}"
        )
    return epochs, batch_size, stopper


def check_divergence(divergence):
    """None (the check off) or the factor as a float > 1. False is off too; True is refused
    (which factor would it mean?)."""
    if divergence is None or (isinstance(divergence, (bool, np.bool_)) and not divergence):
        return None
    if isinstance(divergence, (bool, np.bool_)) or not isinstance(divergence, numbers.Real):
        raise TypeError(
            f"divergence must be None (off) or a factor > 1 such as 1e4, got {divergence!r}"
        )
    factor = float(divergence)
    if not (math.isfinite(factor) and factor > 1):
        raise ValueError(
            f"divergence must be a finite factor > 1 (None turns the check "
            f"off), got {divergence!r}"
        )
    return factor


def check_clip(value, name):
    """None (no clipping) or the threshold as a finite float > 0 (clip_norm, clip_value)."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be None (no clipping) or a number > 0, got {value!r}")
    threshold = float(value)
    if not (math.isfinite(threshold) and threshold > 0):
        raise ValueError(
            f"{name} must be None (no clipping) or a finite number > 0, got {value!r}"
        )
    return threshold


def check_trainable(model):
    for i, layer in enumerate(model.layers):
        if not layer.differentiable:
            raise ValueError(f"layer {i} ({layer!r}) is for inference only and cannot be trained")


def choose_loss(model, loss):
    if loss is None:
        if model.loss_ is None:
            raise ValueError("fit needs loss= (one of pynn.losses.LOSSES) the first time")
        return model.loss_
    loss = get_loss(loss)
    last = model.layers[-1]
    if loss.proba == "sigmoid" and getattr(last, "activation", None) == "sigmoid":
        raise ValueError(
            "binary_cross_entropy applies the sigmoid itself: end the model in "
            "logits (no sigmoid activation on the last layer)"
        )
    return loss


def choose_targets(model, loss, y, classes, warm_start):
    """Reuse the model's targets when continuing with the same loss, else derive them from y."""
    if warm_start and model.targets_ is not None and model.loss_ is loss:
        classes = check_classes(loss, classes)
        if classes is not None and not (
            len(classes) == len(model.classes_) and np.array_equal(classes, model.classes_)
        ):
            raise ValueError(
                f"classes {classes[:10].tolist()} differ from the classes the "
                f"model was trained on, {model.classes_[:10].tolist()}"
            )
        return model.targets_
    return Targets.for_loss(loss, y, model.n_outputs_, classes)


def choose_optimizer(model, optimizer, warm_start):
    if optimizer is None:
        optimizer = model.optimizer_ if (warm_start and model.optimizer_ is not None) else Adam()
    if not isinstance(optimizer, Optimizer):
        raise TypeError(
            f"optimizer must be a pynn optimizer (SGD, Adam, AdamW, LBFGS), got "
            f"{optimizer!r}{_instance_hint(optimizer, Optimizer)}"
        )
    return optimizer


def validation_rows(model, X, target, targets, options, weights, rng):
    """(training rows, validation set or None); the set is (X, rows or None, encoded y,
    float64 sample weights or None). validation_split holds out a seeded random share of
    X's rows (with their weights), never copied."""
    n = X.shape[0]
    validation_data, validation_split = options.validation_data, options.validation_split
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise TypeError(
                "validation_data must be a pair (X_val, y_val) or a triple (X_val, y_val, "
                "sample_weight_val)"
            )
        Xv, yv = validation_data[:2]
        Xv = model._check_X(Xv, "validation_data X")
        wv = None
        if len(validation_data) == 3 and validation_data[2] is not None:
            wv = check_sample_weight(validation_data[2], Xv.shape[0], model.dtype)
        encoded = targets.encode(y_checked(yv, Xv.shape[0]), model.dtype)
        return np.arange(n), (Xv, None, encoded, wv)
    if validation_split == 0:
        return np.arange(n), None
    n_val = int(n * validation_split)
    if n_val < 1 or n_val >= n:
        raise ValueError(
            f"validation_split={validation_split} leaves {n_val} of {n} "
            f"samples for validation: need at least 1 in each part"
        )
    perm = rng.permutation(n)
    rows, val_rows = np.sort(perm[n_val:]), np.sort(perm[:n_val])
    val_weights = None if weights is None else weights[val_rows]
    if val_weights is not None and not val_weights.any():
        raise ValueError("validation_split holds out only rows whose sample_weight is 0")
    if weights is not None and not weights[rows].any():
        raise ValueError("validation_split leaves only rows whose sample_weight is 0 to train on")
    return rows, (X, val_rows, target[val_rows], val_weights)


@dataclass
class FitOptions:
    """fit's keyword arguments as the caller gave them (pynn.core.training.fit documents each);
    check_fit_arguments checks them."""

    loss: Any
    optimizer: Any
    epochs: Any
    batch_size: Any
    shuffle: Any
    validation_data: Any
    validation_split: Any
    early_stopping: Any
    lr_scheduler: Any
    callback: Any
    batch_callback: Any
    verbose: Any
    random_state: Any
    classes: Any
    warm_start: Any
    divergence: Any
    clip_norm: Any = None
    clip_value: Any = None
    sample_weight: Any = None


@dataclass
class CheckedFit:
    """What check_fit_arguments gives: fit's data and arguments checked, and what they
    leave open chosen (the loss, the targets' encoding, the optimizer, the early stopper,
    the random streams and the rows held out for validation)."""

    X: Any
    target: Any
    targets: Targets
    loss: Any
    optimizer: Optimizer
    train_rows: Any
    val: Any
    init_rng: Any
    shuffle_rng: Any
    dropout_seed: int | None
    epochs: int
    batch_size: Any
    stopper: EarlyStopping | None
    divergence: float | None
    clip_norm: float | None
    clip_value: float | None
    #: the checked weights as float64, and in the model's dtype (the step's), or None
    sample_weight: Any = None
    step_weight: Any = None


def random_streams(model, random_state, warm_start):
    """(init_rng, shuffle_rng, split_rng, dropout_seed) of a fit: one stream each for the
    initial parameters, the row order and the validation split, and for a model with
    Dropout layers a new dropout seed (else None). partial_fit continues the row order
    and the dropout stream of the previous call (a fresh seed restarts both), and draws
    the same split each call, so it never trains on the rows it validates on."""
    seed = check_random_state(model.random_state if random_state is None else random_state)
    # a fourth stream for a model with Dropout layers (the other three stay the same: a
    # SeedSequence's children do not depend on how many are spawned)
    has_dropout = getattr(model, "_dropout_stream", None) is not None
    init_rng, shuffle_rng, split_rng, *dropout_rng = spawn_generators(seed, 3 + has_dropout)
    dropout_seed = int(dropout_rng[0].integers(2**64, dtype=np.uint64)) if has_dropout else None
    if warm_start and random_state is None and getattr(model, "_shuffle_rng", None) is not None:
        shuffle_rng, dropout_seed = model._shuffle_rng, None
    return init_rng, shuffle_rng, split_rng, dropout_seed


def check_fit_arguments(model, X, y, options):
    """fit's arguments (X, y and the FitOptions `options`) checked, and what they leave
    open chosen, as a CheckedFit (the model is only read)."""
    epochs, batch_size, stopper = check_options(
        options.epochs,
        options.batch_size,
        options.shuffle,
        options.validation_data,
        options.validation_split,
        options.verbose,
        options.callback,
        options.batch_callback,
        options.lr_scheduler,
        options.early_stopping,
    )
    divergence = check_divergence(options.divergence)
    clip_norm = check_clip(options.clip_norm, "clip_norm")
    clip_value = check_clip(options.clip_value, "clip_value")
    check_trainable(model)
    X = model._check_X(X)
    y = y_checked(y, X.shape[0])
    weights = None
    if options.sample_weight is not None:
        weights = check_sample_weight(options.sample_weight, X.shape[0], model.dtype)
    loss = choose_loss(model, options.loss)
    targets = choose_targets(model, loss, y, options.classes, options.warm_start)
    target = targets.encode(y, model.dtype)
    optimizer = choose_optimizer(model, options.optimizer, options.warm_start)
    init_rng, shuffle_rng, split_rng, dropout_seed = random_streams(
        model, options.random_state, options.warm_start
    )
    train_rows, val = validation_rows(model, X, target, targets, options, weights, split_rng)
    return CheckedFit(
        X=X,
        target=target,
        targets=targets,
        loss=loss,
        optimizer=optimizer,
        train_rows=train_rows,
        val=val,
        init_rng=init_rng,
        shuffle_rng=shuffle_rng,
        dropout_seed=dropout_seed,
        epochs=epochs,
        batch_size=batch_size,
        stopper=stopper,
        divergence=divergence,
        clip_norm=clip_norm,
        clip_value=clip_value,
        sample_weight=weights,
        step_weight=None if weights is None else np.ascontiguousarray(weights, model.dtype),
    )
