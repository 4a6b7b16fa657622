"""SIMD paths of the matrix kernels: every path this machine supports against
pynn.reference (edge tiles, block boundaries, transposes, alpha and beta, leading
dimensions), bitwise equality across thread counts per path, and the path's controls
(set_simd_path, PYNN_SIMD, show_config)."""

import os
import subprocess
import sys

import numpy as np
import pytest
from helpers import (
    ACT_CASES,
    ACT_IDS,
    DIFF_ACT_CASES,
    DIFF_ACT_IDS,
    DTYPES,
    HANG_SECONDS,
    K,
    R,
    assert_bitwise_equal,
    assert_close,
    nan_like,
    rand,
)

import pynn

PATHS = K.simd_paths()

# (m, n, k): 1, primes, sizes that are no multiple of any path's tile (6, 14 rows; 4, 8,
# 16, 32 columns), and sizes past the block boundaries: k past one KC step (192, 256),
# m past one MC block (96 .. 672 rows), n past one NC block (2048 .. 4096 columns).
SHAPES = [
    (1, 1, 1),
    (13, 17, 31),
    (15, 33, 7),
    (29, 65, 257),
    (43, 47, 300),
    (97, 29, 385),
    (701, 35, 9),
    (3, 4113, 5),
]
TRANS = [(False, False), (False, True), (True, False), (True, True)]
TRANS_IDS = ["NN", "NT", "TN", "TT"]


@pytest.fixture
def simd(request):
    """Run the test on the path named by its parameter; restore the path afterwards."""
    saved = K.get_simd_path()
    K.set_simd_path(request.param)
    yield request.param
    K.set_simd_path(saved)


@pytest.fixture
def restore_simd():
    saved = K.get_simd_path()
    yield
    K.set_simd_path(saved)


def with_padding(rng, shape, dtype, extra=3):
    """A (rows, cols) column slice of a wider array: its leading dimension exceeds cols."""
    wide = rand(rng, (shape[0], shape[1] + extra), dtype)
    return wide[:, 1 : 1 + shape[1]]


@pytest.mark.parametrize("simd", PATHS, indirect=True)
@pytest.mark.parametrize("trans_a,trans_b", TRANS, ids=TRANS_IDS)
@pytest.mark.parametrize("m,n,k", SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_gemm_against_reference(rng, simd, dtype, m, n, k, trans_a, trans_b):
    a = rand(rng, (k, m) if trans_a else (m, k), dtype)
    b = rand(rng, (n, k) if trans_b else (k, n), dtype)
    c = K.gemm(a, b, trans_a=trans_a, trans_b=trans_b)
    expected = R.gemm(a, b, trans_a=trans_a, trans_b=trans_b)
    assert_close(c, expected, dtype, k=k, what=f"{simd} gemm")


@pytest.mark.parametrize("simd", PATHS, indirect=True)
@pytest.mark.parametrize("alpha,beta", [(1.0, 0.0), (-0.5, 0.0), (2.0, 1.0), (0.75, -1.5)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_gemm_alpha_beta_leading_dims(rng, simd, dtype, alpha, beta):
    for m, n, k in [(29, 65, 257), (15, 33, 7), (701, 35, 9)]:
        for trans_a, trans_b in TRANS:
            a = with_padding(rng, (k, m) if trans_a else (m, k), dtype)
            b = with_padding(rng, (n, k) if trans_b else (k, n), dtype)
            wide_c = rand(rng, (m, n + 5), dtype)
            if beta == 0:
                wide_c[:, 2 : 2 + n] = np.nan  # beta == 0: c must not be read
            c = wide_c[:, 2 : 2 + n]
            before = wide_c.copy()
            expected = R.gemm(
                a, b, c.copy(), alpha=alpha, beta=beta, trans_a=trans_a, trans_b=trans_b
            )
            out = K.gemm(a, b, c, alpha=alpha, beta=beta, trans_a=trans_a, trans_b=trans_b)
            assert out is c
            what = f"{simd} {m}x{n}x{k} {TRANS_IDS[TRANS.index((trans_a, trans_b))]}"
            assert_close(c, expected, dtype, k=k + 1, what=what)
            # the columns around the slice are untouched
            assert_bitwise_equal(wide_c[:, :2], before[:, :2], what)
            assert_bitwise_equal(wide_c[:, 2 + n :], before[:, 2 + n :], what)


@pytest.mark.parametrize("simd", PATHS, indirect=True)
@pytest.mark.parametrize("act,param", ACT_CASES, ids=ACT_IDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_dense_forward_against_reference(rng, simd, dtype, act, param):
    for n, fin, fout in [(1, 3, 1), (29, 37, 47), (45, 300, 33)]:
        x = rand(rng, (n, fin), dtype)
        w = rand(rng, (fout, fin), dtype)
        b = rand(rng, (fout,), dtype)
        z = nan_like((n, fout), dtype)
        out = K.dense_forward(x, w, b, act, param, z=z)
        z_ref = nan_like((n, fout), dtype)
        expected = R.dense_forward(x, w, b, act, param, z=z_ref)
        what = f"{simd} {act} {n}x{fin}x{fout}"
        assert_close(z, z_ref, dtype, k=fin + 1, what=what + " z")
        if act in ("step", "sign"):
            # a discontinuity: compare where z is clearly away from it
            far = np.abs(z_ref.astype(np.float64)) > 1e-3
            assert_bitwise_equal(out[far], expected[far], what + " out")
        else:
            assert_close(out, expected, dtype, k=fin + 1, what=what + " out")


@pytest.mark.parametrize("simd", PATHS, indirect=True)
@pytest.mark.parametrize("act,param", DIFF_ACT_CASES, ids=DIFF_ACT_IDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_dense_backward_against_reference(rng, simd, dtype, act, param):
    for n, fin, fout in [(1, 3, 1), (29, 37, 47), (300, 19, 15)]:
        x = rand(rng, (n, fin), dtype)
        w = rand(rng, (fout, fin), dtype)
        b = rand(rng, (fout,), dtype)
        z = R.dense_forward(x, w, b)
        a = R.activation_forward(z, act, param)
        dout = rand(rng, (n, fout), dtype)
        got = K.dense_backward(dout, x, w, act, param, a=a, z=z)
        expected = R.dense_backward(dout, x, w, act, param, a=a, z=z)
        for name, g, e, k in zip(("dweight", "dbias", "dx"), got, expected, (n, n, fout)):
            assert_close(g, e, dtype, k=k, what=f"{simd} {act} {n}x{fin}x{fout} {name}")


# Outputs narrower than a tile (n < NR on every path, m > n) are computed as C^T
# (gemm_swaps in csrc/gemm_impl.h): m spans KC / MC edges, k two KC steps on one case.
NARROW_SHAPES = [(2, 1, 3), (29, 3, 17), (128, 10, 128), (97, 7, 300), (701, 15, 9)]


@pytest.mark.parametrize("simd", PATHS, indirect=True)
@pytest.mark.parametrize("trans_a,trans_b", TRANS, ids=TRANS_IDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_narrow_gemm_equals_the_wide_product(rng, simd, dtype, trans_a, trans_b):
    # Each element is the same multiply-add chain whether C or C^T is tiled, so a
    # narrow product equals its columns of a product wide enough not to be swapped.
    for m, n, k in NARROW_SHAPES:
        wide = 67
        a = rand(rng, (k, m) if trans_a else (m, k), dtype)
        b_wide = rand(rng, (wide, k) if trans_b else (k, wide), dtype)
        b = b_wide[:n] if trans_b else b_wide[:, :n]
        c0 = rand(rng, (m, wide), dtype)
        c_wide = K.gemm(
            a, b_wide, c0.copy(), alpha=0.5, beta=-1.5, trans_a=trans_a, trans_b=trans_b
        )
        c = c0[:, :n].copy()  # sliced rows: ldc of C exceeds n
        c_view = with_padding(rng, (m, n), dtype)
        c_view[...] = c
        K.gemm(a, b, c_view, alpha=0.5, beta=-1.5, trans_a=trans_a, trans_b=trans_b)
        what = f"{simd} narrow gemm {m}x{n}x{k}"
        assert_bitwise_equal(c_view, c_wide[:, :n], what)
        assert_close(
            c_view,
            R.gemm(a, b, c, alpha=0.5, beta=-1.5, trans_a=trans_a, trans_b=trans_b),
            dtype,
            k=k,
            what=what,
        )


@pytest.mark.usefixtures("restore_threads")
@pytest.mark.parametrize("simd", PATHS, indirect=True)
@pytest.mark.parametrize("trans_a,trans_b", TRANS, ids=TRANS_IDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_half_width_column_edge_equals_the_wide_product(rng, simd, dtype, trans_a, trans_b):
    # A column edge of half a tile's width (48 = 1.5 x 32 columns on AVX-512 float; 40
    # and 36 for the other tiles) goes through the half-width kernels, reading B packed
    # or (plain B, k of one KC step) in place; its columns equal a wider product's.
    m = 56
    for k in (128, 300):
        a = rand(rng, (k, m) if trans_a else (m, k), dtype)
        b_wide = rand(rng, (64, k) if trans_b else (k, 64), dtype)
        c_wide = K.gemm(a, b_wide, trans_a=trans_a, trans_b=trans_b)
        for n in (48, 40, 36):
            b = b_wide[:n] if trans_b else b_wide[:, :n]
            c = K.gemm(a, b, trans_a=trans_a, trans_b=trans_b)
            what = f"{simd} gemm {m}x{n}x{k}"
            assert_bitwise_equal(c, c_wide[:, :n], what)
            assert_close(c, R.gemm(a, b, trans_a=trans_a, trans_b=trans_b), dtype, k=k, what=what)
    if not trans_a or trans_b:
        return
    # dW of a layer with 784 inputs at batch 128 (24.5 tiles of 32 columns), 2 threads.
    dz = rand(rng, (128, 64), dtype)
    x = rand(rng, (128, 784), dtype)
    one, two = run_with_threads(lambda: K.gemm(dz, x, trans_a=True))
    assert_bitwise_equal(two, one, f"{simd} gemm 64x784x128 with 2 threads vs 1")
    assert_close(one, R.gemm(dz, x, trans_a=True), dtype, k=128)


@pytest.mark.parametrize("simd", PATHS, indirect=True)
@pytest.mark.parametrize("act,param", [("relu", None), ("elu", 0.5)], ids=["relu", "elu"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_narrow_dense_forward_equals_the_wide_layer(rng, simd, dtype, act, param):
    # The bias and activation follow the output column when C^T is tiled.
    for batch, fout, fin in NARROW_SHAPES:
        wide = 67
        x = rand(rng, (batch, fin), dtype)
        w = rand(rng, (wide, fin), dtype)
        b = rand(rng, (wide,), dtype)
        z_wide = np.empty((batch, wide), dtype)
        out_wide = K.dense_forward(x, w, b, act, param, z=z_wide)
        z = nan_like((batch, fout), dtype)
        out = K.dense_forward(x, w[:fout], b[:fout], act, param, z=z)
        what = f"{simd} {act} narrow dense {batch}x{fin}x{fout}"
        assert_bitwise_equal(z, z_wide[:, :fout], what + " z")
        assert_bitwise_equal(out, out_wide[:, :fout], what + " out")
        assert_close(
            out, R.dense_forward(x, w[:fout], b[:fout], act, param), dtype, k=fin + 1, what=what
        )


@pytest.mark.parametrize("simd", PATHS, indirect=True)
@pytest.mark.parametrize("act", ["relu", "identity"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_dense_forward_fused_store_equals_the_tile_store(rng, simd, dtype, act, bias):
    # Without z, full tiles get bias and ReLU in the micro-kernel's registers; with z,
    # every tile goes through the driver's local tile. Both must give the same bits,
    # NaN included. Row counts for both AVX-512 tiles, k past one KC step.
    # 48, 40, 36 outputs: a column edge of half a tile on one of the paths (kernels of
    # half the width, fused or not).
    for n, fin, fout in [(45, 300, 70), (28, 37, 64), (45, 300, 48), (64, 130, 40), (28, 37, 36)]:
        x = rand(rng, (n, fin), dtype)
        x[3, 0] = np.nan
        w = rand(rng, (fout, fin), dtype)
        b = rand(rng, (fout,), dtype) if bias else None
        z = nan_like((n, fout), dtype)
        through_tile = K.dense_forward(x, w, b, act, z=z)
        fused = K.dense_forward(x, w, b, act)
        what = f"{simd} {act} fused dense {n}x{fin}x{fout}"
        assert_bitwise_equal(fused, through_tile, what)
        assert np.isnan(fused[3]).all(), what + ": NaN must stay NaN"
        assert_close(fused, R.dense_forward(x, w, b, act), dtype, k=fin + 1, what=what)


@pytest.mark.usefixtures("restore_threads")
@pytest.mark.parametrize("simd", PATHS, indirect=True)
@pytest.mark.parametrize("dtype", DTYPES)
def test_narrow_results_do_not_depend_on_threads(rng, simd, dtype):
    # Enough work to run on 2 threads: the swapped product splits C^T's columns.
    m, n, k = 1500, 10, 419
    x = rand(rng, (m, k), dtype)
    w = rand(rng, (n, k), dtype)
    b = rand(rng, (n,), dtype)
    one, two = run_with_threads(lambda: K.dense_forward(x, w, b, "relu"))
    assert_bitwise_equal(two, one, f"{simd} narrow dense_forward with 2 threads vs 1")
    one, two = run_with_threads(lambda: K.gemm(x, w, trans_b=True))
    assert_bitwise_equal(two, one, f"{simd} narrow gemm with 2 threads vs 1")


@pytest.mark.parametrize("simd", PATHS, indirect=True)
@pytest.mark.parametrize("trans_a,trans_b", TRANS, ids=TRANS_IDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_row_count_does_not_change_the_rows(rng, simd, dtype, trans_a, trans_b):
    # AVX-512 tiles 21 rows 11 at a time, 42 rows 14 at a time, 56, 45 (an edge tile of 5
    # rows), 32, 128 and 200 rows 8 at a time (the tile that pads the row count least, 8
    # on a tie); a row of C is the same whichever tile computed it. At most one tile of
    # rows (11, 5, 1) reads a plain B in place instead of packing it; b is a column slice,
    # so its rows are further apart than its width.
    n, k = 75, 400
    a_all = rand(rng, (k, 56) if trans_a else (56, k), dtype)
    b = with_padding(rng, (n, k) if trans_b else (k, n), dtype)
    c_all = K.gemm(a_all, b, trans_a=trans_a, trans_b=trans_b)
    for m in (21, 42, 45, 32, 11, 5, 1):
        a = a_all[:, :m] if trans_a else a_all[:m]
        c = K.gemm(a, b, trans_a=trans_a, trans_b=trans_b)
        assert_bitwise_equal(c, c_all[:m], f"{simd} gemm of {m} rows vs 56")
    a_big = rand(rng, (k, 200) if trans_a else (200, k), dtype)
    a_128 = a_big[:, :128] if trans_a else a_big[:128]
    assert_bitwise_equal(
        K.gemm(a_128, b, trans_a=trans_a, trans_b=trans_b),
        K.gemm(a_big, b, trans_a=trans_a, trans_b=trans_b)[:128],
        f"{simd} gemm of 128 rows vs 200",
    )


@pytest.mark.usefixtures("restore_threads")
@pytest.mark.parametrize("simd", PATHS, indirect=True)
@pytest.mark.parametrize("trans_a", [False, True], ids=["N", "T"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_plain_b_read_in_place_equals_packed(rng, simd, dtype, trans_a):
    # One KC step and one row block of at most 448 rows (dW and dx of a dense layer at
    # batch 128, 256 outputs): a plain B is read in place, and packed for 700 rows (two
    # blocks); a row of C is the same either way. b is a column slice with an edge panel
    # (75 = 2 x 32 + 11 columns); 2 threads split the columns.
    n, k = 75, 128
    a_all = rand(rng, (k, 700) if trans_a else (700, k), dtype)
    b = with_padding(rng, (k, n), dtype)
    c_all = K.gemm(a_all, b, trans_a=trans_a)
    assert_close(c_all, R.gemm(a_all, b, trans_a=trans_a), dtype, k=k)
    for m in (256, 128, 45):
        a = a_all[:, :m] if trans_a else a_all[:m]
        one, two = run_with_threads(lambda: K.gemm(a, b, trans_a=trans_a))
        assert_bitwise_equal(one, c_all[:m], f"{simd} gemm of {m} rows vs 700")
        assert_bitwise_equal(two, one, f"{simd} gemm of {m} rows with 2 threads vs 1")


@pytest.mark.usefixtures("restore_threads")
@pytest.mark.parametrize("simd", PATHS, indirect=True)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m", [330, 322, 325])
def test_row_tiles_do_not_depend_on_threads(rng, simd, dtype, m):
    # Enough work for 2 threads on each AVX-512 row tile: 330 rows 11 at a time, 322 rows
    # 14 at a time, 325 rows 8 at a time (an edge tile of 5 rows).
    n, k = 150, 300
    x = rand(rng, (m, k), dtype)
    w = rand(rng, (n, k), dtype)
    b = rand(rng, (n,), dtype)
    one, two = run_with_threads(lambda: K.dense_forward(x, w, b, "relu"))
    assert_bitwise_equal(two, one, f"{simd} dense_forward of {m} rows with 2 threads vs 1")
    dout = rand(rng, (m, n), dtype)
    one, two = run_with_threads(lambda: K.dense_backward(dout, x, w, "relu", a=one))
    for i in range(3):
        assert_bitwise_equal(two[i], one[i], f"{simd} dense_backward[{i}] with 2 threads vs 1")


@pytest.mark.usefixtures("restore_threads")
@pytest.mark.parametrize("simd", PATHS, indirect=True)
@pytest.mark.parametrize("dtype", DTYPES)
def test_one_row_tile_does_not_depend_on_threads(rng, simd, dtype):
    # dW of a layer with 10 outputs: one tile of rows, B read in place, columns split
    # between the threads (with an edge panel, 2005 = 62 x 32 + 21).
    n_out, n_in, batch = 10, 2005, 600
    dout = rand(rng, (batch, n_out), dtype)
    x = rand(rng, (batch, n_in), dtype)
    one, two = run_with_threads(lambda: K.gemm(dout, x, trans_a=True))
    assert_bitwise_equal(two, one, f"{simd} one-row-tile gemm with 2 threads vs 1")
    assert_close(one, R.gemm(dout, x, trans_a=True), dtype, k=batch)


def run_with_threads(fn):
    results = []
    for t in (1, 2):
        K.set_num_threads(t)
        results.append(fn())
    return results


@pytest.mark.usefixtures("restore_threads")
@pytest.mark.parametrize("simd", PATHS, indirect=True)
@pytest.mark.parametrize("dtype", DTYPES)
def test_results_do_not_depend_on_threads(rng, simd, dtype):
    # Large enough for the kernels to split the work: several row blocks and column
    # groups per thread, several KC steps, and edge tiles.
    m, n, k = 301, 603, 419
    a = rand(rng, (m, k), dtype)
    b = rand(rng, (n, k), dtype)
    c0 = rand(rng, (m, n), dtype)
    one, two = run_with_threads(lambda: K.gemm(a, b, c0.copy(), alpha=0.5, beta=2.0, trans_b=True))
    assert_bitwise_equal(two, one, f"{simd} gemm with 2 threads vs 1")
    bias = rand(rng, (n,), dtype)

    def forward():
        z = np.empty((m, n), dtype)
        return K.dense_forward(a, b, bias, "tanh", z=z), z

    one, two = run_with_threads(forward)
    for i in range(2):
        assert_bitwise_equal(two[i], one[i], f"{simd} dense_forward[{i}] with 2 threads vs 1")
    out = one[0]
    dout = rand(rng, (m, n), dtype)
    one, two = run_with_threads(lambda: K.dense_backward(dout, a, b, "tanh", a=out))
    for i in range(3):
        assert_bitwise_equal(two[i], one[i], f"{simd} dense_backward[{i}] with 2 threads vs 1")


def test_paths_and_best_path():
    assert PATHS[0] == "generic"
    assert set(PATHS) <= {"generic", "avx2", "avx512"}
    assert K.get_simd_path() in PATHS
    assert pynn.show_config(mode="dicts")["simd"] == K.simd_path()
    assert K.simd_path().startswith(K.get_simd_path() + ":")


@pytest.mark.usefixtures("restore_simd")
def test_set_simd_path():
    for name in PATHS:
        K.set_simd_path(name)
        assert K.get_simd_path() == name
        assert K.simd_path().startswith(name + ":")
    with pytest.raises(ValueError, match="unknown SIMD path 'sse9'"):
        K.set_simd_path("sse9")
    with pytest.raises(TypeError, match="name must be a str"):
        K.set_simd_path(2)
    for name in {"avx2", "avx512"} - set(PATHS):
        with pytest.raises(ValueError, match="not supported"):
            K.set_simd_path(name)
    assert K.get_simd_path() == PATHS[-1]  # a failed call changes nothing


@pytest.mark.usefixtures("restore_simd")
def test_workspace_size_follows_the_path():
    m, n, k = 301, 603, 419
    a, b = np.ones((m, k), np.float32), np.ones((k, n), np.float32)
    sizes = {}
    for name in PATHS:
        K.set_simd_path(name)
        sizes[name] = K.gemm_workspace_size(m, n, k, dtype=np.float32)
        c = K.gemm(a, b, workspace=np.empty(sizes[name], np.float32))
        assert_bitwise_equal(c, np.full((m, n), k, np.float32), name)
    largest = max(sizes, key=sizes.get)
    K.set_simd_path(largest)
    with K.threads(1):  # (a workspace sized for more threads fits fewer)
        for name in PATHS:
            if sizes[name] < K.gemm_workspace_size(m, n, k, dtype=np.float32):
                with pytest.raises(ValueError, match="workspace"):
                    K.gemm(a, b, workspace=np.empty(sizes[name], np.float32))


def _import_with_env(value):
    # The pynn under test: run from its parent folder (python -c puts the working folder
    # first on sys.path, and from a checkout that would be the unbuilt source tree).
    home = os.path.dirname(os.path.dirname(os.path.abspath(pynn.__file__)))
    env = dict(os.environ, PYNN_SIMD=value, PYTHONPATH=home)
    code = (
        "import warnings; warnings.simplefilter('always');"
        "import pynn._kernels as K; print(K.get_simd_path())"
    )
    res = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=home,
        capture_output=True,
        text=True,
        timeout=HANG_SECONDS,
    )
    assert res.returncode == 0, res.stderr
    return res.stdout.strip(), res.stderr


def test_pynn_simd_environment_variable():
    path, err = _import_with_env("generic")
    assert path == "generic" and "PYNN_SIMD" not in err
    path, err = _import_with_env("sse9")
    assert path == PATHS[-1]
    assert "PYNN_SIMD" in err and "unknown SIMD path 'sse9'" in err and "RuntimeWarning" in err
