"""gemm: c = alpha * op(a) @ op(b) + beta * c, against pynn.reference and exact arithmetic."""

import numpy as np
import pytest
from helpers import (
    DTYPES,
    K,
    R,
    assert_bitwise_equal,
    assert_close,
    nan_like,
    rand,
    workspace_size,
)

# (m, n, k): zeros, ones, primes, sizes that are no multiple of any tile, a few above 500.
GEMM_SHAPES = [
    (1, 1, 1),
    (0, 5, 3),
    (5, 0, 3),
    (4, 5, 0),
    (0, 0, 0),
    (7, 13, 31),
    (17, 65, 129),
    (97, 1, 13),
    (1, 97, 7),
    (129, 17, 65),
    (13, 31, 97),
    (64, 64, 64),
    (65, 33, 17),
    (513, 31, 17),
    (13, 777, 5),
    (31, 7, 513),
    (65, 129, 257),
    (5, 2100, 13),
    (100, 2049, 300),  # more columns than one packed block of b
]
TRANS = [(False, False), (False, True), (True, False), (True, True)]
TRANS_IDS = ["NN", "NT", "TN", "TT"]


def operands(rng, m, n, k, dtype, trans_a, trans_b, make=rand):
    a = make(rng, (k, m) if trans_a else (m, k), dtype)
    b = make(rng, (n, k) if trans_b else (k, n), dtype)
    return a, b


def product64(a, b, trans_a, trans_b):
    """op(a) @ op(b) in float64 (an oracle independent of pynn.reference)."""
    a64 = a.astype(np.float64)
    b64 = b.astype(np.float64)
    return (a64.T if trans_a else a64) @ (b64.T if trans_b else b64)


def randint(rng, shape, dtype, bound=4):
    return rng.integers(-bound, bound + 1, size=shape).astype(dtype)


@pytest.mark.parametrize("trans_a,trans_b", TRANS, ids=TRANS_IDS)
@pytest.mark.parametrize("m,n,k", GEMM_SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_gemm_shapes_against_reference(rng, dtype, m, n, k, trans_a, trans_b):
    a, b = operands(rng, m, n, k, dtype, trans_a, trans_b)
    c = K.gemm(a, b, trans_a=trans_a, trans_b=trans_b)
    assert isinstance(c, np.ndarray) and c.shape == (m, n)
    assert c.flags.c_contiguous
    expected = R.gemm(a, b, trans_a=trans_a, trans_b=trans_b)
    assert_close(c, expected, dtype, k=k, what="vs reference")
    assert_close(c, product64(a, b, trans_a, trans_b), dtype, k=k, what="vs float64 product")


@pytest.mark.parametrize("trans_a,trans_b", TRANS, ids=TRANS_IDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_gemm_exact_on_integers(rng, dtype, trans_a, trans_b):
    # Small integers: every partial sum is exactly representable (|sum| < 2**24), so any
    # summation order gives the exact result. alpha=2, beta=-1 are exact too.
    m, n, k = 37, 29, 777
    a, b = operands(rng, m, n, k, dtype, trans_a, trans_b, make=randint)
    c0 = randint(rng, (m, n), dtype, bound=100)
    c = c0.copy()
    out = K.gemm(a, b, c, alpha=2.0, beta=-1.0, trans_a=trans_a, trans_b=trans_b)
    assert out is c
    a64 = a.astype(np.int64)
    b64 = b.astype(np.int64)
    exact = 2 * ((a64.T if trans_a else a64) @ (b64.T if trans_b else b64)) - c0.astype(np.int64)
    np.testing.assert_array_equal(c, exact.astype(dtype))


@pytest.mark.parametrize("alpha", [1.0, -0.5, 0.1, 0.0, 3])
@pytest.mark.parametrize("beta", [0.0, 1.0, -1.5, 0.3])
@pytest.mark.parametrize("trans_a,trans_b", TRANS, ids=TRANS_IDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_gemm_alpha_beta(rng, dtype, trans_a, trans_b, alpha, beta):
    m, n, k = 37, 29, 41
    a, b = operands(rng, m, n, k, dtype, trans_a, trans_b)
    c0 = rand(rng, (m, n), dtype)
    c = c0.copy()
    out = K.gemm(a, b, c, alpha=alpha, beta=beta, trans_a=trans_a, trans_b=trans_b)
    assert out is c
    expected = R.gemm(a, b, c0.copy(), alpha=alpha, beta=beta, trans_a=trans_a, trans_b=trans_b)
    assert_close(c, expected, dtype, k=k + 1)
    independent = alpha * product64(a, b, trans_a, trans_b) + beta * c0.astype(np.float64)
    assert_close(c, independent, dtype, k=k + 1, what="vs float64 formula")


@pytest.mark.parametrize("alpha,beta", [(2.5, 0.0), (2.5, 0.3), (-1.0, 1.0), (0.5, -2.0)])
@pytest.mark.parametrize("trans_a,trans_b", TRANS, ids=TRANS_IDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_gemm_alpha_beta_long_k(rng, dtype, trans_a, trans_b, alpha, beta):
    """k spanning several blocks of the inner dimension: beta applies once, not per block."""
    m, n, k = 45, 37, 600
    a, b = operands(rng, m, n, k, dtype, trans_a, trans_b)
    c0 = rand(rng, (m, n), dtype)
    c = c0.copy() if beta != 0 else nan_like((m, n), dtype)
    K.gemm(a, b, c, alpha=alpha, beta=beta, trans_a=trans_a, trans_b=trans_b)
    expected = alpha * product64(a, b, trans_a, trans_b) + beta * c0.astype(np.float64)
    assert_close(c, expected, dtype, k=k + 1)
    assert_close(
        c,
        R.gemm(a, b, c0.copy(), alpha=alpha, beta=beta, trans_a=trans_a, trans_b=trans_b),
        dtype,
        k=k + 1,
        what="vs reference",
    )


@pytest.mark.parametrize("fill", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("alpha", [1.0, 0.0, -2.0])
@pytest.mark.parametrize("trans_a,trans_b", TRANS, ids=TRANS_IDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_gemm_beta_zero_does_not_read_c(rng, dtype, trans_a, trans_b, alpha, fill):
    m, n, k = 23, 19, 17
    a, b = operands(rng, m, n, k, dtype, trans_a, trans_b)
    c = np.full((m, n), fill, dtype=dtype)
    out = K.gemm(a, b, c, alpha=alpha, beta=0.0, trans_a=trans_a, trans_b=trans_b)
    assert out is c
    assert np.all(np.isfinite(c)), "beta=0 must overwrite c without reading it"
    assert_close(c, alpha * product64(a, b, trans_a, trans_b), dtype, k=k)
    if alpha == 0.0:
        np.testing.assert_array_equal(c, np.zeros((m, n), dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_gemm_beta_zero_nan_c_large(rng, dtype):
    # large enough for the blocked / packed path
    m, n, k = 130, 150, 140
    a, b = operands(rng, m, n, k, dtype, False, True)
    c = nan_like((m, n), dtype)
    K.gemm(a, b, c, beta=0.0, trans_b=True)
    assert np.all(np.isfinite(c))
    assert_close(c, R.gemm(a, b, trans_b=True), dtype, k=k)


@pytest.mark.parametrize("beta", [0.0, 0.5])
@pytest.mark.parametrize("trans_a,trans_b", TRANS, ids=TRANS_IDS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m,n,k", [(7, 5, 3), (33, 65, 17), (1, 13, 1), (129, 31, 70)])
def test_gemm_leading_dimensions(rng, dtype, m, n, k, trans_a, trans_b, beta):
    """a, b and c as column slices of wider arrays: row stride > row length."""
    a_shape = (k, m) if trans_a else (m, k)
    b_shape = (n, k) if trans_b else (k, n)
    a_wide = rand(rng, (a_shape[0], a_shape[1] + 3), dtype)
    b_wide = rand(rng, (b_shape[0], b_shape[1] + 5), dtype)
    c_wide = rand(rng, (m, n + 4), dtype)
    a = a_wide[:, : a_shape[1]]
    b = b_wide[:, : b_shape[1]]
    c = c_wide[:, :n]
    if beta == 0.0:
        c[...] = np.nan  # must not propagate
    c0 = c.copy()
    padding = c_wide[:, n:].copy()
    out = K.gemm(a, b, c, alpha=1.5, beta=beta, trans_a=trans_a, trans_b=trans_b)
    assert out is c
    expected = R.gemm(
        np.ascontiguousarray(a),
        np.ascontiguousarray(b),
        c0,
        alpha=1.5,
        beta=beta,
        trans_a=trans_a,
        trans_b=trans_b,
    )
    assert_close(c, expected, dtype, k=k + 1)
    np.testing.assert_array_equal(c_wide[:, n:], padding, err_msg="gemm wrote past c's columns")


@pytest.mark.parametrize("dtype", DTYPES)
def test_gemm_row_strided_views(rng, dtype):
    """Every other row of a wider array (rows contiguous, row stride larger) is allowed."""
    m, n, k = 31, 17, 13
    a_big = rand(rng, (2 * m, k), dtype)
    b_big = rand(rng, (3 * k, n), dtype)
    c_big = rand(rng, (2 * m, n), dtype)
    a, b, c = a_big[::2], b_big[::3], c_big[::2]
    untouched = c_big[1::2].copy()
    c0 = c.copy()
    K.gemm(a, b, c, beta=1.0)
    expected = R.gemm(np.ascontiguousarray(a), np.ascontiguousarray(b), c0, beta=1.0)
    assert_close(c, expected, dtype, k=k + 1)
    np.testing.assert_array_equal(c_big[1::2], untouched)


@pytest.mark.parametrize("dtype", DTYPES)
def test_gemm_same_array_as_both_inputs(rng, dtype):
    """Inputs may share memory: a @ a.T (a Gram matrix)."""
    a = rand(rng, (45, 67), dtype)
    c = K.gemm(a, a, trans_b=True)
    assert_close(c, R.gemm(a, a.copy(), trans_b=True), dtype, k=67)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m,n,k", [(1, 1, 1), (37, 29, 41), (200, 150, 300)])
def test_gemm_workspace(rng, dtype, m, n, k):
    size = workspace_size(K.gemm_workspace_size, m, n, k, dtype=dtype)
    assert isinstance(size, int) and size >= 0
    a, b = operands(rng, m, n, k, dtype, False, True)
    plain = K.gemm(a, b, trans_b=True)
    for extra in (0, 17):
        ws = nan_like(size + extra, dtype)
        with_ws = K.gemm(a, b, trans_b=True, workspace=ws)
        assert_bitwise_equal(with_ws, plain, "workspace given vs allocated")
    # the reference accepts and ignores workspace=
    assert_close(R.gemm(a, b, trans_b=True, workspace=np.empty(3, dtype)), plain, dtype, k=k)


@pytest.mark.parametrize("dtype", DTYPES)
def test_gemm_c_none_is_new_array(rng, dtype):
    a = rand(rng, (5, 4), dtype)
    b = rand(rng, (4, 3), dtype)
    c1 = K.gemm(a, b)
    c2 = K.gemm(a, b)
    assert c1.dtype == dtype and c1.shape == (5, 3) and c1.flags.writeable
    assert not np.shares_memory(c1, c2)
    assert not np.shares_memory(c1, a) and not np.shares_memory(c1, b)
