"""Checking a user's y and classes before pynn.core.targets encodes them: the shape and row
count of y, object arrays (a pandas column) read as strings or numbers, finite values, and
fit's `classes` as a sorted array of distinct labels. Every message names the argument.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:
    from pynn.core.losses import Loss


def as_y(y: Any, n: int) -> NDArray[Any]:
    """y as a 1-D or 2-D array of n rows, without object dtype.

    Parameters
    ----------
    y : array_like
        The targets.
    n : int
        The rows of X, which y must match.

    Returns
    -------
    numpy.ndarray of shape (n,) or (n, outputs)

    Raises
    ------
    ValueError
        Ragged rows, not 1-D or 2-D, or not n rows.
    TypeError
        An object array whose values are not all strings or all numbers.
    """
    try:
        y = np.asarray(y)
    except ValueError:  # NumPy's own message does not say which argument
        raise ValueError("y must be an array-like: its rows have different lengths") from None
    if y.ndim not in (1, 2):
        raise ValueError(f"y must be 1-D (n,) or 2-D (n, outputs), got shape {y.shape}")
    if y.shape[0] != n:
        raise ValueError(f"y has {y.shape[0]} rows but X has {n}")
    return without_objects(y, "y")


def without_objects(y: NDArray[Any], name: str) -> NDArray[Any]:
    """An object array of all strings (a pandas string column) or all numbers as a plain
    str or numeric array; any other object array is a TypeError naming the argument.

    Parameters
    ----------
    y : numpy.ndarray
        The array (returned as it is unless its dtype is object).
    name : str
        The argument's name in the message.

    Returns
    -------
    numpy.ndarray
        y, or its str or numeric copy of the same shape.

    Raises
    ------
    TypeError
        An object array of other values, or of strings and numbers mixed.
    """
    if y.dtype != object:
        return y
    values = y.ravel().tolist()
    if all(isinstance(v, str) for v in values):
        return y.astype(str)
    if all(
        isinstance(v, (int, float, np.integer, np.floating))
        and not isinstance(v, (bool, np.bool_))
        for v in values
    ):
        plain = np.asarray(values)
        if plain.dtype != object:
            return plain.reshape(y.shape)
    raise TypeError(
        f"{name} has dtype object with values that are not all strings or all "
        f"numbers (e.g. {values[:3]!r}): use numbers or strings"
    )


def check_finite(y: NDArray[Any], name: str = "y") -> None:
    """Raise unless y is numeric and, for floats, finite.

    Parameters
    ----------
    y : numpy.ndarray
        The targets.
    name : str, default "y"
        The argument's name in the message.

    Raises
    ------
    TypeError
        y is not numeric.
    ValueError
        y holds NaN or infinity.
    """
    if y.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be numeric, got dtype {y.dtype}")
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        raise ValueError(f"{name} contains NaN or infinity")


def check_non_negative(y: NDArray[Any], name: str = "y") -> None:
    """Raise unless every value of y is >= 0 (a Poisson loss's counts or rates).

    Parameters
    ----------
    y : numpy.ndarray
        The targets, numeric and finite (check_finite).
    name : str, default "y"
        The argument's name in the message.

    Raises
    ------
    ValueError
        y holds a negative value.
    """
    if (y < 0).any():
        raise ValueError(
            f"{name} for the poisson loss must be counts or rates >= 0, got "
            f"{first_values(y[y < 0])}"
        )


def first_values(y: ArrayLike, limit: int = 5) -> list[Any]:
    """The first few distinct values of y, for a message.

    Parameters
    ----------
    y : array_like
        The values.
    limit : int, default 5
        How many to give at most.

    Returns
    -------
    list
        The smallest `limit` distinct values, sorted.
    """
    return np.unique(y)[:limit].tolist()


def check_classes(loss: Loss, classes: ArrayLike | None) -> NDArray[Any] | None:
    """`classes` of fit as a sorted 1-D array of distinct labels (None stays None).

    Parameters
    ----------
    loss : Loss
        fit's loss (classes are for the classification losses only).
    classes : array_like or None
        The labels.

    Returns
    -------
    numpy.ndarray or None

    Raises
    ------
    ValueError
        classes for a regression loss, not 1-D, empty, objects, or NaN or infinity.
    """
    if classes is None:
        return None
    if not loss.classifies:
        raise ValueError(f"classes is for the classification losses, not {loss.name!r}")
    classes = np.asarray(classes)
    if classes.ndim != 1 or classes.size == 0:
        raise ValueError(
            f"classes must be a non-empty 1-D list of labels, got shape {classes.shape}"
        )
    classes = without_objects(classes, "classes")
    if classes.dtype.kind == "f" and not np.isfinite(classes).all():
        raise ValueError("classes contains NaN or infinity")
    return np.unique(classes)


# ---- Targets.for_loss's choice, one helper per shape of y: Targets' keyword arguments
def values_kind(y, n_outputs, kind):
    """A regression loss's targets ("values", or "rates": >= 0), finite numbers, one column
    per output.

    Parameters
    ----------
    y : numpy.ndarray
        The targets, 1-D or 2-D.
    n_outputs : int
        The model's outputs.
    kind : {"values", "rates"}
        The loss's target kind.

    Returns
    -------
    dict
        Targets' keyword arguments (kind, n_outputs, and what the kind needs).

    Raises
    ------
    ValueError
        y does not suit the loss or the model's outputs.
    """
    check_finite(y)
    if kind == "rates":
        check_non_negative(y)
    k = 1 if y.ndim == 1 else y.shape[1]
    if k != n_outputs:
        raise ValueError(f"y has {k} output(s) per sample but the model gives {n_outputs}")
    return {"kind": kind, "n_outputs": n_outputs, "squeeze": y.ndim == 1}


def columns_kind(loss, y, n_outputs, classes):
    """A classification loss's 2-D y, one column per output: "probabilities" for
    softmax_cross_entropy, else "indicator" (0/1, or -1/+1 for hinge).

    Parameters
    ----------
    loss : pynn.losses.Loss
        The loss.
    y : numpy.ndarray
        The 2-D targets.
    n_outputs : int
        The model's outputs.
    classes : array_like or None
        Must be None for a 2-D y.

    Returns
    -------
    dict
        Targets' keyword arguments (kind, n_outputs, and what the kind needs).

    Raises
    ------
    ValueError
        y does not suit the loss or the model's outputs.
    """
    hinge = loss.signed_targets
    if y.shape[1] != n_outputs:
        raise ValueError(f"y has {y.shape[1]} columns but the model gives {n_outputs} outputs")
    check_finite(y)
    if classes is not None:
        raise ValueError("classes is for 1-D labels: a 2-D y has one column per output already")
    if "probabilities" in loss.target_kinds:
        return {"kind": "probabilities", "n_outputs": n_outputs, "classes": np.arange(n_outputs)}
    if hinge and not (np.isin(y, (-1, 1)).all() or np.isin(y, (0, 1)).all()):
        raise ValueError(
            f"hinge with a 2-D y needs values -1/+1 (or 0/1) in every "
            f"column, got {first_values(y)}"
        )
    # hinge reads -1/+1; a 0/1 indicator is encoded so and predicted back as 0/1
    negative = -1.0 if hinge and np.isin(y, (-1, 1)).all() and (y == -1).any() else 0.0
    return {
        "kind": "indicator",
        "n_outputs": n_outputs,
        "classes": np.arange(n_outputs),
        "negative": negative,
        "hinge": hinge,
    }


def labels_kind(loss, y, n_outputs, classes):
    """A classification loss's 1-D y of labels (within `classes` when given): "labels",
    one output per class, for softmax_cross_entropy, else "binary", two classes on one
    output.

    Parameters
    ----------
    loss : pynn.losses.Loss
        The loss.
    y : numpy.ndarray
        The 1-D labels.
    n_outputs : int
        The model's outputs.
    classes : numpy.ndarray or None
        All the labels (None: those in y).

    Returns
    -------
    dict
        Targets' keyword arguments (kind, n_outputs, and what the kind needs).

    Raises
    ------
    ValueError
        y does not suit the loss or the model's outputs.
    """
    found = np.unique(y)
    if classes is None:
        classes = found
    else:
        missing = np.setdiff1d(found, classes)
        if missing.size:
            raise ValueError(f"y has labels {missing[:5].tolist()} not in classes")
    if classes.dtype.kind == "f" and not np.isfinite(classes).all():
        raise ValueError("y contains NaN or infinity")
    if "labels" in loss.target_kinds:
        if len(classes) != n_outputs:
            raise ValueError(
                f"y has {len(classes)} classes but the model gives {n_outputs} outputs: "
                f"softmax_cross_entropy needs one output per class (pass classes= when "
                f"some classes are missing from y)"
            )
        return {"kind": "labels", "n_outputs": n_outputs, "classes": classes}
    if n_outputs != 1 or len(classes) != 2:
        raise ValueError(
            f"{loss.name} with 1-D y needs two classes and a model with 1 output, got "
            f"{len(classes)} classes and {n_outputs} outputs: use softmax_cross_entropy "
            f"for more classes, or a 2-D (n, outputs) y for multi-label"
        )
    return {"kind": "binary", "n_outputs": 1, "classes": classes, "hinge": loss.signed_targets}
