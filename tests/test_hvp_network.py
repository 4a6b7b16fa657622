"""The C network's Hessian- and Gauss-Newton-vector products (pynn._kernels.Network.hvp,
csrc/network_hvp_impl.h) against the NumPy oracle pynn.reference_hvp over every layer
kind, differentiable activation and loss, random architectures and both dtypes; the
gradients it writes beside them; the same bits on 1 and 2 threads; the argument checks."""

import numpy as np
import pynn._kernels as K
import pytest
from hvp_cases import LOSS_CASES, NET_IDS, NETS, gradient, problem, random_net

import pynn
import pynn.reference_hvp as RH

DTYPES = (np.float32, np.float64)
# the oracle computes in float64 from the same values; the C kernel in the dtype
TOLERANCE = {np.float32: 5e-5, np.float64: 1e-12}


def network(layers, x, loss, target):
    n, k = layers[-1]["out"].shape
    dtype = x.dtype
    return K.Network(layers, loss, x, target, np.empty((n, k), dtype), np.empty(n, dtype), None)


def assert_close(actual, expected, rtol):
    """Elementwise within rtol of expected, or within rtol of expected's largest entry."""
    scale = max(float(np.max(np.abs(expected), initial=0.0)), 1e-300)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale)


def check_against_reference(layers, x, loss, target, weights, v, gauss_newton):
    dtype = x.dtype.type
    net = network(layers, x, loss, target)
    product = np.full(net.n_parameters, np.nan, x.dtype)
    v = v.astype(x.dtype)
    value = net.hvp(v, product, gauss_newton=gauss_newton, sample_weight=weights)
    expected_value, expected_grad, expected = RH.network_hvp(
        layers, x, loss, target, v, weights, gauss_newton=gauss_newton
    )
    assert value == pytest.approx(expected_value, rel=TOLERANCE[dtype])
    assert_close(product, expected, TOLERANCE[dtype])
    # the gradients it wrote beside the product: the step's
    grads = np.concatenate([layers[i]["d" + name].ravel() for i, name in RH.parameters(layers)])
    assert_close(grads, expected_grad, TOLERANCE[dtype])
    return product


@pytest.mark.parametrize("gauss_newton", [False, True], ids=["hessian", "gauss_newton"])
@pytest.mark.parametrize("case", list(LOSS_CASES))
@pytest.mark.parametrize("net", NETS, ids=NET_IDS)
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_products_against_the_reference(dtype, net, case, gauss_newton):
    layers, x, loss, target, weights, v = problem(11, net, case, True, dtype)
    check_against_reference(layers, x, loss, target, weights, v, gauss_newton)


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_random_networks_against_the_reference(dtype, seed):
    rng = np.random.default_rng(200 + seed)
    net = random_net(rng)
    case = list(LOSS_CASES)[seed % len(LOSS_CASES)]
    layers, x, loss, target, weights, v = problem(seed, net, case, bool(seed % 3), dtype)
    check_against_reference(layers, x, loss, target, weights, v, bool(seed % 2))


# past the threads' grain: every kernel of the product splits its work
LARGE = (
    64,
    300,
    [
        ("dense", 200, ("tanh", None), True),
        ("dropout", 0.2),
        ("maxout", 130, 2, True),
        ("prelu", False),
        ("activation", ("softplus", None)),
        ("standardize",),
        ("dense", 5, ("identity", None), True),
    ],
)


@pytest.mark.parametrize("case", ["softmax_labels", "bce"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_the_same_bits_on_1_and_2_threads(dtype, case):
    results = []
    for threads in (1, 2):
        layers, x, loss, target, weights, v = problem(12, LARGE, case, True, dtype)
        with pynn.threads(threads):
            net = network(layers, x, loss, target)
        for gauss_newton in (False, True):
            product = np.empty(net.n_parameters, dtype)
            value = net.hvp(v.astype(dtype), product, gauss_newton, weights)
            assert np.isfinite(value)
            results.append((value, product))
    for (value1, product1), (value2, product2) in zip(results[:2], results[2:]):
        assert value1 == value2
        np.testing.assert_array_equal(product1, product2)
    layers, x, loss, target, weights, v = problem(12, LARGE, case, True, dtype)
    expected = RH.network_hvp(layers, x, loss, target, v.astype(dtype), weights)[2]
    assert_close(results[0][1], expected, TOLERANCE[dtype] * 10)


def test_a_product_without_weights_and_the_step_gradient():
    layers, x, loss, target, _, v = problem(13, NETS[2], "softmax_probs", False)
    net = network(layers, x, loss, target)
    product = np.empty(net.n_parameters)
    net.hvp(v, product)
    assert_close(product, RH.network_hvp(layers, x, loss, target, v)[2], 1e-12)
    hvp_grads = np.concatenate([layers[i]["d" + n].ravel() for i, n in RH.parameters(layers)])
    _, step_grads = gradient(layers, x, loss, target, None)
    assert_close(hvp_grads, step_grads, 1e-12)


def test_a_given_workspace_is_used():
    layers, x, loss, target, weights, v = problem(14, NETS[3], "mse", True)
    net = network(layers, x, loss, target)
    first, second = np.empty(net.n_parameters), np.empty(net.n_parameters)
    net.hvp(v, first, sample_weight=weights)
    net.hvp(v, second, sample_weight=weights, workspace=np.empty(net.hvp_workspace_size))
    np.testing.assert_array_equal(first, second)


def test_bad_arguments_are_refused():
    layers, x, loss, target, weights, v = problem(15, NETS[2], "mse", False)
    net = network(layers, x, loss, target)
    product = np.empty(net.n_parameters)
    with pytest.raises(ValueError, match="v"):
        net.hvp(v[1:], product)
    with pytest.raises(TypeError, match="v"):
        net.hvp(v.astype(np.float32), product)
    with pytest.raises(ValueError, match="product"):
        net.hvp(v, product[1:])
    with pytest.raises(TypeError, match="product"):
        net.hvp(v, product.astype(np.float32))
    with pytest.raises(ValueError, match="product"):
        net.hvp(v, v)
    shared = np.empty(net.hvp_workspace_size + v.size)
    with pytest.raises(ValueError, match="product"):
        net.hvp(v, shared[: v.size], workspace=shared)
    with pytest.raises(ValueError, match="workspace"):
        net.hvp(v, product, workspace=np.empty(net.hvp_workspace_size - 1))
    with pytest.raises(ValueError, match="sample_weight"):
        net.hvp(v, product, sample_weight=np.full(x.shape[0], -1.0))
    n, k = layers[-1]["out"].shape
    forward_only = K.Network(layers, None, x, None, np.empty((n, k)), None, None)
    with pytest.raises(ValueError, match="no loss"):
        forward_only.hvp(v, product)


def test_a_loss_that_is_not_finite_writes_no_product():
    """An overflowing Poisson rate: the loss is inf, the gradients and product untouched."""
    layers, x, loss, target, _, v = problem(16, NETS[1], "poisson", False)
    layers[-1]["bias"][...] = 1000.0  # exp(1000) overflows
    net = network(layers, x, loss, target)
    product = np.full(net.n_parameters, 7.0)
    assert net.hvp(v, product) == np.inf
    assert (product == 7.0).all()
    assert np.isnan(layers[-1]["dweight"]).all()  # make_records' NaN fill, unwritten
