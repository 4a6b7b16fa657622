"""The argument checks pynn's modules share: each returns the checked value or raises a
TypeError or ValueError naming the argument.

Checks of one concept stay with it (the modules of pynn.core): an activation
(activations), an initialiser (init), a loss (losses), a backend (backend), a seed
(random_state), a memory budget (plans, memory), X and y (inputs).
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import DTypeLike


# ---- flags and names ---------------------------------------------------------------------
def check_bool(value: Any, name: str) -> bool:
    """value as a bool (Python or NumPy), else TypeError naming it.

    Parameters
    ----------
    value : object
        The value to check.
    name : str
        The argument's name in error messages.

    Returns
    -------
    bool

    Raises
    ------
    TypeError
        value is not a bool.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_choice(value: Any, name: str, choices: Sequence[str]) -> str:
    """value itself when it is one of the strings `choices`, else ValueError naming it.

    Parameters
    ----------
    value : object
        The value to check.
    name : str
        The argument's name in error messages.
    choices : sequence of str
        The accepted values.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        value is not one of `choices`.
    """
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


# ---- integers ----------------------------------------------------------------------------
def _integer(value: Any, name: str) -> int:
    """value as an int when it is an integer (Python's or NumPy's; bools are refused),
    else TypeError naming it."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    return int(value)


def check_count(value: Any, name: str, low: int) -> int:
    """value as an int >= low (Python or NumPy integer), else TypeError/ValueError naming it.

    Parameters
    ----------
    value : object
        The value to check.
    name : str
        The argument's name in error messages.
    low : int
        The smallest value accepted.

    Returns
    -------
    int

    Raises
    ------
    TypeError
        value is not an integer (bools are refused).
    ValueError
        value < low.
    """
    value = _integer(value, name)
    if value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value}")
    return value


def positive_int(value: Any, name: str) -> int:
    """value as an int >= 1, else TypeError/ValueError naming it.

    Parameters
    ----------
    value : object
        The value to check.
    name : str
        The argument's name in error messages.

    Returns
    -------
    int

    Raises
    ------
    TypeError
        value is not an integer (bools are refused).
    ValueError
        value < 1.
    """
    value = _integer(value, name)
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}")
    return value


# ---- real numbers ------------------------------------------------------------------------
def _real(value: Any, name: str) -> float:
    """value as a float when it is a real number (Python's or NumPy's; bools are refused,
    though Python counts them as numbers), else TypeError naming it."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r}")
    return float(value)


def check_number(
    value: Any, name: str, low: float = 0.0, high: float = math.inf, high_open: bool = False
) -> float:
    """value as a finite float in [low, high] (or [low, high)), else TypeError/ValueError
    naming it. Infinity is never accepted: an infinite rate or decay only makes NaN.


    Parameters
    ----------
    value : object
        The value to check.
    name : str
        The argument's name in error messages.
    low, high : float, default 0.0 and infinity
        The bounds.
    high_open : bool, default False
        Exclude `high` itself.

    Returns
    -------
    float

    Raises
    ------
    TypeError
        value is not a number (bools are refused).
    ValueError
        value is not finite or out of bounds.
    """
    value = _real(value, name)
    if not math.isfinite(value) or not (low <= value <= high) or (high_open and value == high):
        if high == math.inf:
            bound = f">= {low:g}"
        else:
            bound = f"in [{low:g}, {high:g})" if high_open else f"in [{low:g}, {high:g}]"
        raise ValueError(f"{name} must be a finite number {bound}, got {value}")
    return value


def finite_number(value: Any, name: str) -> float:
    """value as a finite float, else TypeError/ValueError naming it.

    Parameters
    ----------
    value : object
        The value to check.
    name : str
        The argument's name in error messages.

    Returns
    -------
    float

    Raises
    ------
    TypeError
        value is not a number (bools are refused).
    ValueError
        value is NaN or infinite.
    """
    value = _real(value, name)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def positive_number(value: Any, name: str) -> float:
    """value as a finite float > 0, else TypeError/ValueError naming it.

    Parameters
    ----------
    value : object
        The value to check.
    name : str
        The argument's name in error messages.

    Returns
    -------
    float

    Raises
    ------
    TypeError
        value is not a number (bools are refused).
    ValueError
        value is not finite or not > 0.
    """
    value = _real(value, name)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be positive and finite, got {value}")
    return value


def non_negative_number(value: Any, name: str) -> float:
    """A finite float >= 0 (a noise level, a standard deviation, a number of turns).

    Parameters
    ----------
    value : object
        The value to check.
    name : str
        The argument's name in error messages.

    Returns
    -------
    float

    Raises
    ------
    TypeError
        value is not a number (bools are refused).
    ValueError
        value is not finite or < 0.
    """
    value = _real(value, name)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be finite and >= 0, got {value}")
    return value


def probability(value: Any, name: str) -> float:
    """A float in [0, 1].

    Parameters
    ----------
    value : object
        The value to check.
    name : str
        The argument's name in error messages.

    Returns
    -------
    float

    Raises
    ------
    TypeError
        value is not a number (bools are refused).
    ValueError
        value is not in [0, 1].
    """
    value = non_negative_number(value, name)
    if value > 1:
        raise ValueError(f"{name} must be a probability in [0, 1], got {value}")
    return value


# ---- dtypes ------------------------------------------------------------------------------
def check_dtype(dtype: DTypeLike) -> np.dtype[Any]:
    """A model's dtype: float32 or float64.

    Parameters
    ----------
    dtype : numpy dtype
        Anything np.dtype accepts (None is refused).

    Returns
    -------
    numpy.dtype

    Raises
    ------
    TypeError
        Not float32 or float64.
    """
    if dtype is None:  # np.dtype(None) would be float64
        raise TypeError("dtype must be float32 or float64, got None")
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be float32 or float64, got {dtype!r}") from None
    if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(f"dtype must be float32 or float64, got {dtype}")
    return dtype


def check_float_dtype(dtype: DTypeLike) -> np.dtype[Any]:
    """Any float dtype (the data readers convert to it).

    Parameters
    ----------
    dtype : numpy dtype
        Anything np.dtype accepts.

    Returns
    -------
    numpy.dtype

    Raises
    ------
    TypeError
        Not a float dtype.
    """
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be a float dtype, got {dtype!r}") from None
    if dtype.kind != "f":
        raise TypeError(f"dtype must be a float dtype (float32 or float64), got {dtype}")
    return dtype


def check_numpy_dtype(dtype: DTypeLike) -> np.dtype[Any]:
    """Anything np.dtype accepts.

    Parameters
    ----------
    dtype : numpy dtype or None
        The dtype (None gives float64, as np.dtype(None)).

    Returns
    -------
    numpy.dtype

    Raises
    ------
    TypeError
        np.dtype refuses it.
    """
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be None or a NumPy dtype, got {dtype!r}") from None


# ---- paths -------------------------------------------------------------------------------
def check_path(path: Any, name: str = "path") -> str | bytes:
    """A str, bytes or os.PathLike path, as os.fspath gives it.

    Parameters
    ----------
    path : str, bytes or os.PathLike
        The path.
    name : str, default "path"
        The argument's name in error messages.

    Returns
    -------
    str or bytes

    Raises
    ------
    TypeError
        Not a path.
    """
    try:
        return os.fspath(path)
    except TypeError:
        raise TypeError(
            f"{name} must be a str or os.PathLike, got {type(path).__name__}"
        ) from None


def check_str_path(path: Any) -> str:
    """A str or os.PathLike path as a str (a model file's name appears in its messages, so
    bytes paths are refused).

    Parameters
    ----------
    path : str or os.PathLike
        The path.

    Returns
    -------
    str

    Raises
    ------
    TypeError
        Not a str path (bytes included).
    """
    if isinstance(path, (str, os.PathLike)):
        path = os.fspath(path)
        if isinstance(path, str):
            return path
    raise TypeError(f"path must be a str or os.PathLike, got {path!r}")
