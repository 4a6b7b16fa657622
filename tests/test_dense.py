"""dense_forward / dense_backward against pynn.reference and independent float64 formulas."""

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
    assert_bitwise_equal,
    assert_close,
    nan_like,
    rand,
    tolerance,
    workspace_size,
)

# (n, in_features, out_features)
DENSE_SHAPES = [
    (1, 1, 1),
    (0, 7, 5),
    (7, 13, 31),
    (17, 65, 3),
    (97, 129, 17),
    (31, 513, 13),
    (5, 7, 777),
    (600, 3, 2),
    (64, 64, 64),
    (257, 300, 129),
]


def layer(rng, dtype, n, fin, fout, bias=True):
    x = rand(rng, (n, fin), dtype)
    w = rand(rng, (fout, fin), dtype, -0.5, 0.5)
    b = rand(rng, (fout,), dtype) if bias else None
    return x, w, b


def compare_forward(out, z, x, w, b, act, param, dtype):
    fin = x.shape[1]
    z_ref = np.empty_like(out)
    out_ref = R.dense_forward(x, w, b, act, param, z=z_ref)
    if z is not None:
        assert_close(z, z_ref, dtype, k=fin + 1, what="z")
        z64 = x.astype(np.float64) @ w.astype(np.float64).T
        if b is not None:
            z64 += b.astype(np.float64)
        assert_close(z, z64, dtype, k=fin + 1, what="z vs float64")
    if act in ("step", "sign"):
        # a pre-activation within rounding of 0 may legitimately fall either side
        sure = np.abs(z_ref) > 10 * tolerance(z_ref, dtype, k=fin + 1)
        np.testing.assert_array_equal(out[sure], out_ref[sure])
        assert np.all(np.isin(out, (0, 1) if act == "step" else (-1, 0, 1)))
    else:
        assert_close(out, out_ref, dtype, k=fin + 1, what="out")


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("n,fin,fout", DENSE_SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_dense_forward_shapes(rng, dtype, n, fin, fout, bias):
    x, w, b = layer(rng, dtype, n, fin, fout, bias)
    z = np.empty((n, fout), dtype)
    out = K.dense_forward(x, w, b, "tanh", z=z)
    assert out.shape == (n, fout) and out.flags.c_contiguous
    compare_forward(out, z, x, w, b, "tanh", None, dtype)


@pytest.mark.parametrize("keep_z", [True, False], ids=["z", "noz"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("act,param", ACT_CASES, ids=ACT_IDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_dense_forward_activations(rng, dtype, act, param, bias, keep_z):
    n, fin, fout = 33, 45, 29
    x, w, b = layer(rng, dtype, n, fin, fout, bias)
    x *= 3  # pre-activations well spread over both signs
    z = nan_like((n, fout), dtype) if keep_z else None
    out = K.dense_forward(x, w, b, act, param, z=z)
    compare_forward(out, z, x, w, b, act, param, dtype)


@pytest.mark.parametrize("act,param", ACT_CASES, ids=ACT_IDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_dense_forward_activations_long_inner(rng, dtype, act, param):
    """in_features spanning several blocks: the fused activation runs once, at the end."""
    n, fin, fout = 33, 600, 29
    x, w, b = layer(rng, dtype, n, fin, fout)
    x *= 3
    z = nan_like((n, fout), dtype)
    out = K.dense_forward(x, w, b, act, param, z=z)
    compare_forward(out, z, x, w, b, act, param, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_dense_forward_large_activation_shape(rng, dtype):
    x, w, b = layer(rng, dtype, 129, 513, 65)
    out = K.dense_forward(x, w, b, "elu", 0.7)
    compare_forward(out, None, x, w, b, "elu", 0.7, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_dense_forward_exact_on_integers(rng, dtype):
    n, fin, fout = 41, 300, 23
    x = rng.integers(-4, 5, size=(n, fin)).astype(dtype)
    w = rng.integers(-4, 5, size=(fout, fin)).astype(dtype)
    b = rng.integers(-50, 51, size=fout).astype(dtype)
    out = K.dense_forward(x, w, b, "relu")
    exact = x.astype(np.int64) @ w.astype(np.int64).T + b.astype(np.int64)
    np.testing.assert_array_equal(out, np.maximum(exact, 0).astype(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_dense_forward_outputs_given(rng, dtype):
    x, w, b = layer(rng, dtype, 19, 23, 11)
    out = nan_like((19, 11), dtype)
    z = nan_like((19, 11), dtype)
    result = K.dense_forward(x, w, b, "sigmoid", out=out, z=z)
    assert result is out
    compare_forward(out, z, x, w, b, "sigmoid", None, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n,fin,fout", [(1, 1, 1), (37, 41, 29), (300, 200, 100)])
def test_dense_forward_workspace(rng, dtype, n, fin, fout):
    size = workspace_size(K.dense_forward_workspace_size, n, fin, fout, dtype=dtype)
    assert isinstance(size, int) and size >= 0
    x, w, b = layer(rng, dtype, n, fin, fout)
    plain = K.dense_forward(x, w, b, "relu")
    ws = nan_like(size, dtype)
    assert_bitwise_equal(K.dense_forward(x, w, b, "relu", workspace=ws), plain, "workspace")
    assert_close(R.dense_forward(x, w, b, "relu", workspace=ws), plain, dtype, k=fin + 1)


# ---------------------------------------------------------------------------------------
def backward_case(rng, dtype, n, fin, fout, act, param, bias=True):
    x, w, b = layer(rng, dtype, n, fin, fout, bias)
    x *= 3
    z = np.empty((n, fout), dtype)
    a = R.dense_forward(x, w, b, act, param, z=z)
    dout = rand(rng, (n, fout), dtype)
    return x, w, dout, a, z


def saved_only(act, param, a, z):
    """Pass only what activation_saves names (the other is None)."""
    saves = R.activation_saves(act, param)
    return (a if saves == "output" else None), (z if saves == "input" else None)


def check_backward(result, expected, dtype, n, fout, bias, input_grad):
    dw, db, dx = result
    edw, edb, edx = expected
    assert_close(dw, edw, dtype, k=n, what="dweight")
    if bias:
        assert_close(db, edb, dtype, k=n, what="dbias")
    else:
        assert db is None
    if input_grad:
        assert_close(dx, edx, dtype, k=fout, what="dx")
    else:
        assert dx is None


@pytest.mark.parametrize("n,fin,fout", DENSE_SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_dense_backward_shapes(rng, dtype, n, fin, fout):
    x, w, dout, a, z = backward_case(rng, dtype, n, fin, fout, "tanh", None)
    result = K.dense_backward(dout, x, w, "tanh", a=a)
    assert result[0].shape == (fout, fin) and result[1].shape == (fout,)
    assert result[2].shape == (n, fin)
    expected = R.dense_backward(dout, x, w, "tanh", a=a)
    check_backward(result, expected, dtype, n, fout, True, True)
    # independent float64 formula: dZ = dout * (1 - a^2)
    dz = dout.astype(np.float64) * (1 - a.astype(np.float64) ** 2)
    assert_close(result[0], dz.T @ x.astype(np.float64), dtype, k=n, what="dweight vs f64")
    assert_close(result[1], dz.sum(axis=0), dtype, k=n, what="dbias vs f64")
    assert_close(result[2], dz @ w.astype(np.float64), dtype, k=fout, what="dx vs f64")


@pytest.mark.parametrize("only_saved", [True, False], ids=["saved-only", "a-and-z"])
@pytest.mark.parametrize("act,param", DIFF_ACT_CASES, ids=DIFF_ACT_IDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_dense_backward_activations(rng, dtype, act, param, only_saved):
    n, fin, fout = 29, 37, 23
    x, w, dout, a, z = backward_case(rng, dtype, n, fin, fout, act, param)
    if only_saved:
        a, z = saved_only(act, param, a, z)
    result = K.dense_backward(dout, x, w, act, param, a=a, z=z)
    expected = R.dense_backward(dout, x, w, act, param, a=a, z=z)
    check_backward(result, expected, dtype, n, fout, True, True)


OPTION_CASES = [
    (bias, input_grad, given)
    for bias in (True, False)
    for input_grad in (True, False)
    for given in (True, False)
]


@pytest.mark.parametrize(
    "bias,input_grad,given",
    OPTION_CASES,
    ids=[f"bias={b}-igrad={i}-given={g}" for b, i, g in OPTION_CASES],
)
@pytest.mark.parametrize("act,param", [("sigmoid", None), ("elu", 0.5)], ids=["sigmoid", "elu"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_dense_backward_options(rng, dtype, act, param, bias, input_grad, given):
    n, fin, fout = 31, 19, 13
    x, w, dout, a, z = backward_case(rng, dtype, n, fin, fout, act, param, bias)
    a, z = saved_only(act, param, a, z)
    kwargs = {}
    init = {}
    if given:
        # given outputs start as NaN: they are overwritten, never read
        init["dweight"] = nan_like((fout, fin), dtype)
        if bias:
            init["dbias"] = nan_like((fout,), dtype)
        if input_grad:
            init["dx"] = nan_like((n, fin), dtype)
        kwargs = {k: v.copy() for k, v in init.items()}
    result = K.dense_backward(
        dout, x, w, act, param, a=a, z=z, bias=bias, input_grad=input_grad, **kwargs
    )
    assert isinstance(result, tuple) and len(result) == 3
    for i, name in enumerate(("dweight", "dbias", "dx")):
        if name in kwargs:
            assert result[i] is kwargs[name], f"{name} given but another array returned"
    ref_kwargs = {k: v.copy() for k, v in init.items()}
    expected = R.dense_backward(
        dout, x, w, act, param, a=a, z=z, bias=bias, input_grad=input_grad, **ref_kwargs
    )
    check_backward(result, expected, dtype, n, fout, bias, input_grad)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n,fin,fout", [(1, 1, 1), (37, 41, 29), (300, 200, 100)])
def test_dense_backward_workspace(rng, dtype, n, fin, fout):
    size = workspace_size(K.dense_backward_workspace_size, n, fin, fout, dtype=dtype)
    assert isinstance(size, int) and size >= 0
    x, w, dout, a, z = backward_case(rng, dtype, n, fin, fout, "softplus", None)
    plain = K.dense_backward(dout, x, w, "softplus", z=z)
    ws = nan_like(size, dtype)
    with_ws = K.dense_backward(dout, x, w, "softplus", z=z, workspace=ws)
    for p, q, name in zip(with_ws, plain, ("dweight", "dbias", "dx")):
        assert_bitwise_equal(p, q, name)


@pytest.mark.parametrize("dtype", DTYPES)
def test_dense_backward_empty_batch(rng, dtype):
    fin, fout = 7, 5
    x = np.empty((0, fin), dtype)
    w = rand(rng, (fout, fin), dtype)
    dout = np.empty((0, fout), dtype)
    a = np.empty((0, fout), dtype)
    dw, db, dx = K.dense_backward(dout, x, w, "sigmoid", a=a, dweight=nan_like((fout, fin), dtype))
    np.testing.assert_array_equal(dw, np.zeros((fout, fin), dtype))
    np.testing.assert_array_equal(db, np.zeros(fout, dtype))
    assert dx.shape == (0, fin)
