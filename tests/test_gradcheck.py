"""Finite-difference checks (float64, central differences) of every analytic gradient, run
against pynn._kernels and pynn.reference.

With step h = 1e-6 the central difference's truncation error is O(h^2 f''') ~ 1e-12 and
its rounding error O(eps |f| / h) ~ 1e-10, so a relative error of 1e-6 leaves a wide margin
while any wrong formula (a missing factor, a sign, 1/n versus 1/(n k)) is off by O(1).
Inputs are kept at least 1e-2 away from kinks (relu at 0, |pred - y| = 0, y pred = 1), far
more than the perturbation.
"""

import numpy as np
import pytest
from helpers import DIFF_ACT_CASES, DIFF_ACT_IDS, IMPLS, away_from, rand, randn

H = 1e-6
RTOL_FD = 1e-6
F64 = np.float64


def numerical_grad(f, x, h=H):
    """Central differences of the scalar f() with respect to every element of x (in place)."""
    g = np.zeros_like(x)
    flat, gflat = x.reshape(-1), g.reshape(-1)
    for i in range(flat.size):
        orig = flat[i]
        flat[i] = orig + h
        fp = f()
        flat[i] = orig - h
        fm = f()
        flat[i] = orig
        gflat[i] = (fp - fm) / (2 * h)
    return g


def assert_grad_close(analytic, numeric, what=""):
    analytic = np.asarray(analytic, dtype=F64)
    numeric = np.asarray(numeric, dtype=F64)
    assert analytic.shape == numeric.shape, what
    scale = max(np.max(np.abs(numeric)), np.max(np.abs(analytic)), 1e-3)
    err = np.max(np.abs(analytic - numeric)) / scale
    assert err < RTOL_FD, (
        f"{what}: relative error {err:.2e}\nanalytic {analytic}\nnumeric {numeric}"
    )


# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("act,param", DIFF_ACT_CASES, ids=DIFF_ACT_IDS)
@pytest.mark.parametrize("impl", IMPLS)
def test_activation_derivative_fd(rng, impl, act, param):
    z = away_from(rng, (40,), F64, points=(0.0,), margin=1e-2, low=-4, high=4)
    a = impl.activation_forward(z, act, param)
    d = impl.activation_derivative(act, param, a=a, z=z)
    # element-wise: one pass of central differences over the whole vector
    fd = (
        impl.activation_forward(z + H, act, param) - impl.activation_forward(z - H, act, param)
    ) / (2 * H)
    assert_grad_close(d, fd, "derivative")
    dout = randn(rng, z.shape, F64)
    back = impl.activation_backward(dout, act, param, a=a, z=z)
    assert_grad_close(back, dout * fd, "backward")


@pytest.mark.parametrize("shared", [False, True], ids=["per-feature", "shared"])
@pytest.mark.parametrize("impl", IMPLS)
def test_prelu_fd(rng, impl, shared):
    n, f = 5, 4
    x = away_from(rng, (n, f), F64, margin=1e-2)
    slope = rand(rng, (1,) if shared else (f,), F64, -0.5, 1.5)
    dout = randn(rng, (n, f), F64)

    def objective():
        return float(np.sum(dout * impl.prelu_forward(x, slope)))

    dx, dslope = impl.prelu_backward(dout, x, slope)
    assert_grad_close(dx, numerical_grad(objective, x), "dx")
    assert_grad_close(dslope, numerical_grad(objective, slope), "dslope")


# ---------------------------------------------------------------------------------------
LOSS_FD_CASES = [
    ("softmax_cross_entropy", "labels"),
    ("softmax_cross_entropy", "probs"),
    ("softmax_cross_entropy", "unnormalized"),
    ("sigmoid_binary_cross_entropy", "probs"),
    ("mse", "real"),
    ("l1", "real"),
    ("hinge", "pm1"),
    ("poisson", "counts"),
]


def loss_case(rng, name, kind, n, k):
    x = randn(rng, (n, k), F64, 1.5)
    if kind == "labels":
        t = rng.integers(0, k, size=n)
    elif kind == "probs":
        t = (
            rng.dirichlet(np.ones(k), size=n)
            if name == "softmax_cross_entropy"
            else rng.uniform(0, 1, size=(n, k))
        )
    elif kind == "unnormalized":
        t = rng.uniform(0, 2, size=(n, k))
        t[0, 0] = 0.0
    elif kind == "real":
        t = rand(rng, (n, k), F64, -1, 1)
        x = t + away_from(rng, (n, k), F64, margin=1e-2)  # |pred - y| >= 1e-2
    elif kind == "pm1":
        t = (2 * rng.integers(0, 2, size=(n, k)) - 1).astype(F64)
        x = t * away_from(rng, (n, k), F64, points=(1.0,), margin=1e-2)  # y pred != 1
    elif kind == "counts":  # x is the log-rate
        t = rng.poisson(2.0, size=(n, k)).astype(F64)
    return np.ascontiguousarray(x), t


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("name,kind", LOSS_FD_CASES, ids=[f"{n}-{k}" for n, k in LOSS_FD_CASES])
@pytest.mark.parametrize("impl", IMPLS)
def test_loss_gradient_fd(rng, impl, name, kind, weighted):
    n, k = 4, 3
    x, t = loss_case(rng, name, kind, n, k)
    w = rand(rng, (n,), F64, 0.1, 2.0) if weighted else None
    fn = getattr(impl, name)
    loss, grad = fn(x, t, w)
    fd = numerical_grad(lambda: fn(x, t, w, grad=False)[0], x)
    assert_grad_close(grad, fd, f"{name} gradient")


# ---------------------------------------------------------------------------------------
def pre_activation_away_from_kinks(rng, n, fin, fout, bias):
    """x, weight, bias whose pre-activations are >= 1e-2 away from 0 (relu, elu kinks)."""
    for _ in range(200):
        x = randn(rng, (n, fin), F64)
        w = randn(rng, (fout, fin), F64, 0.5)
        b = randn(rng, (fout,), F64, 0.5) if bias else None
        z = x @ w.T + (b if bias else 0)
        if np.min(np.abs(z)) > 1e-2:
            return x, w, b
    raise AssertionError("could not draw a layer away from kinks")


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("act,param", DIFF_ACT_CASES, ids=DIFF_ACT_IDS)
@pytest.mark.parametrize("impl", IMPLS)
def test_dense_backward_fd(rng, impl, act, param, bias):
    n, fin, fout = 3, 4, 5
    x, w, b = pre_activation_away_from_kinks(rng, n, fin, fout, bias)
    dout = randn(rng, (n, fout), F64)

    def objective():
        return float(np.sum(dout * impl.dense_forward(x, w, b, act, param)))

    z = np.empty((n, fout))
    a = impl.dense_forward(x, w, b, act, param, z=z)
    dw, db, dx = impl.dense_backward(dout, x, w, act, param, a=a, z=z, bias=bias)
    assert_grad_close(dw, numerical_grad(objective, w), "dweight")
    assert_grad_close(dx, numerical_grad(objective, x), "dx")
    if bias:
        assert_grad_close(db, numerical_grad(objective, b), "dbias")
    else:
        assert db is None


@pytest.mark.parametrize("impl", IMPLS)
def test_two_layer_network_with_loss_fd(rng, impl):
    """Chain dense(tanh) -> dense(identity) -> softmax cross-entropy and check the
    gradient of the first layer's weight end to end."""
    n, fin, hid, k = 4, 3, 5, 3
    x = randn(rng, (n, fin), F64)
    w1, b1 = randn(rng, (hid, fin), F64), randn(rng, (hid,), F64)
    w2, b2 = randn(rng, (k, hid), F64), randn(rng, (k,), F64)
    y = rng.integers(0, k, size=n)

    def objective():
        h = impl.dense_forward(x, w1, b1, "tanh")
        return impl.softmax_cross_entropy(impl.dense_forward(h, w2, b2), y, grad=False)[0]

    h = impl.dense_forward(x, w1, b1, "tanh")
    logits = impl.dense_forward(h, w2, b2)
    _, dlogits = impl.softmax_cross_entropy(logits, y)
    _, _, dh = impl.dense_backward(dlogits, h, w2)
    dw1, db1, _ = impl.dense_backward(dh, x, w1, "tanh", a=h, input_grad=False)
    assert_grad_close(dw1, numerical_grad(objective, w1), "dweight1")
    assert_grad_close(db1, numerical_grad(objective, b1), "dbias1")
