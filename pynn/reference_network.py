"""The network twin of pynn._kernels.Network in plain NumPy: the test oracle of the C
network, and the network of the "reference" backend.

Each layer kind runs pynn.reference's functions, in the order the C network runs its
kernels (csrc/network_impl.h); Maxout, Standardize and Dropout, which have no kernel of
their own in pynn.reference, are written here in NumPy (np.max / np.argmax over the
pieces, (x - mean) / scale in the dtype, and Dropout's mask from the same Philox4x32-10
words as csrc/dropout_impl.h's, so the masks are the same bits). Like pynn.reference it
imports nothing else of pynn. Validation is light: the Cython class checks the arguments.
"""

import math

import numpy as np

from pynn import reference as R

LOSSES = (
    "mse",
    "l1",
    "sigmoid_binary_cross_entropy",
    "softmax_cross_entropy",
    "hinge",
    "poisson",
)

_M32, _M64 = 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF
_GAMMA = 0x9E3779B97F4A7C15  # the golden ratio in 64 bits: SplitMix64's increment


def mix64(z):
    """SplitMix64's output function of the Python int z (64 bits)."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return z ^ (z >> 31)


def philox4x32_10(counter, key):
    """Philox4x32-10 (Random123): counter is 4 arrays of 32-bit words (any integer dtype),
    key 2 Python ints; returns the 4 output word arrays (uint64 holding 32 bits)."""
    c0, c1, c2, c3 = (np.asarray(c, np.uint64) & _M32 for c in counter)
    k0, k1 = key[0] & _M32, key[1] & _M32
    for r in range(10):
        if r:
            k0, k1 = (k0 + 0x9E3779B9) & _M32, (k1 + 0xBB67AE85) & _M32
        p0, p1 = c0 * np.uint64(0xD2511F53), c2 * np.uint64(0xCD9E8D57)
        c0, c1, c2, c3 = (
            (p1 >> np.uint64(32)) ^ c1 ^ np.uint64(k0),
            p1 & np.uint64(_M32),
            (p0 >> np.uint64(32)) ^ c3 ^ np.uint64(k1),
            p0 & np.uint64(_M32),
        )
    return c0, c1, c2, c3


def dropout_mask(seed, step, index, shape, p, dtype):
    """Dropout's multipliers for layer `index` at (seed, step) over a batch of `shape`:
    0 where an element is dropped, dtype(1 / (1 - p)) where it is kept (csrc/dropout_impl.h)."""
    size = int(np.prod(shape))
    key = mix64((int(seed) + (index + 1) * _GAMMA) & _M64)
    g = np.arange(-(-size // 4), dtype=np.uint64)
    step = int(step)
    words = philox4x32_10(
        (g, g >> np.uint64(32), np.full_like(g, step & _M32), np.full_like(g, step >> 32)),
        (key, key >> 32),
    )
    words = np.stack(words, axis=1).reshape(-1)[:size].reshape(shape)
    scale = np.dtype(dtype).type(1.0 / (1.0 - p))
    return np.where(words >= int(p * 4294967296.0), scale, np.dtype(dtype).type(0))


def layer_forward(layer, h, index=0):
    """One record's forward pass over its input h (record `index` of its network);
    returns its out."""
    kind, out = layer["kind"], layer["out"]
    if kind == "dropout":
        if layer["mask"] is None:  # not training: the identity
            np.copyto(out, h)
            return out
        seed, step = layer["stream"]
        mask = dropout_mask(seed, step, index, out.shape, layer["p"], out.dtype)
        np.copyto(layer["mask"], mask)
        return np.multiply(h, layer["mask"], out=out)
    if kind == "dense":
        return R.dense_forward(
            h,
            layer["weight"],
            layer["bias"],
            layer["activation"],
            layer["param"],
            out=out,
            z=layer["z"],
        )
    if kind == "activation":
        return R.activation_forward(h, layer["activation"], layer["param"], out=out)
    if kind == "prelu":
        return R.prelu_forward(h, layer["weight"], out=out)
    if kind == "maxout":
        z = R.dense_forward(h, layer["weight"], layer["bias"], out=layer["z"])
        z3 = z.reshape(z.shape[0], out.shape[1], layer["pieces"])
        np.max(z3, axis=2, out=out)
        if layer["argmax"] is not None:
            np.argmax(z3, axis=2, out=layer["argmax"])
        return out
    np.subtract(h, layer["mean"], out=out)  # standardize
    return np.divide(out, layer["scale"], out=out)


def layer_backward(layer, h, grad):
    """One record's backward pass from grad, its input h: its gradients and its dx (None
    when the record has none)."""
    kind, dx = layer["kind"], layer["dx"]
    if kind in ("dense", "maxout"):
        if kind == "maxout":
            dz = layer["dz"]
            dz.fill(0)
            dz3 = dz.reshape(dz.shape[0], -1, layer["pieces"])
            np.put_along_axis(dz3, layer["argmax"][:, :, None], grad[:, :, None], axis=2)
            grad, act, param = dz, "identity", None
        else:
            act, param = layer["activation"], layer["param"]
        R.dense_backward(
            grad,
            h,
            layer["weight"],
            act,
            param,
            a=layer["out"] if kind == "dense" else None,
            z=layer["z"] if kind == "dense" else None,
            bias=layer["bias"] is not None,
            input_grad=dx is not None,
            dweight=layer["dweight"],
            dbias=layer["dbias"],
            dx=dx,
        )
    elif kind == "prelu":
        R.prelu_backward(
            grad, h, layer["weight"], input_grad=dx is not None, dx=dx, dslope=layer["dweight"]
        )
    elif dx is not None and kind == "activation":
        R.activation_backward(
            grad, layer["activation"], layer["param"], a=layer["out"], z=h, out=dx
        )
    elif dx is not None and kind == "dropout":
        np.multiply(grad, layer["mask"], out=dx)
    elif dx is not None:  # standardize
        np.divide(grad, layer["scale"], out=dx)
    return dx


def network_forward(layers, x):
    """Every layer's forward pass, layer i reading layer i-1's out; returns the last out."""
    h = x
    for i, layer in enumerate(layers):
        h = layer_forward(layer, h, i)
    return h


def network_backward(layers, x, dout):
    """The backward pass from dout, down to the first layer without a dx."""
    grad = dout
    for i in range(len(layers) - 1, -1, -1):
        grad = layer_backward(layers[i], x if i == 0 else layers[i - 1]["out"], grad)
        if grad is None:
            break


def network_step(layers, x, loss, target, dout, sample_loss, sample_weight=None):
    """Forward, the loss (a name of LOSSES; weighted by sample_weight (n,) when given)
    and, when it is finite, backward; returns (loss, argmax hits for labels else None)."""
    h = network_forward(layers, x)
    grad_name = (
        "dlogits" if loss in ("softmax_cross_entropy", "sigmoid_binary_cross_entropy") else "dpred"
    )
    value, _ = getattr(R, loss)(
        h, target, sample_weight, grad=True, sample_loss=sample_loss, **{grad_name: dout}
    )
    hits = R.count_argmax_hits(h, target) if target.ndim == 1 else None
    if math.isfinite(value):
        network_backward(layers, x, dout)
    return value, hits


class Network:
    """pynn._kernels.Network's twin: the same constructor and methods, on the buffers
    given at construction."""

    def __init__(self, layers, loss, x, target, dout, sample_loss, workspace, sample_weight=None):
        if loss is not None and loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
        self.sample_weight = sample_weight  # the batch weights' buffer, or None
        self.layers, self.loss = list(layers), loss
        self.x, self.target, self.dout, self.sample_loss = x, target, dout, sample_loss
        self.out = self.layers[-1]["out"]
        self.workspace_size = 0

    def step(self, X, rows, targets, sample_weight=None):
        """As the C network's: sample_weight is None, the weights of X's rows (N,)
        gathered with them, or with X None the batch's own (n,)."""
        weights = sample_weight
        if X is not None:
            self.x[...] = X[rows]
            self.target[...] = targets[rows]
            if sample_weight is not None:
                weights = self.sample_weight
                weights[...] = sample_weight[rows]
        return network_step(
            self.layers, self.x, self.loss, self.target, self.dout, self.sample_loss, weights
        )

    def forward(self, X=None):
        return network_forward(self.layers, self.x if X is None else X)

    def backward(self):
        network_backward(self.layers, self.x, self.dout)
