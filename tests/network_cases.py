"""Networks of every layer kind for tests/test_network.py: records with their buffers, and
the same step computed one kernel call per stage (the per-stage path the layers ran before
the network: the kernels of pynn._kernels, NumPy for Maxout and Standardize)."""

import math

import numpy as np
from helpers import K, R

import pynn.reference_network as RN

# loss case -> loss name of the network
LOSS_CASES = {
    "softmax_labels": "softmax_cross_entropy",
    "softmax_probs": "softmax_cross_entropy",
    "bce": "sigmoid_binary_cross_entropy",
    "mse": "mse",
    "l1": "l1",
    "hinge": "hinge",
}
GRAD_NAMES = {"softmax_cross_entropy": "dlogits", "sigmoid_binary_cross_entropy": "dlogits"}
PARAMETERS = {"dense": ("weight", "bias"), "maxout": ("weight", "bias"), "prelu": ("weight",)}


def make_targets(rng, case, rows, k, dtype):
    if case == "softmax_labels":
        return rng.integers(0, k, rows).astype(np.int64)
    if case == "softmax_probs":
        p = rng.random((rows, k))
        return (p / p.sum(1, keepdims=True)).astype(dtype)
    if case == "bce":
        return rng.random((rows, k)).astype(dtype)
    if case == "hinge":
        return rng.choice([-1.0, 1.0], (rows, k)).astype(dtype)
    if case == "poisson":  # counts
        return rng.poisson(1.0, (rows, k)).astype(dtype)
    return rng.standard_normal((rows, k)).astype(dtype)


def _record(rng, dtype, n, spec, width, training, needs_dx):
    """The record of one layer spec over a `width`-wide input, and its output width."""
    kind = spec[0]
    empty = lambda *shape: np.full(shape, np.nan, dtype)
    grad = lambda array: empty(*array.shape) if training and array is not None else None
    r = {"kind": kind}
    if kind in ("dense", "maxout"):
        out_f = spec[1]
        rows = out_f * (spec[2] if kind == "maxout" else 1)
        bias = spec[3]
        r["weight"] = rng.uniform(-0.5, 0.5, (rows, width)).astype(dtype)
        r["bias"] = rng.uniform(-0.5, 0.5, rows).astype(dtype) if bias else None
        r["dweight"], r["dbias"] = grad(r["weight"]), grad(r["bias"])
    if kind == "dense":
        r["activation"], r["param"] = spec[2]
        saves = R.activation_saves(*spec[2])
        r["z"] = empty(n, out_f) if training and saves == "input" else None
    elif kind == "maxout":
        r["pieces"] = spec[2]
        r["z"] = empty(n, rows)
        r["dz"] = empty(n, rows) if training else None
        r["argmax"] = np.full((n, out_f), -1, np.int64) if training else None
    elif kind == "activation":
        out_f = width
        r["activation"], r["param"] = spec[1]
    elif kind == "prelu":
        out_f = width
        r["weight"] = rng.uniform(-0.5, 0.5, 1 if spec[1] else width).astype(dtype)
        r["dweight"] = grad(r["weight"])
    elif kind == "standardize":
        out_f = width
        r["mean"] = rng.standard_normal(width).astype(dtype)
        r["scale"] = rng.uniform(0.5, 2, width).astype(dtype)
    r["out"] = empty(n, out_f)
    r["dx"] = empty(n, width) if training and needs_dx else None
    return r, out_f


class Net:
    """The records and buffers of one network on batches of n rows. specs: ("dense",
    out_f, (activation, param), bias), ("maxout", out_f, pieces, bias), ("activation",
    (activation, param)), ("prelu", shared), ("standardize",)."""

    def __init__(self, rng, dtype, n, in_f, specs, case, training=True):
        self.dtype, self.n, self.case, self.in_f = dtype, n, case, in_f
        self.layers, width, needs_dx = [], in_f, False
        for spec in specs:
            record, width = _record(rng, dtype, n, spec, width, training, needs_dx)
            self.layers.append(record)
            needs_dx = needs_dx or spec[0] in PARAMETERS
        self.k = width
        self.x = np.empty((n, in_f), dtype)
        self.target = (
            np.empty(n, np.int64) if case == "softmax_labels" else np.empty((n, width), dtype)
        )
        self.dout = np.empty((n, width), dtype) if training else None
        self.sample_loss = np.empty(n, dtype)

    def network(self, twin=False, loss=True):
        """pynn._kernels.Network over the buffers (twin: pynn.reference_network's)."""
        cls = RN.Network if twin else K.Network
        with_loss = loss and self.dout is not None
        return cls(
            self.layers,
            LOSS_CASES[self.case] if with_loss else None,
            self.x,
            self.target if with_loss else None,
            self.dout,
            self.sample_loss if with_loss else None,
            None,
        )

    def grads(self):
        """{"i.name": gradient buffer} of every parameter."""
        return {
            f"{i}.d{name}": layer["d" + name]
            for i, layer in enumerate(self.layers)
            for name in PARAMETERS.get(layer["kind"], ())
            if layer[name] is not None
        }


def _forward_one(layer, h, training):
    """(out, saved) of one layer, one kernel call at a time as the layers called them."""
    kind = layer["kind"]
    if kind == "dense":
        z = np.empty((h.shape[0], layer["weight"].shape[0]), h.dtype)
        out = K.dense_forward(
            h, layer["weight"], layer["bias"], layer["activation"], layer["param"], z=z
        )
        return out, z
    if kind == "activation":
        return K.activation_forward(h, layer["activation"], layer["param"]), None
    if kind == "prelu":
        return K.prelu_forward(h, layer["weight"]), None
    if kind == "maxout":
        z = K.dense_forward(h, layer["weight"], layer["bias"])
        z3 = z.reshape(z.shape[0], -1, layer["pieces"])
        return np.max(z3, axis=2), np.argmax(z3, axis=2)
    mean, scale = layer["mean"], layer["scale"]
    return (h - mean) / scale, None


def _backward_one(layer, h, out, saved, grad, input_grad):
    """({name: gradient}, dx) of one layer."""
    kind, bias = layer["kind"], layer.get("bias") is not None
    if kind == "dense":
        saves = R.activation_saves(layer["activation"], layer["param"])
        dw, db, dx = K.dense_backward(
            grad,
            h,
            layer["weight"],
            layer["activation"],
            layer["param"],
            a=out if saves == "output" else None,
            z=saved if saves == "input" else None,
            bias=bias,
            input_grad=input_grad,
        )
        return {"weight": dw, "bias": db}, dx
    if kind == "maxout":
        dz = np.zeros((grad.shape[0], layer["weight"].shape[0]), grad.dtype)
        dz3 = dz.reshape(dz.shape[0], -1, layer["pieces"])
        for p in range(layer["pieces"]):
            np.copyto(dz3[:, :, p], grad, where=saved == p)
        dw, db, dx = K.dense_backward(dz, h, layer["weight"], bias=bias, input_grad=input_grad)
        return {"weight": dw, "bias": db}, dx
    if kind == "prelu":
        dx, ds = K.prelu_backward(grad, h, layer["weight"], input_grad=input_grad)
        return {"weight": ds}, dx
    if not input_grad:
        return {}, None
    if kind == "activation":
        return {}, K.activation_backward(grad, layer["activation"], layer["param"], a=out, z=h)
    return {}, grad / layer["scale"]


def by_stage(net, X, rows, targets):
    """The step one kernel call per stage: (loss, {"i.dname": gradient}, hits)."""
    x, target = X[rows], targets[rows]
    ins, outs, saved = [], [], []
    h = x
    for layer in net.layers:
        ins.append(h)
        h, s = _forward_one(layer, h, True)
        outs.append(h)
        saved.append(s)
    loss = LOSS_CASES[net.case]
    value, dout = getattr(K, loss)(h, target, None, grad=True)
    hits = K.count_argmax_hits(h, target) if net.case == "softmax_labels" else None
    grads = {}
    if not math.isfinite(value):
        return value, grads, hits
    needs = [
        any(layer["kind"] in PARAMETERS for layer in net.layers[:i]) for i in range(len(outs))
    ]
    for i in range(len(net.layers) - 1, -1, -1):
        g, dout = _backward_one(net.layers[i], ins[i], outs[i], saved[i], dout, needs[i])
        grads.update({f"{i}.d{name}": v for name, v in g.items() if v is not None})
        if dout is None:
            break
    return value, grads, hits
