"""Splitting samples: one train/test split, and k folds for cross-validation.

The course notes (shared/notes) keep the test set for the final report only, and tune
hyperparameters on a validation set: a fixed-ratio split (train_test_split) or, with few
data, k-fold cross-validation (KFold, StratifiedKFold) where each of k parts is the
validation set once. Names and semantics follow scikit-learn's sklearn.model_selection.

random_state is None (fresh randomness on every call), an int (the same result on every
call) or a numpy Generator (drawn from, so successive calls differ but a run is
reproducible from the Generator's seed).
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from pynn.core.checks import check_bool
from pynn.core.random_state import check_random_state
from pynn.data._arrays import check_same_length, n_samples, take_rows
from pynn.metrics import as_labels

if TYPE_CHECKING:
    from pynn.core.random_state import RandomState


def _label_index(labels):
    """(classes, index of each sample's class, samples per class); a 2-D labels array has
    one label per row."""
    if labels.ndim == 2:
        classes, index = np.unique(labels, axis=0, return_inverse=True)
    else:
        classes, index = np.unique(labels, return_inverse=True)
    index = index.reshape(-1)
    return classes, index, np.bincount(index, minlength=len(classes))


# ---- one split ---------------------------------------------------------------------------
def _size_argument(value, name, n):
    """A checked test_size/train_size: None, an int count in [1, n) or a float in (0, 1)."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{name} must be a float fraction in (0, 1), an int count or None, got {value!r}"
        )
    if isinstance(value, numbers.Integral):
        if not 1 <= value < n:
            raise ValueError(
                f"{name}={value} must be a count from 1 to {n - 1} (the number "
                f"of samples minus one) or a float in (0, 1)"
            )
        return int(value)
    if not 0 < value < 1:
        raise ValueError(f"{name}={value} must be a float in (0, 1) or an int count")
    return float(value)


def split_sizes(
    n: int, test_size: float | int | None = None, train_size: float | int | None = None
) -> tuple[int, int]:
    """(n_train, n_test) for n samples, as scikit-learn computes them: a float test_size
    rounds up, a float train_size rounds down, and a missing size is the complement of
    the other (test_size 0.25 when both are None).

    Parameters
    ----------
    n : int
        The number of samples.
    test_size, train_size : float, int or None, default None
        A fraction in (0, 1) or a count in [1, n).

    Returns
    -------
    (int, int)
        (n_train, n_test), both >= 1.

    Raises
    ------
    TypeError
        A size that is not a number.
    ValueError
        A size out of range, or sizes that leave a set empty or add up to more than n.
    """
    test = _size_argument(test_size, "test_size", n)
    train = _size_argument(train_size, "train_size", n)
    if test is None and train is None:
        test = 0.25
    if isinstance(test, float) and isinstance(train, float) and test + train > 1:
        raise ValueError(f"test_size + train_size = {test + train} must be at most 1")
    n_test = (
        None if test is None else (int(np.ceil(test * n)) if isinstance(test, float) else test)
    )
    n_train = (
        None
        if train is None
        else (int(np.floor(train * n)) if isinstance(train, float) else train)
    )
    if n_train is None:
        n_train = n - n_test  # type: ignore[operator]  # both None was made test = 0.25
    if n_test is None:
        n_test = n - n_train
    if n_train + n_test > n:
        raise ValueError(
            f"train_size and test_size give {n_train} + {n_test} samples, more "
            f"than the {n} there are"
        )
    if n_train == 0 or n_test == 0:
        empty = "train" if n_train == 0 else "test"
        raise ValueError(
            f"with {n} samples, test_size={test_size!r} and "
            f"train_size={train_size!r} leave the {empty} set empty"
        )
    return n_train, n_test


def _apportion(counts, total, rng):
    """Share `total` among classes of sizes `counts` in proportion to them: each class gets
    the floor of its exact share, and the samples left go one each to the classes with the
    largest remainders (ties in random order). Integer arithmetic, so exact."""
    scaled = counts.astype(np.int64) * total
    share, remainder = scaled // counts.sum(), scaled % counts.sum()
    left = total - int(share.sum())
    order = np.lexsort((rng.random(len(counts)), -remainder))
    share[order[:left]] += 1
    return share


def _stratified_indices(labels, n_train, n_test, rng):
    classes, index, counts = _label_index(labels)
    if counts.min() < 2:
        rare = classes[np.argmin(counts)].tolist()
        raise ValueError(
            f"stratify: class {rare!r} has only 1 member; each class needs"
            f" at least 2 to be in both the train and test sets"
        )
    for size, what in ((n_test, "test"), (n_train, "train")):
        if size < len(classes):
            raise ValueError(
                f"the {what} set would have {size} samples, fewer than the "
                f"{len(classes)} classes of stratify: make it larger"
            )
    train_counts = _apportion(counts, n_train, rng)
    test_counts = _apportion(counts - train_counts, n_test, rng)
    train, test = [], []
    for c in range(len(classes)):
        members = rng.permutation(np.flatnonzero(index == c))
        train.append(members[: train_counts[c]])
        test.append(members[train_counts[c] : train_counts[c] + test_counts[c]])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def train_test_split(
    *arrays: Any,
    test_size: float | int | None = None,
    train_size: float | int | None = None,
    random_state: RandomState = None,
    shuffle: bool = True,
    stratify: ArrayLike | None = None,
) -> list[Any]:
    """Split arrays into random train and test subsets (scikit-learn's semantics).

    Returns [a_train, a_test, b_train, b_test, ...]: the same rows of every array, each
    in its own container type (a list stays a list, a pandas object stays one).

    test_size, train_size: a float fraction in (0, 1) or an int count. test_size=None
    means 0.25 when train_size is None too, else the complement of train_size (and
    train_size=None the complement of test_size). A float test_size rounds up.
    shuffle=False takes the first n_train rows for training and the next n_test for
    testing, in order (random_state is then unused). stratify: labels (one per sample, any
    type; 2-D rows count as one label each) whose class proportions both sets keep: each
    class's test count is within one of its exact share; needs shuffle=True and at least
    2 members per class.

    Parameters
    ----------
    *arrays : array_like
        One or more arrays of the same number of rows (NumPy arrays, lists, pandas objects,
        anything NumPy indexes along its first axis).
    test_size : float, int or None, default None
        A fraction in (0, 1) (rounded up) or a count; None: 0.25, or the complement of
        train_size.
    train_size : float, int or None, default None
        A fraction in (0, 1) (rounded down) or a count; None: the complement of test_size.
    random_state : None, int or numpy.random.Generator, default None
        None (fresh randomness on every call), an int (the same result on every call) or a
        numpy Generator (drawn from).
    shuffle : bool, default True
        Split at random; False takes the rows in order.
    stratify : array_like or None, default None
        Labels whose class proportions both sets keep (needs shuffle=True).

    Returns
    -------
    list
        [a_train, a_test, b_train, b_test, ...], each in its array's container type.

    Raises
    ------
    ValueError
        No arrays, arrays of different lengths, bad sizes, or a stratify that cannot be
        kept (a class with one member, a set smaller than the number of classes, or
        shuffle=False).
    TypeError
        A size or shuffle of the wrong type, or an argument that is not array-like.
    """
    if not arrays:
        raise ValueError("train_test_split needs at least one array")
    names = [f"arrays[{i}]" for i in range(len(arrays))]
    n = check_same_length(arrays, names)
    shuffle = check_bool(shuffle, "shuffle")
    random_state = check_random_state(random_state)
    n_train, n_test = split_sizes(n, test_size, train_size)
    rng = np.random.default_rng(random_state)
    if stratify is not None:
        if not shuffle:
            raise ValueError(
                "stratify needs shuffle=True: a stratified split draws each "
                "class's samples at random"
            )
        labels = as_labels(stratify, "stratify")
        check_same_length([arrays[0], labels], [names[0], "stratify"])
        train, test = _stratified_indices(labels, n_train, n_test, rng)
    elif shuffle:
        order = rng.permutation(n)
        train, test = order[n_test : n_test + n_train], order[:n_test]
    else:
        train, test = np.arange(n_train), np.arange(n_train, n_train + n_test)
    result = []
    for array in arrays:
        result += [take_rows(array, train), take_rows(array, test)]
    return result


# ---- k folds -----------------------------------------------------------------------------
def _check_n_splits(n_splits):
    if isinstance(n_splits, (bool, np.bool_)) or not isinstance(n_splits, numbers.Integral):
        raise TypeError(f"n_splits must be an int of at least 2, got {n_splits!r}")
    if n_splits < 2:
        raise ValueError(f"n_splits must be at least 2, got {n_splits}")
    return int(n_splits)


class KFold:
    """K-fold cross-validation: the samples cut into n_splits consecutive folds (after one
    shuffle when shuffle=True), each the test set once while the others train.

    Fold sizes differ by at most one (the first n % n_splits folds have one more). Every
    sample is in exactly one test fold. Index arrays are sorted. random_state is for
    shuffle=True only: with shuffle=False it would do nothing, so it is an error (as in
    scikit-learn).

    Parameters
    ----------
    n_splits : int, default 5
        The number of folds (>= 2).
    shuffle : bool, default False
        Shuffle the samples once before cutting the folds.
    random_state : None, int or numpy.random.Generator, default None
        The shuffle's seed (shuffle=True only).

    Raises
    ------
    TypeError
        n_splits is not an int, or shuffle not a bool.
    ValueError
        n_splits < 2, or random_state with shuffle=False.
    """

    def __init__(
        self, n_splits: int = 5, shuffle: bool = False, random_state: RandomState = None
    ) -> None:
        self.n_splits = _check_n_splits(n_splits)
        self.shuffle = check_bool(shuffle, "shuffle")
        self.random_state = check_random_state(random_state)
        if not self.shuffle and random_state is not None:
            raise ValueError(
                "random_state has no effect with shuffle=False: leave it None, or set shuffle=True"
            )

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """The number of folds (the arguments are for scikit-learn compatibility).

        Parameters
        ----------
        X, y, groups : object, default None
            Ignored.

        Returns
        -------
        int
            n_splits.
        """
        return self.n_splits

    def _test_folds(self, n, y):
        """fold[i] = the fold whose test set holds sample i."""
        order = (
            np.random.default_rng(self.random_state).permutation(n)
            if self.shuffle
            else np.arange(n)
        )
        sizes = np.full(self.n_splits, n // self.n_splits)
        sizes[: n % self.n_splits] += 1
        fold = np.empty(n, np.intp)
        fold[order] = np.repeat(np.arange(self.n_splits), sizes)
        return fold

    def split(
        self, X: ArrayLike, y: ArrayLike | None = None, groups: Any = None
    ) -> Iterator[tuple[NDArray[np.intp], NDArray[np.intp]]]:
        """Yield (train_index, test_index) for each fold. Arguments are checked at the call;
        groups is accepted for scikit-learn compatibility and ignored.

        Parameters
        ----------
        X : array_like
            The samples (only their number is used).
        y : array_like or None, default None
            Labels: KFold only checks their length; StratifiedKFold requires them and keeps
            their class proportions.
        groups : object, default None
            Ignored.

        Returns
        -------
        iterator of (numpy.ndarray, numpy.ndarray)
            Per fold, the sorted indices of the training and of the test samples.

        Raises
        ------
        ValueError
            More folds than samples, X and y of different lengths; for StratifiedKFold, no
            y or every class smaller than n_splits (a class smaller than n_splits warns).
        """
        n = n_samples(X, "X")
        if y is not None:
            check_same_length([X, y], ["X", "y"])
        if self.n_splits > n:
            raise ValueError(f"n_splits={self.n_splits} is more than the {n} samples")
        return _folds(self._test_folds(n, y), self.n_splits)

    def __repr__(self):
        return (
            f"{type(self).__name__}(n_splits={self.n_splits}, shuffle={self.shuffle}, "
            f"random_state={self.random_state!r})"
        )


class StratifiedKFold(KFold):
    """K folds that keep the class proportions of y: each class's members are spread over
    the folds so that its count in any two folds differs by at most one, and the fold sizes
    also differ by at most one. y holds any labels (numbers, strings, bools; a 2-D y has
    one label per row). With shuffle=False each class's members go to the folds in order
    of appearance, in consecutive blocks (the folds scikit-learn makes); shuffle=True
    draws them at random.

    split raises ValueError when every class has fewer than n_splits members, and warns
    (UserWarning) when some class does (some test folds then miss it).

    Parameters
    ----------
    n_splits : int, default 5
        The number of folds (>= 2).
    shuffle : bool, default False
        Draw each class's members at random rather than in order of appearance.
    random_state : None, int or numpy.random.Generator, default None
        The shuffle's seed (shuffle=True only).

    Raises
    ------
    TypeError
        n_splits is not an int, or shuffle not a bool.
    ValueError
        n_splits < 2, or random_state with shuffle=False.
    """

    def split(  # type: ignore[override]
        self,
        X: ArrayLike,
        y: ArrayLike | None,
        groups: Any = None,
    ) -> Iterator[tuple[NDArray[np.intp], NDArray[np.intp]]]:
        if y is None:
            raise ValueError("StratifiedKFold.split needs y, the labels to stratify")
        return super().split(X, y, groups)

    def _test_folds(self, n, y):
        classes, index, counts = _label_index(as_labels(y, "y"))
        if (counts < self.n_splits).all():
            raise ValueError(
                f"n_splits={self.n_splits} is more than the members of every "
                f"class of y (at most {counts.max()}): for a continuous target "
                f"use KFold"
            )
        if counts.min() < self.n_splits:
            rare = classes[np.argmin(counts)].tolist()
            warnings.warn(
                f"the least populated class of y, {rare!r}, has {counts.min()} "
                f"members, fewer than n_splits={self.n_splits}: some test folds "
                f"will not contain it",
                UserWarning,
                stacklevel=4,
            )
        rng = np.random.default_rng(self.random_state)
        # Deal the samples, grouped by class (classes in order of first appearance), to the
        # folds in turn: each fold then gets a near-equal share of every class and of the
        # whole. Sorting a class's dealt fold numbers gives its members consecutive blocks.
        # (These are scikit-learn's folds for shuffle=False.)
        first_seen = np.full(len(classes), n)
        np.minimum.at(first_seen, index, np.arange(n))
        appearance = np.argsort(first_seen)
        by_class = np.concatenate([np.flatnonzero(index == c) for c in appearance])
        dealt = np.arange(n) % self.n_splits
        fold = np.empty(n, np.intp)
        start = 0
        for c in appearance:
            run = slice(start, start + counts[c])
            members = by_class[run]
            if self.shuffle:
                members = rng.permutation(members)
            fold[members] = np.sort(dealt[run])
            start += counts[c]
        return fold


def _folds(fold, n_splits):
    for k in range(n_splits):
        yield np.flatnonzero(fold != k), np.flatnonzero(fold == k)
