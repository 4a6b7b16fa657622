"""Sequential's training entry points: fit, partial_fit (pynn.core.training runs both) and
loss_and_grad, one batch's loss and gradient without the update. pynn.core.model's Sequential
inherits these methods from TrainingMixin.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from pynn.core.model_type import Model
from pynn.core.sample_weights import check_sample_weight
from pynn.core.training import fit

if TYPE_CHECKING:
    from pynn.core.early_stopping import EarlyStopping
    from pynn.core.losses import Loss
    from pynn.core.optim import LRScheduler, Optimizer
    from pynn.core.random_state import RandomState

    #: fit's epoch callback: callback(model, epoch, logs), a true result stops training
    EpochCallback = Callable[["Model", int, dict[str, float]], Any]
    #: fit's step callback: batch_callback(model, epoch, step, n_steps)
    BatchCallback = Callable[["Model", int, int, int], Any]


class TrainingMixin:
    """The training methods of pynn.core.model.Sequential: fit (from fresh parameters),
    partial_fit (continuing) and loss_and_grad (one batch's gradient)."""

    _lock: threading.RLock
    dtype: np.dtype[Any]

    if TYPE_CHECKING:  # InferenceMixin's and PlansMixin's, which Sequential also inherits

        def _require_fitted(self, what: str) -> None: ...

        def _check_X(self, X: ArrayLike, name: str = "X") -> NDArray[Any]: ...

        def _plan(self, n: int) -> Any: ...

        def _build_at_fit(self, X: ArrayLike) -> bool: ...  # ParametersMixin's

        def _unbuild(self) -> None: ...

    def loss_and_grad(
        self, X: ArrayLike, target: NDArray[Any], sample_weight: ArrayLike | None = None
    ) -> float:
        """The mean loss over (X, target) and its gradient, written into flat_grads.

        `target` is already encoded (`targets_.encode(y, dtype)`), X is checked. One batch,
        one forward and backward pass: this is what fit does per step, without the update
        (at a non-finite loss, as there, no gradient is written).

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features_in_)
            The batch's features.
        target : numpy.ndarray of shape (n_samples, n_outputs_)
            The batch's encoded targets, in the model's dtype.
        sample_weight : array_like of shape (n_samples,) or None, default None
            The rows' weights (checked as fit's): the loss is sum_i w_i l_i / sum_i w_i.

        Returns
        -------
        float
            The (weighted) mean loss over the batch.

        Raises
        ------
        ValueError
            An untrained model (the loss is fit's), or X as in `decision_function`.
        """
        self._require_fitted("loss_and_grad")
        X = self._check_X(X)
        if sample_weight is not None:
            sample_weight = check_sample_weight(sample_weight, X.shape[0], self.dtype)
        with self._lock:
            plan = self._plan(X.shape[0])
            plan.read(X, slice(0, X.shape[0]))
            np.copyto(plan.target, target)
            if sample_weight is None:
                value, _ = plan.run()
            else:
                np.copyto(plan.sample_weight, sample_weight, casting="same_kind")
                value, _ = plan.run(weighted=True)
        return value

    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        sample_weight: ArrayLike | None = None,
        *,
        loss: str | Loss | None = None,
        optimizer: Optimizer | None = None,
        epochs: int = 10,
        batch_size: int | None = 32,
        shuffle: bool = True,
        validation_data: tuple[ArrayLike, ArrayLike] | None = None,
        validation_split: float = 0.0,
        early_stopping: bool | EarlyStopping | None = None,
        lr_scheduler: LRScheduler | None = None,
        callback: EpochCallback | None = None,
        batch_callback: BatchCallback | None = None,
        verbose: int = 0,
        random_state: RandomState = None,
        classes: ArrayLike | None = None,
        divergence: float | None = None,
        clip_norm: float | None = None,
        clip_value: float | None = None,
        callbacks: Sequence[Any] | None = None,
    ) -> Model:
        """Train from freshly initialised parameters; returns self.

        fit re-initialises the parameters from `random_state` (default: the model's own)
        and restarts the optimizer (zero state, its initial learning rate) and any
        schedule, so one seed gives one model and one training result, bit for bit,
        whatever the thread count. Every argument is checked before the model is touched.

        A call from another thread while this one runs waits for it (see the class
        docstring). Ctrl-C stops at the end of the step running, leaving the model as after
        that step (docs/model.md). `divergence` (None: off) is a factor: an epoch whose mean
        loss exceeds it times the best loss, and the loss before training and that of an
        all-zero output, raises pynn.DivergenceError, the model back as after the last good
        epoch (docs/model.md).

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features_in_)
            Training features: any 2-D numeric array-like. NumPy arrays and numpy.memmap
            are used in place (each batch is gathered into a reused buffer, so an on-disk X
            larger than memory is read batch by batch); X is checked for NaN and infinity
            before training.
        y : array_like of shape (n_samples,) or (n_samples, K)
            Targets, whose meaning the loss decides (docs/model.md, "Losses and targets"):
            labels (any integers or strings) or probabilities for softmax_cross_entropy,
            two labels or (n, K) 0/1 for binary_cross_entropy and hinge, numbers for mse
            and l1, counts or rates >= 0 for poisson.
        sample_weight : array_like of shape (n_samples,) or None, default None
            One finite weight >= 0 per row of X, not all zero; None weighs every row 1.
            Each batch's loss is sum_i w_i l_i / sum_i w_i over its rows (their weights
            gathered and shuffled with them; a batch of zero weights takes no step),
            validation_split holds the weights of its rows out with them, and the logged
            loss and metric are weighted (docs/model.md, "Sample weights").
        loss : str, Loss or None, default None
            One of pynn.losses.LOSSES ("mse", "l1", "binary_cross_entropy",
            "softmax_cross_entropy", "hinge", "poisson"). Required the first time; None keeps the
            model's loss. The classification losses read the last layer as logits: do not
            end a binary_cross_entropy model in a sigmoid (ValueError).
        optimizer : Optimizer or None, default None
            An instance of pynn.optim (SGD, Adam, AdamW; LBFGS: full batch, epochs being its
            iterations, docs/model.md), bound to this model's buffers for the fit.
            None: Adam(). Every fit restarts the optimizer (zero state, its initial
            learning rate).
        epochs : int, default 10
            Passes over the training rows (0 is allowed and trains nothing).
        batch_size : int or None, default 32
            Rows per optimizer step (the last batch of an epoch takes the rest); 1 is
            per-sample (online) SGD, None one full batch per epoch.
        shuffle : bool, default True
            Draw a new row order each epoch from the seeded row-order stream; False keeps
            the rows in order.
        validation_data : (X_val, y_val), (X_val, y_val, sample_weight_val) or None
            A separate validation set, evaluated after each epoch (val_loss and
            val_accuracy or val_r2 in `history_`, weighted by sample_weight_val when
            given). Not together with validation_split. Default None.
        validation_split : float, default 0.0
            A share in [0, 1) of X's rows held out for validation, drawn at random from the
            seed (read in place, never copied); each part must keep at least one row.
        early_stopping : bool, EarlyStopping or None, default None
            True for pynn.EarlyStopping() (patience 10, monitoring val_loss when there is
            validation data, else loss; the best epoch's parameters put back), an
            EarlyStopping to choose its settings, None or False for none.
        lr_scheduler : LRScheduler or None, default None
            A pynn.optim schedule (StepLR, InverseScalingLR, ReduceLROnPlateau) stepped at
            each epoch's end; None keeps a constant learning rate.
            Every fit restarts the schedule.
        callback : callable or None, default None
            callback(model, epoch, logs) after each epoch, logs being that epoch's dict
            (loss, accuracy or r2, the val_ values, lr, time); a true return value stops
            training.
        batch_callback : callable or None, default None
            batch_callback(model, epoch, step, n_steps) after each optimizer step (a
            progress bar: the command line uses it).
        verbose : {0, 1, 2}, default 0
            Nonzero prints one line per epoch (its logs).
        random_state : None, int, numpy.random.Generator or SeedSequence, default None
            The seed of the initial parameters, the validation split and the row
            order. None: the model's `random_state`, so one seed gives one result, bit
            for bit, whatever the thread count.
        classes : array_like or None, default None
            All the class labels of a classifier, for when y may not show them all (the
            first partial_fit of a stream); later calls must give the same classes.
        divergence : float or None, default None
            None (or False) turns the divergence check off; a finite factor > 1 (1e4 is
            the scikit-learn estimators' default) turns it on: an epoch whose mean loss is
            more than `divergence` times the best loss (the minimum of the loss before
            training and every completed epoch's), and above both the loss before training
            and that of an all-zero output, raises pynn.DivergenceError with the model back
            at its parameters from the start of that epoch (docs/model.md).
        clip_norm : float or None, default None
            Gradient clipping by global norm (torch.nn.utils.clip_grad_norm_): after each
            step's backward pass, the whole gradient is scaled by clip_norm / (norm + 1e-6)
            when that is below 1, norm being its L2 norm over every parameter; the epoch's
            mean norm before clipping is logged as `grad_norm`. None: no clipping.
        clip_value : float or None, default None
            Gradient clipping by value (torch.nn.utils.clip_grad_value_): each gradient
            element clamped to [-clip_value, clip_value], after clip_norm when both are
            given. None: no clipping.
        callbacks : list or None, default None
            Keras's habit: a list of an EarlyStopping (as `early_stopping`), a
            learning-rate schedule (as `lr_scheduler`) and functions callback(model, epoch,
            logs) (called after `callback`, in order; any true result stops training).
            Each kind may be given once, here or by its own argument.

        Returns
        -------
        Sequential
            The model itself, trained; `history_` holds the per-epoch logs.

        Raises
        ------
        ValueError
            A bad argument value (checked before the model is touched, so a bad call leaves
            a trained model as it was): no loss the first time, X or y of the wrong shape or
            with NaN or infinity, a label outside `classes`, a bad split, and so on.
        TypeError
            An argument of the wrong type (a class, Adam, where an instance, Adam(), is
            wanted; a callback that is not callable; ...).
        RuntimeError
            The optimizer, lr_scheduler or EarlyStopping is in use by another running fit.
        pynn.NonFiniteLossError
            The loss became NaN or infinite, or an update made the parameters non-finite;
            the model keeps finite parameters (the message says which).
        pynn.DivergenceError
            With `divergence` set, an epoch diverged (see above).
        KeyboardInterrupt
            Ctrl-C, acted on at the end of the step running: the model is left as that step
            left it (docs/model.md).
        """
        return self._fit(
            X,
            y,
            sample_weight=sample_weight,
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
            warm_start=False,
            divergence=divergence,
            clip_norm=clip_norm,
            clip_value=clip_value,
            callbacks=callbacks,
        )

    def _fit(self, X, y, **options):
        """training.fit under the model's lock; a model whose width comes at its first fit
        is built for X first, and unbuilt again when that fit fails."""
        with self._lock:
            built_here = self._build_at_fit(X)
            try:
                model = fit(self, X, y, **options)
            except BaseException:
                if built_here:  # a failed first fit leaves no parameters
                    self._unbuild()
                raise
            if built_here:
                self._kept_weights = {}  # built for good: the reused weights are in place
            return model

    def partial_fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        sample_weight: ArrayLike | None = None,
        *,
        loss: str | Loss | None = None,
        optimizer: Optimizer | None = None,
        epochs: int = 1,
        batch_size: int | None = 32,
        shuffle: bool = True,
        validation_data: tuple[ArrayLike, ArrayLike] | None = None,
        validation_split: float = 0.0,
        early_stopping: bool | EarlyStopping | None = None,
        lr_scheduler: LRScheduler | None = None,
        callback: EpochCallback | None = None,
        batch_callback: BatchCallback | None = None,
        verbose: int = 0,
        random_state: RandomState = None,
        classes: ArrayLike | None = None,
        divergence: float | None = None,
        clip_norm: float | None = None,
        clip_value: float | None = None,
        callbacks: Sequence[Any] | None = None,
    ) -> Model:
        """Continue training from the current parameters and optimizer state (one epoch by
        default); the first call may set the loss, optimizer and classes. Returns self.
        Threads and Ctrl-C: as fit.

        partial_fit continues the parameters, the optimizer's state, a schedule already
        driving that optimizer and the row-order stream: `fit(epochs=1)` then
        `partial_fit()` is `fit(epochs=2)`. With the same loss it keeps the model's
        targets (and classes_); `history_` grows. A first call (an untrained model)
        starts from the parameters made at construction.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features_in_)
            Training features: any 2-D numeric array-like. NumPy arrays and numpy.memmap
            are used in place (each batch is gathered into a reused buffer, so an on-disk X
            larger than memory is read batch by batch); X is checked for NaN and infinity
            before training.
        y : array_like of shape (n_samples,) or (n_samples, K)
            Targets, whose meaning the loss decides (docs/model.md, "Losses and targets"):
            labels (any integers or strings) or probabilities for softmax_cross_entropy,
            two labels or (n, K) 0/1 for binary_cross_entropy and hinge, numbers for mse
            and l1, counts or rates >= 0 for poisson.
        sample_weight : array_like of shape (n_samples,) or None, default None
            One finite weight >= 0 per row of X, not all zero; None weighs every row 1.
            Each batch's loss is sum_i w_i l_i / sum_i w_i over its rows (their weights
            gathered and shuffled with them; a batch of zero weights takes no step),
            validation_split holds the weights of its rows out with them, and the logged
            loss and metric are weighted (docs/model.md, "Sample weights").
        loss : str, Loss or None, default None
            One of pynn.losses.LOSSES ("mse", "l1", "binary_cross_entropy",
            "softmax_cross_entropy", "hinge", "poisson"). Required the first time; None keeps the
            model's loss. The classification losses read the last layer as logits: do not
            end a binary_cross_entropy model in a sigmoid (ValueError).
        optimizer : Optimizer or None, default None
            An instance of pynn.optim (SGD, Adam, AdamW; LBFGS: full batch, epochs being its
            iterations, docs/model.md), bound to this model's buffers for the fit.
            None: the model's optimizer when it has one, continued (its state, step
            count and learning rate), else Adam().
        epochs : int, default 1
            Passes over the training rows (0 is allowed and trains nothing).
        batch_size : int or None, default 32
            Rows per optimizer step (the last batch of an epoch takes the rest); 1 is
            per-sample (online) SGD, None one full batch per epoch.
        shuffle : bool, default True
            Draw a new row order each epoch from the seeded row-order stream; False keeps
            the rows in order.
        validation_data : (X_val, y_val), (X_val, y_val, sample_weight_val) or None
            A separate validation set, evaluated after each epoch (val_loss and
            val_accuracy or val_r2 in `history_`, weighted by sample_weight_val when
            given). Not together with validation_split. Default None.
        validation_split : float, default 0.0
            A share in [0, 1) of X's rows held out for validation, drawn at random from the
            seed (read in place, never copied); each part must keep at least one row.
        early_stopping : bool, EarlyStopping or None, default None
            True for pynn.EarlyStopping() (patience 10, monitoring val_loss when there is
            validation data, else loss; the best epoch's parameters put back), an
            EarlyStopping to choose its settings, None or False for none.
        lr_scheduler : LRScheduler or None, default None
            A pynn.optim schedule (StepLR, InverseScalingLR, ReduceLROnPlateau) stepped at
            each epoch's end; None keeps a constant learning rate.
            A schedule already driving the model's optimizer continues its schedule.
        callback : callable or None, default None
            callback(model, epoch, logs) after each epoch, logs being that epoch's dict
            (loss, accuracy or r2, the val_ values, lr, time); a true return value stops
            training.
        batch_callback : callable or None, default None
            batch_callback(model, epoch, step, n_steps) after each optimizer step (a
            progress bar: the command line uses it).
        verbose : {0, 1, 2}, default 0
            Nonzero prints one line per epoch (its logs).
        random_state : None, int, numpy.random.Generator or SeedSequence, default None
            The seed of the validation split and of a new row-order stream (the
            parameters are not re-initialised). None: the row order continues the
            previous call's stream, and the split is drawn from the model's
            `random_state`: with an int seed, the same rows each call, so the model
            never trains on the rows it validates on.
        classes : array_like or None, default None
            All the class labels of a classifier, for when y may not show them all (the
            first partial_fit of a stream); later calls must give the same classes.
        divergence : float or None, default None
            None (or False) turns the divergence check off; a finite factor > 1 (1e4 is
            the scikit-learn estimators' default) turns it on: an epoch whose mean loss is
            more than `divergence` times the best loss (the minimum of the loss before
            training and every completed epoch's), and above both the loss before training
            and that of an all-zero output, raises pynn.DivergenceError with the model back
            at its parameters from the start of that epoch (docs/model.md).
            Consecutive calls with the check on keep the reference losses.
        clip_norm : float or None, default None
            Gradient clipping by global norm (torch.nn.utils.clip_grad_norm_): after each
            step's backward pass, the whole gradient is scaled by clip_norm / (norm + 1e-6)
            when that is below 1, norm being its L2 norm over every parameter; the epoch's
            mean norm before clipping is logged as `grad_norm`. None: no clipping (each call says).
        clip_value : float or None, default None
            Gradient clipping by value (torch.nn.utils.clip_grad_value_): each gradient
            element clamped to [-clip_value, clip_value], after clip_norm when both are
            given. None: no clipping (each call says).
        callbacks : list or None, default None
            Keras's habit: a list of an EarlyStopping (as `early_stopping`), a
            learning-rate schedule (as `lr_scheduler`) and functions callback(model, epoch,
            logs) (called after `callback`, in order; any true result stops training).
            Each kind may be given once, here or by its own argument.

        Returns
        -------
        Sequential
            The model itself, trained; `history_` holds the per-epoch logs.

        Raises
        ------
        ValueError
            A bad argument value (checked before the model is touched, so a bad call leaves
            a trained model as it was): no loss the first time, X or y of the wrong shape or
            with NaN or infinity, a label outside `classes`, a bad split, and so on.
        TypeError
            An argument of the wrong type (a class, Adam, where an instance, Adam(), is
            wanted; a callback that is not callable; ...).
        RuntimeError
            The optimizer, lr_scheduler or EarlyStopping is in use by another running fit.
        pynn.NonFiniteLossError
            The loss became NaN or infinite, or an update made the parameters non-finite;
            the model keeps finite parameters (the message says which).
        pynn.DivergenceError
            With `divergence` set, an epoch diverged (see above).
        KeyboardInterrupt
            Ctrl-C, acted on at the end of the step running: the model is left as that step
            left it (docs/model.md).
        """
        return self._fit(
            X,
            y,
            sample_weight=sample_weight,
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
            warm_start=True,
            divergence=divergence,
            clip_norm=clip_norm,
            clip_value=clip_value,
            callbacks=callbacks,
        )
