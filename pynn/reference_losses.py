"""The losses and the accuracy count of the test oracle (pynn.reference, which exports
them): what a model's output is scored by, in plain NumPy. The conventions (float64 per-
sample losses rounded once, the weighted mean, the gradient's factors) are
pynn.reference's docstring's."""

import math

import numpy as np

from pynn.reference_base import _dtype, _log_sum_exp, _narrow, _sigmoid, _store, _wide


def _finish_loss(losses, factor, sample_weight, grad, dgrad, sample_loss, name, dtype):
    """(loss, grad) from the per-sample losses (n,) and the gradient factor (n, k),
    both float64.

    losses is rounded once to dtype (sample_loss); loss = sum(w_i * l_i) / sum(w_i) over
    those values in float64 (plain mean without weights), an overflowing sum giving inf
    as the kernels' serial double sums do; grad = c_i * factor_i with c_i = w_i /
    sum(w) (or 1/n), the product in float64 rounded once to the dtype.
    """
    n = losses.shape[0]
    losses = _narrow(losses, dtype)
    _store(losses, sample_loss, "sample_loss")
    l64 = losses.astype(np.float64)
    if sample_weight is None:
        with np.errstate(over="ignore"):  # an overflowing sum is inf, as in the kernels
            loss = float(np.sum(l64)) / n
        c = np.full(n, 1.0 / n)
    else:
        if sample_weight.shape != (n,):
            raise ValueError(f"sample_weight must have shape ({n},), got {sample_weight.shape}")
        w64 = sample_weight.astype(np.float64)
        with np.errstate(over="ignore"):  # an overflowing sum is inf, as in the kernels
            total = float(np.sum(w64))
            if not 0 < total < math.inf:
                raise ValueError("sample_weight must have a positive, finite sum")
            loss = float(np.sum(w64 * l64)) / total
        c = w64 / total
    if not grad:
        return loss, None
    return loss, _store(_narrow(c[:, None] * factor, dtype), dgrad, name)


def _check_pair(first, target, names):
    """Dtype and shape checks shared by the losses; returns the dtype."""
    dtype = _dtype(**{names[0]: first, names[1]: target})
    if first.ndim != 2 or first.shape[0] < 1 or first.shape[1] < 1:
        raise ValueError(f"{names[0]} must be (n, k) with n >= 1, k >= 1, got {first.shape}")
    if target.shape != first.shape:
        raise ValueError(f"{names[1]} must have shape {first.shape}, got {target.shape}")
    return dtype


def softmax_cross_entropy(
    logits, target, sample_weight=None, *, grad=True, dlogits=None, sample_loss=None
):
    """Cross-entropy of softmax(logits) (n, k) with integer labels (n,) or probabilities (n, k)."""
    _dtype(logits=logits, sample_weight=sample_weight, dlogits=dlogits, sample_loss=sample_loss)
    if logits.ndim != 2 or logits.shape[0] < 1 or logits.shape[1] < 1:
        raise ValueError(f"logits must be (n, k) with n >= 1, k >= 1, got {logits.shape}")
    n, k = logits.shape
    z = _wide(logits)
    m, log_s, e = _log_sum_exp(z)
    p = e / e.sum(axis=1, keepdims=True)
    # lse(z_i) - z_ij, written as log(s_i) + (m_i - z_ij): both terms >= 0 and finite
    # (m - z exact in float64 for float32 logits)
    nll = log_s + (m - z)
    if np.issubdtype(target.dtype, np.integer):
        if target.shape != (n,):
            raise ValueError(f"target labels must have shape ({n},), got {target.shape}")
        if target.size and (target.min() < 0 or target.max() >= k):
            raise ValueError(f"target labels must be in [0, {k})")
        rows = np.arange(n)
        losses = nll[rows, target]
        onehot = np.zeros_like(z)
        onehot[rows, target] = 1
        factor = p - onehot
    else:
        _check_pair(logits, target, ("logits", "target"))
        y = _wide(target)
        # terms with y_ij == 0 are exactly 0, whatever nll_ij is
        losses = np.where(y == 0, 0.0, y * nll).sum(axis=1)
        factor = p * y.sum(axis=1, keepdims=True) - y
    return _finish_loss(
        losses, factor, sample_weight, grad, dlogits, sample_loss, "dlogits", logits.dtype
    )


def sigmoid_binary_cross_entropy(
    logits, target, sample_weight=None, *, grad=True, dlogits=None, sample_loss=None
):
    """Binary cross-entropy of sigmoid(logits) (n, k) with targets in [0, 1] (n, k)."""
    _check_pair(logits, target, ("logits", "target"))
    _dtype(logits=logits, sample_weight=sample_weight, dlogits=dlogits, sample_loss=sample_loss)
    z, y = _wide(logits), _wide(target)
    # max(z, 0) - z y is z (1 - y) for z > 0 and -z y otherwise: for y in [0, 1] two
    # terms >= 0, nothing cancels (float32's z y and 1 - y are exact in float64). An
    # infinite z keeps the plain form, whose inf - inf is NaN as in the kernels.
    with np.errstate(invalid="ignore"):
        linear = np.where(
            np.isfinite(z), np.where(z > 0, z * (1 - y), -z * y), np.maximum(z, 0) - z * y
        )
    losses = (linear + np.log1p(np.exp(-np.abs(z)))).sum(axis=1)
    return _finish_loss(
        losses, _sigmoid(z) - y, sample_weight, grad, dlogits, sample_loss, "dlogits", logits.dtype
    )


def mse(pred, target, sample_weight=None, *, grad=True, dpred=None, sample_loss=None):
    """Half squared error, l_i = 1/2 sum_j (pred - y)^2, of pred (n, k) against target (n, k)."""
    _check_pair(pred, target, ("pred", "target"))
    _dtype(pred=pred, sample_weight=sample_weight, dpred=dpred, sample_loss=sample_loss)
    d = _wide(pred) - _wide(target)  # exact in float64 for float32 values
    losses = 0.5 * (d * d).sum(axis=1)
    return _finish_loss(losses, d, sample_weight, grad, dpred, sample_loss, "dpred", pred.dtype)


def l1(pred, target, sample_weight=None, *, grad=True, dpred=None, sample_loss=None):
    """Absolute error, l_i = sum_j |pred - y|, of pred (n, k) against target (n, k)."""
    _check_pair(pred, target, ("pred", "target"))
    _dtype(pred=pred, sample_weight=sample_weight, dpred=dpred, sample_loss=sample_loss)
    d = _wide(pred) - _wide(target)  # rounds to 0 only when pred == target
    return _finish_loss(
        np.abs(d).sum(axis=1),
        np.sign(d),
        sample_weight,
        grad,
        dpred,
        sample_loss,
        "dpred",
        pred.dtype,
    )


def hinge(pred, target, sample_weight=None, *, grad=True, dpred=None, sample_loss=None):
    """Hinge loss, l_i = sum_j max(0, 1 - y*pred), of pred (n, k) against y in {-1, +1} (n, k)."""
    dtype = _check_pair(pred, target, ("pred", "target"))
    _dtype(pred=pred, sample_weight=sample_weight, dpred=dpred, sample_loss=sample_loss)
    y = _wide(target)
    margin = y * _wide(pred)  # exact: y is -1 or +1
    losses = np.maximum(1 - margin, 0).sum(axis=1)
    factor = np.where(margin < 1, -y, 0.0)
    return _finish_loss(losses, factor, sample_weight, grad, dpred, sample_loss, "dpred", dtype)


def poisson(pred, target, sample_weight=None, *, grad=True, dpred=None, sample_loss=None):
    """Half Poisson deviance of the log-rate pred (n, k) against counts y >= 0 (n, k):
    l_i = sum_j exp(z) + y (log y - 1 - z), 0 log 0 = 0; grad c_i (exp(z) - y)."""
    dtype = _check_pair(pred, target, ("pred", "target"))
    _dtype(pred=pred, sample_weight=sample_weight, dpred=dpred, sample_loss=sample_loss)
    z, y = _wide(pred), _wide(target)
    if not (y >= 0).all() or not np.isfinite(y).all():
        raise ValueError("target must be finite and non-negative")
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        e = np.exp(z)
        # y == 0 is exp(z) alone, and an overflowing exp an infinite loss (no inf - inf)
        terms = np.where(
            (y == 0) | (e == np.inf), e, e + y * ((np.log(np.where(y == 0, 1.0, y)) - 1.0) - z)
        )
    return _finish_loss(
        terms.sum(axis=1), e - y, sample_weight, grad, dpred, sample_loss, "dpred", dtype
    )


# ---- metrics -------------------------------------------------------------------------------


def count_argmax_hits(out, labels):
    """The number of rows of out (n, k) whose argmax equals labels[i] (np.argmax: the
    first largest value, or the first NaN)."""
    _dtype(out=out)
    if out.ndim != 2 or out.shape[1] < 1:
        raise ValueError(f"out must be (n, k) with k >= 1, got {out.shape}")
    if labels.shape != (out.shape[0],):
        raise ValueError(f"labels must have shape ({out.shape[0]},), got {labels.shape}")
    return int(np.count_nonzero(np.argmax(out, axis=1) == labels))
