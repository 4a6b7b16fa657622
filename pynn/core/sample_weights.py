"""Sample weights (issue 17): checking a user's sample_weight, and the weighted metric
totals of pynn.core.targets.

A weighted loss is sum_i w_i l_i / sum_i w_i over the rows it covers (a batch in
training, every row in evaluate), the normalisation of pynn's loss kernels, of
scikit-learn's MLP (np.average with weights) and of PyTorch's reduction="none" idiom
(l * w).sum() / w.sum(); its gradient's row i is scaled by w_i / sum_i w_i. The metrics
are scikit-learn's accuracy_score and r2_score with sample_weight (docs/model.md,
"Sample weights").
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray


def check_sample_weight(sample_weight: ArrayLike, n: int, dtype: DTypeLike) -> NDArray[Any]:
    """sample_weight checked: a 1-D array of n finite weights >= 0, not all zero, also
    in `dtype` (a float32 model's weights must not overflow or all round to 0).

    Parameters
    ----------
    sample_weight : array_like of shape (n,)
        One weight per sample (numbers: bool, integer or float).
    n : int
        The number of samples.
    dtype : numpy dtype
        The model's dtype, which the training step's weights take.

    Returns
    -------
    numpy.ndarray of shape (n,), float64
        The weights as float64 (a new array, or sample_weight itself when it is one).

    Raises
    ------
    TypeError
        Not array-like or not numbers.
    ValueError
        Not 1-D of length n, NaN, infinite or negative weights, or all zero.
    """
    try:
        w = np.asarray(sample_weight)
    except (TypeError, ValueError):
        kind = type(sample_weight).__name__
        raise TypeError(f"sample_weight must be a 1-D array-like of numbers, got {kind}") from None
    if w.dtype.kind not in "biuf":
        raise TypeError(f"sample_weight must hold numbers, got dtype {w.dtype}")
    if w.shape != (n,):
        raise ValueError(
            f"sample_weight must be 1-D with one weight per sample, shape ({n},), got {w.shape}"
        )
    w = w.astype(np.float64, copy=False)
    bad = ~(np.isfinite(w) & (w >= 0))
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"sample_weight must be finite and non-negative, got {float(w[i])} at index {i}"
        )
    with np.errstate(over="ignore"):
        narrow = w.astype(dtype)
    if not np.isfinite(narrow).all():
        raise ValueError(f"sample_weight holds weights too large for the model's {dtype}")
    if not w.any():
        raise ValueError("sample_weight must not be all zero: its sum is the loss's divisor")
    if not narrow.any():
        raise ValueError(
            f"sample_weight's weights all round to zero in the model's {np.dtype(dtype)}"
        )
    return w


def accumulate_weighted(
    kind: str, total: NDArray[Any], out: NDArray[Any], target: NDArray[Any], weights: ArrayLike
) -> None:
    """Targets.accumulate with weights: add the weights of a batch's correct rows (or,
    for "values" and "rates", w_i times its squared errors, row after row in float64) to
    `total`.

    Parameters
    ----------
    kind : str
        The Targets' kind.
    total : numpy.ndarray
        The running sum (Targets.new_total(weighted=True)), updated in place.
    out : numpy.ndarray of shape (n, K)
        The batch's outputs.
    target : numpy.ndarray
        The batch's encoded targets.
    weights : array_like of shape (n,)
        The batch's weights.
    """
    w = np.asarray(weights, dtype=np.float64)
    if kind in ("values", "rates"):
        prediction = np.asarray(out, np.float64)
        if kind == "rates":  # the residuals of the rates exp(out), as unweighted
            with np.errstate(over="ignore"):
                prediction = np.exp(np.asarray(out)).astype(np.float64)
        residual = prediction - target
        squares = w[:, None] * (residual * residual)
        squares[0] += total
        total[...] = np.add.accumulate(squares, axis=0)[-1]
        return
    if kind == "labels":
        row = np.argmax(out, axis=1) == target
    elif kind == "probabilities":
        row = np.argmax(out, axis=1) == np.argmax(target, axis=1)
    else:  # binary, indicator: every label of the row right
        row = ((out > 0) == (target > 0)).all(axis=1)
    total[0] += float(np.dot(w, row))


def weighted_sum_of_squares(target: ArrayLike, weights: ArrayLike) -> NDArray[np.float64]:
    """Σ w (y - ȳ)² per output, ȳ the weighted mean: weighted R²'s denominator.

    Parameters
    ----------
    target : array_like of shape (n, K)
        Encoded targets.
    weights : array_like of shape (n,)
        The sample weights.

    Returns
    -------
    numpy.ndarray of shape (K,), float64
    """
    t = np.asarray(target, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    mean = np.average(t, axis=0, weights=w)
    return (w[:, None] * (t - mean) ** 2).sum(axis=0)
