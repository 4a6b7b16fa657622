"""The parameters of pynn.sklearn's estimators: their choices and defaults beyond
scikit-learn's, and their checks at fit time (scikit-learn's rule: __init__ only stores)."""

import numbers

import numpy as np

from pynn.core.activations import TRAINABLE
from pynn.core.checks import check_bool, check_choice, check_count, check_dtype, check_number
from pynn.core.training_checks import check_divergence

# Hidden activations: pynn's trainable ones, and scikit-learn's name for the sigmoid.
HIDDEN_ACTIVATIONS = TRAINABLE + ("logistic",)
SOLVERS = ("adam", "sgd")
LEARNING_RATES = ("constant", "invscaling", "adaptive")
AUTO_BATCH = 200  # batch_size="auto" is min(200, n_samples), as in scikit-learn
ADAPTIVE_FACTOR = 5.0  # learning_rate="adaptive" divides the rate by 5 ...
ADAPTIVE_MIN_LR = 1e-6  # ... and stops once it is this small (scikit-learn's values)


def _check_hidden_layer_sizes(sizes):
    """hidden_layer_sizes as a tuple of positive ints (an int is one layer; () none)."""
    if isinstance(sizes, numbers.Integral) and not isinstance(sizes, (bool, np.bool_)):
        sizes = (sizes,)
    try:
        sizes = tuple(sizes)
    except TypeError:
        raise TypeError(
            f"hidden_layer_sizes must be an int or a sequence of ints, got {sizes!r}"
        ) from None
    for size in sizes:
        if isinstance(size, (bool, np.bool_)) or not isinstance(size, numbers.Integral):
            raise TypeError(f"hidden_layer_sizes must hold ints, got {sizes!r}")
        if size < 1:
            raise ValueError(f"hidden_layer_sizes must be > 0, got {sizes!r}")
    return tuple(int(size) for size in sizes)


def check_params(estimator):
    """The checked hidden sizes, pynn activation name and dtype of an estimator's parameters
    (at fit, as scikit-learn checks them); TypeError/ValueError naming the parameter for any
    bad value."""
    sizes = _check_hidden_layer_sizes(estimator.hidden_layer_sizes)
    activation = check_choice(estimator.activation, "activation", HIDDEN_ACTIVATIONS)
    if estimator.solver == "lbfgs":
        raise ValueError("solver='lbfgs' is not available in pynn: use 'adam' or 'sgd'")
    check_choice(estimator.solver, "solver", SOLVERS)
    check_choice(estimator.learning_rate, "learning_rate", LEARNING_RATES)
    check_number(estimator.alpha, "alpha")
    if not (isinstance(estimator.batch_size, str) and estimator.batch_size == "auto"):
        check_count(estimator.batch_size, "batch_size ('auto' or an int)", 1)
    check_number(estimator.learning_rate_init, "learning_rate_init")
    if estimator.learning_rate_init == 0:
        raise ValueError("learning_rate_init must be > 0, got 0")
    check_number(estimator.power_t, "power_t")
    check_count(estimator.max_iter, "max_iter", 1)
    check_bool(estimator.shuffle, "shuffle")
    check_number(estimator.tol, "tol")
    if estimator.verbose not in (0, 1, 2, False, True):
        raise ValueError(f"verbose must be True/False (or 0, 1, 2), got {estimator.verbose!r}")
    check_bool(estimator.warm_start, "warm_start")
    check_number(estimator.momentum, "momentum", 0.0, 1.0, high_open=True)
    check_bool(estimator.nesterovs_momentum, "nesterovs_momentum")
    check_bool(estimator.early_stopping, "early_stopping")
    check_number(estimator.validation_fraction, "validation_fraction", 0.0, 1.0, high_open=True)
    if estimator.early_stopping and estimator.validation_fraction == 0:
        raise ValueError("validation_fraction must be > 0 with early_stopping=True")
    check_number(estimator.beta_1, "beta_1", 0.0, 1.0, high_open=True)
    check_number(estimator.beta_2, "beta_2", 0.0, 1.0, high_open=True)
    check_number(estimator.epsilon, "epsilon")
    if estimator.epsilon == 0:
        raise ValueError("epsilon must be > 0, got 0")
    check_count(estimator.n_iter_no_change, "n_iter_no_change", 1)
    dtype = check_dtype(estimator.dtype)
    if estimator.n_threads is not None:
        check_count(estimator.n_threads, "n_threads (None for pynn's current setting)", 1)
    check_divergence(estimator.divergence)
    if not (
        estimator.random_state is None
        or isinstance(
            estimator.random_state, (numbers.Integral, np.random.RandomState, np.random.Generator)
        )
    ) or isinstance(estimator.random_state, bool):
        raise TypeError(
            f"random_state must be None, an int, a numpy RandomState or "
            f"Generator, got {estimator.random_state!r}"
        )
    return sizes, "sigmoid" if activation == "logistic" else activation, dtype
