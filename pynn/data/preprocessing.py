"""Preparing inputs and targets: standard scaling, one-hot labels, polynomial features.

Fit a scaler on the training data only and apply it to the validation and test data, so
that no statistic of the held-out data leaks into training (the notes' rule: never tune
on the test set).
"""

from __future__ import annotations

import itertools
import numbers
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from pynn.core.inputs import as_features
from pynn.metrics import as_labels


def _float_features(X, name="X"):
    """X as a 2-D float array: float32/float64 kept, integers and bools as float64;
    ValueError for NaN or infinity."""
    X = as_features(X, name)
    if X.dtype.kind != "f" or X.dtype.itemsize < 4:
        X = X.astype(np.float64)
    if not np.isfinite(X).all():
        raise ValueError(f"{name} contains NaN or infinity")
    return X


class StandardScaler:
    """Standardize features: (X - mean_) / scale_, per column.

    fit learns mean_ (the column means) and scale_ (the column standard deviations, ddof=0)
    in float64. A feature whose values are all equal keeps scale 1 (as in scikit-learn),
    so it becomes 0 rather than NaN. with_mean=False leaves the mean in (mean_ is still
    computed); with_std=False does not divide (scale_ is None). transform returns a new
    array of X's float dtype (float32 stays float32; integers become float64).

    Parameters
    ----------
    with_mean : bool, default True
        Subtract the column means.
    with_std : bool, default True
        Divide by the column standard deviations.

    Raises
    ------
    TypeError
        An option that is not a bool.

    Attributes
    ----------
    mean_, var_ : numpy.ndarray of shape (n_features,)
        The training columns' means and variances (float64), once fitted.
    scale_ : numpy.ndarray of shape (n_features,) or None
        The standard deviations used (1 for a constant column); None with with_std=False.
    n_features_in_, n_samples_seen_ : int
        The training data's shape.
    """

    mean_: NDArray[np.float64] | None
    var_: NDArray[np.float64] | None
    scale_: NDArray[np.float64] | None
    n_features_in_: int | None
    n_samples_seen_: int | None

    def __init__(self, with_mean: bool = True, with_std: bool = True) -> None:
        for name, value in (("with_mean", with_mean), ("with_std", with_std)):
            if not isinstance(value, (bool, np.bool_)):
                raise TypeError(f"{name} must be True or False, got {value!r}")
        self.with_mean = bool(with_mean)
        self.with_std = bool(with_std)
        self.mean_ = self.var_ = self.scale_ = None
        self.n_features_in_ = self.n_samples_seen_ = None

    def fit(self, X: ArrayLike, y: Any = None) -> StandardScaler:
        """Learn the column means and standard deviations of X; returns self. y is ignored.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
            Training features (finite numbers).
        y : object, default None
            Ignored (scikit-learn's signature).

        Returns
        -------
        StandardScaler
            The scaler itself.

        Raises
        ------
        ValueError
            X not 2-D, empty, or holding NaN or infinity (TypeError: not numbers).
        """
        X = _float_features(X)
        wide = X.astype(np.float64)
        self.mean_ = wide.mean(axis=0)
        self.var_ = wide.var(axis=0)
        if self.with_std:
            # Exactly constant columns (checked on the values, not on a rounded variance).
            constant = (X == X[0]).all(axis=0)
            self.scale_ = np.where(constant, 1.0, np.sqrt(self.var_))
        else:
            self.scale_ = None
        self.n_features_in_ = X.shape[1]
        self.n_samples_seen_ = X.shape[0]
        return self

    def _checked(self, X):
        if self.n_features_in_ is None:
            raise ValueError(
                "this StandardScaler is not fitted yet: call fit (or fit_transform) first"
            )
        X = _float_features(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but the scaler was fitted on {self.n_features_in_}"
            )
        return X

    def transform(self, X: ArrayLike) -> NDArray[np.floating[Any]]:
        """(X - mean_) / scale_, as the options say; a new array of X's float dtype.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features_in_)
            Features (finite numbers).

        Returns
        -------
        numpy.ndarray of shape (n_samples, n_features_in_)

        Raises
        ------
        ValueError
            The scaler is not fitted, X has another width, or holds NaN or infinity.
        """
        X = self._checked(X)
        out = X.astype(np.float64)
        if self.with_mean:
            out -= self.mean_
        if self.with_std:
            out /= self.scale_
        return out.astype(X.dtype, copy=False)

    def fit_transform(self, X: ArrayLike, y: Any = None) -> NDArray[np.floating[Any]]:
        """fit(X), then transform(X).

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
            Training features (finite numbers).
        y : object, default None
            Ignored.

        Returns
        -------
        numpy.ndarray of shape (n_samples, n_features)
            X standardized.

        Raises
        ------
        ValueError
            As fit.
        """
        return self.fit(X).transform(X)

    def inverse_transform(self, X: ArrayLike) -> NDArray[np.floating[Any]]:
        """X * scale_ + mean_: undoes transform.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features_in_)
            Standardized features.

        Returns
        -------
        numpy.ndarray of shape (n_samples, n_features_in_)
            A new array of X's float dtype.

        Raises
        ------
        ValueError
            As transform.
        """
        X = self._checked(X)
        out = X.astype(np.float64)
        if self.with_std:
            out *= self.scale_
        if self.with_mean:
            out += self.mean_
        return out.astype(X.dtype, copy=False)

    def __repr__(self):
        return f"StandardScaler(with_mean={self.with_mean}, with_std={self.with_std})"


def one_hot(
    labels: ArrayLike, classes: ArrayLike | None = None, dtype: DTypeLike = np.float64
) -> tuple[NDArray[Any], NDArray[Any]]:
    """One-hot encode 1-D labels: returns (encoded, classes).

    encoded is (n, len(classes)) of `dtype` with encoded[i, j] = 1 where labels[i] ==
    classes[j]. classes defaults to the sorted distinct labels (the order pynn's
    classifiers use for classes_); given, its order is the column order. A label that is not
    in classes is a ValueError. Decode with classes[encoded.argmax(axis=1)].

    Parameters
    ----------
    labels : array_like of shape (n_samples,)
        Labels of any type (numbers, strings, bools).
    classes : array_like or None, default None
        The distinct labels, in column order (None: the sorted distinct labels).
    dtype : numpy dtype, default numpy.float64
        The encoded array's dtype.

    Returns
    -------
    encoded : numpy.ndarray of shape (n_samples, n_classes)
        The one-hot rows.
    classes : numpy.ndarray of shape (n_classes,)
        The labels of the columns.

    Raises
    ------
    ValueError
        labels not 1-D, empty without classes, repeated or empty classes, a label not in
        classes, or labels and classes mixing strings and numbers.
    """
    labels = as_labels(labels, "labels")
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1-D, got shape {labels.shape}")
    if classes is None:
        if labels.size == 0:
            raise ValueError("labels is empty: pass classes to encode no samples")
        classes = np.unique(labels)
    else:
        classes = as_labels(classes, "classes")
        if classes.ndim != 1 or classes.size == 0:
            raise ValueError(
                f"classes must be a non-empty 1-D list of labels, got shape {classes.shape}"
            )
        if len(np.unique(classes)) != len(classes):
            raise ValueError("classes has repeated labels")
    dtype = np.dtype(dtype)
    column = _positions(labels, classes)
    encoded = np.zeros((labels.size, classes.size), dtype)
    encoded[np.arange(labels.size), column] = 1
    return encoded, classes


def _positions(labels, classes):
    """The column of each label in `classes` (any order); ValueError for unknown labels."""
    if labels.size == 0:
        return np.zeros(0, np.intp)
    strings = {labels.dtype.kind in "US", classes.dtype.kind in "US"}
    if len(strings) > 1:
        raise ValueError(
            f"labels and classes mix strings and numbers: labels "
            f"{labels[:5].tolist()}, classes {classes[:5].tolist()}"
        )
    order = np.argsort(classes, kind="stable")
    found = np.minimum(np.searchsorted(classes, labels, sorter=order), classes.size - 1)
    column = order[found]
    unknown = classes[column] != labels
    if unknown.any():
        raise ValueError(
            f"labels has values not in classes: {np.unique(labels[unknown])[:5].tolist()}"
        )
    return column


def polynomial_features(
    x: ArrayLike, degree: int, include_bias: bool = True
) -> NDArray[np.floating[Any]]:
    """The monomials of x's columns up to `degree`, as new columns.

    For one feature (x 1-D, or a column (n, 1)): columns x^0, x^1, ..., x^degree, or
    x^1 ... x^degree with include_bias=False (the notes' polynomial regression; a pynn
    Dense layer has its own bias, so use include_bias=False in front of one). For several
    features: every monomial of total degree 0..degree, in scikit-learn's
    PolynomialFeatures order (by degree, then lexicographic: 1, a, b, a^2, ab, b^2, ...).
    Returns a 2-D array of x's float dtype (integers become float64).

    Parameters
    ----------
    x : array_like of shape (n_samples,) or (n_samples, n_features)
        Finite numbers.
    degree : int
        The highest total degree (>= 0).
    include_bias : bool, default True
        Include the constant column x^0.

    Returns
    -------
    numpy.ndarray of shape (n_samples, n_output_features)
        The monomials as columns.

    Raises
    ------
    TypeError
        degree not an int, or include_bias not a bool.
    ValueError
        degree < 0, degree 0 without the bias, or x holding NaN or infinity.
    """
    if isinstance(degree, (bool, np.bool_)) or not isinstance(degree, numbers.Integral):
        raise TypeError(f"degree must be a non-negative int, got {degree!r}")
    if degree < 0:
        raise ValueError(f"degree must be non-negative, got {degree}")
    if not isinstance(include_bias, (bool, np.bool_)):
        raise TypeError(f"include_bias must be True or False, got {include_bias!r}")
    if degree == 0 and not include_bias:
        raise ValueError("degree=0 with include_bias=False leaves no columns")
    x = np.asarray(x) if not isinstance(x, np.ndarray) else x
    if x.ndim == 1:
        x = x.reshape(-1, 1)
    x = _float_features(x, "x")
    columns = []
    for d in range(0 if include_bias else 1, int(degree) + 1):
        for combination in itertools.combinations_with_replacement(range(x.shape[1]), d):
            column = np.ones(x.shape[0], x.dtype)
            for feature in combination:
                column = column * x[:, feature]
            columns.append(column)
    return np.stack(columns, axis=1)
