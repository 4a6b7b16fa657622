"""Row-wise softmax and log_softmax."""

import numpy as np
import pytest
from helpers import DTYPES, MATRIX_SHAPES, K, R, assert_close, nan_like, randn

try:
    from hypothesis import given
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError:  # pragma: no cover
    given = None

SOFTMAX_SHAPES = [(0, 5)] + list(MATRIX_SHAPES) + [(3, 777), (600, 2)]


def softmax64(x):
    x = x.astype(np.float64)
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("scale", [1.0, 30.0], ids=["unit", "wide"])
@pytest.mark.parametrize("n,k", SOFTMAX_SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax(rng, dtype, n, k, scale):
    x = randn(rng, (n, k), dtype, scale)
    x_copy = x.copy()
    p = K.softmax(x)
    np.testing.assert_array_equal(x, x_copy)
    assert p.shape == (n, k)
    assert_close(p, R.softmax(x), dtype, k=k)
    assert_close(p, softmax64(x), dtype, k=k, what="vs float64")
    assert np.all(p >= 0)
    if n:
        assert_close(p.sum(axis=1), np.ones(n), dtype, k=k, what="row sums")


@pytest.mark.parametrize("scale", [1.0, 30.0], ids=["unit", "wide"])
@pytest.mark.parametrize("n,k", SOFTMAX_SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_log_softmax(rng, dtype, n, k, scale):
    x = randn(rng, (n, k), dtype, scale)
    lp = K.log_softmax(x)
    assert_close(lp, R.log_softmax(x), dtype, k=k)
    x64 = x.astype(np.float64)
    m = x64.max(axis=1, keepdims=True) if n else 0
    indep = x64 - m - np.log(np.exp(x64 - m).sum(axis=1, keepdims=True))
    assert_close(lp, indep, dtype, k=k, what="vs float64")
    assert np.all(lp <= 0)


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_out_given(rng, dtype, fn):
    x = randn(rng, (13, 17), dtype)
    out = nan_like(x.shape, dtype)
    assert getattr(K, fn)(x, out=out) is out
    assert_close(out, getattr(R, fn)(x), dtype, k=17)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_single_column(dtype):
    x = np.array([[-1e30], [0.0], [3.5], [1e30]], dtype)
    np.testing.assert_array_equal(K.softmax(x), np.ones((4, 1), dtype))
    np.testing.assert_array_equal(K.log_softmax(x), np.zeros((4, 1), dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_shift_invariance(rng, dtype):
    x = randn(rng, (7, 11), dtype)
    shifted = x + dtype(64)  # a power of two: exact shift for |x| < 64
    assert_close(K.softmax(shifted), K.softmax(x).astype(np.float64), dtype, k=11)


if given is not None:

    @st.composite
    def logits(draw):
        dtype = draw(st.sampled_from(DTYPES))
        n = draw(st.integers(1, 20))
        k = draw(st.integers(1, 20))
        bound = draw(st.sampled_from([1.0, 100.0, 1e4, 1e30]))
        bound = float(dtype(bound))
        elems = st.floats(-bound, bound, width=32 if dtype == np.float32 else 64)
        return draw(hnp.arrays(dtype, (n, k), elements=elems))

    @given(x=logits())
    def test_softmax_hypothesis(x):
        k = x.shape[1]
        p = K.softmax(x)
        lp = K.log_softmax(x)
        assert np.all(np.isfinite(p)) and np.all(np.isfinite(lp))
        assert_close(p, R.softmax(x), x.dtype, k=k)
        assert_close(lp, R.log_softmax(x), x.dtype, k=k)
