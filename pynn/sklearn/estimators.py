"""pynn.sklearn's estimators, MLPClassifier and MLPRegressor: what each adds to BaseMLP
(the targets' encoding, the predictions, scikit-learn's tags)."""

import numpy as np
from scipy.special import expit, log_softmax, softmax
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import column_or_1d

from pynn.core.losses import get_loss
from pynn.data import StandardScaler
from pynn.sklearn.base import BaseMLP
from pynn.sklearn.params import store_params


# ---- the estimators --------------------------------------------------------------------------
class MLPClassifier(ClassifierMixin, BaseMLP):
    """A multilayer perceptron classifier trained by pynn, with scikit-learn's interface.

    Hidden layers, then a linear output layer whose logits go to softmax cross-entropy (3
    or more classes), sigmoid binary cross-entropy (2 classes, one output) or sigmoid per
    label (a multi-label 0/1 indicator y). The parameters are scikit-learn's
    MLPClassifier's, with its defaults (solvers "adam", "sgd", "lbfgs"), stored unchanged
    and checked by fit; docs/sklearn.md says where they differ from scikit-learn's.

    Parameters
    ----------
    hidden_layer_sizes : int or tuple of int, default (100,)
        The width of each hidden layer; () for none.
    activation : str, default "relu"
        Of the hidden layers: "relu", "tanh", "sigmoid" (or "logistic"), "identity",
        "leaky_relu", "softplus" or "elu".
    solver : {"adam", "sgd", "lbfgs", "cg", "newton-cg", "natural"}, default "adam"
        pynn.Adam, pynn.SGD, or over all rows (max_iter: iterations) pynn.LBFGS, CG,
        NewtonCG or NaturalGradient.
    alpha : float, default 0.0001
        The L2 penalty: weight_decay alpha / batch size (full batch: alpha / n_samples).
    batch_size : int or "auto", default "auto"
        Rows per step; "auto" is min(200, n_samples), a larger int is clipped with a
        warning.
    learning_rate : {"constant", "invscaling", "adaptive"}, default "constant"
        The schedule of "sgd": constant, learning_rate_init / (t + 1) ** power_t after
        each epoch (t: samples seen), or divided by 5 each time the stopping rule fires.
    learning_rate_init : float, default 0.001
        The initial learning rate, > 0.
    power_t : float, default 0.5
        The exponent of "invscaling".
    max_iter : int, default 200
        The most epochs.
    shuffle : bool, default True
        Reshuffle the rows every epoch.
    random_state : None, int, numpy.random.RandomState or numpy.random.Generator
        Seeds the initial parameters, the early-stopping split and the row order, drawn
        as scikit-learn draws them (the same int gives scikit-learn's network; a
        Generator seeds a RandomState).
    tol : float, default 1e-4
        The improvement the stopping rule asks for.
    verbose : bool or int, default False
        Print the loss (and validation score) every epoch when true (any int > 0).
    warm_start : bool, default False
        fit continues from the current network (with a fresh optimizer).
    momentum : float, default 0.9
        The momentum of "sgd", in [0, 1] (1 is refused with "sgd": pynn.SGD takes [0, 1)).
    nesterovs_momentum : bool, default True
        Nesterov's momentum for "sgd".
    early_stopping : bool, default False
        Hold out validation_fraction of the training data (stratified) and stop on its
        accuracy; the best epoch's parameters are kept.
    validation_fraction : float, default 0.1
        The share held out for early_stopping, in [0, 1) (> 0 with early_stopping).
    beta_1, beta_2 : float, default 0.9, 0.999
        Adam's moment decays, in [0, 1).
    epsilon : float, default 1e-8
        Adam's epsilon, > 0.
    n_iter_no_change : int or numpy.inf, default 10
        Epochs without an improvement of tol after which training stops (numpy.inf:
        never before max_iter).
    max_fun : int, default 15000
        The most loss evaluations of solver="lbfgs" (an int >= 1); unused by "adam",
        "sgd" and "cg" (scipy's CG has no such limit).
    dtype : {"float32", "float64"}, default "float32"
        The network's dtype (pynn's own).
    n_threads : int or None
        The kernels' thread count during fit and predict, in the calling thread only;
        None keeps pynn's current setting (pynn's own).
    divergence : float or None, default 1e4
        A fit whose epoch loss grows past this factor times the best stops with
        pynn.DivergenceError; None: no check (pynn's own).
    init : str, callable or None, default None
        The initialisation of every layer (pynn's own): None is scikit-learn's (its draws
        from random_state), weights and biases uniform in ±sqrt(factor / (fan_in +
        fan_out)), factor 2 for the logistic activation ("sklearn_logistic"), else 6
        ("sklearn_uniform"); or a name of pynn.core.init.INITS, or a callable (shape,
        rng, dtype) -> weight, as pynn.Dense's.
    class_weight : dict, list of dict, "balanced" or None, default None
        Weights of the classes, multiplied into sample_weight (pynn's own: scikit-learn's
        MLPClassifier has none): {label: weight} (labels missing from it weigh 1), or
        "balanced", n_samples / (n_classes * bincount(y)) over fit's y; a list of dicts
        (one per column) or "balanced" for a multi-label y. Computed by scikit-learn's
        compute_sample_weight; partial_fit refuses "balanced" (one chunk's counts are
        not the data's): give the dict compute_class_weight makes.

    Attributes
    ----------
    classes_ : numpy.ndarray
        The class labels (the label columns' indices for multi-label y).
    loss_, best_loss_ : float
        The last and the best epoch's training loss, with the L2 term (lbfgs, cg: no best).
    loss_curve_ : list of float
        Every epoch's training loss (lbfgs, cg: each iteration's).
    validation_scores_, best_validation_score_ : list of float, float or None
        With early_stopping, every epoch's validation accuracy and the best (None
        without it; best_loss_ is None with it).
    n_iter_ : int
        The epochs of the last fit (1 after partial_fit), as scikit-learn's.
    t_ : int
        The samples trained on since the network was made (warm_start and partial_fit
        add to it).
    n_features_in_, feature_names_in_, n_outputs_, n_layers_, out_activation_
        As scikit-learn's.
    model_ : pynn.Sequential
        The trained network.
    coefs_, intercepts_ : list of numpy.ndarray
        Views of model_'s weights (in, out) and biases, scikit-learn's layout; assigning
        a list of arrays of those shapes (or one item) sets the network's parameters.
    """

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        dtype="float32",
        n_threads=None,
        divergence=1e4,
        init=None,
        class_weight=None,
    ):
        store_params(self, locals())

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch over (X, y) from the current parameters.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The training samples of this call.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a 0/1 multi-label indicator matrix.
        classes : array-like or None
            Every label that y may ever hold: required on the first call.
        sample_weight : array-like of shape (n_samples,) or None, default None
            The rows' weights, as fit's (times class_weight's).

        Returns
        -------
        MLPClassifier
            self.
        """
        if not hasattr(self, "model_") and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit")
        return self._fit(X, y, incremental=True, classes=classes, sample_weight=sample_weight)

    def _class_weights(self, y, incremental):
        """The rows' weights from class_weight (over y's labels as given), or None."""
        class_weight = self.class_weight
        if class_weight is None:
            return None
        if incremental and isinstance(class_weight, str) and class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' is not supported for partial_fit (one call's "
                "counts are not the data's): pass the dict that sklearn.utils.class_weight."
                "compute_class_weight('balanced', classes=classes, y=y) gives for all of y"
            )
        return compute_sample_weight(class_weight, y)

    def _encode_y(self, y, first, incremental, classes):
        """(y as pynn trains on it, outputs, loss): class indices 0..K-1, or the 0/1
        indicator matrix for multi-label y; sets classes_ on the first call."""
        check_classification_targets(y)
        kind = type_of_target(y)
        if kind not in ("binary", "multiclass", "multilabel-indicator"):
            raise ValueError(
                f"MLPClassifier takes 1-D class labels or a 2-D 0/1 multi-label "
                f"indicator y, got a {kind} y"
            )
        if kind == "multilabel-indicator":
            return self._encode_multilabel(y, first, classes)
        y = column_or_1d(y, warn=True)
        if first:
            found = np.unique(y)
            self.classes_ = found if classes is None else np.unique(np.asarray(classes))
            self._multilabel = False
            if len(self.classes_) < 2:
                raise ValueError(
                    f"y has one class only ({self.classes_[0]!r}): a classifier needs at least two"
                )
        elif self._multilabel:
            raise ValueError("y must be a multi-label indicator matrix, as it was in fit")
        elif classes is not None and not np.array_equal(
            np.unique(np.asarray(classes)), self.classes_
        ):
            raise ValueError(
                f"classes={np.asarray(classes).tolist()} is not the same as on "
                f"the first call, {self.classes_.tolist()}"
            )
        elif not incremental and not np.array_equal(np.unique(y), self.classes_):
            raise ValueError(
                f"warm_start can only continue with y of the classes of the "
                f"previous fit {self.classes_.tolist()}, got "
                f"{np.unique(y).tolist()}"
            )
        index = np.minimum(np.searchsorted(self.classes_, y), len(self.classes_) - 1)
        unknown = self.classes_[index] != y
        if unknown.any():
            unknown = np.unique(y[unknown])[:5].tolist()
            raise ValueError(f"y has labels not in classes: {unknown}")
        k = len(self.classes_)
        self.out_activation_ = "logistic" if k == 2 else "softmax"
        loss = "binary_cross_entropy" if k == 2 else "softmax_cross_entropy"
        return index.astype(np.int64), 1 if k == 2 else k, loss

    def _logged_loss(self, loss, x_dtype):
        """The cross-entropy logged as scikit-learn's log-loss (probabilities clipped to
        [eps, 1 - eps], eps of X's dtype; the gradient unclipped); a multi-label row (a sum
        of labels' losses, which scikit-learn clips one by one) is logged unclipped."""
        if self._multilabel:
            return get_loss(loss)
        eps = float(np.finfo(x_dtype).eps)
        return get_loss(loss).with_logged_bounds(-np.log1p(-eps), -np.log(eps))

    def _encode_multilabel(self, y, first, classes):
        if first:
            self.classes_ = np.arange(y.shape[1])
            self._multilabel, self._y_dtype = True, y.dtype
        elif not self._multilabel:
            raise ValueError(
                f"y must be 1-D class labels, as it was in fit, got a "
                f"multi-label y of shape {y.shape}"
            )
        elif y.shape[1] != len(self.classes_):
            raise ValueError(
                f"y must have {len(self.classes_)} label columns, as it had in "
                f"fit, got shape {y.shape}"
            )
        if classes is not None and len(classes) != y.shape[1]:
            raise ValueError(
                f"classes has {len(classes)} labels but the multi-label y has {y.shape[1]} columns"
            )
        self.out_activation_ = "logistic"
        return y, y.shape[1], "binary_cross_entropy"

    def _pynn_classes(self):
        # pynn sees class indices; all of them, even those missing from this y
        return None if self._multilabel else np.arange(len(self.classes_))

    def predict(self, X):
        """The predicted class of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples to classify.

        Returns
        -------
        numpy.ndarray of shape (n_samples,) or (n_samples, n_labels)
            Labels of classes_, or a 0/1 row of labels for multi-label.
        """
        out = self._outputs(X, "predict")
        if self._multilabel:
            return out.astype(self._y_dtype)
        return self.classes_[out]

    def _logits(self, X):
        return self._outputs(X, "decision_function").astype(np.float64)

    def predict_proba(self, X):
        """The probability of each class, computed in float64 from the network's logits.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples whose class probabilities are wanted.

        Returns
        -------
        numpy.ndarray of shape (n_samples, n_classes)
            float64, columns in the order of classes_; for multi-label, each label's own
            probability.
        """
        z = self._logits(X)
        if self._multilabel:
            return expit(z)
        if z.shape[1] == 1:  # binary: one logit for classes_[1]
            return np.hstack([expit(-z), expit(z)])
        return softmax(z, axis=1)

    def predict_log_proba(self, X):
        """The log of predict_proba, computed from the logits without rounding to -inf.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples, as for predict_proba.

        Returns
        -------
        numpy.ndarray of shape (n_samples, n_classes)
            float64 log-probabilities.
        """
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


class MLPRegressor(RegressorMixin, BaseMLP):
    """A multilayer perceptron regressor trained by pynn, with scikit-learn's interface.

    Hidden layers as MLPClassifier's, a linear output layer, and the squared error
    (pynn's "mse": ½ (y - ŷ)² summed over outputs, mean over samples) or, with
    loss="poisson", half the Poisson deviance of the rates exp(output) (pynn's "poisson":
    the output is the log-rate, and predict returns exp of it, as scikit-learn's). y is 1-D
    (predict returns 1-D) or 2-D (n_samples, n_outputs).

    Parameters
    ----------
    hidden_layer_sizes, activation, solver, alpha, batch_size, learning_rate, \
learning_rate_init, power_t, max_iter, shuffle, random_state, tol, verbose, warm_start, \
momentum, nesterovs_momentum, early_stopping, validation_fraction, beta_1, beta_2, epsilon, \
n_iter_no_change, max_fun, dtype, n_threads, divergence, init
        As MLPClassifier's (early_stopping's split is not stratified, and its score is
        R²).
    loss : {"squared_error", "poisson"}, default "squared_error"
        scikit-learn's loss (keyword-only here, after hidden_layer_sizes and activation).
        "poisson" needs y >= 0 and finite (a ValueError naming y otherwise), trains the
        network's output z as the log-rate, and predicts the rate exp(z); score is the R² of
        those predictions, as scikit-learn's.
    normalize_y : bool, default False
        Train the network on (y - y_mean_) / y_scale_, each output standardized with the
        training targets' mean and standard deviation (a constant output takes scale 1),
        and map predict back (GaussianProcessRegressor's parameter of that name; pynn's
        own for the MLP). The fit that makes the network (fit, or the first partial_fit)
        fixes y_mean_ and y_scale_; warm_start and later partial_fit calls reuse them. Not
        with loss="poisson" (a ValueError).

    Attributes
    ----------
    loss_, best_loss_, loss_curve_, validation_scores_, best_validation_score_, n_iter_, \
t_, n_features_in_, feature_names_in_, n_outputs_, n_layers_, out_activation_, model_, \
coefs_, intercepts_
        As MLPClassifier's (out_activation_ is "identity", or "exp" with loss="poisson",
        scikit-learn's names; loss_ and loss_curve_ are then half the mean Poisson deviance
        plus the alpha term, as scikit-learn's). With normalize_y, the losses,
        model_ and coefs_ / intercepts_ are the network's, on the standardized scale;
        predict and score are on y's scale (the validation R² is the same on both).
    y_mean_, y_scale_ : numpy.ndarray of shape (n_outputs_,) or None
        With normalize_y, the float64 mean and scale of each output that the network's
        targets were standardized with; None without it.
    """

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        loss="squared_error",
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        dtype="float32",
        n_threads=None,
        divergence=1e4,
        init=None,
        normalize_y=False,
    ):
        store_params(self, locals())

    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over (X, y) from the current parameters.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The training samples of this call.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The target values.
        sample_weight : array-like of shape (n_samples,) or None, default None
            The rows' weights, as fit's.

        Returns
        -------
        MLPRegressor
            self.
        """
        return self._fit(X, y, incremental=True, sample_weight=sample_weight)

    def _encode_y(self, y, first, incremental, classes):
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)  # as scikit-learn: predict then returns 1-D
        poisson = self.loss == "poisson"  # the output is the log-rate; predict gives exp
        self.out_activation_ = "exp" if poisson else "identity"
        return y, 1 if y.ndim == 1 else y.shape[1], "poisson" if poisson else "mse"

    def _scale_y(self, y, first):
        """normalize_y: (y - y_mean_) / y_scale_ per output, the statistics of the fit that
        makes the network (fit, or the first partial_fit) and reused by warm_start and
        later partial_fit calls; returns (y, (mean, scale) or (None, None))."""
        if first:
            if not self.normalize_y:
                return y, (None, None)
            scaler = StandardScaler().fit(y.reshape(len(y), -1))  # constant: scale 1
            mean, scale = scaler.mean_, scaler.scale_
        else:
            mean, scale = getattr(self, "y_mean_", None), getattr(self, "y_scale_", None)
            if bool(self.normalize_y) != (mean is not None):
                raise ValueError(
                    f"warm_start and partial_fit continue a network trained with "
                    f"normalize_y={mean is not None}, but normalize_y is now "
                    f"{self.normalize_y}: call fit with warm_start=False to start a new one"
                )
            if mean is None:
                return y, (None, None)
        standardized = (y.reshape(len(y), -1).astype(np.float64) - mean) / scale
        return standardized.reshape(y.shape), (mean, scale)

    def predict(self, X):
        """The predicted values, computed in the network's dtype.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples whose values are predicted.

        Returns
        -------
        numpy.ndarray of shape (n_samples,) or (n_samples, n_outputs)
            float64; 1-D when fit had a 1-D y. With normalize_y, the network's outputs
            times y_scale_ plus y_mean_ (in float64): on the scale of y. With
            loss="poisson", the rates exp(output), computed in the network's dtype (inf
            beyond its range).
        """
        out = self._outputs(X, "predict").astype(np.float64)
        if getattr(self, "y_mean_", None) is None:  # also a pickle from before normalize_y
            return out
        return out * self.y_scale_ + self.y_mean_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
