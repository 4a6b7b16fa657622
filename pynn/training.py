"""The training loop behind Sequential.fit and partial_fit.

One step (shared/DESIGN.md): gather the batch rows into the plan's input and target
buffers, run each layer's forward kernel, the fused loss-and-gradient kernel, each
layer's backward kernel (overwriting the flat gradient), then one optimizer kernel over
the flat buffers. The loss is checked before the update, so a non-finite loss leaves the
parameters of the last good step.
"""
import math
import numbers
import sys
import time

import numpy as np

from pynn.early_stopping import EarlyStopping
from pynn.errors import NonFiniteLossError
from pynn.losses import get_loss
from pynn.model import check_random_state, spawn_generators, y_checked
from pynn.optim import Adam, LRScheduler, Optimizer
from pynn.targets import Targets


def _positive_or_none(value, name):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1 (or None), got {value!r}")
    return int(value)


def _check_options(epochs, validation_split, verbose, callback, lr_scheduler, early_stopping):
    if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral) or epochs < 0:
        raise ValueError(f"epochs must be an integer >= 0, got {epochs!r}")
    if not isinstance(validation_split, numbers.Real) or not 0 <= validation_split < 1:
        raise ValueError(f"validation_split must be in [0, 1), got {validation_split!r}")
    if verbose not in (0, 1, 2, False, True):
        raise ValueError(f"verbose must be 0, 1 or 2, got {verbose!r}")
    if callback is not None and not callable(callback):
        raise TypeError("callback must be callable: callback(model, epoch, logs)")
    if lr_scheduler is not None and not isinstance(lr_scheduler, LRScheduler):
        raise TypeError(f"lr_scheduler must be a pynn.optim scheduler (StepLR, "
                        f"InverseScalingLR, ReduceLROnPlateau) or None, got {lr_scheduler!r}")
    if early_stopping in (None, False):
        return None
    if early_stopping is True:
        return EarlyStopping()
    if not isinstance(early_stopping, EarlyStopping):
        raise TypeError(f"early_stopping must be True/False or a pynn.EarlyStopping, got "
                        f"{early_stopping!r}")
    return early_stopping


def _choose_targets(model, loss, y, classes, warm_start):
    """Reuse the model's targets when continuing with the same loss, else derive them from y."""
    if warm_start and model.targets_ is not None and model.loss_ is loss:
        if classes is not None and not np.array_equal(np.unique(classes), model.classes_):
            raise ValueError("classes differ from the classes the model was trained on")
        return model.targets_
    return Targets.for_loss(loss, y, model.n_outputs_, classes)


def fit(model, X, y, *, loss, optimizer, epochs, batch_size, shuffle, validation_data,
        validation_split, early_stopping, lr_scheduler, callback, verbose, random_state,
        classes, warm_start):
    stopper = _check_options(epochs, validation_split, verbose, callback, lr_scheduler,
                             early_stopping)
    batch_size = _positive_or_none(batch_size, "batch_size")
    for i, layer in enumerate(model.layers):
        if not layer.differentiable:
            raise ValueError(f"layer {i} ({layer!r}) is for inference only and cannot be trained")
    X = model._check_X(X)
    n = X.shape[0]
    y = y_checked(y, n)

    if loss is None:
        if model.loss_ is None:
            raise ValueError("fit needs loss= (one of pynn.losses.LOSSES) the first time")
        loss = model.loss_
    loss = get_loss(loss)
    last = model.layers[-1]
    if loss.proba == "sigmoid" and getattr(last, "activation", None) == "sigmoid":
        raise ValueError("binary_cross_entropy applies the sigmoid itself: end the model in "
                         "logits (no sigmoid activation on the last layer)")
    targets = _choose_targets(model, loss, y, classes, warm_start)
    target = targets.encode(y, model.dtype)
    model.loss_, model.targets_ = loss, targets
    model._forget_plans()  # target buffers depend on the targets

    seed = check_random_state(model.random_state if random_state is None else random_state)
    init_rng, data_rng = spawn_generators(seed, 2)
    if not warm_start:
        model.reset_parameters(init_rng)

    # Validation: given data, or a seeded random share of X held out (rows never copied).
    rows = np.arange(n)
    val = None
    if validation_data is not None:
        try:
            Xv, yv = validation_data
        except (TypeError, ValueError):
            raise TypeError("validation_data must be a pair (X_val, y_val)") from None
        Xv = model._check_X(Xv, "validation_data X")
        val = (Xv, None, targets.encode(y_checked(yv, Xv.shape[0]), model.dtype))
    elif validation_split > 0:
        n_val = int(n * validation_split)
        if n_val < 1 or n_val >= n:
            raise ValueError(f"validation_split={validation_split} leaves {n_val} of {n} "
                             f"samples for validation: need at least 1 in each part")
        perm = data_rng.permutation(n)
        rows, val_rows = np.sort(perm[n_val:]), np.sort(perm[:n_val])
        val = (X, val_rows, target[val_rows])

    if optimizer is None:
        optimizer = model.optimizer_ if (warm_start and model.optimizer_ is not None) else Adam()
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be a pynn optimizer (SGD, Adam, AdamW), got "
                        f"{optimizer!r}")
    if not (warm_start and optimizer is model.optimizer_ and optimizer.params is model.flat_params):
        optimizer.bind(model.flat_params, model.flat_grads, model._kernels)
    model.optimizer_ = optimizer
    if lr_scheduler is not None:
        lr_scheduler.bind(optimizer)
    if stopper is not None:
        stopper.start(model, val is not None)
    if model.history_ is None or not warm_start:
        model.history_ = {}

    train_rows = rows.copy()
    n_train = len(train_rows)
    batch = n_train if batch_size is None else min(batch_size, n_train)
    denominator = None if targets.is_classifier else targets.r2_denominator(target[train_rows])
    kernels = model._kernels
    metric = targets.metric_name
    last_epoch = None
    for epoch in range(epochs):
        started = time.perf_counter()
        if shuffle:
            data_rng.shuffle(train_rows)
        total, loss_sum = targets.new_total(), 0.0
        for step, start in enumerate(range(0, n_train, batch)):
            part = train_rows[start:start + batch]
            plan = model._plan(len(part), "train")
            model._read(X, part, plan)
            np.take(target, part, axis=0, out=plan.target, mode="clip")
            out = model._forward(plan, training=True)
            value = loss(kernels, out, plan.target, grad=plan.dout, sample_loss=plan.sample_loss)
            if not math.isfinite(value):
                raise NonFiniteLossError(
                    f"the loss became {value} at epoch {epoch + 1}, step {step + 1} (batch of "
                    f"{plan.n} samples): lower the learning rate or scale the inputs; the "
                    f"model keeps the parameters from before this step")
            model._backward(plan)
            optimizer.step()
            loss_sum += value * plan.n
            targets.accumulate(total, out, plan.target, plan.scratch)
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
        if stop:
            break
    if stopper is not None and last_epoch is not None:
        stopper.finish(last_epoch)
    return model


def _print_epoch(epoch, epochs, logs):
    parts = [f"epoch {epoch + 1}/{epochs}"]
    parts += [f"{key} {value:.4g}" for key, value in logs.items() if key not in ("time", "lr")]
    parts.append(f"{logs['time']:.2f}s")
    print("  ".join(parts), file=sys.stdout, flush=True)
