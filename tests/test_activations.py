"""Element-wise activations (forward, derivative, backward) and PReLU."""

import math

import numpy as np
import pytest
from helpers import (
    ACT_CASES,
    ACT_IDS,
    DIFF_ACT_CASES,
    DIFF_ACT_IDS,
    DTYPES,
    K,
    R,
    activation_terms,
    assert_close,
    nan_like,
    rand,
)

try:
    from hypothesis import given
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError:  # pragma: no cover
    given = None

ACT_SHAPES = [(0,), (1,), (7,), (13,), (97,), (17, 65), (3, 5, 7), (2, 513), (777,)]


def act_input(rng, shape, dtype):
    x = rand(rng, shape, dtype, -4, 4)
    flat = x.reshape(-1)
    if flat.size >= 4:  # the kinks themselves
        flat[:2] = 0.0
        flat[2] = -0.0
    return x


def independent_forward(name, param, z):
    """float64 formulas written from the spec, independent of pynn.reference."""
    z = z.astype(np.float64)
    with np.errstate(over="ignore"):
        if name == "identity":
            return z
        if name == "sigmoid":
            return np.array(
                [1 / (1 + math.exp(-v)) if v > -700 else 0.0 for v in z.ravel()]
            ).reshape(z.shape)
        if name == "tanh":
            return np.tanh(z)
        if name == "relu":
            return np.where(z < 0, 0.0, z)
        if name == "leaky_relu":
            s = 0.01 if param is None else param
            return np.where(z < 0, s * z, z)
        if name == "softplus":
            return np.array(
                [math.log1p(math.exp(v)) if v < 30 else v + math.exp(-v) for v in z.ravel()]
            ).reshape(z.shape)
        if name == "elu":
            al = 1.0 if param is None else param
            return np.where(z > 0, z, al * np.expm1(np.minimum(z, 0)))
        if name == "step":
            return np.where(z > 0, 1.0, 0.0)
        if name == "sign":
            return np.sign(z)
    raise AssertionError(name)


def independent_derivative(name, param, z):
    z = z.astype(np.float64)
    sig = 1 / (1 + np.exp(-z))
    if name == "identity":
        return np.ones_like(z)
    if name == "sigmoid":
        return sig * (1 - sig)
    if name == "tanh":
        return 1 - np.tanh(z) ** 2
    if name == "relu":
        return (z > 0).astype(np.float64)
    if name == "leaky_relu":
        s = 0.01 if param is None else param
        return np.where(z > 0, 1.0, s)
    if name == "softplus":
        return sig
    if name == "elu":
        al = 1.0 if param is None else param
        return np.where(z > 0, 1.0, al * np.exp(np.minimum(z, 0)))
    raise AssertionError(name)


def test_activations_tuple():
    expected = (
        "identity",
        "sigmoid",
        "tanh",
        "relu",
        "leaky_relu",
        "softplus",
        "elu",
        "step",
        "sign",
    )
    assert tuple(K.ACTIVATIONS) == expected
    assert tuple(R.ACTIVATIONS) == expected


@pytest.mark.parametrize("impl", [K, R], ids=["kernels", "reference"])
def test_activation_saves(impl):
    expected = {
        ("identity", None): None,
        ("sigmoid", None): "output",
        ("tanh", None): "output",
        ("relu", None): "output",
        ("leaky_relu", None): "output",
        ("leaky_relu", 0.2): "output",
        ("leaky_relu", 0.0): "output",
        ("leaky_relu", -0.3): "input",
        ("softplus", None): "input",
        ("elu", None): "input",
        ("elu", 0.5): "input",
    }
    for (name, param), saves in expected.items():
        assert impl.activation_saves(name, param) == saves, (name, param)
    for name in ("step", "sign"):
        with pytest.raises(ValueError):
            impl.activation_saves(name)


@pytest.mark.parametrize("shape", ACT_SHAPES, ids=str)
@pytest.mark.parametrize("act,param", ACT_CASES, ids=ACT_IDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_activation_forward(rng, dtype, act, param, shape):
    x = act_input(rng, shape, dtype)
    x_copy = x.copy()
    out = K.activation_forward(x, act, param)
    assert out.shape == x.shape and out.flags.c_contiguous
    assert not np.shares_memory(out, x)
    np.testing.assert_array_equal(x, x_copy, err_msg="input modified")
    assert_close(out, R.activation_forward(x, act, param), dtype)
    assert_close(out, independent_forward(act, param, x), dtype, what="vs float64 formula")


@pytest.mark.parametrize("act,param", ACT_CASES, ids=ACT_IDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_activation_forward_out_given(rng, dtype, act, param):
    x = act_input(rng, (31, 17), dtype)
    out = nan_like(x.shape, dtype)
    result = K.activation_forward(x, act, param, out=out)
    assert result is out
    assert_close(out, R.activation_forward(x, act, param), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_activation_forward_special_values(dtype):
    z = np.array([np.nan, 0.0, -0.0, 2.0, -2.0], dtype)
    nan = np.nan
    expected = {
        "identity": [nan, 0, 0, 2, -2],
        "relu": [nan, 0, 0, 2, 0],
        "step": [nan, 0, 0, 1, 0],
        "sign": [nan, 0, 0, 1, -1],
        "leaky_relu": [nan, 0, 0, 2, -0.02],
        "sigmoid": [nan, 0.5, 0.5, 1 / (1 + math.exp(-2)), 1 / (1 + math.exp(2))],
        "tanh": [nan, 0, 0, math.tanh(2), -math.tanh(2)],
    }
    for name, values in expected.items():
        got = K.activation_forward(z, name)
        assert_close(got, np.array(values), dtype, what=name)
        assert_close(got, R.activation_forward(z, name), dtype, what=name + " vs reference")
    for name in ("softplus", "elu"):
        assert_close(
            K.activation_forward(z, name), R.activation_forward(z, name), dtype, what=name
        )


@pytest.mark.parametrize("shape", [(0,), (1,), (13,), (17, 65), (3, 5, 7), (777,)], ids=str)
@pytest.mark.parametrize("act,param", DIFF_ACT_CASES, ids=DIFF_ACT_IDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_activation_derivative_and_backward(rng, dtype, act, param, shape):
    z = act_input(rng, shape, dtype)
    a = R.activation_forward(z, act, param)
    saves = R.activation_saves(act, param)
    expected = R.activation_derivative(act, param, a=a, z=z)
    got = K.activation_derivative(act, param, a=a, z=z)
    assert_close(got, expected, dtype, terms=activation_terms(act, a))
    # f' read from the rounded output a inherits a's rounding error (1 - a*a for tanh,
    # a(1 - a) for sigmoid): absolute, relative to |a| <= 1, not to f' itself, hence floor=1.
    assert_close(
        got, independent_derivative(act, param, z), dtype, what="vs float64 formula", floor=1.0
    )
    # only the saved array given; the other is not needed
    only = dict(a=a) if saves == "output" else dict(z=z) if saves == "input" else dict(a=a)
    assert_close(
        K.activation_derivative(act, param, **only),
        expected,
        dtype,
        terms=activation_terms(act, a),
        what="saved only",
    )

    dout = rand(rng, shape, dtype)
    back = K.activation_backward(dout, act, param, **only)
    terms = activation_terms(act, a, dout)
    assert_close(
        back,
        R.activation_backward(dout, act, param, a=a, z=z),
        dtype,
        terms=terms,
        what="backward",
    )
    assert_close(
        back, dout.astype(np.float64) * expected, dtype, terms=terms, what="backward = dout * f'"
    )

    out = nan_like(shape, dtype)
    assert K.activation_backward(dout, act, param, a=a, z=z, out=out) is out
    assert_close(out, back, dtype, what="backward out=")
    out = nan_like(shape, dtype)
    assert K.activation_derivative(act, param, a=a, z=z, out=out) is out
    assert_close(out, expected, dtype, what="derivative out=")


@pytest.mark.parametrize("dtype", DTYPES)
def test_activation_derivative_at_kinks(dtype):
    """At z = 0 exactly: relu' = 0, leaky_relu' = slope, elu' = alpha (from the spec's table)."""
    z = np.zeros(3, dtype)
    a = np.zeros(3, dtype)
    cases = [
        ("relu", None, 0.0),
        ("leaky_relu", None, 0.01),
        ("leaky_relu", 0.2, 0.2),
        ("leaky_relu", -0.3, -0.3),
        ("elu", None, 1.0),
        ("elu", 0.5, 0.5),
        ("identity", None, 1.0),
        ("sigmoid", None, 0.0),
        ("softplus", None, 0.5),
    ]
    for name, param, value in cases:
        got = K.activation_derivative(name, param, a=a, z=z)
        assert_close(got, np.full(3, value), dtype, what=f"{name}({param})")


# ---------------------------------------------------------------------------------------
# PReLU
PRELU_SHAPES = [(0, 3), (1, 1), (7, 13), (31, 17), (97, 65), (513, 7), (3, 777)]


def prelu_case(rng, dtype, n, f, shared):
    x = rand(rng, (n, f), dtype, -3, 3)
    if x.size >= 2:
        x.flat[0] = 0.0
    slope = rand(rng, (1,) if shared else (f,), dtype, -0.5, 1.5)
    return x, slope


@pytest.mark.parametrize("shared", [False, True], ids=["per-feature", "shared"])
@pytest.mark.parametrize("n,f", PRELU_SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_prelu_forward(rng, dtype, n, f, shared):
    x, slope = prelu_case(rng, dtype, n, f, shared)
    out = K.prelu_forward(x, slope)
    assert_close(out, R.prelu_forward(x, slope), dtype)
    x64, s64 = x.astype(np.float64), slope.astype(np.float64)
    assert_close(out, np.where(x64 > 0, x64, s64 * x64), dtype, what="vs float64 formula")
    buf = nan_like((n, f), dtype)
    assert K.prelu_forward(x, slope, out=buf) is buf
    assert_close(buf, out, dtype)


@pytest.mark.parametrize("input_grad", [True, False], ids=["dx", "nodx"])
@pytest.mark.parametrize("shared", [False, True], ids=["per-feature", "shared"])
@pytest.mark.parametrize("n,f", PRELU_SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_prelu_backward(rng, dtype, n, f, shared, input_grad):
    x, slope = prelu_case(rng, dtype, n, f, shared)
    dout = rand(rng, (n, f), dtype)
    dx, dslope = K.prelu_backward(dout, x, slope, input_grad=input_grad)
    edx, edslope = R.prelu_backward(dout, x, slope, input_grad=input_grad)
    reduce_len = n * (f if shared else 1)
    assert dslope.shape == slope.shape
    assert_close(dslope, edslope, dtype, k=reduce_len, what="dslope")
    x64, d64 = x.astype(np.float64), dout.astype(np.float64)
    g = d64 * np.where(x64 > 0, 0.0, x64)
    indep = g.sum().reshape(1) if shared else g.sum(axis=0)
    assert_close(dslope, indep, dtype, k=reduce_len, what="dslope vs float64")
    if input_grad:
        assert_close(dx, edx, dtype, what="dx")
        assert_close(
            dx, d64 * np.where(x64 > 0, 1.0, slope.astype(np.float64)), dtype, what="dx vs float64"
        )
    else:
        assert dx is None


@pytest.mark.parametrize("give_dx", [True, False], ids=["dx-given", "dx-new"])
@pytest.mark.parametrize("shared", [False, True], ids=["per-feature", "shared"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_prelu_backward_given_outputs(rng, dtype, shared, give_dx):
    n, f = 45, 23
    x, slope = prelu_case(rng, dtype, n, f, shared)
    dout = rand(rng, (n, f), dtype)
    dslope = nan_like(slope.shape, dtype)  # overwritten, never read: NaN must not survive
    dx = nan_like((n, f), dtype) if give_dx else None
    rdx, rds = K.prelu_backward(dout, x, slope, dslope=dslope, dx=dx)
    assert rds is dslope
    if give_dx:
        assert rdx is dx
    edx, eds = R.prelu_backward(dout, x, slope)
    assert_close(dslope, eds, dtype, k=n * f)
    assert_close(rdx, edx, dtype)


# ---------------------------------------------------------------------------------------
if given is not None:
    finite32 = st.floats(width=32, allow_nan=False, allow_infinity=False)
    finite64 = st.floats(allow_nan=False, allow_infinity=False)

    @st.composite
    def act_arrays(draw):
        dtype = draw(st.sampled_from(DTYPES))
        shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=40))
        elems = finite32 if dtype == np.float32 else finite64
        return draw(hnp.arrays(dtype, shape, elements=elems))

    @given(x=act_arrays(), case=st.sampled_from(ACT_CASES))
    def test_activation_forward_hypothesis(x, case):
        act, param = case
        with np.errstate(all="ignore"):
            expected = R.activation_forward(x, act, param)
        got = K.activation_forward(x, act, param)
        assert_close(got, expected, x.dtype)
        assert np.all(np.isfinite(got)), "finite input gave a non-finite activation"

    @given(x=act_arrays(), case=st.sampled_from(DIFF_ACT_CASES))
    def test_activation_backward_hypothesis(x, case):
        act, param = case
        with np.errstate(all="ignore"):
            a = R.activation_forward(x, act, param)
            dout = np.ones_like(x)
            expected = R.activation_backward(dout, act, param, a=a, z=x)
        got = K.activation_backward(dout, act, param, a=a, z=x)
        assert_close(got, expected, x.dtype, terms=activation_terms(act, a, dout))
        assert np.all(np.isfinite(got))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_elu_keeps_the_sign_of_negative_zero(dtype):
    # alpha * expm1(-0.0) is -0.0; array equality cannot see the sign, signbit can.
    z = np.array([-0.0, 0.0], dtype=dtype)
    for kernels in (K, R):
        out = kernels.activation_forward(z, "elu")
        assert np.signbit(out).tolist() == [True, False]
