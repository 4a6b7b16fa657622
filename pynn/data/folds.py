"""Folds for model selection: the splitter a `cv` argument stands for (check_cv) and the
checked (train, test) index arrays of its folds (fold_indices).
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from pynn.data.split import KFold, StratifiedKFold

if TYPE_CHECKING:
    from pynn.core.random_state import RandomState


def is_classification_target(y: ArrayLike) -> bool:
    """True for 1-D integer, bool or string labels (stratified folds); False for floats and
    2-D targets (plain folds). A float y with integral values counts as continuous.

    Parameters
    ----------
    y : array_like
        The targets.

    Returns
    -------
    bool
    """
    y = np.asarray(y)
    if y.dtype == object:
        return y.ndim == 1 and all(isinstance(v, (str, numbers.Integral)) for v in y)
    return y.ndim == 1 and y.dtype.kind in "biuUS"


def check_cv(cv: int | Any, y: ArrayLike, random_state: RandomState = None) -> Any:
    """The splitter for `cv`: an int gives StratifiedKFold for classification labels (see
    is_classification_target) and KFold otherwise, shuffled from random_state when that is
    given and in order when it is None. A splitter object or an iterable of (train, test)
    index pairs is returned as it is (random_state must then be None).

    Parameters
    ----------
    cv : int, splitter or iterable of (train, test)
        The number of folds, an object with split(X, y), or index pairs.
    y : array_like
        The targets (their kind chooses the splitter for an int cv).
    random_state : None, int or numpy.random.Generator, default None
        Shuffles the folds of an int cv (None: in order).

    Returns
    -------
    KFold, StratifiedKFold, or cv itself

    Raises
    ------
    TypeError
        A cv of another kind (a bool, a string, ...).
    ValueError
        random_state with a cv that is not an int.
    """
    if isinstance(cv, (bool, np.bool_)):
        raise TypeError(f"cv must be an int, a splitter or (train, test) pairs, got {cv!r}")
    if isinstance(cv, numbers.Integral):
        splitter = StratifiedKFold if is_classification_target(y) else KFold
        return splitter(int(cv), shuffle=random_state is not None, random_state=random_state)
    if random_state is not None:
        raise ValueError(
            "random_state is for cv given as an int: give the splitter its own random_state"
        )
    if not isinstance(cv, (str, bytes)) and (hasattr(cv, "split") or _is_iterable(cv)):
        return cv
    raise TypeError(
        f"cv must be an int, a splitter with split(X, y) or an iterable of "
        f"(train, test) index pairs, got {cv!r}"
    )


def _is_iterable(value):
    return not isinstance(value, (str, bytes)) and hasattr(value, "__iter__")


def fold_indices(
    cv: int | Any, X: Any, y: Any, n: int, random_state: RandomState
) -> list[tuple[NDArray[np.intp], NDArray[np.intp]]]:
    """The folds of `cv` as a list of checked (train, test) integer index arrays.

    Parameters
    ----------
    cv : int, splitter or iterable of (train, test)
        As check_cv.
    X, y : array_like
        The samples and targets the splitter splits.
    n : int
        The number of samples (every index must be below it).
    random_state : None, int or numpy.random.Generator
        As check_cv.

    Returns
    -------
    list of (numpy.ndarray, numpy.ndarray)
        Each fold's train and test row indices, non-empty 1-D intp arrays.

    Raises
    ------
    TypeError
        A fold that is not a pair, or indices that are not integers; a bad cv.
    ValueError
        No folds, an empty or 2-D index array, or an index outside [0, n).
    """
    splitter = check_cv(cv, y, random_state)
    pairs = splitter.split(X, y) if hasattr(splitter, "split") else splitter
    folds = []
    for k, pair in enumerate(pairs):
        try:
            train, test = pair
        except (TypeError, ValueError):
            raise TypeError(f"cv fold {k} must be a pair (train, test) of index arrays") from None
        folds.append(
            (
                _check_index(train, n, f"cv fold {k} train"),
                _check_index(test, n, f"cv fold {k} test"),
            )
        )
    if not folds:
        raise ValueError("cv gave no folds")
    return folds


def _check_index(index, n, name):
    index = np.asarray(index)
    if index.ndim != 1 or index.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of sample indices")
    if index.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer sample indices, got dtype {index.dtype}")
    if index.min() < 0 or index.max() >= n:
        raise ValueError(f"{name} has indices outside [0, {n})")
    return index.astype(np.intp)
