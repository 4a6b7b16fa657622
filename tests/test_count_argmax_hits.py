"""count_argmax_hits (a batch's correct predictions, counted by fit every step) against
pynn.reference: random shapes, ties (the first largest wins), NaN rows (the first NaN wins,
as np.argmax), labels outside the columns (never a hit), and bad arguments."""

import numpy as np
import pytest
from helpers import DTYPES, K, R

SHAPES = [(1, 1), (1, 7), (7, 1), (32, 10), (97, 3), (1000, 13), (0, 4)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n,k", SHAPES)
def test_counts_like_the_reference(rng, dtype, n, k):
    # small integers: many ties within a row
    out = rng.integers(-3, 4, size=(n, k)).astype(dtype)
    labels = rng.integers(0, k, size=n)
    expected = R.count_argmax_hits(out, labels)
    assert K.count_argmax_hits(out, labels) == expected
    assert K.count_argmax_hits(out, np.argmax(out, axis=1)) == n


@pytest.mark.parametrize("dtype", DTYPES)
def test_nan_and_infinity_as_numpy_argmax(dtype):
    out = np.array(
        [
            [np.nan, 5, np.nan],
            [1, np.nan, 9],
            [-np.inf, -np.inf, -np.inf],
            [np.inf, 2, np.inf],
            [0, 0, np.nan],
        ],
        dtype,
    )
    argmax = np.argmax(out, axis=1)  # [0, 1, 0, 0, 2]
    for shift in range(3):
        labels = (argmax + shift) % 3
        assert K.count_argmax_hits(out, labels) == R.count_argmax_hits(out, labels)
    assert K.count_argmax_hits(out, argmax) == 5


def test_labels_outside_the_columns_never_hit():
    out = np.zeros((4, 3), np.float32)  # argmax 0 everywhere
    for labels in (
        np.array([-1, 3, 2**40, 0]),
        np.array([0, 0, 7, 9], np.int32),
        np.array([2**64 - 1, 0, 0, 1], np.uint64),
    ):
        assert K.count_argmax_hits(out, labels) == R.count_argmax_hits(out, labels)


@pytest.mark.parametrize(
    "out, labels, error, message",
    [
        (np.zeros((3, 2), np.float16), np.zeros(3, np.int64), TypeError, "out must have dtype"),
        (np.zeros(3, np.float32), np.zeros(3, np.int64), ValueError, "out must"),
        (np.zeros((3, 0), np.float32), np.zeros(3, np.int64), ValueError, "at least one column"),
        (np.zeros((3, 2), np.float32), np.zeros(3), TypeError, "labels must be integer"),
        (np.zeros((3, 2), np.float32), np.zeros(4, np.int64), ValueError, "labels"),
        ([[0.0, 1.0]], np.zeros(1, np.int64), TypeError, "out must be a numpy.ndarray"),
        (np.zeros((4, 2), np.float32)[::2], np.zeros(2, np.int64), ValueError, "out"),
    ],
    ids=["float16", "1-D", "no-columns", "float-labels", "length", "list", "strided"],
)
def test_bad_arguments(out, labels, error, message):
    with pytest.raises(error, match=message):
        K.count_argmax_hits(out, labels)
