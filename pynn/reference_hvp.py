"""Hessian- and Gauss-Newton-vector products of a network's training loss in plain NumPy:
the test oracle of the second-order network pass (issue 18), on the same layer records as
pynn.reference_network.

The loss is the weighted mean L = sum_i w_i l_i / sum_i w_i (the plain mean without
weights) of a loss of LOSSES over the network's output, a function of the flat parameter
vector theta (parameters() gives its order: layer by layer, weight then bias; a PReLU
layer's weight is its slope). For a direction v of theta:

- network_hvp(..., gauss_newton=False) gives H v, H the exact Hessian of L, by
  Pearlmutter's R-operator: an R-forward pass (Rh = the derivative of every layer's
  output along v) beside the forward, an R-backward pass beside the backward.
- network_hvp(..., gauss_newton=True) gives G v = J^T H_out J v, J the Jacobian of the
  network's output (n, k) with respect to theta and H_out the Hessian of L with respect
  to that output: the R-forward gives J v, H_out applies per row, and J^T is the plain
  backward pass (every second derivative of the layers dropped).

H_out per row i is c_i times: softmax cross-entropy S (diag(p) - p p^T) with p the
softmax and S the sum of the row's target (1 for a label); sigmoid binary cross-entropy
diag(s (1 - s)); mse the identity; poisson diag(exp(z)). These are PSD, so G is. l1 and
hinge are piecewise linear in the output: their second derivative is 0 wherever it
exists (everywhere but pred == target, resp. margin == 1), and 0 is what is used there
too, so their H_out and G are 0 and their H v holds only what the layers' curvature
gives (J^T-weighted second derivatives of the layers, times the loss's gradient).

What is held fixed, as the gradient holds it: Dropout's mask (drawn from the record's
stream as reference_network's forward draws it; without a mask buffer the layer is the
identity), Maxout's argmax (the network is piecewise linear in the pieces), ReLU-like
kinks (their second derivative is 0 on either side). step and sign have no derivative and
are refused (ValueError, as activation_saves refuses them).

Everything is computed in float64 from the records' values (float32 values are exact in
float64); the gradient and the product are rounded once to x's dtype at the end. Like
pynn.reference it imports nothing else of pynn.
"""

import numpy as np

from pynn import reference as R
from pynn import reference_network as RN
from pynn.reference_base import _sigmoid, _wide
from pynn.reference_network import LOSSES, dropout_mask

_AFFINE = ("dense", "maxout")


def parameters(layers):
    """[(layer index, name)] of the network's trainable parameters in flat-vector order:
    a Dense or Maxout layer's weight then bias (when it has one), a PReLU layer's weight."""
    found = []
    for i, layer in enumerate(layers):
        names = ("weight", "bias") if layer["kind"] in _AFFINE else ()
        names = ("weight",) if layer["kind"] == "prelu" else names
        found += [(i, name) for name in names if layer[name] is not None]
    return found


def parameter_vector(layers):
    """The network's parameters as one flat float64 vector (parameters() order)."""
    arrays = [_wide(layers[i][name]).ravel() for i, name in parameters(layers)]
    return np.concatenate(arrays) if arrays else np.zeros(0)


def split(layers, flat):
    """{(layer index, name): float64 array shaped as that parameter} from a flat vector."""
    shapes = {key: layers[key[0]][key[1]].shape for key in parameters(layers)}
    total = sum(int(np.prod(shape)) for shape in shapes.values())
    if flat.shape != (total,):
        raise ValueError(f"v must have {total} elements (the parameters'), got {flat.size}")
    pieces, offset = {}, 0
    for key, shape in shapes.items():
        size = int(np.prod(shape))
        pieces[key] = flat[offset : offset + size].reshape(shape)
        offset += size
    return pieces


def activation_derivatives(activation, param, z):
    """(f(z), f'(z), f''(z)) in float64 for z (float64); param is rounded by the caller.

    The kinks of relu, leaky_relu and elu (at z = 0) take the derivatives of the z <= 0
    side, as the gradient's f' does (f' there is read as z > 0)."""
    R.activation_saves(activation, param)  # ValueError for step and sign
    p = R._param(activation, param)
    zero = np.zeros_like(z)
    if activation == "identity":
        return z.copy(), np.ones_like(z), zero
    if activation == "sigmoid":
        a = _sigmoid(z)
        d1 = a * (1 - a)
        return a, d1, d1 * (1 - 2 * a)
    if activation == "tanh":
        a = np.tanh(z)
        d1 = 1 - a * a
        return a, d1, -2 * a * d1
    if activation == "relu":
        return np.where(z < 0, 0.0, z), (z > 0).astype(np.float64), zero
    if activation == "leaky_relu":
        return np.where(z < 0, p * z, z), np.where(z > 0, 1.0, p), zero
    if activation == "softplus":
        s = _sigmoid(z)
        return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z))), s, s * (1 - s)
    # elu: alpha (e^z - 1) for z <= 0, exp only of z <= 0
    negative = p * np.exp(np.minimum(z, 0))
    a = np.where(z > 0, z, p * np.expm1(np.minimum(z, 0)))
    return a, np.where(z > 0, 1.0, negative), np.where(z > 0, 0.0, negative)


def _param_in(dtype, param):
    """The activation param rounded to the network's dtype, as the kernels use it."""
    return None if param is None else float(dtype.type(param))


def _affine(layer, h, rh, vw, vb):
    """(z, Rz) of an affine map: z = h W^T + b, Rz = Rh W^T + h V_W^T + V_b."""
    w = _wide(layer["weight"])
    z, rz = h @ w.T, rh @ w.T + h @ vw.T
    if layer["bias"] is not None:
        z += _wide(layer["bias"])
        rz += vb
    return z, rz


def layer_r_forward(layer, index, h, rh, direction, dtype):
    """One record's forward and R-forward from its input h and Rh (float64): (out, Rout,
    saved), saved what its backward passes read. direction: {(index, name): V}."""
    kind = layer["kind"]
    vw, vb = direction.get((index, "weight")), direction.get((index, "bias"))
    if kind == "dense":
        z, rz = _affine(layer, h, rh, vw, vb)
        act = layer["activation"]
        a, d1, d2 = activation_derivatives(act, _param_in(dtype, layer["param"]), z)
        return a, d1 * rz, {"h": h, "rh": rh, "z": z, "rz": rz, "d1": d1, "d2": d2}
    if kind == "maxout":
        z, rz = _affine(layer, h, rh, vw, vb)
        n, pieces = z.shape[0], layer["pieces"]
        z3, rz3 = z.reshape(n, -1, pieces), rz.reshape(n, -1, pieces)
        top = np.argmax(z3, axis=2)[:, :, None]  # held fixed: the maximum's piece
        a = np.take_along_axis(z3, top, axis=2)[:, :, 0]
        ra = np.take_along_axis(rz3, top, axis=2)[:, :, 0]
        return a, ra, {"h": h, "rh": rh, "top": top, "rows": z.shape[1]}
    if kind == "activation":
        act = layer["activation"]
        a, d1, d2 = activation_derivatives(act, _param_in(dtype, layer["param"]), h)
        return a, d1 * rh, {"z": h, "rh": rh, "d1": d1, "d2": d2}
    if kind == "prelu":
        slope, negative = _wide(layer["weight"]), h <= 0
        a = np.where(negative, slope * h, h)
        ra = np.where(negative, slope * rh + vw * h, rh)
        return a, ra, {"h": h, "rh": rh, "negative": negative}
    if kind == "dropout":
        if layer["mask"] is None:  # not training: the identity
            return h, rh, {"mask": None}
        seed, step = layer["stream"]
        mask = _wide(dropout_mask(seed, step, index, h.shape, layer["p"], dtype))
        return h * mask, rh * mask, {"mask": mask}
    if kind == "standardize":
        scale = _wide(layer["scale"])
        return (h - _wide(layer["mean"])) / scale, rh / scale, {"scale": scale}
    raise ValueError(f"unknown layer kind {kind!r}")


def layer_r_backward(layer, index, saved, delta, rdelta, direction, exact, input_grad):
    """One record's backward and R-backward from delta = dL/dout and R(delta): (gradients,
    products, dx, R(dx)), the first two {name: array}. exact=False drops every term of a
    layer's own second derivatives (the Gauss-Newton product's plain J^T pass)."""
    kind = layer["kind"]
    grads, products = {}, {}
    dx = rdx = None
    if kind in _AFFINE:
        h, rh = saved["h"], saved["rh"]
        if kind == "dense":
            dz = delta * saved["d1"]
            rdz = rdelta * saved["d1"]
            if exact:
                rdz = rdz + delta * saved["d2"] * saved["rz"]
        else:  # maxout: the output's gradient goes to the piece that was largest
            dz, rdz = (np.zeros((h.shape[0], saved["rows"])) for _ in range(2))
            n, pieces = h.shape[0], layer["pieces"]
            np.put_along_axis(dz.reshape(n, -1, pieces), saved["top"], delta[:, :, None], 2)
            np.put_along_axis(rdz.reshape(n, -1, pieces), saved["top"], rdelta[:, :, None], 2)
        grads["weight"] = dz.T @ h
        products["weight"] = rdz.T @ h + (dz.T @ rh if exact else 0)
        if layer["bias"] is not None:
            grads["bias"], products["bias"] = dz.sum(axis=0), rdz.sum(axis=0)
        if input_grad:
            w = _wide(layer["weight"])
            dx, rdx = dz @ w, rdz @ w
            if exact:
                rdx = rdx + dz @ direction[(index, "weight")]
    elif kind == "prelu":
        h, negative = saved["h"], saved["negative"]
        slope = _wide(layer["weight"])
        # d out / d slope is h where h <= 0; its R is Rh there
        dslope = np.where(negative, h, 0.0)
        gslope, rslope = delta * dslope, rdelta * dslope
        if exact:
            rslope = rslope + delta * np.where(negative, saved["rh"], 0.0)
        shared = slope.shape == (1,)
        grads["weight"] = gslope.sum().reshape(1) if shared else gslope.sum(axis=0)
        products["weight"] = rslope.sum().reshape(1) if shared else rslope.sum(axis=0)
        if input_grad:
            factor = np.where(negative, slope, 1.0)
            dx, rdx = delta * factor, rdelta * factor
            if exact:
                rdx = rdx + delta * np.where(negative, direction[(index, "weight")], 0.0)
    elif not input_grad:
        pass
    elif kind == "activation":
        dx, rdx = delta * saved["d1"], rdelta * saved["d1"]
        if exact:
            rdx = rdx + delta * saved["d2"] * saved["rh"]
    elif kind == "dropout":
        mask = saved["mask"]
        dx, rdx = (delta, rdelta) if mask is None else (delta * mask, rdelta * mask)
    else:  # standardize
        dx, rdx = delta / saved["scale"], rdelta / saved["scale"]
    return grads, products, dx, rdx


def loss_hessian_product(loss, out, target, weights, u):
    """H_out u for the loss (a name of LOSSES) of out (n, k) against target, H_out the
    Hessian of the weighted mean loss with respect to out (float64), row i scaled by
    weights[i] / sum(weights) (1/n without weights). l1 and hinge give 0 (see above)."""
    n = out.shape[0]
    c = np.full(n, 1.0 / n) if weights is None else weights / weights.sum()
    if loss == "softmax_cross_entropy":
        p = R.softmax(out)
        total = 1.0 if np.issubdtype(target.dtype, np.integer) else target.sum(axis=1)
        pu = p * u
        rows = total * (pu - p * pu.sum(axis=1, keepdims=True)).T
        return (c * rows).T
    if loss == "sigmoid_binary_cross_entropy":
        s = _sigmoid(out)
        curvature = s * (1 - s)
    elif loss == "mse":
        curvature = np.ones_like(out)
    elif loss == "poisson":
        curvature = np.exp(out)
    elif loss in ("l1", "hinge"):
        curvature = np.zeros_like(out)
    else:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    return c[:, None] * curvature * u


def network_hvp(layers, x, loss, target, v, sample_weight=None, *, gauss_newton=False):
    """(loss, gradient, product) of the network's weighted mean loss at its parameters:
    gradient the flat gradient, product H v (or G v with gauss_newton), both flat in
    parameters() order and x's dtype; loss a Python float.

    layers are reference_network records (their buffers are not written), x the batch
    (n, in), loss a name of LOSSES, target as that loss takes it, v the direction (the
    number of parameters,), sample_weight (n,) or None."""
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    dtype = x.dtype
    direction = split(layers, _wide(np.asarray(v)).ravel())
    h = _wide(x)
    rh = np.zeros_like(h)
    saved = []
    for i, layer in enumerate(layers):
        h, rh, kept = layer_r_forward(layer, i, h, rh, direction, dtype)
        saved.append(kept)
    target = target if np.issubdtype(target.dtype, np.integer) else _wide(target)
    weights = _wide(sample_weight)
    value, delta = getattr(R, loss)(h, target, weights, grad=True)
    rdelta = loss_hessian_product(loss, h, target, weights, rh)
    # the backward stops at the first layer with parameters: nothing below needs dx
    first = min((i for i, _ in parameters(layers)), default=len(layers))
    grads, products = {}, {}
    for i in range(len(layers) - 1, first - 1, -1):
        g, p, delta, rdelta = layer_r_backward(
            layers[i], i, saved[i], delta, rdelta, direction, not gauss_newton, i > first
        )
        grads.update({(i, name): array for name, array in g.items()})
        products.update({(i, name): array for name, array in p.items()})
    return value, _flat(layers, grads).astype(dtype), _flat(layers, products).astype(dtype)


def _flat(layers, found):
    """{(layer index, name): array} as one flat vector in parameters() order."""
    return np.concatenate([np.ravel(found[key]) for key in parameters(layers)] or [[]])


class Network(RN.Network):
    """pynn.reference_network.Network with pynn._kernels.Network's hvp: the network of the
    "reference" backend (pynn.core.backend.REFERENCE_NETWORK_MODULE names this module)."""

    hvp_workspace_size = 0  # the products are computed in arrays of their own

    @property
    def n_parameters(self):
        return sum(self.layers[i][name].size for i, name in parameters(self.layers))

    def hvp(self, v, product, gauss_newton=False, sample_weight=None, workspace=None):
        """As the C network's: what a step writes (over x and target as they are), then
        H v (or G v) into product; nothing but the loss when it is not finite."""
        value, _ = RN.network_step(
            self.layers, self.x, self.loss, self.target, self.dout, self.sample_loss,
            sample_weight,
        )  # fmt: skip
        if not np.isfinite(value):
            return value
        _, _, result = network_hvp(
            self.layers, self.x, self.loss, self.target, v, sample_weight,
            gauss_newton=gauss_newton,
        )  # fmt: skip
        product[...] = result
        return value
