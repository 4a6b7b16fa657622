"""The optimizers of the test oracle (pynn.reference, which exports them): torch.optim's
single-tensor SGD and Adam(W) code, line by line, in plain NumPy; and gradient clipping,
torch.nn.utils.clip_grad_norm_ and clip_grad_value_ over one flat gradient."""

import math

import numpy as np

from pynn.reference_base import _dtype


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


def _decay_mask(param, decay_ranges):
    """None (weight decay everywhere), or a bool array of param's shape: True on the
    elements of the [start, stop) rows of decay_ranges (sorted, disjoint, within param)."""
    if decay_ranges is None:
        return None
    ranges = np.asarray(decay_ranges)
    if ranges.dtype != np.int64:
        raise TypeError(f"decay_ranges must have dtype int64, got {ranges.dtype}")
    if ranges.ndim != 2 or ranges.shape[1] != 2:
        raise ValueError(f"decay_ranges must have shape (k, 2), got {ranges.shape}")
    mask = np.zeros(param.size, dtype=bool)
    previous = 0
    for start, stop in ranges.tolist():
        if not previous <= start <= stop <= param.size:
            raise ValueError(
                f"decay_ranges must be sorted, disjoint [start, stop) pairs within "
                f"[0, {param.size}], got [{start}, {stop})"
            )
        mask[start:stop] = True
        previous = stop
    return mask.reshape(param.shape)


def _decayed(mask, value, plain):
    """value where the decay applies (mask True or None), plain elsewhere."""
    return value if mask is None else np.where(mask, value, plain)


def sgd_update(
    param,
    grad,
    momentum_buffer=None,
    *,
    step,
    lr,
    momentum=0.0,
    dampening=0.0,
    nesterov=False,
    weight_decay=0.0,
    decay_ranges=None,
):
    """One torch.optim.SGD step (single-tensor code), in place on param and momentum_buffer;
    with decay_ranges, weight decay on their elements only."""
    lr, momentum, dampening, weight_decay = map(float, (lr, momentum, dampening, weight_decay))
    _check_hyper(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay)
    if step < 1:
        raise ValueError(f"step must be >= 1, got {step}")
    if nesterov and (momentum <= 0 or dampening != 0):
        raise ValueError("nesterov needs momentum > 0 and dampening == 0")
    if momentum != 0 and momentum_buffer is None:
        raise ValueError("momentum_buffer must be given when momentum != 0")
    _check_buffers(param, grad=grad, momentum_buffer=momentum_buffer if momentum != 0 else None)
    mask = _decay_mask(param, decay_ranges)
    d = grad
    if weight_decay != 0:
        d = _decayed(mask, grad + weight_decay * param, grad)  # grad.add(param, alpha=wd)
    if momentum != 0:
        buf = momentum_buffer
        if step == 1:
            buf[...] = d  # torch.clone(grad)
        else:
            buf *= momentum  # buf.mul_(momentum)
            buf += (1 - dampening) * d  #    .add_(grad, alpha=1 - dampening)
        d = d + momentum * buf if nesterov else buf
    param -= lr * d  # param.add_(grad, alpha=-lr)


def _lerp(start, end, weight):
    """torch.lerp: start + w*(end - start) if |w| < 0.5 else end - (end - start)*(1 - w)."""
    if abs(weight) < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1 - weight)


def adam_update(
    param,
    grad,
    exp_avg,
    exp_avg_sq,
    *,
    step,
    lr=1e-3,
    beta1=0.9,
    beta2=0.999,
    eps=1e-8,
    weight_decay=0.0,
    decoupled_weight_decay=False,
    decay_ranges=None,
):
    """One torch.optim.Adam (or AdamW when decoupled) step, in place on param and both
    moments; with decay_ranges, weight decay on their elements only."""
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
    mask = _decay_mask(param, decay_ranges)
    dtype = param.dtype
    g = grad
    if weight_decay != 0:
        if decoupled_weight_decay:  # the factor in double, then rounded
            param[...] = _decayed(mask, param * dtype.type(1 - lr * weight_decay), param)
        else:
            g = _decayed(mask, grad + weight_decay * param, grad)  # grad.add(param, alpha=wd)
    # the lerp weight is rounded to the dtype first, as torch's Scalar is
    exp_avg[...] = _lerp(exp_avg, g, dtype.type(1 - beta1))
    exp_avg_sq *= beta2  # mul_(beta2)
    exp_avg_sq += (1 - beta2) * g * g  # .addcmul_(g, g, value=1 - beta2)
    # Python doubles, as torch does with the step count
    bias_correction1 = 1 - beta1**step
    bias_correction2 = 1 - beta2**step
    step_size = lr / bias_correction1
    bias_correction2_sqrt = bias_correction2**0.5
    denom = np.sqrt(exp_avg_sq) / bias_correction2_sqrt + eps
    param += -step_size * exp_avg / denom  # addcdiv_(exp_avg, denom, value=-step_size)


def _clip_bound(value, name):
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value}")
    return value


def grad_norm(grad):
    """The L2 norm of grad, summed in float64."""
    _dtype(grad=grad)
    g = grad.astype(np.float64).ravel()
    return float(np.sqrt(np.sum(g * g)))


def clip_grad_norm(grad, max_norm):
    """torch.nn.utils.clip_grad_norm_ (its default eps), in place on grad; returns the norm
    before clipping."""
    max_norm = _clip_bound(max_norm, "max_norm")
    norm = grad_norm(grad)
    coef = max_norm / (norm + 1e-6)  # total_norm + 1e-6
    if not coef >= 1:  # torch.clamp(clip_coef, max=1.0), a NaN kept; grads.mul_(coef)
        grad *= grad.dtype.type(coef)
    return norm


def clip_grad_value(grad, clip_value):
    """torch.nn.utils.clip_grad_value_: grad.clamp_(-clip_value, clip_value), in place
    (NaN stays NaN)."""
    clip_value = _clip_bound(clip_value, "clip_value")
    _dtype(grad=grad)
    c = grad.dtype.type(clip_value)
    grad[...] = np.where(grad < -c, -c, np.where(grad > c, c, grad))
