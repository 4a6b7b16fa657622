"""scikit-learn's small handwritten-digits set (an optional dependency)."""
import numbers

import numpy as np


def load_digits(*, n_class=10):
    """The 1797 8x8 images of handwritten digits bundled with scikit-learn (no download).

    Returns X: (n, 64) float64 pixel intensities 0..16 and y: (n,) int64 digits 0..9
    (only the digits 0..n_class-1 with n_class < 10). Needs scikit-learn:
    pip install "pynn[sklearn]".
    """
    if isinstance(n_class, bool) or not isinstance(n_class, numbers.Integral) or \
            not 1 <= n_class <= 10:
        raise ValueError(f"n_class must be an int from 1 to 10, got {n_class!r}")
    try:
        from sklearn.datasets import load_digits as sklearn_load_digits
    except ImportError as error:
        raise ImportError('pynn.datasets.load_digits needs scikit-learn: '
                          'pip install "pynn[sklearn]"') from error
    X, y = sklearn_load_digits(n_class=int(n_class), return_X_y=True)
    return np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.int64)
