"""Both dtype versions of every binding (issue 16).

Each binding of pynn._kernels is one body fused over float and double; the def function
picks the version by the dtype of the array that fixes the call's dtype. This runs every
binding, by each path that picks a version (a different first array, the derivative's
dout, a or z), in float32 and float64, against pynn.reference: a version that called the
other dtype's C kernel, or read an array as the wrong type, would give the wrong dtype or
garbage.
"""

import numpy as np
import pytest
from helpers import DTYPES, K, R, assert_close, rand


def calls(rng, dtype):
    """name -> (function of the module, k for the tolerance). Each call makes its own
    copies of what it updates in place, and returns what it wrote."""
    x, w, b = rand(rng, (5, 3), dtype), rand(rng, (2, 3), dtype), rand(rng, (2,), dtype)
    dout, a = rand(rng, (5, 2), dtype), rand(rng, (5, 2), dtype, 0.1, 0.9)
    slope, probs = rand(rng, (3,), dtype), rand(rng, (5, 2), dtype, 0, 1)
    labels = np.array([0, 1, 1, 0, 1])
    signs = np.where(rand(rng, (5, 2), dtype) > 0, 1, -1).astype(dtype)
    weight = rand(rng, (5,), dtype, 0.5, 2)
    p, g = rand(rng, (7,), dtype), rand(rng, (7,), dtype)
    m, v = rand(rng, (7,), dtype), rand(rng, (7,), dtype, 0, 1)

    def sgd(mod):
        param, buf = p.copy(), m.copy()
        mod.sgd_update(param, g, buf, step=2, lr=0.1, momentum=0.9)
        return param, buf

    def adam(mod):
        param, m1, v1 = p.copy(), m.copy(), v.copy()
        mod.adam_update(param, g, m1, v1, step=3, lr=0.01)
        return param, m1, v1

    def clip(mod, name, bound):
        grad = g.copy()
        result = getattr(mod, name)(grad, bound)
        return grad if result is None else (np.float64(result), grad)

    return {
        "activation_forward": (lambda mod: mod.activation_forward(x, "tanh"), 1),
        "activation_derivative-a": (lambda mod: mod.activation_derivative("sigmoid", a=a), 1),
        "activation_derivative-z": (lambda mod: mod.activation_derivative("softplus", z=x), 1),
        "activation_derivative-identity": (
            lambda mod: mod.activation_derivative("identity", a=x),
            1,
        ),
        "activation_backward": (lambda mod: mod.activation_backward(dout, "elu", z=a), 1),
        "prelu_forward": (lambda mod: mod.prelu_forward(x, slope), 1),
        "prelu_backward": (lambda mod: mod.prelu_backward(x, x, slope), 5),
        "softmax": (lambda mod: mod.softmax(x), 3),
        "log_softmax": (lambda mod: mod.log_softmax(x), 3),
        "gemm": (lambda mod: mod.gemm(x, w, trans_b=True), 3),
        "dense_forward": (
            lambda mod: mod.dense_forward(x, w, b, "relu", z=np.empty((5, 2), dtype)),
            3,
        ),
        "dense_backward": (lambda mod: mod.dense_backward(dout, x, w, "sigmoid", a=a), 5),
        "softmax_cross_entropy-labels": (
            lambda mod: mod.softmax_cross_entropy(x[:, :2].copy(), labels, weight),
            5,
        ),
        "softmax_cross_entropy-probs": (
            lambda mod: mod.softmax_cross_entropy(x[:, :2].copy(), probs),
            5,
        ),
        "sigmoid_binary_cross_entropy": (
            lambda mod: mod.sigmoid_binary_cross_entropy(dout, probs, weight),
            5,
        ),
        "mse": (lambda mod: mod.mse(dout, a, sample_loss=np.empty(5, dtype)), 5),
        "l1": (lambda mod: mod.l1(dout, a, weight), 5),
        "hinge": (lambda mod: mod.hinge(dout, signs), 5),
        "sgd_update": (sgd, 1),
        "adam_update": (adam, 1),
        "grad_norm": (lambda mod: mod.grad_norm(g), 1),
        "clip_grad_norm": (lambda mod: clip(mod, "clip_grad_norm", 0.1), 2),
        "clip_grad_value": (lambda mod: clip(mod, "clip_grad_value", 0.1), 1),
        "count_argmax_hits": (lambda mod: mod.count_argmax_hits(x, labels), 1),
    }


def flat(result):
    return [r for item in result for r in flat(item)] if isinstance(result, tuple) else [result]


@pytest.mark.parametrize("name", sorted(calls(np.random.default_rng(0), np.float64)))
@pytest.mark.parametrize("dtype", DTYPES)
def test_both_dtype_versions(name, dtype):
    fn, k = calls(np.random.default_rng(0), dtype)[name]
    got, expected = flat(fn(K)), flat(fn(R))
    for g, e in zip(got, expected, strict=True):
        if isinstance(e, np.ndarray):
            assert isinstance(g, np.ndarray) and g.dtype == dtype, name
            assert_close(g, e, dtype, k=k)
        elif isinstance(e, (int, np.integer)) and not isinstance(e, bool):
            assert g == e, name
        elif e is None:
            assert g is None, name
        else:
            assert_close(np.float64(g), np.float64(e), dtype, k=k)


@pytest.mark.parametrize("dtype", DTYPES)
def test_workspace_sizes_by_dtype(dtype):
    """The sizes are per dtype: a float32 workspace holds the same bytes in more elements,
    and a kernel given one of exactly that size runs."""
    rng = np.random.default_rng(1)
    x, w = rand(rng, (33, 40), dtype), rand(rng, (20, 40), dtype)
    fwd = K.dense_forward_workspace_size(33, 40, 20, dtype)
    bwd = K.dense_backward_workspace_size(33, 40, 20, dtype)
    gws = K.gemm_workspace_size(33, 20, 40, dtype)
    out = K.dense_forward(x, w, workspace=np.empty(fwd, dtype))
    assert_close(out, R.dense_forward(x, w), dtype, k=40)
    c = K.gemm(x, w, trans_b=True, workspace=np.empty(gws, dtype))
    assert_close(c, R.gemm(x, w, trans_b=True), dtype, k=40)
    dw, _, dx = K.dense_backward(out, x, w, workspace=np.empty(bwd, dtype))
    rdw, _, rdx = R.dense_backward(out, x, w)
    assert_close(dw, rdw, dtype, k=33)
    assert_close(dx, rdx, dtype, k=20)


@pytest.mark.parametrize("first", ["x", "weight"])
def test_mixed_dtypes_name_the_odd_array(first):
    """The version is picked by the first array; another array of the other dtype is
    refused by name, whichever dtype the first one has."""
    x32, w64 = np.ones((2, 3), np.float32), np.ones((4, 3), np.float64)
    x, w = (x32, w64) if first == "x" else (w64[:2].copy(), x32[:1].repeat(4, 0))
    with pytest.raises(TypeError, match="weight has dtype"):
        K.dense_forward(x, w)
