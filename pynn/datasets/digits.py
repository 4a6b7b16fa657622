"""scikit-learn's small handwritten-digits set (an optional dependency)."""

from __future__ import annotations

import numbers

import numpy as np
from numpy.typing import NDArray


def load_digits(*, n_class: int = 10) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """The 1797 8x8 images of handwritten digits bundled with scikit-learn (no download).

    Returns X: (n, 64) float64 pixel intensities 0..16 and y: (n,) int64 digits 0..9
    (only the digits 0..n_class-1 with n_class < 10). Needs scikit-learn:
    pip install "pynn[sklearn]".

    Parameters
    ----------
    n_class : int, default 10
        Keep the digits 0..n_class-1 (1 to 10).

    Returns
    -------
    X : numpy.ndarray of shape (n_samples, 64), float64
        The pixel intensities.
    y : numpy.ndarray of shape (n_samples,), int64
        The digits.

    Raises
    ------
    ValueError
        n_class not an int from 1 to 10.
    ImportError
        scikit-learn is not installed.
    """
    if (
        isinstance(n_class, bool)
        or not isinstance(n_class, numbers.Integral)
        or not 1 <= n_class <= 10
    ):
        raise ValueError(f"n_class must be an int from 1 to 10, got {n_class!r}")
    try:
        from sklearn.datasets import load_digits as sklearn_load_digits
    except ImportError as error:
        raise ImportError(
            'pynn.datasets.load_digits needs scikit-learn: pip install "pynn[sklearn]"'
        ) from error
    X, y = sklearn_load_digits(n_class=int(n_class), return_X_y=True)
    return np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.int64)
