"""The NumPy oracle of Hessian- and Gauss-Newton-vector products (pynn.reference_hvp,
issue 18) over every layer kind, every differentiable activation and every loss, with and
without sample weights: its gradient against reference_network's step; H v against
torch.autograd.functional.hvp on the same network written in torch, and against central
differences of the step's gradient; G v against J^T H_out J built with torch's jacobian
and hessian; u^T H v = v^T H u; v^T G v >= 0 for the convex losses and G = 0 for l1 and
hinge; the refusals."""

import numpy as np
import pytest
import torch
from hvp_cases import (
    CONVEX,
    IDENTITY,
    LOSS_CASES,
    MIXES,
    NET_IDS,
    NETS,
    gradient,
    problem,
    random_net,
    set_parameters,
    torch_loss,
    torch_loss_of_output,
    torch_output,
)

import pynn.reference_hvp as RH

# the tolerance of float64 products against torch's and the explicit J^T H J
RTOL = 1e-9


def assert_close(actual, expected, rtol):
    """Elementwise within rtol of expected, or within rtol of expected's largest entry."""
    scale = max(float(np.max(np.abs(expected), initial=0.0)), 1e-300)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale)


def torch_hvp(layers, x, case, target, weights, v):
    theta = torch.from_numpy(RH.parameter_vector(layers))
    f = torch_loss(layers, x, case, target, weights)
    value, product = torch.autograd.functional.hvp(f, theta, torch.from_numpy(v))
    return float(value), product.numpy()


@pytest.mark.parametrize("weighted", [False, True], ids=["mean", "weighted"])
@pytest.mark.parametrize("case", list(LOSS_CASES))
@pytest.mark.parametrize("net", NETS, ids=NET_IDS)
def test_hvp_against_torch(net, case, weighted):
    layers, x, loss, target, weights, v = problem(1, net, case, weighted)
    value, grad, product = RH.network_hvp(layers, x, loss, target, v, weights)
    expected_value, expected = torch_hvp(layers, x, case, target, weights, v)
    assert_close(product, expected, RTOL)
    # the same network as reference_network's step: its loss and gradient
    step_value, step_grad = gradient(layers, x, loss, target, weights)
    assert value == pytest.approx(step_value, rel=1e-12)
    assert_close(grad, step_grad, 1e-12)
    if case != "poisson":  # torch's poisson lacks the constant y (log y - 1)
        assert value == pytest.approx(expected_value, rel=1e-12)


@pytest.mark.parametrize("case", list(LOSS_CASES))
@pytest.mark.parametrize("net", NETS, ids=NET_IDS)
def test_float32_products_are_the_float64_ones_rounded(net, case):
    """float32 records: the product of their values (exact in float64) rounded once."""
    layers, x, loss, target, weights, v = problem(2, net, case, True, np.float32)
    _, grad, product = RH.network_hvp(layers, x, loss, target, v, weights)
    assert grad.dtype == product.dtype == np.float32
    _, expected = torch_hvp(layers, x, case, target, weights, v)
    assert_close(product, expected, 1e-6)
    _, step_grad = gradient(layers, x, loss, target, weights)
    assert_close(grad, step_grad, 1e-5)  # the step computes in float32


KINKED = ("relu", "leaky_relu", "elu")  # a kink at 0 (elu's in its second derivative)


def kink_pattern(layers, x, loss, target):
    """Every discrete choice the network makes at its parameters: the side of each kink
    of its activations and PReLUs, Maxout's argmax, and l1's and hinge's sides."""
    h, rh, found = x.astype(np.float64), np.zeros(x.shape), []
    still = RH.split(layers, np.zeros(RH.parameter_vector(layers).size))
    for i, layer in enumerate(layers):
        h, rh, saved = RH.layer_r_forward(layer, i, h, rh, still, x.dtype)
        if layer.get("activation") in KINKED:
            found.append(saved["z"] > 0)
        found += [saved[key] for key in ("negative", "top") if key in saved]
    if loss == "l1":
        found.append(h > target)
    if loss == "hinge":
        found.append(target * h < 1)
    return found


def central_difference(layers, x, loss, target, weights, theta, v, eps):
    """(g(theta + eps v) - g(theta - eps v)) / (2 eps) of the step's gradient g, and
    whether every kink kept its side at both points."""
    pattern = kink_pattern(layers, x, loss, target)
    grads, same = [], True
    for sign in (1, -1):
        set_parameters(layers, theta + sign * eps * v)
        grads.append(gradient(layers, x, loss, target, weights)[1])
        moved = kink_pattern(layers, x, loss, target)
        same = same and all(np.array_equal(a, b) for a, b in zip(pattern, moved))
    set_parameters(layers, theta)
    return (grads[0] - grads[1]) / (2 * eps), same


@pytest.mark.parametrize("weighted", [False, True], ids=["mean", "weighted"])
@pytest.mark.parametrize("case", list(LOSS_CASES))
@pytest.mark.parametrize("net", NETS, ids=NET_IDS)
def test_hvp_against_central_differences(net, case, weighted):
    """Richardson's extrapolation of two central differences (error O(eps^4)), along a
    direction whose steps cross no kink (a new direction is drawn until one does not)."""
    layers, x, loss, target, weights, _ = problem(3, net, case, weighted)
    theta = RH.parameter_vector(layers)
    rng = np.random.default_rng(4)
    eps = 2.5e-4  # truncation (eps^4) and rounding (1e-16 / eps) both well under RTOL
    for _ in range(30):
        v = rng.standard_normal(theta.size)
        wide, same_wide = central_difference(layers, x, loss, target, weights, theta, v, eps)
        half, same_half = central_difference(layers, x, loss, target, weights, theta, v, eps / 2)
        if same_wide and same_half:
            break
    else:
        pytest.fail("every direction drawn crosses a kink")
    _, _, product = RH.network_hvp(layers, x, loss, target, v, weights)
    assert_close(product, (4 * half - wide) / 3, RTOL)


def explicit_gauss_newton(layers, x, case, target, weights):
    """J^T H_out J with J = d out / d theta from torch's jacobian, H_out the Hessian of the
    loss with respect to the output from torch's hessian."""
    theta = torch.from_numpy(RH.parameter_vector(layers))
    out = torch_output(layers, x, theta).detach()
    jacobian = torch.autograd.functional.jacobian(lambda t: torch_output(layers, x, t), theta)
    hessian = torch.autograd.functional.hessian(torch_loss_of_output(case, target, weights), out)
    j = jacobian.reshape(out.numel(), -1).numpy()
    return j.T @ hessian.reshape(out.numel(), out.numel()).numpy() @ j


@pytest.mark.parametrize("weighted", [False, True], ids=["mean", "weighted"])
@pytest.mark.parametrize("case", list(LOSS_CASES))
@pytest.mark.parametrize("net", NETS, ids=NET_IDS)
def test_gauss_newton_against_explicit_matrix(net, case, weighted):
    layers, x, loss, target, weights, v = problem(5, net, case, weighted)
    g = explicit_gauss_newton(layers, x, case, target, weights)
    _, _, product = RH.network_hvp(layers, x, loss, target, v, weights, gauss_newton=True)
    assert_close(product, g @ v, RTOL)
    if case in ("l1", "hinge"):  # piecewise linear in the output: no curvature there
        assert not product.any()


def matrix(layers, x, loss, target, weights, gauss_newton):
    """The whole matrix, one product per basis vector (tiny nets)."""
    size = RH.parameter_vector(layers).size
    columns = [
        RH.network_hvp(layers, x, loss, target, e, weights, gauss_newton=gauss_newton)[2]
        for e in np.eye(size)
    ]
    return np.stack(columns, axis=1)


@pytest.mark.parametrize("case", list(LOSS_CASES))
@pytest.mark.parametrize("net", NETS, ids=NET_IDS)
def test_symmetry_and_positive_gauss_newton(net, case):
    layers, x, loss, target, weights, v = problem(6, net, case, True)
    u = np.random.default_rng(7).standard_normal(v.size)
    for gauss_newton in (False, True):
        hu = RH.network_hvp(layers, x, loss, target, u, weights, gauss_newton=gauss_newton)[2]
        hv = RH.network_hvp(layers, x, loss, target, v, weights, gauss_newton=gauss_newton)[2]
        scale = np.linalg.norm(u) * np.linalg.norm(hv) + np.linalg.norm(v) * np.linalg.norm(hu)
        assert abs(u @ hv - v @ hu) <= 1e-12 * scale
    h = matrix(layers, x, loss, target, weights, False)
    assert_close(h, h.T, 1e-12)
    g = matrix(layers, x, loss, target, weights, True)
    assert_close(g, g.T, 1e-12)
    if case in CONVEX:
        # v^T G v = (J v)^T H_out (J v) >= 0: every eigenvalue, up to rounding
        lowest = np.linalg.eigvalsh((g + g.T) / 2)[0]
        assert lowest >= -1e-12 * max(np.abs(g).max(), 1e-300)
        gv = RH.network_hvp(layers, x, loss, target, v, weights, gauss_newton=True)[2]
        assert v @ gv >= 0


def test_dropout_without_a_mask_is_the_identity():
    layers, x, loss, target, weights, v = problem(8, MIXES[3], "mse", False)
    expected = RH.network_hvp(layers, x, loss, target, v, weights)
    layers[1]["mask"] = None  # a network not training: no mask buffer
    assert layers[1]["kind"] == "dropout"
    without = RH.network_hvp(layers, x, loss, target, v, weights)
    assert not np.array_equal(without[2], expected[2])
    layers.pop(1)
    assert_close(RH.network_hvp(layers, x, loss, target, v, weights)[2], without[2], 1e-15)


@pytest.mark.parametrize("activation", ["step", "sign"])
@pytest.mark.parametrize("kind", ["dense", "activation"])
def test_step_and_sign_are_refused(kind, activation):
    act = (activation, None)
    spec = ("dense", 2, act, True) if kind == "dense" else ("activation", act)
    net = (3, 2, [("dense", 2, IDENTITY, True), spec])
    layers, x, loss, target, weights, v = problem(9, net, "mse", False)
    with pytest.raises(ValueError, match="not differentiable"):
        RH.network_hvp(layers, x, loss, target, v, weights)


def test_bad_arguments_are_refused():
    layers, x, loss, target, weights, v = problem(10, MIXES[2], "mse", False)
    with pytest.raises(ValueError, match=f"v must have {v.size} elements"):
        RH.network_hvp(layers, x, loss, target, v[1:], weights)
    with pytest.raises(ValueError, match="loss must be one of"):
        RH.network_hvp(layers, x, "huber", target, v, weights)


@pytest.mark.parametrize("seed", range(60))
def test_random_networks_against_torch(seed):
    """H v against torch's hvp and G v against the explicit J^T H_out J over random
    architectures, losses and weights (float64)."""
    rng = np.random.default_rng(100 + seed)
    net = random_net(rng)
    case = list(LOSS_CASES)[seed % len(LOSS_CASES)]
    layers, x, loss, target, weights, v = problem(seed, net, case, bool(rng.integers(2)))
    _, _, product = RH.network_hvp(layers, x, loss, target, v, weights)
    assert_close(product, torch_hvp(layers, x, case, target, weights, v)[1], RTOL)
    g = explicit_gauss_newton(layers, x, case, target, weights)
    _, _, product = RH.network_hvp(layers, x, loss, target, v, weights, gauss_newton=True)
    assert_close(product, g @ v, RTOL)
