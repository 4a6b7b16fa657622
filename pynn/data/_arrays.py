"""Counting and selecting the samples (rows) of the arrays users hand to pynn.data.

Arrays may be NumPy arrays, lists, pandas objects (selected with .iloc) or anything else
NumPy can index along its first axis (np.memmap, scipy.sparse matrices).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray


def n_samples(array: Any, name: str) -> int:
    """The length of `array`'s first axis; TypeError naming it for scalars and None.

    Parameters
    ----------
    array : array_like
        An array, list, pandas object, ...
    name : str
        Its name in error messages.

    Returns
    -------
    int

    Raises
    ------
    TypeError
        A scalar, a string, None or a 0-d array.
    """
    shape = getattr(array, "shape", None)
    if shape is not None and not callable(shape):
        if len(shape) == 0:
            raise TypeError(f"{name} must be array-like with one row per sample, got a 0-d array")
        return int(shape[0])
    if (
        array is None
        or isinstance(array, (str, bytes, numbers.Number))
        or not hasattr(array, "__len__")
    ):
        raise TypeError(
            f"{name} must be array-like with one row per sample, got {type(array).__name__}"
        )
    return len(array)


def check_same_length(arrays: Sequence[Any], names: Sequence[str]) -> int:
    """The common number of samples of `arrays`; ValueError listing the lengths otherwise.

    Parameters
    ----------
    arrays : sequence of array_like
        The arrays (at least one).
    names : sequence of str
        Their names in error messages.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        Different lengths.
    TypeError
        An argument that is not array-like.
    """
    lengths = [n_samples(a, name) for a, name in zip(arrays, names)]
    if len(set(lengths)) > 1:
        listed = ", ".join(f"{name}: {n}" for name, n in zip(names, lengths))
        raise ValueError(f"inconsistent numbers of samples ({listed})")
    return lengths[0]


def take_rows(array: Any, index: NDArray[np.integer[Any]]) -> Any:
    """array's rows at `index` (an integer array), in the same kind of container: a list
    stays a list, a pandas object stays one (positional .iloc), anything else is indexed
    as an array.

    Parameters
    ----------
    array : array_like
        A list, pandas object or anything NumPy indexes along its first axis.
    index : numpy.ndarray of int
        The rows to take.

    Returns
    -------
    list, pandas object or array
        The rows, in array's kind of container.
    """
    if hasattr(array, "iloc"):
        return array.iloc[index]
    if isinstance(array, list):
        return [array[i] for i in index]
    if not hasattr(array, "shape"):
        array = np.asarray(array)
    return array[index]
