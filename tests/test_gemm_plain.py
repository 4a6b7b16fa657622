"""The plain GEMM (csrc/gemm_plain_impl.h, _kernels.gemm_plain): against a float64 product
over many shapes, strides and transposes, and as the C-level reference of the fast GEMM,
whose result it gives bit for bit on every SIMD path (the same chain of multiply-adds per
element: docs/kernels.md, "The plain GEMM"). gemm routes one-row products with a plain B to
it, so a row's result must not depend on how many rows share the call either."""

import numpy as np
import pytest
from helpers import DTYPES, K, assert_bitwise_equal, assert_close, nan_like, rand

try:
    from hypothesis import given
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover
    given = None

PATHS = K.simd_paths()
TRANS = [(False, False), (False, True), (True, False), (True, True)]
TRANS_IDS = ["NN", "NT", "TN", "TT"]

# (m, n, k): tiny products, one-row products (batch-1 inference; gemm routes those with a
# plain B to the plain GEMM), skinny ones (n or k tiny), edge tiles of every path, and k
# around the KC steps (192 on AVX-512, 256 elsewhere; all of k up to 4/3 of them).
EDGE_SHAPES = [
    (1, 1, 1),
    (1, 3, 3),
    (2, 3, 4),
    (1, 784, 128),
    (1, 128, 10),
    (1, 10, 128),
    (4, 32, 20),
    (32, 2, 3),
    (1000, 2, 2),
    (128, 3, 10),
    (3, 1, 700),
    (1, 1, 1025),
    (15, 33, 7),
    (29, 65, 192),
    (22, 17, 256),
    (13, 40, 257),
    (9, 31, 341),
    (8, 16, 342),
    (11, 70, 513),
    (1, 1100, 1),
    (0, 3, 4),
    (3, 0, 4),
    (3, 4, 0),
]


def random_shapes(seed, count, top=90, k_top=700):
    rng = np.random.default_rng(seed)
    return [
        (int(rng.integers(1, top)), int(rng.integers(1, top)), int(rng.integers(1, k_top)))
        for _ in range(count)
    ]


RANDOM_SHAPES = random_shapes(16, 24)


@pytest.fixture
def simd(request):
    """Run the test on the path named by its parameter; restore the path afterwards."""
    saved = K.get_simd_path()
    K.set_simd_path(request.param)
    yield request.param
    K.set_simd_path(saved)


def operand(rng, rows, cols, dtype, strided):
    """(rows, cols), or a column slice of a wider array (a leading dimension > cols)."""
    if not strided:
        return rand(rng, (rows, cols), dtype)
    return rand(rng, (rows, cols + 3), dtype)[:, 2 : 2 + cols]


def operands(rng, m, n, k, dtype, trans_a, trans_b, strided=False):
    a = operand(rng, *((k, m) if trans_a else (m, k)), dtype, strided)
    b = operand(rng, *((n, k) if trans_b else (k, n)), dtype, strided)
    return a, b


def product64(a, b, trans_a, trans_b):
    a64 = a.astype(np.float64)
    b64 = b.astype(np.float64)
    return (a64.T if trans_a else a64) @ (b64.T if trans_b else b64)


@pytest.mark.parametrize("simd", PATHS, indirect=True)
@pytest.mark.parametrize("trans_a,trans_b", TRANS, ids=TRANS_IDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_plain_against_float64_product(rng, simd, dtype, trans_a, trans_b):
    for strided in (False, True):
        for m, n, k in EDGE_SHAPES + RANDOM_SHAPES:
            a, b = operands(rng, m, n, k, dtype, trans_a, trans_b, strided)
            c0 = operand(rng, m, n, dtype, strided)
            what = f"{m}x{n}x{k} strided={strided}"
            c = K.gemm_plain(a, b, trans_a=trans_a, trans_b=trans_b)
            assert c.dtype == dtype and c.shape == (m, n)
            assert_close(c, product64(a, b, trans_a, trans_b), dtype, k=k, what=what)
            c = c0.copy()
            out = K.gemm_plain(a, b, c, alpha=-0.75, beta=1.5, trans_a=trans_a, trans_b=trans_b)
            assert out is c
            expected = -0.75 * product64(a, b, trans_a, trans_b) + 1.5 * c0.astype(np.float64)
            assert_close(c, expected, dtype, k=k + 1, what=what + " alpha, beta")


@pytest.mark.parametrize("simd", PATHS, indirect=True)
@pytest.mark.parametrize("trans_a,trans_b", TRANS, ids=TRANS_IDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_fast_gemm_is_plain_bitwise(rng, simd, dtype, trans_a, trans_b):
    for m, n, k in EDGE_SHAPES + RANDOM_SHAPES:
        for strided in (False, True):
            a, b = operands(rng, m, n, k, dtype, trans_a, trans_b, strided)
            c0 = operand(rng, m, n, dtype, strided)
            for alpha, beta in ((1.0, 0.0), (0.3, 0.0), (1.0, 1.0), (-1.7, 0.6), (0.0, 2.0)):
                what = f"{m}x{n}x{k} strided={strided} alpha={alpha} beta={beta}"
                fast, plain = c0.copy(), c0.copy()
                K.gemm(a, b, fast, alpha=alpha, beta=beta, trans_a=trans_a, trans_b=trans_b)
                K.gemm_plain(a, b, plain, alpha=alpha, beta=beta, trans_a=trans_a, trans_b=trans_b)
                assert_bitwise_equal(fast, plain, what)


@pytest.mark.parametrize("simd", PATHS, indirect=True)
@pytest.mark.parametrize("dtype", DTYPES)
def test_fast_gemm_is_plain_bitwise_on_two_threads(rng, simd, dtype, restore_threads):
    K.set_num_threads(2)
    for m, n, k in [(300, 200, 700), (64, 1100, 300), (1, 2048, 1024), (700, 9, 400)]:
        for trans_a, trans_b in TRANS:
            a, b = operands(rng, m, n, k, dtype, trans_a, trans_b)
            assert_bitwise_equal(
                K.gemm(a, b, trans_a=trans_a, trans_b=trans_b),
                K.gemm_plain(a, b, trans_a=trans_a, trans_b=trans_b),
                f"{m}x{n}x{k} {trans_a} {trans_b}",
            )


@pytest.mark.parametrize("simd", PATHS, indirect=True)
@pytest.mark.parametrize("trans_a,trans_b", TRANS, ids=TRANS_IDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_a_row_does_not_depend_on_the_rows_with_it(rng, simd, dtype, trans_a, trans_b):
    # gemm computes a one-row product with a plain B by the plain GEMM and a taller one by
    # tiles: each row of C must be the same bits either way.
    for m, n, k in [(5, 128, 784), (9, 10, 128), (3, 1024, 1024), (17, 3, 300), (2, 700, 200)]:
        a, b = operands(rng, m, n, k, dtype, trans_a, trans_b)
        whole = K.gemm(a, b, trans_a=trans_a, trans_b=trans_b)
        for i in range(m):
            row_a = a[:, i : i + 1] if trans_a else a[i : i + 1]
            assert_bitwise_equal(
                K.gemm(row_a, b, trans_a=trans_a, trans_b=trans_b),
                whole[i : i + 1],
                f"row {i} of {m}x{n}x{k}",
            )


@pytest.mark.parametrize("simd", PATHS, indirect=True)
@pytest.mark.parametrize("dtype", DTYPES)
def test_dense_backward_input_gradient_of_one_row(rng, simd, dtype):
    # dx = dZ w is a one-row product at batch 1 (the plain GEMM) and a tiled one in a batch.
    n, in_f, out_f = 7, 300, 90
    x, w = rand(rng, (n, in_f), dtype), rand(rng, (out_f, in_f), dtype)
    dout = rand(rng, (n, out_f), dtype)
    _, _, dx = K.dense_backward(dout, x, w, bias=False)
    for i in range(n):
        _, _, dx_i = K.dense_backward(dout[i : i + 1], x[i : i + 1], w, bias=False)
        assert_bitwise_equal(dx_i, dx[i : i + 1], f"row {i}")


@pytest.mark.parametrize("dtype", DTYPES)
def test_plain_blas_conventions(rng, dtype):
    m, n, k = 9, 70, 13
    a, b = rand(rng, (m, k), dtype), rand(rng, (k, n), dtype)
    # beta == 0 does not read c: its NaN does not propagate.
    c = nan_like((m, n), dtype)
    K.gemm_plain(a, b, c)
    assert np.isfinite(c).all()
    # alpha == 0 (or k == 0) reads neither a nor b: c = beta c.
    c0 = rand(rng, (m, n), dtype)
    c = c0.copy()
    K.gemm_plain(nan_like((m, k), dtype), nan_like((k, n), dtype), c, alpha=0.0, beta=2.0)
    assert_bitwise_equal(c, c0 * dtype(2))
    c = c0.copy()
    K.gemm_plain(np.empty((m, 0), dtype), np.empty((0, n), dtype), c, beta=0.0)
    assert_bitwise_equal(c, np.zeros((m, n), dtype))


def bad_calls(dtype):
    a = np.ones((3, 4), dtype)
    b = np.ones((4, 5), dtype)
    other = np.float32 if dtype == np.float64 else np.float64
    read_only = np.ones((3, 5), dtype)
    read_only.flags.writeable = False
    return [
        ((a, np.ones((3, 5), dtype)), {}),  # op(b) rows != op(a) columns
        ((a, b), {"beta": 1.0}),  # beta without c
        ((a, b.astype(other)), {}),  # mixed dtypes
        ((a, b, np.ones((3, 6), dtype)), {}),  # c's shape
        ((a, b, read_only), {}),  # c not writeable
        ((a, b, a), {}),  # c overlaps a (and bad shape)
        ((np.ones((3, 8), dtype)[:, ::2], b), {}),  # rows not contiguous
        ((np.ones(4, dtype), b), {}),  # 1-D a
        ((a, b), {"alpha": "1"}),  # alpha not a number
        ((a.astype(np.int64), b), {}),  # not floating
    ]


@pytest.mark.parametrize("dtype", DTYPES)
def test_plain_checks_its_arguments_as_gemm_does(dtype):
    for args, kwargs in bad_calls(dtype):
        with pytest.raises((TypeError, ValueError)) as fast:
            K.gemm(*args, **kwargs)
        with pytest.raises(fast.type) as plain:
            K.gemm_plain(*args, **kwargs)
        assert str(plain.value) == str(fast.value), (args, kwargs)


@pytest.mark.parametrize("dtype", DTYPES)
def test_plain_refuses_c_overlapping_an_input(dtype):
    buf = np.ones((6, 6), dtype)
    with pytest.raises(ValueError, match="overlaps"):
        K.gemm_plain(buf[:3, :3], np.ones((3, 3), dtype), buf[2:5, 2:5])


if given is not None:

    @given(
        m=st.integers(0, 40),
        n=st.integers(0, 80),
        k=st.integers(0, 600),
        trans_a=st.booleans(),
        trans_b=st.booleans(),
        f64=st.booleans(),
        alpha=st.sampled_from([1.0, 0.5, -2.0, 0.0]),
        beta=st.sampled_from([0.0, 1.0, -0.25]),
        path=st.sampled_from(PATHS),
        seed=st.integers(0, 2**32 - 1),
    )
    def test_fuzz_fast_gemm_is_plain_bitwise(
        m, n, k, trans_a, trans_b, f64, alpha, beta, path, seed
    ):
        dtype = np.float64 if f64 else np.float32
        rng = np.random.default_rng(seed)
        a, b = operands(rng, m, n, k, dtype, trans_a, trans_b)
        c0 = rand(rng, (m, n), dtype)
        saved = K.get_simd_path()
        K.set_simd_path(path)
        try:
            fast, plain = c0.copy(), c0.copy()
            K.gemm(a, b, fast, alpha=alpha, beta=beta, trans_a=trans_a, trans_b=trans_b)
            K.gemm_plain(a, b, plain, alpha=alpha, beta=beta, trans_a=trans_a, trans_b=trans_b)
        finally:
            K.set_simd_path(saved)
        assert_bitwise_equal(fast, plain)
