"""Data and helpers shared by the tests of pynn.sklearn (tests/test_sklearn_*.py)."""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

# Small networks and few epochs: scikit-learn's estimator checks run in seconds.
FAST = dict(hidden_layer_sizes=(8,), learning_rate_init=0.02, batch_size=32, max_iter=30)


def three_classes(n=150, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 4))
    y = np.array(["ant", "bee", "cat"])[(X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)]
    return X, y


def regression(n=120, outputs=None, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3))
    y = np.sin(X[:, 0]) + 0.5 * X[:, 1] * X[:, 2]
    if outputs is not None:
        y = np.column_stack([y * (k + 1) for k in range(outputs)])
    return X, y


def fit_quietly(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)
