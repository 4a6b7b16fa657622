"""Shared helpers for pynn's test-suite: the two implementations, data makers, tolerances.

`pynn._kernels` (C + Cython) and `pynn.reference` (plain NumPy) expose the same functions
(docs/kernels.md); nearly every test runs one against the other, and many also check a
small independent formula written here so that a bug shared by both is caught too.
"""

import math
import os
import re

import numpy as np
import pytest

import pynn._kernels as K
import pynn.reference as R

DTYPES = (np.float32, np.float64)

# ---------------------------------------------------------------------------------------
# Shapes. Sizes 0 (where meaningful), 1, primes, sizes that are no multiple of any
# plausible tile (4, 8, 16, 32, 64 ...) and a few above 500, kept few so the suite is fast.
SIZES_1D = (0, 1, 7, 13, 17, 31, 65, 97, 129, 777)
MATRIX_SHAPES = ((1, 1), (1, 7), (7, 1), (13, 17), (31, 65), (97, 13), (129, 3), (2, 513),
                 (513, 5))

# Activations as (name, param) with defaults and non-default params; step and sign are
# inference-only (no derivative).
ACT_CASES = (
    ("identity", None),
    ("sigmoid", None),
    ("tanh", None),
    ("relu", None),
    ("leaky_relu", None),
    ("leaky_relu", 0.2),
    ("leaky_relu", -0.3),
    ("softplus", None),
    ("elu", None),
    ("elu", 0.5),
    ("elu", 2.0),
    ("step", None),
    ("sign", None),
)
DIFF_ACT_CASES = tuple(c for c in ACT_CASES if c[0] not in ("step", "sign"))


def act_id(case):
    name, param = case
    return name if param is None else f"{name}({param})"


ACT_IDS = [act_id(c) for c in ACT_CASES]
DIFF_ACT_IDS = [act_id(c) for c in DIFF_ACT_CASES]

IMPLS = (pytest.param(K, id="kernels"), pytest.param(R, id="reference"))

# ---------------------------------------------------------------------------------------
# Tolerance.
#
# Both implementations are compared with one rule:
#     max |actual - expected| <= rtol(dtype) * max(max |expected|, floor) * sqrt(max(k, 1))
# * rtol is 1e-12 for float64 and 1e-5 for float32: about 4500 and 84 units in the last
#   place of a value of the array's largest magnitude. Element-wise maths (exp, log1p, tanh)
#   differs by a few ulp between libm, NumPy's SIMD loops and compiler contractions (FMA),
#   far inside that.
# * The scale is the largest magnitude of the expected result (not each element's own
#   magnitude): a result that is a difference of large terms (softmax gradients, GEMM
#   entries that cancel) is only known to within the rounding of those large terms.
# * floor (default 1e-6, far below the O(1) data the tests use) keeps an all-zero expected
#   result from demanding bit-exactness; tests with tiny data pass their own floor.
# * k is the length of the reductions behind each element (GEMM's inner dimension, a
#   softmax row, a batch summed into a bias gradient). Kernels sum in a different order
#   (blocked, vectorised) than NumPy's BLAS / pairwise sums; the rounding errors of a sum
#   of k terms with random signs grow like sqrt(k) relative to the size of the result (a
#   random walk of k roundings of partial sums that themselves grow like sqrt(k)), so the
#   tolerance grows by sqrt(k). For k = 777 that is 28x, still ~5e-11 relative in float64:
#   any real bug (a missed term, a wrong index, a wrong transpose) is orders of magnitude
#   larger. Integer-valued tests elsewhere check GEMM and dense layers for exact results.
RTOL = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-12}
DEFAULT_FLOOR = 1e-6


def tolerance(expected, dtype, *, k=1, floor=DEFAULT_FLOOR, rtol=None):
    e = np.asarray(expected, dtype=np.float64)
    finite = e[np.isfinite(e)]
    scale = max(float(np.max(np.abs(finite))) if finite.size else 0.0, floor)
    r = RTOL[np.dtype(dtype)] if rtol is None else rtol
    return r * scale * math.sqrt(max(k, 1))


def assert_close(actual, expected, dtype, *, k=1, floor=DEFAULT_FLOOR, rtol=None, what=""):
    """Assert `actual` (array or Python float) matches `expected` for results of `dtype`.

    NaN must be NaN in both, infinities must be equal, everything else must be within
    `tolerance(...)` (see above). Arrays must also have the right dtype and shape.
    """
    dtype = np.dtype(dtype)
    label = f"{what}: " if what else ""
    if isinstance(actual, np.ndarray):
        assert actual.dtype == dtype, f"{label}dtype {actual.dtype}, expected {dtype}"
    else:
        assert actual is not None, f"{label}got None"
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    assert a.shape == e.shape, f"{label}shape {a.shape}, expected {e.shape}"
    nan_a, nan_e = np.isnan(a), np.isnan(e)
    if not np.array_equal(nan_a, nan_e):
        idx = np.argwhere(nan_a != nan_e)[0]
        raise AssertionError(f"{label}NaN mismatch at {tuple(idx)}: actual {a[tuple(idx)]!r},"
                             f" expected {e[tuple(idx)]!r}")
    inf_e = np.isinf(e)
    if not np.array_equal(a[inf_e], e[inf_e]):
        raise AssertionError(f"{label}infinities differ: actual {a[inf_e]}, expected {e[inf_e]}")
    fin = np.isfinite(e)
    if not np.all(np.isfinite(a[fin])):
        idx = np.argwhere(fin & ~np.isfinite(a))[0]
        raise AssertionError(f"{label}non-finite at {tuple(idx)}: actual {a[tuple(idx)]!r},"
                             f" expected {e[tuple(idx)]!r}")
    if not fin.any():
        return
    tol = tolerance(e, dtype, k=k, floor=floor, rtol=rtol)
    diff = np.where(fin, np.abs(a - e), 0.0)
    err = float(np.max(diff))
    if not err <= tol:
        idx = np.unravel_index(int(np.argmax(diff)), diff.shape)
        raise AssertionError(
            f"{label}max abs error {err:.3e} > tolerance {tol:.3e} ({dtype}, k={k}); worst at "
            f"{tuple(int(i) for i in idx)}: actual {a[idx]!r}, expected {e[idx]!r}; "
            f"{int(np.count_nonzero(diff > tol))} of {diff.size} elements out of tolerance")


def assert_bitwise_equal(actual, expected, what=""):
    """Same dtype, shape and bytes (NaN payloads and signed zeros included)."""
    if actual is None or expected is None:
        assert actual is None and expected is None, what
        return
    if isinstance(actual, float) or isinstance(expected, float):
        assert type(actual) is float and type(expected) is float, what
        assert np.float64(actual).tobytes() == np.float64(expected).tobytes(), \
            f"{what}: {actual!r} != {expected!r}"
        return
    assert actual.dtype == expected.dtype and actual.shape == expected.shape, what
    a = np.ascontiguousarray(actual)
    e = np.ascontiguousarray(expected)
    if a.tobytes() != e.tobytes():
        diff = np.argwhere(~((a == e) | (np.isnan(a) & np.isnan(e))))
        raise AssertionError(f"{what}: results differ bitwise at {len(diff)} elements, first "
                             f"{tuple(diff[0]) if len(diff) else '(signed zero / NaN bits)'}")


# ---------------------------------------------------------------------------------------
# Data.
def rand(rng, shape, dtype, low=-1.0, high=1.0):
    return rng.uniform(low, high, size=shape).astype(dtype)


def randn(rng, shape, dtype, scale=1.0):
    return (rng.standard_normal(size=shape) * scale).astype(dtype)


def away_from(rng, shape, dtype, points=(0.0,), margin=1e-2, low=-2.0, high=2.0):
    """Uniform values at least `margin` away from each of `points` (for kinks)."""
    x = rng.uniform(low, high, size=shape)
    for _ in range(100):
        bad = np.zeros(x.shape, dtype=bool)
        for p in points:
            bad |= np.abs(x - p) < margin
        if not bad.any():
            break
        x[bad] = rng.uniform(low, high, size=int(bad.sum()))
    return x.astype(dtype)


def nan_like(shape, dtype):
    return np.full(shape, np.nan, dtype=dtype)


def arg(name):
    """Regex matching `name` as a whole word in an error message."""
    return rf"\b{re.escape(name)}\b"


def workspace_size(fn, *sizes, dtype):
    """fn(*sizes) for the call's dtype. docs/kernels.md gives the size functions no dtype
    argument, but the element count of a float32 workspace can differ from a float64 one;
    pynn._kernels takes `dtype=`. Fall back to the documented signature if it does not."""
    try:
        return fn(*sizes, dtype=dtype)
    except TypeError:
        return fn(*sizes)


def fuzz_decorator(examples):
    """A decorator factory for the fuzz tests: fuzz(n) sets hypothesis's max_examples to n
    and records n in `examples` under the test's name, so a file's total can be quoted.
    The environment variable PYNN_FUZZ_SCALE (a number, default 1) multiplies n, for long
    local runs (tests/conftest.py)."""
    from hypothesis import settings

    scale = float(os.environ.get("PYNN_FUZZ_SCALE", "1"))

    def fuzz(n_examples):
        def decorate(test):
            n = max(1, round(n_examples * scale))
            examples[test.__name__] = n
            return settings(max_examples=n)(test)
        return decorate
    return fuzz
