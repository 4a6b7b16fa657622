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
"""

import math

import numpy as np

ACTIVATIONS = ("identity", "sigmoid", "tanh", "relu", "leaky_relu", "softplus",
               "elu", "step", "sign")

_DEFAULT_PARAM = {"leaky_relu": 0.01, "elu": 1.0}
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


# ---- small helpers ---------------------------------------------------------

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


def _param(activation, param):
    """The activation's parameter (default filled in); ValueError for bad name/param."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; expected one of {ACTIVATIONS}")
    if activation in _DEFAULT_PARAM:
        return _DEFAULT_PARAM[activation] if param is None else float(param)
    if param is not None:
        raise ValueError(f"activation {activation!r} takes no param, got {param!r}")
    return None


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

def gemm(a, b, c=None, *, alpha=1.0, beta=0.0, trans_a=False, trans_b=False,
         workspace=None):
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


def dense_forward(x, weight, bias=None, activation="identity", param=None, *,
                  out=None, z=None, workspace=None):
    """out = f(x @ weight.T + bias); x (n, in), weight (out, in), bias (out,); z = x@W.T + b."""
    p = _param(activation, param)
    _dtype(x=x, weight=weight, bias=bias, out=out, z=z)
    pre = x @ weight.T
    if bias is not None:
        pre += bias
    _store(pre, z, "z")
    return _store(_forward(pre, activation, p), out, "out")


def dense_backward(dout, x, weight, activation="identity", param=None, *, a=None,
                   z=None, bias=True, input_grad=True, dweight=None, dbias=None, dx=None,
                   workspace=None):
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


# ---- losses ----------------------------------------------------------------

def _finish_loss(l, factor, sample_weight, grad, dgrad, sample_loss, name, dtype):
    """(loss, grad) from the per-sample losses l (n,) and the gradient factor (n, k),
    both float64.

    l is rounded once to dtype (sample_loss); loss = sum(w_i * l_i) / sum(w_i) over
    those values in float64 (plain mean without weights), an overflowing sum giving inf
    as the kernels' serial double sums do; grad = c_i * factor_i with c_i = w_i /
    sum(w) (or 1/n), the product in float64 rounded once to the dtype.
    """
    n = l.shape[0]
    l = _narrow(l, dtype)
    _store(l, sample_loss, "sample_loss")
    l64 = l.astype(np.float64)
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


def softmax_cross_entropy(logits, target, sample_weight=None, *, grad=True,
                          dlogits=None, sample_loss=None):
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
        l = nll[rows, target]
        onehot = np.zeros_like(z)
        onehot[rows, target] = 1
        factor = p - onehot
    else:
        _check_pair(logits, target, ("logits", "target"))
        y = _wide(target)
        # terms with y_ij == 0 are exactly 0, whatever nll_ij is
        l = np.where(y == 0, 0.0, y * nll).sum(axis=1)
        factor = p * y.sum(axis=1, keepdims=True) - y
    return _finish_loss(l, factor, sample_weight, grad, dlogits, sample_loss, "dlogits",
                        logits.dtype)


def sigmoid_binary_cross_entropy(logits, target, sample_weight=None, *, grad=True,
                                 dlogits=None, sample_loss=None):
    """Binary cross-entropy of sigmoid(logits) (n, k) with targets in [0, 1] (n, k)."""
    _check_pair(logits, target, ("logits", "target"))
    _dtype(logits=logits, sample_weight=sample_weight, dlogits=dlogits, sample_loss=sample_loss)
    z, y = _wide(logits), _wide(target)
    # max(z, 0) - z y is z (1 - y) for z > 0 and -z y otherwise: for y in [0, 1] two
    # terms >= 0, nothing cancels (float32's z y and 1 - y are exact in float64). An
    # infinite z keeps the plain form, whose inf - inf is NaN as in the kernels.
    with np.errstate(invalid="ignore"):
        linear = np.where(np.isfinite(z), np.where(z > 0, z * (1 - y), -z * y),
                          np.maximum(z, 0) - z * y)
    l = (linear + np.log1p(np.exp(-np.abs(z)))).sum(axis=1)
    return _finish_loss(l, _sigmoid(z) - y, sample_weight, grad, dlogits, sample_loss,
                        "dlogits", logits.dtype)


def mse(pred, target, sample_weight=None, *, grad=True, dpred=None, sample_loss=None):
    """Half squared error, l_i = 1/2 sum_j (pred - y)^2, of pred (n, k) against target (n, k)."""
    _check_pair(pred, target, ("pred", "target"))
    _dtype(pred=pred, sample_weight=sample_weight, dpred=dpred, sample_loss=sample_loss)
    d = _wide(pred) - _wide(target)  # exact in float64 for float32 values
    l = 0.5 * (d * d).sum(axis=1)
    return _finish_loss(l, d, sample_weight, grad, dpred, sample_loss, "dpred", pred.dtype)


def l1(pred, target, sample_weight=None, *, grad=True, dpred=None, sample_loss=None):
    """Absolute error, l_i = sum_j |pred - y|, of pred (n, k) against target (n, k)."""
    _check_pair(pred, target, ("pred", "target"))
    _dtype(pred=pred, sample_weight=sample_weight, dpred=dpred, sample_loss=sample_loss)
    d = _wide(pred) - _wide(target)  # rounds to 0 only when pred == target
    return _finish_loss(np.abs(d).sum(axis=1), np.sign(d), sample_weight, grad, dpred,
                        sample_loss, "dpred", pred.dtype)


def hinge(pred, target, sample_weight=None, *, grad=True, dpred=None, sample_loss=None):
    """Hinge loss, l_i = sum_j max(0, 1 - y*pred), of pred (n, k) against y in {-1, +1} (n, k)."""
    dtype = _check_pair(pred, target, ("pred", "target"))
    _dtype(pred=pred, sample_weight=sample_weight, dpred=dpred, sample_loss=sample_loss)
    y = _wide(target)
    margin = y * _wide(pred)  # exact: y is -1 or +1
    l = np.maximum(1 - margin, 0).sum(axis=1)
    factor = np.where(margin < 1, -y, 0.0)
    return _finish_loss(l, factor, sample_weight, grad, dpred, sample_loss, "dpred", dtype)


# ---- optimizers ------------------------------------------------------------

def _check_hyper(**values):
    """ValueError naming the first hyperparameter that is negative (or NaN)."""
    for name, v in values.items():
        if not v >= 0:
            raise ValueError(f"{name} must be >= 0, got {v}")


def _check_buffers(param, **buffers):
    """Buffers must match param in dtype (TypeError) and shape (ValueError)."""
    _dtype(param=param, **buffers)
    for name, buf in buffers.items():
        if buf is not None and buf.shape != param.shape:
            raise ValueError(f"{name} must have shape {param.shape}, got {buf.shape}")


def sgd_update(param, grad, momentum_buffer=None, *, step, lr, momentum=0.0,
               dampening=0.0, nesterov=False, weight_decay=0.0):
    """One torch.optim.SGD step (single-tensor code), in place on param and momentum_buffer."""
    lr, momentum, dampening, weight_decay = map(float, (lr, momentum, dampening, weight_decay))
    _check_hyper(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay)
    if step < 1:
        raise ValueError(f"step must be >= 1, got {step}")
    if nesterov and (momentum <= 0 or dampening != 0):
        raise ValueError("nesterov needs momentum > 0 and dampening == 0")
    if momentum != 0 and momentum_buffer is None:
        raise ValueError("momentum_buffer must be given when momentum != 0")
    _check_buffers(param, grad=grad,
                   momentum_buffer=momentum_buffer if momentum != 0 else None)
    d = grad
    if weight_decay != 0:
        d = grad + weight_decay * param            # grad.add(param, alpha=wd)
    if momentum != 0:
        buf = momentum_buffer
        if step == 1:
            buf[...] = d                           # torch.clone(grad)
        else:
            buf *= momentum                        # buf.mul_(momentum)
            buf += (1 - dampening) * d             #    .add_(grad, alpha=1 - dampening)
        d = d + momentum * buf if nesterov else buf
    param -= lr * d                                # param.add_(grad, alpha=-lr)


def _lerp(start, end, weight):
    """torch.lerp: start + w*(end - start) if |w| < 0.5 else end - (end - start)*(1 - w)."""
    if abs(weight) < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1 - weight)


def adam_update(param, grad, exp_avg, exp_avg_sq, *, step, lr=1e-3, beta1=0.9,
                beta2=0.999, eps=1e-8, weight_decay=0.0, decoupled_weight_decay=False):
    """One torch.optim.Adam (or AdamW when decoupled) step, in place on param and both moments."""
    lr, beta1, beta2, eps, weight_decay = map(float, (lr, beta1, beta2, eps, weight_decay))
    _check_hyper(lr=lr, eps=eps, weight_decay=weight_decay)
    for name, beta in (("beta1", beta1), ("beta2", beta2)):
        if not 0 <= beta < 1:
            raise ValueError(f"{name} must be in [0, 1), got {beta}")
    if step < 1:
        raise ValueError(f"step must be >= 1, got {step}")
    step = int(step)  # a NumPy integer would make the bias corrections float64 scalars,
    # which NumPy does not round to the dtype: eps would then be added in float64
    _check_buffers(param, grad=grad, exp_avg=exp_avg, exp_avg_sq=exp_avg_sq)
    dtype = param.dtype
    g = grad
    if weight_decay != 0:
        if decoupled_weight_decay:
            param *= 1 - lr * weight_decay         # the factor in double, then rounded
        else:
            g = grad + weight_decay * param        # grad.add(param, alpha=wd)
    # the lerp weight is rounded to the dtype first, as torch's Scalar is
    exp_avg[...] = _lerp(exp_avg, g, dtype.type(1 - beta1))
    exp_avg_sq *= beta2                            # mul_(beta2)
    exp_avg_sq += (1 - beta2) * g * g              # .addcmul_(g, g, value=1 - beta2)
    # Python doubles, as torch does with the step count
    bias_correction1 = 1 - beta1 ** step
    bias_correction2 = 1 - beta2 ** step
    step_size = lr / bias_correction1
    bias_correction2_sqrt = bias_correction2 ** 0.5
    denom = np.sqrt(exp_avg_sq) / bias_correction2_sqrt + eps
    param += -step_size * exp_avg / denom          # addcdiv_(exp_avg, denom, value=-step_size)


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
