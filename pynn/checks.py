"""The argument checks pynn's modules share: each returns the checked value or raises a
TypeError or ValueError naming the argument.

Checks of one concept stay with it: an activation (pynn.activations), an initialiser
(pynn.init), a loss (pynn.losses), a backend (pynn.backend), a seed
(pynn.random_state), a memory budget (pynn.plans, pynn.memory), X and y (pynn.inputs).
"""
import math
import numbers
import os

import numpy as np


# ---- flags and names ---------------------------------------------------------------------
def check_bool(value, name):
    """value as a bool (Python or NumPy), else TypeError naming it."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_choice(value, name, choices):
    """value itself when it is one of the strings `choices`, else ValueError naming it."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


# ---- integers ----------------------------------------------------------------------------
def check_count(value, name, low):
    """value as an int >= low (Python or NumPy integer), else TypeError/ValueError naming it."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value}")
    return int(value)


def positive_int(value, name):
    """value as an int >= 1, else TypeError/ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}")
    return int(value)


# ---- real numbers ------------------------------------------------------------------------
def check_number(value, name, low=0.0, high=math.inf, high_open=False):
    """value as a finite float in [low, high] (or [low, high)), else TypeError/ValueError
    naming it. Infinity is never accepted: an infinite rate or decay only makes NaN."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or not (low <= value <= high) or (high_open and value == high):
        if high == math.inf:
            bound = f">= {low:g}"
        else:
            bound = f"in [{low:g}, {high:g})" if high_open else f"in [{low:g}, {high:g}]"
        raise ValueError(f"{name} must be a finite number {bound}, got {value}")
    return value


def finite_number(value, name):
    """value as a finite float, else TypeError/ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return float(value)


def positive_number(value, name):
    """value as a finite float > 0, else TypeError/ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be positive and finite, got {value}")
    return value


def non_negative_number(value, name):
    """A finite float >= 0 (a noise level, a standard deviation, a number of turns)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r}")
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be finite and >= 0, got {value}")
    return float(value)


def probability(value, name):
    """A float in [0, 1]."""
    value = non_negative_number(value, name)
    if value > 1:
        raise ValueError(f"{name} must be a probability in [0, 1], got {value}")
    return value


# ---- dtypes ------------------------------------------------------------------------------
def check_dtype(dtype):
    """A model's dtype: float32 or float64."""
    if dtype is None:  # np.dtype(None) would be float64
        raise TypeError("dtype must be float32 or float64, got None")
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be float32 or float64, got {dtype!r}") from None
    if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(f"dtype must be float32 or float64, got {dtype}")
    return dtype


def check_float_dtype(dtype):
    """Any float dtype (the data readers convert to it)."""
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be a float dtype, got {dtype!r}") from None
    if dtype.kind != "f":
        raise TypeError(f"dtype must be a float dtype (float32 or float64), got {dtype}")
    return dtype


def check_numpy_dtype(dtype):
    """Anything np.dtype accepts."""
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be None or a NumPy dtype, got {dtype!r}") from None


# ---- paths -------------------------------------------------------------------------------
def check_path(path, name="path"):
    """A str, bytes or os.PathLike path, as os.fspath gives it."""
    try:
        return os.fspath(path)
    except TypeError:
        raise TypeError(f"{name} must be a str or os.PathLike, got {type(path).__name__}") \
            from None


def check_str_path(path):
    """A str or os.PathLike path as a str (a model file's name appears in its messages, so
    bytes paths are refused)."""
    if isinstance(path, (str, os.PathLike)):
        path = os.fspath(path)
        if isinstance(path, str):
            return path
    raise TypeError(f"path must be a str or os.PathLike, got {path!r}")
