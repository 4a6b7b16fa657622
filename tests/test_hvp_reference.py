"""The NumPy oracle of Hessian- and Gauss-Newton-vector products (pynn.reference_hvp,
issue 18) over every layer kind, every differentiable activation and every loss, with and
without sample weights: H v against central differences of the step's gradient;
u^T H v = v^T H u; v^T G v >= 0 for the convex losses and G = 0 for l1 and hinge; the
refusals. The checks against torch are in test_hvp_torch.py."""

import numpy as np
import pytest
from hvp_cases import (
    CONVEX,
    IDENTITY,
    LOSS_CASES,
    MIXES,
    NET_IDS,
    NETS,
    RTOL,
    assert_close,
    gradient,
    problem,
    set_parameters,
)

import pynn.reference_hvp as RH

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
