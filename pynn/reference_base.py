"""The helpers every module of the test oracle shares (pynn.reference, reference_losses,
reference_optim): the dtype checks, writing into `out=`, the float64 detour and its one
rounding, and the stable sigmoid and log-sum-exp (the conventions: pynn.reference's
docstring). Like them it imports only NumPy and the standard library."""

import numpy as np

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _dtype(**arrays):
    """The common float dtype of the named arrays (None skipped); TypeError if mixed."""
    dtype = None
    for name, arr in arrays.items():
        if arr is None:
            continue
        if arr.dtype not in _FLOATS:
            raise TypeError(f"{name} must be float32 or float64, got {arr.dtype}")
        if dtype is None:
            dtype = arr.dtype
        elif arr.dtype != dtype:
            raise TypeError(f"{name} has dtype {arr.dtype}, expected {dtype}")
    return dtype


def _store(result, out, name):
    """Write result into out (checked shape) and return it; return result if out is None
    (as an array: NumPy gives a scalar for a 0-d input, the kernels a 0-d array)."""
    if out is None:
        return np.asarray(result)
    if out.shape != result.shape:
        raise ValueError(f"{name} must have shape {result.shape}, got {out.shape}")
    if out.dtype != result.dtype:
        raise TypeError(f"{name} has dtype {out.dtype}, expected {result.dtype}")
    out[...] = result
    return out


def _sigmoid(z):
    """1/(1+exp(-z)) elementwise, stable: exp only of -|z|; NaN stays NaN."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def _wide(x):
    """x as float64 (exact for float32 and float64 values), None stays None."""
    return None if x is None else np.asarray(x, dtype=np.float64)


def _narrow(result, dtype):
    """result (computed in float64) rounded once to dtype, as an array."""
    with np.errstate(over="ignore"):  # beyond float32's range is inf, as in the kernels
        return np.asarray(result, dtype=dtype)


def _log_sum_exp(x):
    """(m, log_s, e) for the rows of x (n, k) in float64: m the row maximum, e =
    exp(x - m) and log_s = log(sum(e)) = lse - m >= 0.

    sum(e) = 1 + t with t the sum of e without one maximal term (exp(0) = 1 exactly),
    so log_s = log1p(t): log(1 + tiny) keeps its digits. A row whose maximum is not
    finite (NaN, +inf, all -inf) gives NaN, as sum(e) is NaN there."""
    m = x.max(axis=1, keepdims=True)
    e = np.exp(x - m)
    rows = np.arange(x.shape[0])
    top = np.argmax(x, axis=1)
    rest = e.copy()
    rest[rows, top] = 0
    # e[top] - 1 is exactly 0 for a finite maximum and NaN otherwise
    t = rest.sum(axis=1) + (e[rows, top] - 1)
    return m, np.log1p(t)[:, None], e
