"""The NumPy oracle of Hessian- and Gauss-Newton-vector products (pynn.reference_hvp,
issue 18) against torch: H v against torch.autograd.functional.hvp on the same network
written in torch, G v against J^T H_out J built with torch's jacobian and hessian, for every
layer kind, activation and loss, with and without weights, and over random architectures.
Skipped without torch (the sanitizer run has none)."""

import numpy as np
import pytest

pytest.importorskip("torch")
from hvp_cases import (  # noqa: E402
    LOSS_CASES,
    NET_IDS,
    NETS,
    RTOL,
    assert_close,
    gradient,
    problem,
    random_net,
)
from hvp_torch_twin import explicit_gauss_newton, torch_hvp  # noqa: E402

import pynn.reference_hvp as RH  # noqa: E402


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
