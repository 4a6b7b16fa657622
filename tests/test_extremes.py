"""Extreme inputs (+-88, +-1e4, +-1e30): finite results equal to the reference's values
and to the mathematical limits."""

import math

import numpy as np
import pytest
from helpers import ACT_CASES, ACT_IDS, DIFF_ACT_CASES, DIFF_ACT_IDS, DTYPES, K, R, assert_close

EXTREMES = [88.0, 1e4, 1e30]


def extreme_vector(dtype):
    v = []
    for e in EXTREMES:
        v += [e, -e]
    v += [0.0, 1.0, -1.0]
    return np.array(v, dtype)


@pytest.mark.parametrize("act,param", ACT_CASES, ids=ACT_IDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_activation_forward_extremes(dtype, act, param):
    z = extreme_vector(dtype)
    got = K.activation_forward(z, act, param)
    assert np.all(np.isfinite(got)), got
    assert_close(got, R.activation_forward(z, act, param), dtype)


@pytest.mark.parametrize("act,param", DIFF_ACT_CASES, ids=DIFF_ACT_IDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_activation_derivative_extremes(dtype, act, param):
    z = extreme_vector(dtype)
    a = R.activation_forward(z, act, param)
    got = K.activation_derivative(act, param, a=a, z=z)
    assert np.all(np.isfinite(got)), got
    assert_close(got, R.activation_derivative(act, param, a=a, z=z), dtype)
    dout = np.ones_like(z)
    back = K.activation_backward(dout, act, param, a=a, z=z)
    assert np.all(np.isfinite(back))
    assert_close(back, got, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_activation_limits(dtype):
    big = np.array([1e30, -1e30, 1e4, -1e4], dtype)
    f = lambda name, param=None: K.activation_forward(big, name, param)  # noqa: E731
    np.testing.assert_array_equal(f("sigmoid"), np.array([1, 0, 1, 0], dtype))
    np.testing.assert_array_equal(f("tanh"), np.array([1, -1, 1, -1], dtype))
    np.testing.assert_array_equal(f("softplus"), np.array([1e30, 0, 1e4, 0], dtype))
    np.testing.assert_array_equal(f("relu"), np.array([1e30, 0, 1e4, 0], dtype))
    np.testing.assert_array_equal(f("elu", 0.5), np.array([1e30, -0.5, 1e4, -0.5], dtype))
    np.testing.assert_array_equal(f("step"), np.array([1, 0, 1, 0], dtype))
    np.testing.assert_array_equal(f("sign"), np.array([1, -1, 1, -1], dtype))
    assert_close(f("leaky_relu", 0.2), np.array([1e30, -2e29, 1e4, -2e3]), dtype)
    # derivatives at the limits
    a = K.activation_forward(big, "sigmoid")
    np.testing.assert_array_equal(K.activation_derivative("sigmoid", a=a), np.zeros(4, dtype))
    np.testing.assert_array_equal(
        K.activation_derivative("softplus", z=big), np.array([1, 0, 1, 0], dtype)
    )
    np.testing.assert_array_equal(
        K.activation_derivative("elu", 2.0, z=big), np.array([1, 0, 1, 0], dtype)
    )


@pytest.mark.parametrize("value", EXTREMES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_extremes(dtype, value):
    x = np.array(
        [
            [value, -value, 0.0],
            [value, value, value],
            [-value, -value, -value],
            [value, value, -value],
        ],
        dtype,
    )
    p = K.softmax(x)
    lp = K.log_softmax(x)
    assert np.all(np.isfinite(p)) and np.all(np.isfinite(lp))
    assert_close(p, R.softmax(x), dtype, k=3)
    assert_close(lp, R.log_softmax(x), dtype, k=3)
    assert_close(p[1], np.full(3, 1 / 3), dtype, k=3)
    assert_close(p[2], np.full(3, 1 / 3), dtype, k=3)
    assert_close(lp[1], np.full(3, -math.log(3)), dtype, k=3)
    if value >= 1e4:
        assert_close(p[0], np.array([1.0, 0.0, 0.0]), dtype, k=3)
        assert_close(p[3], np.array([0.5, 0.5, 0.0]), dtype, k=3)
        assert_close(
            lp[0], np.array([0.0, -2 * float(dtype(value)), -float(dtype(value))]), dtype, k=3
        )


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_no_overflow_at_88_float32_style(dtype):
    # exp(88) * 4 overflows float32: only a max-subtracted sum stays finite
    x = np.full((2, 4), 88.0, dtype)
    assert_close(K.log_softmax(x), np.full((2, 4), -math.log(4)), dtype, k=4)
    loss, grad = K.softmax_cross_entropy(x, np.array([0, 3]))
    assert_close(loss, math.log(4), dtype, k=4)
    assert_close(grad, (np.full((2, 4), 0.25) - np.eye(4)[[0, 3]]) / 2, dtype, k=4)


@pytest.mark.parametrize("value", EXTREMES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_cross_entropy_extremes(dtype, value):
    v = float(dtype(value))
    x = np.array([[value, -value, 0.0]] * 3, dtype)
    labels = np.array([0, 1, 2])
    sl = np.empty(3, dtype)
    loss, grad = K.softmax_cross_entropy(x, labels, sample_loss=sl)
    rloss, rgrad = R.softmax_cross_entropy(x, labels)
    assert math.isfinite(loss) and np.all(np.isfinite(grad)) and np.all(np.isfinite(sl))
    assert_close(loss, rloss, dtype, k=3)
    assert_close(grad, rgrad, dtype, k=3)
    if value >= 1e4:
        # mathematical limits: l = lse - z_y with lse = value (exp(-value) vanishes)
        assert_close(sl, np.array([0.0, 2 * v, v]), dtype, k=3)
        assert_close(loss, v, dtype, k=3)
        p = np.array([1.0, 0.0, 0.0])
        assert_close(grad, (p - np.eye(3)) / 3, dtype, k=3)
    # probability targets, too
    probs = np.array([[0.5, 0.5, 0.0], [0.0, 0.0, 1.0], [0.25, 0.25, 0.5]], dtype)
    loss, grad = K.softmax_cross_entropy(x, probs)
    rloss, rgrad = R.softmax_cross_entropy(x, probs)
    assert math.isfinite(loss) and np.all(np.isfinite(grad))
    assert_close(loss, rloss, dtype, k=3)
    assert_close(grad, rgrad, dtype, k=3)


@pytest.mark.parametrize("value", EXTREMES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_bce_extremes(dtype, value):
    v = float(dtype(value))
    x = np.array([[value, value, -value, -value, value, -value]], dtype)
    y = np.array([[1.0, 0.0, 1.0, 0.0, 0.5, 0.5]], dtype)
    sl = np.empty(1, dtype)
    loss, grad = K.sigmoid_binary_cross_entropy(x, y, sample_loss=sl)
    rloss, rgrad = R.sigmoid_binary_cross_entropy(x, y)
    assert math.isfinite(loss) and np.all(np.isfinite(grad))
    assert_close(loss, rloss, dtype, k=6)
    assert_close(grad, rgrad, dtype, k=6)
    if value >= 1e4:
        # terms: 0, v, v, 0, v/2, v/2
        assert_close(loss, 3 * v, dtype, k=6)
        assert_close(grad, np.array([[0.0, 1.0, -1.0, 0.0, 0.5, -0.5]]), dtype, k=6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_limit_1e30(dtype):
    x = np.array([[-1e30]], dtype)
    y = np.array([[1.0]], dtype)
    loss, grad = K.sigmoid_binary_cross_entropy(x, y)
    assert loss == float(dtype(1e30))
    assert grad[0, 0] == -1.0
    loss, grad = K.sigmoid_binary_cross_entropy(-x, y)
    assert loss == 0.0 and grad[0, 0] == 0.0


@pytest.mark.parametrize("value", EXTREMES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_hinge_l1_extremes(dtype, value):
    x = np.array([[value, -value]], dtype)
    y = np.array([[1.0, 1.0]], dtype)
    for name in ("hinge", "l1"):
        loss, grad = getattr(K, name)(x, y)
        rloss, rgrad = getattr(R, name)(x, y)
        assert math.isfinite(loss) and np.all(np.isfinite(grad))
        assert_close(loss, rloss, dtype, k=2, what=name)
        assert_close(grad, rgrad, dtype, k=2, what=name)
