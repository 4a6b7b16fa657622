"""Counting and selecting the samples (rows) of the arrays users hand to pynn.data.

Arrays may be NumPy arrays, lists, pandas objects (selected with .iloc) or anything else
NumPy can index along its first axis (np.memmap, scipy.sparse matrices).
"""
import numbers

import numpy as np


def n_samples(array, name):
    """The length of `array`'s first axis; TypeError naming it for scalars and None."""
    shape = getattr(array, "shape", None)
    if shape is not None and not callable(shape):
        if len(shape) == 0:
            raise TypeError(f"{name} must be array-like with one row per sample, got a "
                            f"0-d array")
        return int(shape[0])
    if array is None or isinstance(array, (str, bytes, numbers.Number)) or \
            not hasattr(array, "__len__"):
        raise TypeError(f"{name} must be array-like with one row per sample, got "
                        f"{type(array).__name__}")
    return len(array)


def check_same_length(arrays, names):
    """The common number of samples of `arrays`; ValueError listing the lengths otherwise."""
    lengths = [n_samples(a, name) for a, name in zip(arrays, names)]
    if len(set(lengths)) > 1:
        listed = ", ".join(f"{name}: {n}" for name, n in zip(names, lengths))
        raise ValueError(f"inconsistent numbers of samples ({listed})")
    return lengths[0]


def take_rows(array, index):
    """array's rows at `index` (an integer array), in the same kind of container: a list
    stays a list, a pandas object stays one (positional .iloc), anything else is indexed
    as an array."""
    if hasattr(array, "iloc"):
        return array.iloc[index]
    if isinstance(array, list):
        return [array[i] for i in index]
    if not hasattr(array, "shape"):
        array = np.asarray(array)
    return array[index]
