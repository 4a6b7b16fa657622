"""The network of hvp_cases' records written in torch over a flat parameter vector: an
independent twin of pynn.reference_hvp (torch's autograd differentiates it twice), and
torch's products of it."""

import numpy as np
import torch

import pynn.reference_hvp as RH
import pynn.reference_network as RN


def _torch_activation(name, param, z, dtype):
    p = None if param is None else float(np.dtype(dtype).type(param))
    if name == "identity":
        return z
    if name == "sigmoid":
        return torch.sigmoid(z)
    if name == "tanh":
        return torch.tanh(z)
    if name == "relu":
        return torch.where(z > 0, z, torch.zeros_like(z))
    if name == "leaky_relu":
        return torch.where(z > 0, z, (0.01 if p is None else p) * z)
    if name == "softplus":
        return torch.clamp(z, min=0) + torch.log1p(torch.exp(-torch.abs(z)))
    alpha = 1.0 if p is None else p  # elu
    return torch.where(z > 0, z, alpha * torch.expm1(torch.clamp(z, max=0)))


def _torch_per_sample(case, out, target):
    if case == "softmax_labels":
        lse = torch.logsumexp(out, dim=1)
        return lse - out[torch.arange(out.shape[0]), target]
    if case == "softmax_probs":
        return (target * (torch.logsumexp(out, dim=1, keepdim=True) - out)).sum(1)
    if case == "bce":
        softplus = torch.clamp(out, min=0) + torch.log1p(torch.exp(-torch.abs(out)))
        return (softplus - target * out).sum(1)
    if case == "mse":
        return 0.5 * ((out - target) ** 2).sum(1)
    if case == "l1":
        return (out - target).abs().sum(1)
    if case == "hinge":
        return torch.clamp(1 - target * out, min=0).sum(1)
    return (torch.exp(out) - target * out).sum(1)  # poisson, up to a constant


def torch_output(layers, x, theta):
    """The network's output (n, k) as a torch function of the flat parameters theta
    (float64), the records' non-trainable values (masks, means, scales) as constants."""
    sizes = [(i, name, layers[i][name].shape) for i, name in RH.parameters(layers)]
    params, offset = {}, 0
    for i, name, shape in sizes:
        size = int(np.prod(shape))
        params[(i, name)] = theta[offset : offset + size].reshape(shape)
        offset += size
    dtype = x.dtype
    h = torch.from_numpy(x.astype(np.float64))
    for i, layer in enumerate(layers):
        kind = layer["kind"]
        if kind in ("dense", "maxout"):
            z = h @ params[(i, "weight")].T
            if (i, "bias") in params:
                z = z + params[(i, "bias")]
            if kind == "dense":
                h = _torch_activation(layer["activation"], layer["param"], z, dtype)
            else:
                h = z.reshape(z.shape[0], -1, layer["pieces"]).max(dim=2).values
        elif kind == "activation":
            h = _torch_activation(layer["activation"], layer["param"], h, dtype)
        elif kind == "prelu":
            h = torch.where(h > 0, h, params[(i, "weight")] * h)
        elif kind == "standardize":
            wide = {k: torch.from_numpy(layer[k].astype(np.float64)) for k in ("mean", "scale")}
            h = (h - wide["mean"]) / wide["scale"]
        elif kind == "dropout" and layer["mask"] is not None:
            seed, step = layer["stream"]
            mask = RN.dropout_mask(seed, step, i, tuple(h.shape), layer["p"], dtype)
            h = h * torch.from_numpy(mask.astype(np.float64))
    return h


def torch_loss_of_output(case, target, weights):
    """The weighted mean loss as a torch function of the network's output."""
    t = torch.from_numpy(target if target.dtype == np.int64 else target.astype(np.float64))
    w = None if weights is None else torch.from_numpy(weights.astype(np.float64))

    def loss(out):
        per_sample = _torch_per_sample(case, out, t)
        return per_sample.mean() if w is None else (w * per_sample).sum() / w.sum()

    return loss


def torch_loss(layers, x, case, target, weights):
    """The weighted mean loss as a torch function of the flat parameters."""
    of_output = torch_loss_of_output(case, target, weights)
    return lambda theta: of_output(torch_output(layers, x, theta))


def torch_hvp(layers, x, case, target, weights, v):
    theta = torch.from_numpy(RH.parameter_vector(layers))
    f = torch_loss(layers, x, case, target, weights)
    value, product = torch.autograd.functional.hvp(f, theta, torch.from_numpy(v))
    return float(value), product.numpy()


def explicit_gauss_newton(layers, x, case, target, weights):
    """J^T H_out J with J = d out / d theta from torch's jacobian, H_out the Hessian of the
    loss with respect to the output from torch's hessian."""
    theta = torch.from_numpy(RH.parameter_vector(layers))
    out = torch_output(layers, x, theta).detach()
    jacobian = torch.autograd.functional.jacobian(lambda t: torch_output(layers, x, t), theta)
    hessian = torch.autograd.functional.hessian(torch_loss_of_output(case, target, weights), out)
    j = jacobian.reshape(out.numel(), -1).numpy()
    return j.T @ hessian.reshape(out.numel(), out.numel()).numpy() @ j
