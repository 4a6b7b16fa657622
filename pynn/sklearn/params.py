"""The parameters of pynn.sklearn's estimators: their choices and defaults beyond
scikit-learn's, and their checks at fit time (scikit-learn's rule: __init__ only stores).

Every value scikit-learn 1.9's MLPClassifier / MLPRegressor accepts is accepted here with
its meaning (loss="poisson": pynn's "poisson" loss on the network's output, predict giving
exp of it, as scikit-learn's out_activation_ "exp"; solver="lbfgs": pynn.LBFGS, reading
max_fun), and pynn's own full-batch solvers "cg", "newton-cg" and "natural". pynn refuses
bools where a number is expected (scikit-learn takes True as 1)."""

import math
import numbers

import numpy as np
from sklearn.base import is_classifier

from pynn.core.activations import TRAINABLE
from pynn.core.checks import check_bool, check_choice, check_count, check_dtype, check_number
from pynn.core.training_checks import check_divergence
from pynn.sklearn.full_batch import FULL_BATCH_SOLVERS

# Hidden activations: pynn's trainable ones, and scikit-learn's name for the sigmoid.
HIDDEN_ACTIVATIONS = TRAINABLE + ("logistic",)
# the full-batch ones come from their table ("cg": pynn.CG, pynn's own, not scikit-learn's)
SOLVERS = ("sgd", "adam", *FULL_BATCH_SOLVERS)
LEARNING_RATES = ("constant", "invscaling", "adaptive")
REGRESSION_LOSSES = ("squared_error", "poisson")
AUTO_BATCH = 200  # batch_size="auto" is min(200, n_samples), as in scikit-learn
ADAPTIVE_FACTOR = 5.0  # learning_rate="adaptive" divides the rate by 5 ...
ADAPTIVE_MIN_LR = 1e-6  # ... and stops once it is this small (scikit-learn's values)
MAX_SEED = 2**32 - 1  # scikit-learn's int random_state is in [0, 2**32 - 1]


def store_params(estimator, params):
    """__init__'s whole work, as scikit-learn asks: each argument stored unchanged under its
    name (`params` is __init__'s locals())."""
    for name, value in params.items():
        if name not in ("self", "__class__"):
            setattr(estimator, name, value)


def _is_bool(value):
    return isinstance(value, (bool, np.bool_))


def _check_hidden_layer_sizes(sizes):
    """hidden_layer_sizes as a tuple of positive ints (an int is one layer; () none)."""
    if isinstance(sizes, numbers.Integral) and not _is_bool(sizes):
        sizes = (sizes,)
    try:
        sizes = tuple(sizes)
    except TypeError:
        raise TypeError(
            f"hidden_layer_sizes must be an int or a sequence of ints, got {sizes!r}"
        ) from None
    for size in sizes:
        if _is_bool(size) or not isinstance(size, numbers.Integral):
            raise TypeError(f"hidden_layer_sizes must hold ints, got {sizes!r}")
        if size < 1:
            raise ValueError(f"hidden_layer_sizes must be > 0, got {sizes!r}")
    return tuple(int(size) for size in sizes)


def _check_random_state(value):
    """None, an int in [0, 2**32 - 1] or a RandomState (scikit-learn's), or a Generator."""
    if value is None or isinstance(value, (np.random.RandomState, np.random.Generator)):
        return
    if not isinstance(value, numbers.Integral) or _is_bool(value):
        raise TypeError(
            f"random_state must be None, an int, a numpy RandomState or Generator, got {value!r}"
        )
    if not 0 <= value <= MAX_SEED:
        raise ValueError(f"random_state must be an int in [0, 2**32 - 1], got {value}")


def _check_solver(estimator):
    """solver, learning_rate_init and the optimizers' parameters (those of the solver not
    in use are checked too, as scikit-learn does)."""
    check_choice(estimator.solver, "solver", SOLVERS)
    check_number(estimator.learning_rate_init, "learning_rate_init")
    if estimator.learning_rate_init == 0:
        raise ValueError("learning_rate_init must be > 0, got 0")
    check_choice(estimator.learning_rate, "learning_rate", LEARNING_RATES)
    check_number(estimator.power_t, "power_t")
    check_number(estimator.momentum, "momentum", 0.0, 1.0)
    check_bool(estimator.nesterovs_momentum, "nesterovs_momentum")
    check_number(estimator.beta_1, "beta_1", 0.0, 1.0, high_open=True)
    check_number(estimator.beta_2, "beta_2", 0.0, 1.0, high_open=True)
    check_number(estimator.epsilon, "epsilon")
    if estimator.epsilon == 0:
        raise ValueError("epsilon must be > 0, got 0")
    check_count(estimator.max_fun, "max_fun", 1)


def _check_stopping(estimator):
    """max_iter, tol, n_iter_no_change (an int or numpy.inf: never stop early) and the
    early-stopping split."""
    check_count(estimator.max_iter, "max_iter", 1)
    check_number(estimator.tol, "tol")
    patience = estimator.n_iter_no_change
    real = isinstance(patience, numbers.Real) and not _is_bool(patience)
    if not (real and patience == math.inf):
        check_count(patience, "n_iter_no_change (an int or numpy.inf)", 1)
    check_bool(estimator.early_stopping, "early_stopping")
    check_number(estimator.validation_fraction, "validation_fraction", 0.0, 1.0, high_open=True)
    if estimator.early_stopping and estimator.validation_fraction == 0:
        raise ValueError("validation_fraction must be > 0 with early_stopping=True")


def _check_loss(estimator):
    """The regressor's loss, scikit-learn's "squared_error" or "poisson", and normalize_y
    (refused with "poisson": standardized counts are not counts)."""
    check_choice(estimator.loss, "loss", REGRESSION_LOSSES)
    check_bool(estimator.normalize_y, "normalize_y")
    if estimator.loss == "poisson" and estimator.normalize_y:
        raise ValueError(
            "normalize_y=True does not go with loss='poisson': its targets are counts or "
            "rates >= 0 and the network's output is their log-rate; use normalize_y=False"
        )


def _check_class_weight(class_weight):
    """None, "balanced", a dict {label: weight >= 0} or a list of such dicts (multi-label;
    compute_sample_weight checks the labels against y's)."""
    if class_weight is None or (isinstance(class_weight, str) and class_weight == "balanced"):
        return
    dicts = class_weight if isinstance(class_weight, list) else [class_weight]
    for weights in dicts:
        if not isinstance(weights, dict):
            raise TypeError(
                f"class_weight must be None, 'balanced', a dict {{label: weight}} or a list "
                f"of dicts, got {class_weight!r}"
            )
        for label, weight in weights.items():
            number = isinstance(weight, numbers.Real) and not _is_bool(weight)
            if not (number and math.isfinite(weight) and weight >= 0):
                raise ValueError(
                    f"class_weight's weights must be finite numbers >= 0, got {weight!r} "
                    f"for class {label!r}"
                )


def check_params(estimator):
    """The checked hidden sizes, pynn activation name and dtype of an estimator's parameters
    (at fit, as scikit-learn checks them); TypeError/ValueError naming the parameter for any
    bad value."""
    sizes = _check_hidden_layer_sizes(estimator.hidden_layer_sizes)
    activation = check_choice(estimator.activation, "activation", HIDDEN_ACTIVATIONS)
    if not is_classifier(estimator):
        _check_loss(estimator)
    else:
        _check_class_weight(estimator.class_weight)
    _check_solver(estimator)
    check_number(estimator.alpha, "alpha")
    if not (isinstance(estimator.batch_size, str) and estimator.batch_size == "auto"):
        check_count(estimator.batch_size, "batch_size ('auto' or an int)", 1)
    check_bool(estimator.shuffle, "shuffle")
    _check_random_state(estimator.random_state)
    _check_stopping(estimator)
    if not _is_bool(estimator.verbose):
        check_count(estimator.verbose, "verbose (True/False or an int)", 0)
    check_bool(estimator.warm_start, "warm_start")
    dtype = check_dtype(estimator.dtype)
    if estimator.n_threads is not None:
        check_count(estimator.n_threads, "n_threads (None for pynn's current setting)", 1)
    check_divergence(estimator.divergence)
    return sizes, "sigmoid" if activation == "logistic" else activation, dtype
