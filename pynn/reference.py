"""pynn.reference: every kernel of docs/kernels.md in plain NumPy, the test oracle.

Same names, arguments, defaults and results as ``pynn._kernels``; the tests check
one against the other. It imports nothing of pynn (only NumPy and the standard
library), so a bug in the library cannot hide in its own oracle. It is written to
be read: the maths of each function is visible in a few lines.

Numerical conventions (the oracle is at least as accurate as the kernels it judges):
- Results keep their dtype: float32 in, float32 out. Python scalars are weak (NEP 50):
  an activation's param is rounded to the dtype first, as a torch tensor op would.
- The transcendental functions (activations, their derivatives, softmax, log_softmax,
  the losses) are computed in float64 from the inputs' exact values and rounded once
  to the dtype at the end, so a float32 result is within about half an ulp of the
  exact one (no float32 intermediate rounds, nothing cancels in float32). float64
  inputs take the same float64 code, whose forms are chosen so that nothing cancels
  either (np.longdouble would add 11 bits on x86 only, and is software-slow where it
  is IEEE quad; the tests' float64 tolerance is thousands of ulp of the terms).
- Stable forms everywhere: sigmoid through exp(-|z|), log-sum-exp with the row
  maximum subtracted and log(sum) as log1p of the sum without one maximal term (the
  loss of a confident row, log(1 + tiny), keeps its digits), log1p(exp(-|z|)), expm1
  for elu, 1 - a*a exact for tanh'. Exponentials only ever see arguments <= 0, so no
  intermediate overflows and every finite logit (up to +-1e30 in float32 and float64)
  gives a finite loss and gradient.
- Losses: the per-sample loss l_i is computed in float64 and rounded once to the
  input dtype (sample_loss); the returned loss is a Python float, sum_i w_i l_i /
  sum_i w_i over those l_i with both sums taken over float64 values (np.sum; an
  overflowing sum gives inf). The gradient is c_i * (...) with c_i = w_i / sum(w)
  (or 1/n), both factors in float64, rounded once to the dtype.
- Optimizers follow torch.optim's single-tensor code line by line: scalars such
  as bias corrections and step sizes in Python double, array ops in the array's
  dtype, updating param and buffers in place.

Validation is deliberately light (unknown activation, misplaced param, missing
saved tensor, dtype mismatch, a few shapes and hyperparameters); the full
argument checking lives in the Cython layer. ``workspace=`` is accepted and
ignored.

The oracle is four modules, all exported here: this one (activations, matrix kernels),
pynn.reference_losses (losses, count_argmax_hits), pynn.reference_optim (optimizers) and
pynn.reference_base (the helpers they share).
"""

import numpy as np

from pynn.reference_base import _dtype, _log_sum_exp, _narrow, _sigmoid, _store, _wide
from pynn.reference_losses import (
    count_argmax_hits,
    hinge,
    l1,
    mse,
    poisson,
    sigmoid_binary_cross_entropy,
    softmax_cross_entropy,
)
from pynn.reference_optim import (
    adam_update,
    clip_grad_norm,
    clip_grad_value,
    grad_norm,
    sgd_update,
)

__all__ = [
    "ACTIVATIONS",
    "activation_saves",
    "activation_forward",
    "activation_derivative",
    "activation_backward",
    "prelu_forward",
    "prelu_backward",
    "softmax",
    "log_softmax",
    "gemm",
    "dense_forward",
    "dense_backward",
    "softmax_cross_entropy",
    "sigmoid_binary_cross_entropy",
    "mse",
    "l1",
    "hinge",
    "poisson",
    "sgd_update",
    "adam_update",
    "grad_norm",
    "clip_grad_norm",
    "clip_grad_value",
    "count_argmax_hits",
]

ACTIVATIONS = (
    "identity",
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "softplus",
    "elu",
    "step",
    "sign",
)

_DEFAULT_PARAM = {"leaky_relu": 0.01, "elu": 1.0}


# ---- small helpers ---------------------------------------------------------


def _param(activation, param):
    """The activation's parameter (default filled in); ValueError for bad name/param."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; expected one of {ACTIVATIONS}")
    if activation in _DEFAULT_PARAM:
        return _DEFAULT_PARAM[activation] if param is None else float(param)
    if param is not None:
        raise ValueError(f"activation {activation!r} takes no param, got {param!r}")
    return None


# ---- activations -----------------------------------------------------------


def activation_saves(activation, param=None):
    """What f' reads: "output" (a = f(z)), "input" (z) or None (identity)."""
    p = _param(activation, param)
    if activation in ("step", "sign"):
        raise ValueError(f"activation {activation!r} is not differentiable (inference only)")
    if activation == "identity":
        return None
    if activation in ("softplus", "elu") or (activation == "leaky_relu" and p < 0):
        return "input"
    return "output"


def _forward(z, activation, p):
    """f(z) elementwise, same shape and dtype as z: computed in float64 (p rounded to
    z's dtype first), rounded once."""
    if activation == "identity":
        return z.copy()
    if activation in ("relu", "step", "sign"):  # exact in any dtype
        return _forward_wide(z, activation, p)
    if p is not None:
        p = float(z.dtype.type(p))
    return _narrow(_forward_wide(_wide(z), activation, p), z.dtype)


def _forward_wide(z, activation, p):
    if activation == "sigmoid":
        return _sigmoid(z)
    if activation == "tanh":
        return np.tanh(z)
    if activation == "relu":
        return np.where(z < 0, 0, z)
    if activation == "leaky_relu":
        return np.where(z < 0, p * z, z)
    if activation == "softplus":
        return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))
    if activation == "elu":
        # expm1 of z clamped to <= 0 (where(), not minimum(), keeps -0.0's sign)
        return np.where(z > 0, z, p * np.expm1(np.where(z > 0, 0, z)))
    if activation == "step":
        return np.heaviside(z, z.dtype.type(0))
    return np.sign(z)  # "sign"


def activation_forward(x, activation, param=None, *, out=None):
    """out = f(x), elementwise over any shape."""
    p = _param(activation, param)
    _dtype(x=x, out=out)
    return _store(_forward(x, activation, p), out, "out")


def _derivative_wide(activation, saves, p, a, z):
    """f'(.) in float64 from a or z (float64 arrays, None where not read) as saves says;
    p is the param already rounded to the arrays' dtype."""
    if activation == "sigmoid":
        return a * (1 - a)
    if activation == "tanh":
        return 1 - a * a  # exact in float64 for a float32 a: no cancellation
    if activation == "relu":
        return (a > 0).astype(np.float64)
    if activation == "leaky_relu":
        # by saves, not by the rounded p: a slope of -1e-48 rounds to -0.0 in float32
        return np.where(a > 0, 1.0, p) if saves == "output" else np.where(z > 0, 1.0, p)
    if activation == "softplus":
        return _sigmoid(z)
    # "elu": 1 if z > 0 else alpha*exp(z); exp only of z <= 0
    return np.where(z > 0, 1.0, p * np.exp(np.minimum(z, 0)))


def _derivative_args(activation, param, a, z, **arrays):
    """Checks shared by derivative and backward; (saves, p rounded to the dtype, dtype)."""
    saves = activation_saves(activation, param)
    p = _param(activation, param)
    dtype = _dtype(a=a, z=z, **arrays)
    if saves == "output" and a is None:
        raise ValueError(f"activation {activation!r} needs a (the forward's output)")
    if saves == "input" and z is None:
        raise ValueError(f"activation {activation!r} needs z (the forward's input)")
    if p is not None and dtype is not None:
        p = float(dtype.type(p))
    return saves, p, dtype


def activation_derivative(activation, param=None, *, a=None, z=None, out=None):
    """out = f'(.), read from a (forward output) or z (its input) as activation_saves says.

    Computed in float64 from a or z (param rounded to the dtype first), rounded once."""
    saves, p, dtype = _derivative_args(activation, param, a, z, out=out)
    if saves is None:  # identity
        like = next((t for t in (a, z, out) if t is not None), None)
        if like is None:
            raise ValueError("identity needs a, z or out to know the shape")
        return _store(np.ones_like(like), out, "out")
    d = _derivative_wide(activation, saves, p, _wide(a), _wide(z))
    return _store(_narrow(d, dtype), out, "out")


def activation_backward(dout, activation, param=None, *, a=None, z=None, out=None):
    """out = dout * f'(.), f' read from a or z as activation_saves says: f' as
    activation_derivative gives it (in the dtype: a(1 - a) of an a outside [0, 1] may
    overflow to inf there, as in the kernels), times dout, rounded once."""
    saves, p, dtype = _derivative_args(activation, param, a, z, dout=dout, out=out)
    if saves is None:
        return _store(dout.copy(), out, "out")
    d = _narrow(_derivative_wide(activation, saves, p, _wide(a), _wide(z)), dtype)
    return _store(_narrow(_wide(dout) * _wide(d), dtype), out, "out")


def prelu_forward(x, slope, *, out=None):
    """out = x if x > 0 else slope*x; x (n, features), slope (features,) or (1,) shared."""
    _dtype(x=x, slope=slope, out=out)
    return _store(np.where(x > 0, x, slope * x), out, "out")


def prelu_backward(dout, x, slope, *, input_grad=True, dx=None, dslope=None):
    """(dx, dslope): dx = dout*(1 if x>0 else slope); dslope = sum of dout*(0 if x>0 else x)."""
    dtype = _dtype(dout=dout, x=x, slope=slope, dx=dx, dslope=dslope)
    g = dout * np.where(x > 0, dtype.type(0), x)
    shared = slope.shape == (1,)
    ds = g.sum().reshape(1) if shared else g.sum(axis=0)
    ds = _store(ds, dslope, "dslope")
    if not input_grad:
        return None, ds
    return _store(dout * np.where(x > 0, dtype.type(1), slope), dx, "dx"), ds


def softmax(x, *, out=None):
    """Row-wise softmax of x (n, k): exp(x - max) / sum(exp(x - max))."""
    _dtype(x=x, out=out)
    e = np.exp(_wide(x) - _wide(x).max(axis=1, keepdims=True))
    return _store(_narrow(e / e.sum(axis=1, keepdims=True), x.dtype), out, "out")


def log_softmax(x, *, out=None):
    """Row-wise log-softmax of x (n, k): (x - max) - log(sum(exp(x - max)))."""
    _dtype(x=x, out=out)
    x64 = _wide(x)
    m, log_s, _ = _log_sum_exp(x64)
    # (x - m) <= 0 and -log_s <= 0: the two terms never cancel
    return _store(_narrow((x64 - m) - log_s, x.dtype), out, "out")


# ---- matrix kernels --------------------------------------------------------


def gemm(a, b, c=None, *, alpha=1.0, beta=0.0, trans_a=False, trans_b=False, workspace=None):
    """c = alpha*op(a)@op(b) + beta*c; op(a) (m, k), op(b) (k, n), c (m, n).

    As in BLAS, beta == 0 leaves c unread and alpha == 0 (or k == 0) leaves a and b unread."""
    _dtype(a=a, b=b, c=c)
    alpha, beta = float(alpha), float(beta)  # weak Python scalars, rounded to the dtype
    if c is None and beta != 0:
        raise ValueError("c must be given when beta != 0")
    op_a, op_b = (a.T if trans_a else a), (b.T if trans_b else b)
    # the test is on alpha rounded to the dtype; with k == 0 nothing is read either, so a
    # NaN or infinite alpha does not reach c (0 * nan would)
    if a.dtype.type(alpha) == 0 or op_a.shape[1] == 0:
        product = np.zeros((op_a.shape[0], op_b.shape[1]), dtype=a.dtype)
    else:
        product = alpha * (op_a @ op_b)
    if a.dtype.type(beta) != 0:
        product += beta * c
    return _store(product, c, "c")


def dense_forward(
    x, weight, bias=None, activation="identity", param=None, *, out=None, z=None, workspace=None
):
    """out = f(x @ weight.T + bias); x (n, in), weight (out, in), bias (out,); z = x@W.T + b."""
    p = _param(activation, param)
    _dtype(x=x, weight=weight, bias=bias, out=out, z=z)
    pre = x @ weight.T
    if bias is not None:
        pre += bias
    _store(pre, z, "z")
    return _store(_forward(pre, activation, p), out, "out")


def dense_backward(
    dout,
    x,
    weight,
    activation="identity",
    param=None,
    *,
    a=None,
    z=None,
    bias=True,
    input_grad=True,
    dweight=None,
    dbias=None,
    dx=None,
    workspace=None,
):
    """(dweight, dbias, dx): dZ = dout*f'; dweight = dZ.T @ x; dbias = dZ.sum(0); dx = dZ @ W."""
    _dtype(dout=dout, x=x, weight=weight, a=a, z=z, dweight=dweight, dbias=dbias, dx=dx)
    dz = activation_backward(dout, activation, param, a=a, z=z)
    dw = dz.T @ x
    dw = _store(dw, dweight, "dweight")
    db = None
    if bias:
        db = dz.sum(axis=0)
        db = _store(db, dbias, "dbias")
    dxv = _store(dz @ weight, dx, "dx") if input_grad else None
    return dw, db, dxv
