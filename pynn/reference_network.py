"""The network twin of pynn._kernels.Network in plain NumPy: the test oracle of the C
network, and the network of the "reference" backend.

Each layer kind runs pynn.reference's functions, in the order the C network runs its
kernels (csrc/network_impl.h); Maxout and Standardize, which have no kernel of their own
in pynn.reference, are written here in NumPy (np.max / np.argmax over the pieces, and
(x - mean) / scale in the dtype). Like pynn.reference it imports nothing else of pynn.
Validation is light: the Cython class checks the arguments.
"""

import math

import numpy as np

from pynn import reference as R

LOSSES = ("mse", "l1", "sigmoid_binary_cross_entropy", "softmax_cross_entropy", "hinge")


def layer_forward(layer, h):
    """One record's forward pass over its input h; returns its out."""
    kind, out = layer["kind"], layer["out"]
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
    elif dx is not None:  # standardize
        np.divide(grad, layer["scale"], out=dx)
    return dx


def network_forward(layers, x):
    """Every layer's forward pass, layer i reading layer i-1's out; returns the last out."""
    h = x
    for layer in layers:
        h = layer_forward(layer, h)
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
