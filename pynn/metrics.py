"""Scores of predictions, as scikit-learn's sklearn.metrics computes them.

Labels may be numbers, strings or bools (not a mix of strings and numbers). Scores
(accuracy_score, r2_score) are higher-is-better; losses (zero_one_loss,
mean_squared_error, log_loss) are lower-is-better. sample_weight (one non-negative weight
per sample) turns every mean into a weighted mean.
"""

import numbers
import warnings

import numpy as np

from pynn.core.checks import check_bool

__all__ = [
    "accuracy_score",
    "zero_one_loss",
    "confusion_matrix",
    "log_loss",
    "mean_squared_error",
    "r2_score",
    "METRICS",
]


# ---- checking the arguments --------------------------------------------------------------
def as_labels(y, name):
    """Labels checked and as an array (also pynn.data's label check).

    Parameters
    ----------
    y : array-like
        1-D labels (numbers, strings or bools), or 2-D with one row per sample (a row is
        one label, as in multi-label indicator matrices).
    name : str
        The argument's name, for the errors.

    Returns
    -------
    numpy.ndarray
        y as an array; an object array of strings becomes a str array.

    Raises
    ------
    ValueError
        When y is not 1-D or 2-D, or mixes kinds of labels.
    """
    y = np.asarray(y)
    if y.ndim == 0 or y.ndim > 2:
        raise ValueError(
            f"{name} must be 1-D labels (or 2-D, one row per sample), got shape {y.shape}"
        )
    if y.dtype == object:
        kinds = {type(v) for v in y.ravel()}
        if kinds and all(issubclass(k, str) for k in kinds):
            y = y.astype(str)
        elif kinds and all(issubclass(k, (numbers.Number, np.bool_)) for k in kinds):
            y = np.array(y.tolist())
        else:
            raise TypeError(
                f"{name} must hold labels of one kind (all numbers or all "
                f"strings), got {sorted(k.__name__ for k in kinds)}"
            )
    if y.dtype.kind not in "biufUS":
        raise TypeError(f"{name} must hold numbers, strings or bools, got dtype {y.dtype}")
    return y


def _pair(y_true, y_pred, pred_name="y_pred"):
    """y_true and y_pred as label arrays of one kind and the same shape."""
    y_true, y_pred = as_labels(y_true, "y_true"), as_labels(y_pred, pred_name)
    if y_true.shape[0] != y_pred.shape[0]:
        raise ValueError(
            f"y_true and {pred_name} have different numbers of samples: "
            f"{y_true.shape[0]} and {y_pred.shape[0]}"
        )
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and {pred_name} have different shapes: {y_true.shape} and {y_pred.shape}"
        )
    _same_kind(y_true, y_pred, "y_true", pred_name)
    if y_true.shape[0] == 0:
        raise ValueError("y_true is empty")
    return y_true, y_pred


def _same_kind(a, b, a_name, b_name):
    if (a.dtype.kind in "US") != (b.dtype.kind in "US"):
        raise ValueError(
            f"{a_name} and {b_name} mix strings and numbers: "
            f"{a.ravel()[:3].tolist()} and {b.ravel()[:3].tolist()}"
        )


def _values(y, name):
    """y as a float64 array of 1 or 2 dimensions, finite."""
    y = np.asarray(y)
    if y.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold numbers, got dtype {y.dtype}")
    if y.ndim not in (1, 2):
        raise ValueError(f"{name} must be 1-D or 2-D (samples, outputs), got shape {y.shape}")
    y = y.astype(np.float64)
    if not np.isfinite(y).all():
        raise ValueError(f"{name} contains NaN or infinity")
    return y


def _value_pair(y_true, y_pred):
    y_true, y_pred = _values(y_true, "y_true"), _values(y_pred, "y_pred")
    if y_true.shape[0] != y_pred.shape[0]:
        raise ValueError(
            f"y_true and y_pred have different numbers of samples: "
            f"{y_true.shape[0]} and {y_pred.shape[0]}"
        )
    if y_true.shape[0] == 0:
        raise ValueError("y_true is empty")
    y_true, y_pred = y_true.reshape(len(y_true), -1), y_pred.reshape(len(y_pred), -1)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and y_pred have different numbers of outputs: "
            f"{y_true.shape[1]} and {y_pred.shape[1]}"
        )
    return y_true, y_pred


def _weights(sample_weight, n):
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight)
    if w.dtype.kind not in "biuf":
        raise TypeError(f"sample_weight must hold numbers, got dtype {w.dtype}")
    w = w.astype(np.float64)
    if w.shape != (n,):
        raise ValueError(
            f"sample_weight must have one weight per sample, shape ({n},), got {w.shape}"
        )
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("sample_weight must be finite and non-negative")
    if w.sum() == 0:
        raise ValueError("sample_weight sums to zero")
    return w


def _multioutput(per_output, multioutput, weights_name="multioutput"):
    if isinstance(multioutput, str):
        if multioutput == "raw_values":
            return per_output
        if multioutput == "uniform_average":
            return float(np.mean(per_output))
        raise ValueError(
            f"multioutput must be 'raw_values', 'uniform_average' or an array of "
            f"weights, got {multioutput!r}"
        )
    weights = np.asarray(multioutput, dtype=np.float64)
    if weights.shape != per_output.shape:
        raise ValueError(
            f"{weights_name} weights must have one weight per output "
            f"({per_output.size}), got shape {weights.shape}"
        )
    return float(np.average(per_output, weights=weights))


# ---- classification ----------------------------------------------------------------------
def _correct(y_true, y_pred):
    """Whether each sample is predicted right (a 2-D row counts only when all of it is)."""
    y_true, y_pred = _pair(y_true, y_pred)
    hit = y_true == y_pred
    return hit if hit.ndim == 1 else hit.all(axis=1)


def accuracy_score(y_true, y_pred, normalize=True, sample_weight=None):
    """The fraction of samples predicted right (higher is better), or their number.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_labels)
        The true labels (numbers, strings or bools); a 2-D row (multi-label) counts as
        right only when all of it is.
    y_pred : array-like of the same shape
        The predicted labels, of the same kind.
    normalize : bool, default True
        The fraction; False gives the number of samples right (their total weight).
    sample_weight : array-like of shape (n_samples,) or None
        Non-negative weights, one per sample; None weighs all alike.

    Returns
    -------
    float
        The (weighted) fraction in [0, 1], or the (weighted) count.
    """
    check_bool(normalize, "normalize")
    hit = _correct(y_true, y_pred)
    w = _weights(sample_weight, hit.size)
    if normalize:
        return float(np.average(hit, weights=w))
    return float(hit.sum() if w is None else np.dot(hit, w))


def zero_one_loss(y_true, y_pred, normalize=True, sample_weight=None):
    """The fraction of samples predicted wrong, 1 - accuracy (lower is better), or their
    number.

    Parameters
    ----------
    y_true, y_pred, sample_weight
        As accuracy_score.
    normalize : bool, default True
        The fraction; False gives the number of samples wrong (their total weight).

    Returns
    -------
    float
        The (weighted) fraction in [0, 1], or the (weighted) count.
    """
    check_bool(normalize, "normalize")
    miss = ~_correct(y_true, y_pred)
    w = _weights(sample_weight, miss.size)
    if normalize:
        return float(np.average(miss, weights=w))
    return float(miss.sum() if w is None else np.dot(miss, w))


def _check_label_list(labels, name="labels"):
    labels = as_labels(labels, name)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(
            f"{name} must be a non-empty 1-D list of labels, got shape {labels.shape}"
        )
    if len(np.unique(labels)) != labels.size:
        raise ValueError(f"{name} has repeated labels")
    return labels


def _index_in(values, labels):
    """The position of each value in `labels` (any order), -1 where it is not there."""
    order = np.argsort(labels, kind="stable")
    found = np.minimum(np.searchsorted(labels, values, sorter=order), labels.size - 1)
    position = order[found]
    return np.where(labels[position] == values, position, -1)


def confusion_matrix(y_true, y_pred, labels=None, sample_weight=None, normalize=None):
    """C[i, j] = the number (total weight) of samples of true label labels[i] predicted as
    labels[j]: rows are true labels, columns predictions.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        The true labels.
    y_pred : array-like of shape (n_samples,)
        The predicted labels, of the same kind.
    labels : array-like of shape (n_labels,) or None
        The labels of the rows and columns, in this order; samples whose labels are not
        in it are left out (at least one of y_true's must be). None: the sorted union of
        y_true's and y_pred's labels.
    sample_weight : array-like of shape (n_samples,) or None
        Non-negative weights, one per sample.
    normalize : {None, "true", "pred", "all"}
        None counts; "true" makes the rows sum to 1, "pred" the columns, "all" the
        matrix.

    Returns
    -------
    numpy.ndarray of shape (n_labels, n_labels)
        int64 counts without weights or normalize; else float64.
    """
    y_true, y_pred = _pair(y_true, y_pred)
    if y_true.ndim != 1:
        raise ValueError(f"y_true must be 1-D labels, got shape {y_true.shape}")
    if normalize not in (None, "true", "pred", "all"):
        raise ValueError(f"normalize must be None, 'true', 'pred' or 'all', got {normalize!r}")
    w = _weights(sample_weight, y_true.size)
    if labels is None:
        labels = np.unique(np.concatenate([y_true, y_pred]))
    else:
        labels = _check_label_list(labels)
        _same_kind(y_true, labels, "y_true", "labels")
        if not np.isin(y_true, labels).any():
            raise ValueError("none of labels is in y_true: at least one must be")
    row, column = _index_in(y_true, labels), _index_in(y_pred, labels)
    kept = (row >= 0) & (column >= 0)
    k = labels.size
    if w is None and normalize is None:
        counts = np.bincount(row[kept] * k + column[kept], minlength=k * k)
        return counts.reshape(k, k).astype(np.int64)
    weights = np.ones(y_true.size) if w is None else w
    matrix = np.bincount(
        row[kept] * k + column[kept], weights=weights[kept], minlength=k * k
    ).reshape(k, k)
    if normalize is not None:
        total = {
            "true": matrix.sum(axis=1, keepdims=True),
            "pred": matrix.sum(axis=0, keepdims=True),
            "all": matrix.sum(),
        }[normalize]
        with np.errstate(invalid="ignore", divide="ignore"):
            matrix = np.nan_to_num(matrix / total)  # an empty row/column stays 0
    return matrix


def log_loss(y_true, y_proba, labels=None, normalize=True, sample_weight=None):
    """Cross-entropy of predicted probabilities: the mean of -log p(true label) (lower is
    better), or the sum.

    Probabilities are clipped to [eps, 1 - eps] (eps of y_proba's float dtype, as
    scikit-learn) so that a confident wrong 0 gives a large finite loss, not infinity.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        The true labels.
    y_proba : array-like of shape (n_samples, n_labels) or (n_samples,)
        Probabilities in [0, 1], one column per label of `labels` in sorted order,
        whatever the order of `labels` (as scikit-learn, and as predict_proba gives with
        labels=model.classes_); a row not summing to 1 warns. 1-D: the probability of the
        second (larger) of two labels.
    labels : array-like or None
        Every label the columns stand for (at least two); None: y_true's distinct labels.
    normalize : bool, default True
        The (weighted) mean; False gives the (weighted) sum.
    sample_weight : array-like of shape (n_samples,) or None
        Non-negative weights, one per sample.

    Returns
    -------
    float
        The loss, >= 0.
    """
    check_bool(normalize, "normalize")
    y_true = as_labels(y_true, "y_true")
    if y_true.ndim != 1:
        raise ValueError(f"y_true must be 1-D labels, got shape {y_true.shape}")
    p = _probabilities(y_proba, y_true.size)
    labels = _log_loss_labels(y_true, labels)
    p = _column_per_label(p, labels)
    column = _index_in(y_true, np.sort(labels))
    if (column < 0).any():
        raise ValueError(
            f"y_true has labels not in labels: {np.unique(y_true[column < 0])[:5].tolist()}"
        )
    eps = np.finfo(p.dtype).eps
    sums = p.sum(axis=1)
    if not np.allclose(sums, 1, rtol=np.sqrt(eps), atol=0):
        warnings.warn(
            "the rows of y_proba do not sum to 1: pass probabilities", UserWarning, stacklevel=2
        )
    chosen = np.clip(p[np.arange(y_true.size), column], eps, 1 - eps)
    losses = -np.log(chosen.astype(np.float64))
    w = _weights(sample_weight, y_true.size)
    if normalize:
        return float(np.average(losses, weights=w))
    return float(losses.sum() if w is None else np.dot(losses, w))


def _probabilities(y_proba, n):
    """log_loss's y_proba checked: n rows of probabilities, as a float array (float32 and
    wider kept, anything else float64)."""
    p = np.asarray(y_proba)
    if p.dtype.kind not in "biuf":
        raise TypeError(f"y_proba must hold probabilities (numbers), got dtype {p.dtype}")
    p = p.astype(p.dtype if p.dtype.kind == "f" and p.dtype.itemsize >= 4 else np.float64)
    if p.ndim not in (1, 2) or p.shape[0] != n:
        raise ValueError(
            f"y_proba must have one row per sample of y_true ({n}), got shape {p.shape}"
        )
    if n == 0:
        raise ValueError("y_true is empty")
    if not np.isfinite(p).all() or (p < 0).any() or (p > 1).any():
        raise ValueError("y_proba must hold probabilities in [0, 1]")
    return p


def _log_loss_labels(y_true, labels):
    """The labels the columns of log_loss's y_proba stand for: given, or y_true's."""
    if labels is None:
        labels = np.unique(y_true)
        if labels.size == 1:
            raise ValueError(
                f"y_true has only one label ({labels[0]!r}): pass all the "
                f"labels the columns of y_proba stand for with labels="
            )
        return labels
    labels = _check_label_list(labels)
    _same_kind(y_true, labels, "y_true", "labels")
    if labels.size < 2:
        raise ValueError("labels must name at least two labels")
    return labels


def _column_per_label(p, labels):
    """y_proba with one column per label: a 1-D one (two labels) as (1 - p, p)."""
    if p.ndim == 1:
        if labels.size != 2:
            raise ValueError(
                f"a 1-D y_proba is for two labels, but there are {labels.size}: "
                f"give one column per label"
            )
        p = np.stack([1 - p, p], axis=1)
    if p.shape[1] != labels.size:
        raise ValueError(
            f"y_proba has {p.shape[1]} columns but there are {labels.size} "
            f"labels {labels[:10].tolist()}: pass labels= naming one label per "
            f"column"
        )
    return p


# ---- regression --------------------------------------------------------------------------
def mean_squared_error(y_true, y_pred, sample_weight=None, multioutput="uniform_average"):
    """The mean of (y_true - y_pred)² over samples (lower is better).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        The true values (numbers).
    y_pred : array-like of the same shape
        The predicted values.
    sample_weight : array-like of shape (n_samples,) or None
        Non-negative weights, one per sample.
    multioutput : "uniform_average", "raw_values" or array-like of shape (n_outputs,)
        For 2-D y: the plain mean of the outputs' errors, the per-output array, or their
        average with these weights.

    Returns
    -------
    float or numpy.ndarray of shape (n_outputs,)
        The error (the array for multioutput="raw_values").
    """
    y_true, y_pred = _value_pair(y_true, y_pred)
    w = _weights(sample_weight, y_true.shape[0])
    per_output = np.average((y_true - y_pred) ** 2, axis=0, weights=w)
    return _multioutput(per_output, multioutput)


def r2_score(y_true, y_pred, sample_weight=None, multioutput="uniform_average"):
    """The coefficient of determination 1 - SSE / SST (higher is better, 1 is perfect).

    An output whose true values are constant (SST = 0) scores 1 when predicted exactly, else
    0 (as scikit-learn).

    Parameters
    ----------
    y_true, y_pred, sample_weight, multioutput
        As mean_squared_error.

    Returns
    -------
    float or numpy.ndarray of shape (n_outputs,)
        R² (the array for multioutput="raw_values"); NaN, with a UserWarning, for fewer
        than two samples, where it is undefined.
    """
    y_true, y_pred = _value_pair(y_true, y_pred)
    if y_true.shape[0] < 2:
        warnings.warn("R² is not defined for fewer than two samples", UserWarning, stacklevel=2)
        return float("nan")
    w = _weights(sample_weight, y_true.shape[0])
    weight = np.ones(y_true.shape[0]) if w is None else w
    weight = weight[:, None]
    sse = (weight * (y_true - y_pred) ** 2).sum(axis=0)
    mean = np.average(y_true, axis=0, weights=w)
    sst = (weight * (y_true - mean) ** 2).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_output = np.where(
            sst > 0, 1 - sse / np.where(sst > 0, sst, 1), np.where(sse == 0, 1.0, 0.0)
        )
    return _multioutput(per_output, multioutput)


# ---- by name -----------------------------------------------------------------------------
# name -> (function, greater_is_better)
METRICS = {
    "accuracy": (accuracy_score, True),
    "zero_one_loss": (zero_one_loss, False),
    "mean_squared_error": (mean_squared_error, False),
    "log_loss": (log_loss, False),
    "r2": (r2_score, True),
}
