"""What pynn.sklearn's two estimators share: BaseMLP (the parameters, training and
inference on a pynn.Sequential) and scikit-learn's stopping rule as a pynn fit callback."""

import contextlib
import warnings

import numpy as np
from sklearn.base import BaseEstimator, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import check_is_fitted, validate_data

from pynn import _kernels
from pynn.core.layers import Dense
from pynn.core.losses import get_loss
from pynn.core.model import Sequential
from pynn.core.optim import SGD, Adam
from pynn.core.sample_weights import check_sample_weight
from pynn.sklearn.full_batch import FULL_BATCH_SOLVERS, train_full_batch
from pynn.sklearn.params import (
    ADAPTIVE_FACTOR,
    ADAPTIVE_MIN_LR,
    AUTO_BATCH,
    check_params,
)
from pynn.sklearn.random_streams import RowOrder, draw_initial_parameters, fit_random_state
from pynn.sklearn.weights import LayerArrays, set_layer_arrays


# ---- small helpers ---------------------------------------------------------------------------
def _threads(n_threads):
    """The block runs pynn's kernels on at most n_threads threads, in this thread only
    (None: the current count)."""
    return contextlib.nullcontext() if n_threads is None else _kernels.threads(n_threads)


def _weight_views(model):
    """Views of model's weight matrices (not the biases) in its flat parameters."""
    params = model.flat_params
    return [params[a:b] for a, b in model.weight_ranges()]


def _squares(views):
    """‖W‖² over the views, in double."""
    return sum(float(np.dot(view, view)) for view in views)


# ---- scikit-learn's stopping rule, as a pynn fit callback ------------------------------------
class _SklearnStopping:
    """Called by pynn's fit after each epoch: records loss_curve_ (and validation_scores_),
    applies learning_rate "invscaling" / "adaptive", and says when to stop, all as
    scikit-learn's stochastic solvers do: stop when the training loss has not fallen below
    best_loss_ - tol (with early_stopping: the validation score not risen above
    best_validation_score_ + tol) for more than n_iter_no_change consecutive epochs."""

    def __init__(self, estimator, model, n_train, batch, loss_scale, validation_key):
        self.estimator = estimator
        self.n_train, self.batch = n_train, batch
        self.loss_scale = loss_scale  # scikit-learn's logged loss over pynn's
        self.validation_key = validation_key  # "val_accuracy" or "val_r2", or None
        self.converged = False
        # scikit-learn's L2 term of the epoch: ½·alpha·‖W‖² per batch, with W before its step
        self.penalty_sum = 0.0
        self.weights = _weight_views(model)
        self.squares = _squares(self.weights)

    def after_step(self, model, epoch, step, n_steps):
        """fit's batch_callback: the L2 term of the batch just taken (scikit-learn adds
        ½·alpha·‖W‖² / n_batch to each batch's mean loss and weighs it by n_batch), and the
        next step's weight decay, alpha over its batch's size (the last may be smaller)."""
        alpha = self.estimator.alpha
        self.penalty_sum += 0.5 * alpha * self.squares
        self.squares = _squares(self.weights)
        if step >= n_steps - 2:  # the decay changes before the last step and after it
            following = step + 1 if step + 1 < n_steps else 0
            last = following == n_steps - 1
            size = self.n_train - following * self.batch if last else self.batch
            model.optimizer_.weight_decay = alpha / size

    def __call__(self, model, epoch, logs):
        est = self.estimator
        params = model.flat_params
        loss = logs["loss"] * self.loss_scale + self.penalty_sum / self.n_train
        self.penalty_sum = 0.0
        est.n_iter_ += 1
        est.t_ += self.n_train
        est.loss_ = loss
        est.loss_curve_.append(loss)
        if est.verbose:
            print(f"Iteration {est.n_iter_}, loss = {loss:.8f}")
        if self.validation_key is not None:
            score = float(logs[self.validation_key])
            est.validation_scores_.append(score)
            if est.verbose:
                print(f"Validation score: {score:.6f}")
            # scikit-learn's comparisons, as written there (a NaN score counts as no stall)
            stalled = score < est.best_validation_score_ + est.tol
            if score > est.best_validation_score_:
                est.best_validation_score_ = score
                np.copyto(est._best_params, params)
        else:
            stalled = loss > est.best_loss_ - est.tol
            if loss < est.best_loss_:
                est.best_loss_ = loss
        est._no_improvement_count = est._no_improvement_count + 1 if stalled else 0
        optimizer = model.optimizer_
        if est.solver == "sgd" and est.learning_rate == "invscaling":
            optimizer.lr = est.learning_rate_init / (est.t_ + 1) ** est.power_t
        if est._no_improvement_count > est.n_iter_no_change:
            what = "Validation score" if self.validation_key else "Training loss"
            message = (
                f"{what} did not improve more than tol={est.tol} for "
                f"{est.n_iter_no_change} consecutive epochs."
            )
            if (
                est.solver == "sgd"
                and est.learning_rate == "adaptive"
                and optimizer.lr > ADAPTIVE_MIN_LR
            ):
                optimizer.lr /= ADAPTIVE_FACTOR
                est._no_improvement_count = 0
                if est.verbose:
                    print(f"{message} Setting learning rate to {optimizer.lr:.6f}")
                return False
            if est.verbose:
                print(f"{message} Stopping.")
            self.converged = True
            return True
        return False


# ---- what both estimators share --------------------------------------------------------------
class BaseMLP(BaseEstimator):
    """The parameters' checks, training and pickling of MLPClassifier and MLPRegressor
    (each spells out its own __init__, as scikit-learn's get_params reads it)."""

    def _x_dtypes(self, dtype):
        """The dtypes validate_data keeps X in: both floats (pynn casts each batch to the
        model's dtype), anything else converted to the model's dtype."""
        return [dtype, np.float64 if dtype == np.float32 else np.float32]

    # ---- the network -------------------------------------------------------------------------
    def _new_model(self, sizes, activation, dtype, n_features, n_outputs, rng):
        """A new network: init=None draws scikit-learn's initial parameters from rng (the
        fit's RandomState) as scikit-learn does; a pynn init scheme draws from a seed taken
        from rng (docs/sklearn.md, "init")."""
        init = self.init
        if init is None:  # the scheme the layers report; the values come from rng below
            init = "sklearn_logistic" if activation == "sigmoid" else "sklearn_uniform"
        seed = None if self.init is None else int(rng.randint(0, 2**31 - 1))
        layers, width = [], n_features
        for size in sizes:
            layers.append(Dense(width, size, activation=activation, init=init))
            width = size
        # logits (classifier) or values (regressor)
        layers.append(Dense(width, n_outputs, init=init))
        model = Sequential(*layers, dtype=dtype, random_state=seed)
        if self.init is None:
            draw_initial_parameters(model, activation, rng)
        return model

    def _layout(self, sizes, activation, dtype, n_features, n_outputs):
        """What must not change for warm_start / partial_fit to continue a model."""
        widths = (n_features,) + sizes + (n_outputs,)
        return widths, activation if sizes else None, dtype

    def _model_layout(self):
        model = self.model_
        widths = (model.n_features_in_,) + tuple(layer.out_features for layer in model.layers)
        hidden = model.layers[0].activation if len(model.layers) > 1 else None
        return widths, hidden, model.dtype

    def _new_optimizer(self, weight_decay):
        if self.solver == "adam":
            return Adam(
                lr=self.learning_rate_init,
                betas=(self.beta_1, self.beta_2),
                eps=self.epsilon,
                weight_decay=weight_decay,
                weight_decay_scope="weights",  # alpha spares the intercepts
                eps_on="v",  # scikit-learn's step
            )
        return SGD(
            lr=self.learning_rate_init,
            momentum=self.momentum,
            nesterov=bool(self.nesterovs_momentum and self.momentum > 0),
            weight_decay=weight_decay,
            weight_decay_scope="weights",
        )

    def _batch(self, n_samples):
        if isinstance(self.batch_size, str):  # "auto"
            return min(AUTO_BATCH, n_samples)
        if self.batch_size > n_samples:
            warnings.warn(
                f"batch_size={self.batch_size} is larger than the {n_samples} "
                f"training samples: it is clipped to {n_samples}",
                stacklevel=2,
            )
        return min(int(self.batch_size), n_samples)

    # ---- training ----------------------------------------------------------------------------
    def _fit(self, X, y, incremental, classes=None, sample_weight=None):
        """fit (incremental=False) and partial_fit (True): a new network on the first call
        (or any fit without warm_start), else continue model_; sample_weight (and a
        classifier's class_weight) weigh the rows."""
        sizes, activation, dtype = check_params(self)
        full_batch = self.solver in FULL_BATCH_SOLVERS
        if incremental:
            self._check_partial_fit()
        first = not hasattr(self, "model_") or not (self.warm_start or incremental)
        X, y = validate_data(
            self,
            X,
            y,
            reset=first,
            dtype=self._x_dtypes(dtype),
            multi_output=True,
            y_numeric=not is_classifier(self),
        )
        weights = self._row_weights(X, y, sample_weight, incremental, dtype)
        y, n_outputs, loss = self._encode_y(y, first, incremental, classes)
        loss = self._logged_loss(loss, X.dtype)
        if not first:
            self._check_continuation(self._layout(sizes, activation, dtype, X.shape[1], n_outputs))
        y, y_scaling = self._scale_y(y, first)
        # scikit-learn's streams: one RandomState per call, for the initial parameters,
        # the validation split and the row order, in that order
        rng = fit_random_state(self.random_state)
        with _threads(self.n_threads):
            if first:
                model = self._new_model(sizes, activation, dtype, X.shape[1], n_outputs, rng)
            else:
                model = self.model_
            X_train, y_train, w_train, validation = self._hold_out(X, y, weights, n_outputs, rng)
            self._start_records(first, model)
            if full_batch:  # all rows each evaluation: no batches, row order nor validation
                train_full_batch(self, model, (X_train, y_train, w_train), loss, first)
            else:
                batch = self._batch(X_train.shape[0])
                model._shuffle_rng = RowOrder(rng, X_train.shape[0])  # partial_fit's order
                stopping = self._train(
                    model, (X_train, y_train, w_train), validation, batch, loss, first, incremental
                )
        if self.early_stopping and not full_batch:
            model.flat_params[...] = self._best_params
        self.model_ = model
        if y_scaling is not None:  # stored with the network it was trained with
            self.y_mean_, self.y_scale_ = y_scaling
        self.n_outputs_ = n_outputs
        self.n_layers_ = len(sizes) + 2
        if full_batch or incremental or stopping.converged:  # full batch: warned already
            return self
        if self.n_iter_ == self.max_iter:
            warnings.warn(
                f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached "
                f"and the optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=3,
            )
        return self

    def _check_partial_fit(self):
        """partial_fit is refused for the full-batch solvers (scikit-learn's words for
        lbfgs, and why) and with early_stopping."""
        if self.solver in FULL_BATCH_SOLVERS:
            raise AttributeError(
                f"This '{type(self).__name__}' has no attribute 'partial_fit': it is only "
                f"available for stochastic optimizers, and {self.solver} is not stochastic"
            )
        if self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")

    def _check_continuation(self, layout):
        """warm_start and partial_fit continue model_ only when the parameters and the data
        give its layout (widths, activation, dtype)."""
        if layout != self._model_layout():
            raise ValueError(
                f"warm_start and partial_fit continue the fitted network "
                f"{self._model_layout()} (widths, activation, dtype), but the "
                f"parameters and data now give {layout}: call fit with "
                f"warm_start=False to start a new one"
            )

    def _row_weights(self, X, y, sample_weight, incremental, dtype):
        """The rows' float64 weights, or None: sample_weight checked as pynn's fit checks
        it, times a classifier's class weights (class_weight)."""
        weights = None
        if sample_weight is not None:
            weights = check_sample_weight(sample_weight, X.shape[0], dtype)
        class_weights = self._class_weights(y, incremental)
        if class_weights is not None:
            weights = class_weights if weights is None else weights * class_weights
            if not weights.any():
                raise ValueError("sample_weight times the class weights is zero for every row")
        return weights

    def _class_weights(self, y, incremental):
        return None  # the regressor has no class_weight

    def _logged_loss(self, loss, x_dtype):
        """The loss to train with, logged as scikit-learn logs it (the regressor's as is)."""
        return get_loss(loss)

    def _loss_scale(self, y):
        """scikit-learn's logged data loss over pynn's: 1, but for the squared error, which
        scikit-learn averages over the outputs where pynn (and both gradients) sum them."""
        if is_classifier(self) or self.loss == "poisson" or y.ndim == 1:
            return 1.0
        return 1.0 / y.shape[1]

    def _train(self, model, train, validation, batch, loss, first, incremental):
        """Train model on the training rows (X, y, weights or None), scikit-learn's
        stopping rule (and learning rate schedule) as its callback: one epoch per
        partial_fit, else up to max_iter; the first training sets the loss, the optimizer
        and the classes. Returns the stopping rule (whether it converged)."""
        X_train, y_train, w_train = train
        weight_decay = self.alpha / batch  # scikit-learn's alpha: see docs/sklearn.md
        metric = "accuracy" if is_classifier(self) else "r2"
        stopping = _SklearnStopping(
            self,
            model,
            X_train.shape[0],
            batch,
            self._loss_scale(y_train),
            None if validation is None else "val_" + metric,
        )
        options = dict(
            batch_size=batch,
            shuffle=bool(self.shuffle),
            validation_data=validation,
            callback=stopping,
            # the L2 term batch by batch; without alpha it is 0
            batch_callback=stopping.after_step if self.alpha else None,
            divergence=self.divergence,
            sample_weight=w_train,
        )
        if incremental and not first:  # the same optimizer; the batch may differ per call
            model.optimizer_.weight_decay = weight_decay
            model.partial_fit(X_train, y_train, epochs=1, **options)
        elif not first:  # warm start: the current parameters, a fresh optimizer
            model.partial_fit(
                X_train,
                y_train,
                optimizer=self._new_optimizer(weight_decay),
                epochs=self.max_iter,
                **options,
            )
        else:  # a new network: keep its initial parameters; the loss and classes set here
            model.partial_fit(
                X_train,
                y_train,
                loss=loss,
                optimizer=self._new_optimizer(weight_decay),
                epochs=1 if incremental else self.max_iter,
                classes=self._pynn_classes(),
                **options,
            )
        return stopping

    def _start_records(self, first, model):
        """The records as scikit-learn keeps them: n_iter_ counts the epochs of this call
        (1 for partial_fit); a new network starts loss_curve_, t_, the stopping rule's
        count and best_loss_ (or, with early_stopping, validation_scores_,
        best_validation_score_ and the best parameters), which warm_start and partial_fit
        continue (a warm start that turns early_stopping on or off starts the ones it
        needs)."""
        self.n_iter_ = 0
        if first:
            self.loss_curve_, self.t_, self._no_improvement_count = [], 0, 0
        if self.solver in FULL_BATCH_SOLVERS:  # as scikit-learn's lbfgs: no stopping records
            self.best_loss_ = self.validation_scores_ = self.best_validation_score_ = None
            return
        if not self.early_stopping:
            if first or self.best_loss_ is None:
                self.best_loss_ = np.inf
            self.validation_scores_ = self.best_validation_score_ = None
        elif first or self.validation_scores_ is None:
            self.validation_scores_, self.best_validation_score_ = [], -np.inf
            self.best_loss_ = None
            self._best_params = model.flat_params.copy()

    def _hold_out(self, X, y, weights, n_outputs, rng):
        """(X_train, y_train, w_train, validation (X_val, y_val, w_val) or None): with
        early_stopping, a share of the rows (with their weights) drawn from rng, stratified
        for a classifier of one output (binary), as scikit-learn splits."""
        if not self.early_stopping or self.solver in FULL_BATCH_SOLVERS:  # they ignore it
            return X, y, weights, None
        stratify = y if is_classifier(self) and n_outputs == 1 else None
        arrays = (X, y) if weights is None else (X, y, weights)
        parts = train_test_split(
            *arrays, test_size=self.validation_fraction, random_state=rng, stratify=stratify
        )
        X_train, X_val, y_train, y_val = parts[:4]
        w_train, w_val = parts[4:] if weights is not None else (None, None)
        if X_val.shape[0] < 2:
            raise ValueError(
                f"validation_fraction={self.validation_fraction} holds out "
                f"{X_val.shape[0]} sample(s): early_stopping needs at least 2"
            )
        return X_train, y_train, w_train, (X_val, y_val, w_val)

    def _pynn_classes(self):
        return None

    def _scale_y(self, y, first):
        """(y as the network trains on it, the scaling to store or None): the regressor's
        normalize_y; a classifier's labels are left as they are."""
        return y, None

    def fit(self, X, y, sample_weight=None):
        """Train a new network on (X, y), or continue the fitted one with warm_start=True.

        sample_weight (and a classifier's class_weight) weigh each batch's loss: sum_i
        w_i l_i / sum_i w_i over its rows, as scikit-learn's MLP does (docs/sklearn.md).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The training samples.
        y : array-like
            The targets: class labels or a 0/1 multi-label indicator matrix for
            MLPClassifier, values of shape (n_samples,) or (n_samples, n_outputs) for
            MLPRegressor.
        sample_weight : array-like of shape (n_samples,) or None, default None
            One finite weight >= 0 per sample, not all zero; None weighs every sample 1.

        Returns
        -------
        self
            The fitted estimator.

        Raises
        ------
        pynn.DivergenceError
            With divergence set (the default), a fit whose loss diverged.
        """
        return self._fit(X, y, incremental=False, sample_weight=sample_weight)

    # ---- inference ---------------------------------------------------------------------------
    def _outputs(self, X, method):
        """The model's `method` ("predict" or "decision_function") on validated X."""
        check_is_fitted(self, "model_")
        X = validate_data(self, X, reset=False, dtype=self._x_dtypes(self.model_.dtype))
        with _threads(self.n_threads):
            return getattr(self.model_, method)(X)

    @property
    def coefs_(self):
        """The weights in scikit-learn's layout: coefs_[i] is layer i's (in, out), a view of
        model_'s weight (out, in) transposed; assigning the list (or an item) sets them."""
        check_is_fitted(self, "model_")
        return LayerArrays(self, "coefs_")

    @coefs_.setter
    def coefs_(self, arrays):
        set_layer_arrays(self, "coefs_", arrays)

    @property
    def intercepts_(self):
        """The biases of each layer, views into model_'s parameters; assigning the list (or
        an item) sets them."""
        check_is_fitted(self, "model_")
        return LayerArrays(self, "intercepts_")

    @intercepts_.setter
    def intercepts_(self, arrays):
        set_layer_arrays(self, "intercepts_", arrays)
