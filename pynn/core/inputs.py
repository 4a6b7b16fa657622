"""Checking a user's X and reading it in batches into the model's reused buffers.

X may be any 2-D numeric array-like. NumPy arrays and np.memmap are used as they are,
never copied whole: a batch is gathered row by row into a preallocated buffer of the
model's dtype, so an on-disk array larger than memory is read only as it is needed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray


def as_features(X: ArrayLike, name: str = "X") -> NDArray[Any]:
    """X as a 2-D numeric ndarray (a view or the array itself when it already is one).

    Parameters
    ----------
    X : array_like
        An ndarray (a memmap included), or a list, tuple or object with __array__.
    name : str, default "X"
        The argument's name in error messages.

    Returns
    -------
    numpy.ndarray of shape (n_samples, n_features)
        X itself when it is an ndarray, else np.asarray(X).

    Raises
    ------
    TypeError
        X is not array-like or does not hold numbers (bool, integer or float).
    ValueError
        X is ragged, not 2-D, or has no rows.
    """
    if not isinstance(X, np.ndarray):
        if hasattr(X, "__array__") or isinstance(X, (list, tuple)):
            try:
                X = np.asarray(X)
            except ValueError:  # NumPy's own message does not say which argument
                raise ValueError(
                    f"{name} must be a 2-D array-like of numbers: its rows have different lengths"
                ) from None
        else:
            raise TypeError(f"{name} must be a 2-D array-like of numbers, got {type(X).__name__}")
    if X.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold numbers (bool, integer or float), got dtype {X.dtype}")
    if X.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D (samples, features), got shape {X.shape}"
            + (": reshape a single feature with X.reshape(-1, 1)" if X.ndim == 1 else "")
        )
    if X.shape[0] == 0:
        raise ValueError(f"{name} is empty: it has 0 samples")
    return X


def check_width(X: NDArray[Any], n_features: int, name: str = "X") -> None:
    """ValueError unless X has `n_features` columns.

    Parameters
    ----------
    X : numpy.ndarray of shape (n_samples, n_columns)
        The checked features (as_features).
    n_features : int
        The width the model expects.
    name : str, default "X"
        The argument's name in error messages.

    Raises
    ------
    ValueError
        X has another number of columns.
    """
    if X.shape[1] != n_features:
        raise ValueError(f"{name} has {X.shape[1]} features, but the model expects {n_features}")


def y_checked(y: ArrayLike | None, n: int) -> ArrayLike:
    """y itself, once it is given and has one row per sample of X (n).

    Parameters
    ----------
    y : array_like or None
        The targets.
    n : int
        The number of samples of X.

    Returns
    -------
    array_like
        y, unchanged.

    Raises
    ------
    ValueError
        y is None, a scalar, or has another number of rows.
    """
    if y is None:
        raise ValueError("y is required")
    shape = np.shape(y)
    if len(shape) == 0 or shape[0] != n:
        raise ValueError(f"y must have one row per sample of X ({n}), got shape {shape}")
    return y


def check_values(X: NDArray[Any], dtype: DTypeLike, name: str = "X") -> None:
    """ValueError naming the sample when X holds NaN or infinity, or (a wider float X read
    into a float32 model) finite values beyond `dtype`'s range, which would become infinite.

    X is read in chunks of about 4M values, so an on-disk X is never in memory whole.

    Parameters
    ----------
    X : numpy.ndarray of shape (n_samples, n_features)
        The features (non-float X holds only finite values and is not read).
    dtype : numpy dtype
        The model's dtype, which X will be read into.
    name : str, default "X"
        The argument's name in error messages.

    Raises
    ------
    ValueError
        X holds NaN, infinity, or values `dtype` would make infinite.
    """
    if X.dtype.kind != "f":
        return
    dtype = np.dtype(dtype)
    largest = np.finfo(dtype).max if X.dtype.itemsize > dtype.itemsize else None
    step = max(1, 2**22 // max(1, X.shape[1]))
    for start in range(0, X.shape[0], step):
        rows = slice(start, start + step)
        chunk = X[rows]
        check_finite_batch(chunk, name, rows)
        if largest is not None and (np.max(chunk) > largest or np.min(chunk) < -largest):
            r = int(np.argmax((np.abs(chunk) > largest).any(axis=1)))
            raise ValueError(
                f"{name} has values beyond {dtype}'s range (+-{largest:.4g}) in "
                f"sample {start + r}, which {dtype} would make infinite: scale "
                f"{name} or use a float64 model"
            )


def gather(
    X: NDArray[Any],
    rows: slice | NDArray[np.integer[Any]],
    out: NDArray[Any],
    staging: NDArray[Any] | None = None,
) -> NDArray[Any]:
    """out[:] = X[rows] cast to out's dtype, where rows is an index array or a slice.

    Parameters
    ----------
    X : numpy.ndarray of shape (n_samples, n_features)
        The features.
    rows : slice or numpy.ndarray of int
        The rows to read (indices within range).
    out : numpy.ndarray of shape (len(rows), n_features)
        The buffer to fill.
    staging : numpy.ndarray or None, default None
        A buffer of X's dtype and out's shape, needed when `rows` is an index array and X's
        dtype is not out's.

    Returns
    -------
    numpy.ndarray
        `out`.
    """
    if isinstance(rows, slice):
        np.copyto(out, X[rows], casting="unsafe")
    elif X.dtype == out.dtype:  # the method: np.take's Python wrapper costs ~0.5 us a step
        X.take(rows, axis=0, out=out, mode="clip")
    else:
        X.take(rows, axis=0, out=staging, mode="clip")
        np.copyto(out, staging, casting="unsafe")  # type: ignore[arg-type]  # given here
    return out


def check_finite_batch(
    batch: NDArray[Any], name: str, rows: slice | NDArray[np.integer[Any]]
) -> None:
    """ValueError naming the sample if the gathered batch holds NaN or infinity.

    One sum answers in the usual case; only a non-finite sum (NaN, inf, or an overflow
    of large finite values) looks at the elements.

    Parameters
    ----------
    batch : numpy.ndarray
        The gathered rows.
    name : str
        The argument's name in error messages.
    rows : slice or numpy.ndarray of int
        Where the batch's rows come from, to name the sample.

    Raises
    ------
    ValueError
        The batch holds NaN or infinity.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        total = np.add.reduce(batch, axis=None)
    if np.isfinite(total):
        return
    bad = ~np.isfinite(batch)
    if bad.any():
        r = int(np.argmax(bad.any(axis=1)))
        sample = rows.start + r if isinstance(rows, slice) else int(rows[r])
        raise ValueError(f"{name} contains NaN or infinity (in sample {sample})")
