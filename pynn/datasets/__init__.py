"""Data sets: the course notes' examples and common synthetic problems (generated and
seeded by random_state), and loaders for IDX (MNIST), CSV and scikit-learn's digits.

Every function returns NumPy arrays (X, y) with float64 features X of shape
(n_samples, n_features) unless a dtype is asked for; each docstring says what y is.
"""

from pynn.datasets.csv_table import load_csv
from pynn.datasets.digits import load_digits
from pynn.datasets.idx import load_idx, load_idx_pair, load_mnist
from pynn.datasets.synthetic import (
    make_blobs,
    make_polynomial,
    make_red_blue,
    make_semicircle_to_parabola,
    make_spirals,
)

__all__ = [
    "make_red_blue",
    "make_semicircle_to_parabola",
    "make_polynomial",
    "make_spirals",
    "make_blobs",
    "load_digits",
    "load_idx",
    "load_idx_pair",
    "load_mnist",
    "load_csv",
]
