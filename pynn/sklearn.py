"""scikit-learn estimators on pynn networks: MLPClassifier and MLPRegressor.

They take the parameters of scikit-learn's MLPClassifier / MLPRegressor (the stochastic
solvers "adam" and "sgd"), train a `pynn.Sequential` (`model_`) with pynn's C kernels, and
follow scikit-learn's rules: parameters stored unchanged by __init__, input checked by
`validate_data`, `classes_`, `n_features_in_`, `feature_names_in_`, `loss_curve_`,
`n_iter_`, the stopping rule on `tol` / `n_iter_no_change` and a ConvergenceWarning when
`max_iter` ends training first. docs/sklearn.md says where they differ from scikit-learn's.

scikit-learn is optional for pynn; this module needs it (`pip install "pynn[sklearn]"`).
"""
import numbers
import warnings
import contextlib

import numpy as np

try:
    from scipy.special import expit, log_softmax, softmax
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, is_classifier
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split
    from sklearn.utils import check_random_state
    from sklearn.utils.multiclass import check_classification_targets, type_of_target
    from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data
except ImportError as error:  # validate_data and __sklearn_tags__ are scikit-learn >= 1.6
    raise ImportError('pynn.sklearn needs scikit-learn >= 1.6: pip install "pynn[sklearn]"'
                      ) from error

from pynn import _kernels
from pynn.activations import TRAINABLE
from pynn.checks import check_bool, check_choice, check_count, check_dtype, check_number
from pynn.layers import Dense
from pynn.model import Sequential
from pynn.optim import SGD, Adam
from pynn.training import check_divergence

__all__ = ["MLPClassifier", "MLPRegressor"]

# Hidden activations: pynn's trainable ones, and scikit-learn's name for the sigmoid.
HIDDEN_ACTIVATIONS = TRAINABLE + ("logistic",)
SOLVERS = ("adam", "sgd")
LEARNING_RATES = ("constant", "invscaling", "adaptive")
AUTO_BATCH = 200       # batch_size="auto" is min(200, n_samples), as in scikit-learn
ADAPTIVE_FACTOR = 5.0  # learning_rate="adaptive" divides the rate by 5 ...
ADAPTIVE_MIN_LR = 1e-6  # ... and stops once it is this small (scikit-learn's values)


# ---- small helpers ---------------------------------------------------------------------------
def _threads(n_threads):
    """The block runs pynn's kernels on at most n_threads threads, in this thread only
    (None: the current count)."""
    return contextlib.nullcontext() if n_threads is None else _kernels.threads(n_threads)


def _seeds(random_state, count):
    """`count` int seeds drawn from scikit-learn's random_state (None, an int or a
    RandomState) or a numpy Generator: one int gives the same seeds every time."""
    if isinstance(random_state, np.random.Generator):
        return [int(s) for s in random_state.integers(0, 2**31 - 1, size=count)]
    return [int(s) for s in check_random_state(random_state).randint(0, 2**31 - 1, size=count)]


def _check_hidden_layer_sizes(sizes):
    """hidden_layer_sizes as a tuple of positive ints (an int is one layer; () none)."""
    if isinstance(sizes, numbers.Integral) and not isinstance(sizes, (bool, np.bool_)):
        sizes = (sizes,)
    try:
        sizes = tuple(sizes)
    except TypeError:
        raise TypeError(f"hidden_layer_sizes must be an int or a sequence of ints, got "
                        f"{sizes!r}") from None
    for size in sizes:
        if isinstance(size, (bool, np.bool_)) or not isinstance(size, numbers.Integral):
            raise TypeError(f"hidden_layer_sizes must hold ints, got {sizes!r}")
        if size < 1:
            raise ValueError(f"hidden_layer_sizes must be > 0, got {sizes!r}")
    return tuple(int(size) for size in sizes)


# ---- scikit-learn's stopping rule, as a pynn fit callback ------------------------------------
class _SklearnStopping:
    """Called by pynn's fit after each epoch: records loss_curve_ (and validation_scores_),
    applies learning_rate "invscaling" / "adaptive", and says when to stop, all as
    scikit-learn's stochastic solvers do: stop when the training loss has not fallen below
    best_loss_ - tol (with early_stopping: the validation score not risen above
    best_validation_score_ + tol) for more than n_iter_no_change consecutive epochs."""

    def __init__(self, estimator, n_train, weight_decay, validation_key):
        self.estimator = estimator
        self.n_train = n_train
        self.weight_decay = weight_decay
        self.validation_key = validation_key  # "val_accuracy" or "val_r2", or None
        self.converged = False

    def __call__(self, model, epoch, logs):
        est = self.estimator
        params = model.flat_params
        # The objective the optimizer minimises: the data loss plus the L2 term of its
        # weight decay, ½·wd·‖θ‖² (at the end of the epoch).
        loss = logs["loss"] + 0.5 * self.weight_decay * float(np.dot(params, params))
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
            improved = score >= est.best_validation_score_ + est.tol
            if score > est.best_validation_score_:
                est.best_validation_score_ = score
                np.copyto(est._best_params, params)
        else:
            improved = loss <= est.best_loss_ - est.tol
            est.best_loss_ = min(est.best_loss_, loss)
        est._no_improvement_count = 0 if improved else est._no_improvement_count + 1
        optimizer = model.optimizer_
        if est.solver == "sgd" and est.learning_rate == "invscaling":
            optimizer.lr = est.learning_rate_init / (est.t_ + 1) ** est.power_t
        if est._no_improvement_count > est.n_iter_no_change:
            what = "Validation score" if self.validation_key else "Training loss"
            message = (f"{what} did not improve more than tol={est.tol} for "
                       f"{est.n_iter_no_change} consecutive epochs.")
            if est.solver == "sgd" and est.learning_rate == "adaptive" \
                    and optimizer.lr > ADAPTIVE_MIN_LR:
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
class _BaseMLP(BaseEstimator):
    """The parameters, checks, training and pickling of MLPClassifier and MLPRegressor."""

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10,
                 dtype="float32", n_threads=None, divergence=1e4):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.dtype = dtype
        self.n_threads = n_threads
        self.divergence = divergence

    # ---- checking the parameters (at fit, as scikit-learn does) ------------------------------
    def _check_params(self):
        """The checked hidden sizes, pynn activation name and dtype; TypeError/ValueError
        naming the parameter for any bad value."""
        sizes = _check_hidden_layer_sizes(self.hidden_layer_sizes)
        activation = check_choice(self.activation, "activation", HIDDEN_ACTIVATIONS)
        if self.solver == "lbfgs":
            raise ValueError("solver='lbfgs' is not available in pynn: use 'adam' or 'sgd'")
        check_choice(self.solver, "solver", SOLVERS)
        check_choice(self.learning_rate, "learning_rate", LEARNING_RATES)
        check_number(self.alpha, "alpha")
        if not (isinstance(self.batch_size, str) and self.batch_size == "auto"):
            check_count(self.batch_size, "batch_size ('auto' or an int)", 1)
        check_number(self.learning_rate_init, "learning_rate_init")
        if self.learning_rate_init == 0:
            raise ValueError("learning_rate_init must be > 0, got 0")
        check_number(self.power_t, "power_t")
        check_count(self.max_iter, "max_iter", 1)
        check_bool(self.shuffle, "shuffle")
        check_number(self.tol, "tol")
        if self.verbose not in (0, 1, 2, False, True):
            raise ValueError(f"verbose must be True/False (or 0, 1, 2), got {self.verbose!r}")
        check_bool(self.warm_start, "warm_start")
        check_number(self.momentum, "momentum", 0.0, 1.0, high_open=True)
        check_bool(self.nesterovs_momentum, "nesterovs_momentum")
        check_bool(self.early_stopping, "early_stopping")
        check_number(self.validation_fraction, "validation_fraction", 0.0, 1.0, high_open=True)
        if self.early_stopping and self.validation_fraction == 0:
            raise ValueError("validation_fraction must be > 0 with early_stopping=True")
        check_number(self.beta_1, "beta_1", 0.0, 1.0, high_open=True)
        check_number(self.beta_2, "beta_2", 0.0, 1.0, high_open=True)
        check_number(self.epsilon, "epsilon")
        if self.epsilon == 0:
            raise ValueError("epsilon must be > 0, got 0")
        check_count(self.n_iter_no_change, "n_iter_no_change", 1)
        dtype = check_dtype(self.dtype)
        if self.n_threads is not None:
            check_count(self.n_threads, "n_threads (None for pynn's current setting)", 1)
        check_divergence(self.divergence)
        if not (self.random_state is None or isinstance(
                self.random_state, (numbers.Integral, np.random.RandomState,
                                    np.random.Generator))) or isinstance(self.random_state, bool):
            raise TypeError(f"random_state must be None, an int, a numpy RandomState or "
                            f"Generator, got {self.random_state!r}")
        return sizes, "sigmoid" if activation == "logistic" else activation, dtype

    def _x_dtypes(self, dtype):
        """The dtypes validate_data keeps X in: both floats (pynn casts each batch to the
        model's dtype), anything else converted to the model's dtype."""
        return [dtype, np.float64 if dtype == np.float32 else np.float32]

    # ---- the network -------------------------------------------------------------------------
    def _new_model(self, sizes, activation, dtype, n_features, n_outputs, seed):
        layers, width = [], n_features
        for size in sizes:
            layers.append(Dense(width, size, activation=activation))
            width = size
        layers.append(Dense(width, n_outputs))  # logits (classifier) or values (regressor)
        return Sequential(*layers, dtype=dtype, random_state=seed)

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
            return Adam(lr=self.learning_rate_init, betas=(self.beta_1, self.beta_2),
                        eps=self.epsilon, weight_decay=weight_decay)
        return SGD(lr=self.learning_rate_init, momentum=self.momentum,
                   nesterov=bool(self.nesterovs_momentum and self.momentum > 0),
                   weight_decay=weight_decay)

    def _batch(self, n_samples):
        if isinstance(self.batch_size, str):  # "auto"
            return min(AUTO_BATCH, n_samples)
        if self.batch_size > n_samples:
            warnings.warn(f"batch_size={self.batch_size} is larger than the {n_samples} "
                          f"training samples: it is clipped to {n_samples}")
        return min(int(self.batch_size), n_samples)

    # ---- training ----------------------------------------------------------------------------
    def _fit(self, X, y, incremental, classes=None):
        """fit (incremental=False) and partial_fit (True): a new network on the first call
        (or any fit without warm_start), else continue model_."""
        sizes, activation, dtype = self._check_params()
        if incremental and self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")
        first = not hasattr(self, "model_") or not (self.warm_start or incremental)
        X, y = validate_data(self, X, y, reset=first, dtype=self._x_dtypes(dtype),
                             multi_output=True, y_numeric=not is_classifier(self))
        y, n_outputs, loss = self._encode_y(y, first, incremental, classes)
        layout = self._layout(sizes, activation, dtype, X.shape[1], n_outputs)
        if not first and layout != self._model_layout():
            raise ValueError(f"warm_start and partial_fit continue the fitted network "
                             f"{self._model_layout()} (widths, activation, dtype), but the "
                             f"parameters and data now give {layout}: call fit with "
                             f"warm_start=False to start a new one")
        model_seed, split_seed = _seeds(self.random_state, 2) if first or self.early_stopping \
            else (None, None)
        with _threads(self.n_threads):
            if first:
                model = self._new_model(sizes, activation, dtype, X.shape[1], n_outputs,
                                        model_seed)
                self.loss_curve_, self.t_, self.best_loss_ = [], 0, np.inf
            else:
                model = self.model_
            if first or not incremental:  # partial_fit goes on counting
                self.n_iter_, self._no_improvement_count = 0, 0
            X_train, y_train, validation = self._hold_out(X, y, split_seed, model)
            batch = self._batch(X_train.shape[0])
            weight_decay = self.alpha / batch  # scikit-learn's alpha: see docs/sklearn.md
            metric = "accuracy" if is_classifier(self) else "r2"
            stopping = _SklearnStopping(self, X_train.shape[0], weight_decay,
                                        None if validation is None else "val_" + metric)
            options = dict(batch_size=batch, shuffle=bool(self.shuffle),
                           validation_data=validation, callback=stopping,
                           divergence=self.divergence)
            if incremental and not first:  # the same optimizer; the batch may differ per call
                model.optimizer_.weight_decay = weight_decay
                model.partial_fit(X_train, y_train, epochs=1, **options)
            elif not first:  # warm start: the current parameters, a fresh optimizer
                model.partial_fit(X_train, y_train, optimizer=self._new_optimizer(weight_decay),
                                  epochs=self.max_iter, **options)
            else:  # fit or the first partial_fit: the loss and classes are set here
                train = model.partial_fit if incremental else model.fit
                train(X_train, y_train, loss=loss, optimizer=self._new_optimizer(weight_decay),
                      epochs=1 if incremental else self.max_iter, classes=self._pynn_classes(),
                      **options)
        if self.early_stopping:
            model.flat_params[...] = self._best_params
        self.model_ = model
        self.n_outputs_ = n_outputs
        self.n_layers_ = len(sizes) + 2
        if not incremental and not stopping.converged and self.n_iter_ == self.max_iter:
            warnings.warn(f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached "
                          f"and the optimization hasn't converged yet.", ConvergenceWarning,
                          stacklevel=3)
        return self

    def _hold_out(self, X, y, seed, model):
        """(X_train, y_train, validation (X_val, y_val) or None): with early_stopping, a
        seeded share of the rows, stratified for single-output classifiers (scikit-learn's
        split); also starts the records of the validation scores."""
        if not self.early_stopping:
            self.validation_scores_ = self.best_validation_score_ = None
            if self.best_loss_ is None:  # an earlier fit used early stopping
                self.best_loss_ = np.inf
            return X, y, None
        stratify = y if is_classifier(self) and y.ndim == 1 else None
        X_train, X_val, y_train, y_val = train_test_split(
            X, y, test_size=self.validation_fraction, random_state=seed, stratify=stratify)
        if X_val.shape[0] < 2:
            raise ValueError(f"validation_fraction={self.validation_fraction} holds out "
                             f"{X_val.shape[0]} sample(s): early_stopping needs at least 2")
        self.validation_scores_, self.best_validation_score_ = [], -np.inf
        self.best_loss_ = None
        self._best_params = model.flat_params.copy()
        return X_train, y_train, (X_val, y_val)

    def _pynn_classes(self):
        return None

    def fit(self, X, y):
        """Train on X (n_samples, n_features) and y; returns self. A new network unless
        warm_start=True and the estimator was fitted before."""
        return self._fit(X, y, incremental=False)

    # ---- inference ---------------------------------------------------------------------------
    def _outputs(self, X, method):
        """The model's `method` ("predict" or "decision_function") on validated X."""
        check_is_fitted(self, "model_")
        X = validate_data(self, X, reset=False, dtype=self._x_dtypes(self.model_.dtype))
        with _threads(self.n_threads):
            return getattr(self.model_, method)(X)

    @property
    def coefs_(self):
        """scikit-learn's layout of the weights: coefs_[i] is (in, out), a view of model_'s
        layer i weight (out, in) transposed."""
        check_is_fitted(self, "model_")
        return [layer.params["weight"].T for layer in self.model_.layers]

    @property
    def intercepts_(self):
        """The biases of each layer, views into model_'s parameters."""
        check_is_fitted(self, "model_")
        return [layer.params["bias"] for layer in self.model_.layers]


# ---- the estimators --------------------------------------------------------------------------
class MLPClassifier(ClassifierMixin, _BaseMLP):
    """A multilayer perceptron classifier trained by pynn, with scikit-learn's interface.

    Hidden layers `hidden_layer_sizes` with `activation` (pynn's: "relu", "tanh",
    "sigmoid" (or "logistic"), "identity", "leaky_relu", "softplus", "elu"), then a linear
    output layer whose logits go to softmax cross-entropy (3 or more classes), sigmoid
    binary cross-entropy (2 classes, one output) or sigmoid per label (a multi-label 0/1
    indicator y). Parameters as scikit-learn's MLPClassifier (solvers "adam" and "sgd");
    `dtype` ("float32" or "float64") is the network's, `n_threads` the kernels' thread
    count during fit and predict (None: pynn's current setting), `divergence` the factor
    by which an epoch's loss may exceed the best before fit stops with
    pynn.DivergenceError (None: no check; docs/sklearn.md).

    Fitted: `classes_`, `n_features_in_`, `feature_names_in_` (for a DataFrame with string
    column names), `loss_`, `loss_curve_`, `best_loss_`, `validation_scores_`,
    `best_validation_score_`, `n_iter_`, `t_`, `n_outputs_`, `n_layers_`,
    `out_activation_`, `model_` (the pynn.Sequential), `coefs_`, `intercepts_`.
    """

    def partial_fit(self, X, y, classes=None):
        """One epoch over (X, y) from the current parameters; the first call needs
        `classes`, every label that y may ever hold. Returns self."""
        if not hasattr(self, "model_") and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit")
        return self._fit(X, y, incremental=True, classes=classes)

    def _encode_y(self, y, first, incremental, classes):
        """(y as pynn trains on it, outputs, loss): class indices 0..K-1, or the 0/1
        indicator matrix for multi-label y; sets classes_ on the first call."""
        check_classification_targets(y)
        kind = type_of_target(y)
        if kind not in ("binary", "multiclass", "multilabel-indicator"):
            raise ValueError(f"MLPClassifier takes 1-D class labels or a 2-D 0/1 multi-label "
                             f"indicator y, got a {kind} y")
        if kind == "multilabel-indicator":
            return self._encode_multilabel(y, first, classes)
        y = column_or_1d(y, warn=True)
        if first:
            found = np.unique(y)
            self.classes_ = found if classes is None else np.unique(np.asarray(classes))
            self._multilabel = False
            if len(self.classes_) < 2:
                raise ValueError(f"y has one class only ({self.classes_[0]!r}): a classifier "
                                 f"needs at least two")
        elif self._multilabel:
            raise ValueError("y must be a multi-label indicator matrix, as it was in fit")
        elif classes is not None and not np.array_equal(np.unique(np.asarray(classes)),
                                                        self.classes_):
            raise ValueError(f"classes={np.asarray(classes).tolist()} is not the same as on "
                             f"the first call, {self.classes_.tolist()}")
        elif not incremental and not np.array_equal(np.unique(y), self.classes_):
            raise ValueError(f"warm_start can only continue with y of the classes of the "
                             f"previous fit {self.classes_.tolist()}, got "
                             f"{np.unique(y).tolist()}")
        index = np.minimum(np.searchsorted(self.classes_, y), len(self.classes_) - 1)
        unknown = self.classes_[index] != y
        if unknown.any():
            unknown = np.unique(y[unknown])[:5].tolist()
            raise ValueError(f"y has labels not in classes: {unknown}")
        k = len(self.classes_)
        self.out_activation_ = "logistic" if k == 2 else "softmax"
        loss = "binary_cross_entropy" if k == 2 else "softmax_cross_entropy"
        return index.astype(np.int64), 1 if k == 2 else k, loss

    def _encode_multilabel(self, y, first, classes):
        if first:
            self.classes_ = np.arange(y.shape[1])
            self._multilabel, self._y_dtype = True, y.dtype
        elif not self._multilabel:
            raise ValueError(f"y must be 1-D class labels, as it was in fit, got a "
                             f"multi-label y of shape {y.shape}")
        elif y.shape[1] != len(self.classes_):
            raise ValueError(f"y must have {len(self.classes_)} label columns, as it had in "
                             f"fit, got shape {y.shape}")
        if classes is not None and len(classes) != y.shape[1]:
            raise ValueError(f"classes has {len(classes)} labels but the multi-label y has "
                             f"{y.shape[1]} columns")
        self.out_activation_ = "logistic"
        return y, y.shape[1], "binary_cross_entropy"

    def _pynn_classes(self):
        # pynn sees class indices; all of them, even those missing from this y
        return None if self._multilabel else np.arange(len(self.classes_))

    def predict(self, X):
        """The predicted class of each sample (a 0/1 row of labels for multi-label)."""
        out = self._outputs(X, "predict")
        if self._multilabel:
            return out.astype(self._y_dtype)
        return self.classes_[out]

    def _logits(self, X):
        return self._outputs(X, "decision_function").astype(np.float64)

    def predict_proba(self, X):
        """(n_samples, n_classes) probabilities, columns in the order of classes_; for
        multi-label, each label's own probability. float64, computed from the network's
        logits."""
        z = self._logits(X)
        if self._multilabel:
            return expit(z)
        if z.shape[1] == 1:  # binary: one logit for classes_[1]
            return np.hstack([expit(-z), expit(z)])
        return softmax(z, axis=1)

    def predict_log_proba(self, X):
        """The log of predict_proba, computed from the logits without rounding to -inf."""
        z = self._logits(X)
        log_sigmoid = lambda v: -np.logaddexp(0.0, -v)  # noqa: E731
        if self._multilabel:
            return log_sigmoid(z)
        if z.shape[1] == 1:
            return np.hstack([log_sigmoid(-z), log_sigmoid(z)])
        return log_softmax(z, axis=1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class MLPRegressor(RegressorMixin, _BaseMLP):
    """A multilayer perceptron regressor trained by pynn, with scikit-learn's interface.

    Hidden layers as MLPClassifier's, a linear output layer, and the squared error
    (pynn's "mse": ½ (y - ŷ)² summed over outputs, mean over samples). y is 1-D (predict
    returns 1-D) or 2-D (n_samples, n_outputs). Parameters and fitted attributes as
    MLPClassifier's, without classes_.
    """

    def partial_fit(self, X, y):
        """One epoch over (X, y) from the current parameters. Returns self."""
        return self._fit(X, y, incremental=True)

    def _encode_y(self, y, first, incremental, classes):
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)  # as scikit-learn: predict then returns 1-D
        self.out_activation_ = "identity"
        return y, 1 if y.ndim == 1 else y.shape[1], "mse"

    def predict(self, X):
        """The predicted values, float64 (computed in the network's dtype): 1-D when fit
        had a 1-D y, else (n_samples, n_outputs)."""
        return self._outputs(X, "predict").astype(np.float64)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
