"""Shared helpers for pynn's test-suite: the two implementations, data makers, tolerances.

`pynn._kernels` (C + Cython) and `pynn.reference` (plain NumPy) expose the same functions
(docs/kernels.md); nearly every test runs one against the other, and many also check a
small independent formula written here so that a bug shared by both is caught too.
"""

import math
import os
import re
import subprocess
import sys
import threading

import numpy as np
import pynn._kernels as K
import pytest

import pynn.reference as R

DTYPES = (np.float32, np.float64)

# ---------------------------------------------------------------------------------------
# Shapes. Sizes 0 (where meaningful), 1, primes, sizes that are no multiple of any
# plausible tile (4, 8, 16, 32, 64 ...) and a few above 500, kept few so the suite is fast.
SIZES_1D = (0, 1, 7, 13, 17, 31, 65, 97, 129, 777)
MATRIX_SHAPES = (
    (1, 1),
    (1, 7),
    (7, 1),
    (13, 17),
    (31, 65),
    (97, 13),
    (129, 3),
    (2, 513),
    (513, 5),
)

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
# * terms: a result that is a sum or difference of larger terms (a loss lse - z_y, a
#   gradient p - y, tanh' = 1 - a*a) is only known to within the rounding of those terms,
#   however small the result: an implementation that rounds the terms in the dtype (as
#   the kernels do, correctly) errs by eps times their size. `terms` gives the size
#   (non-negative, broadcastable to the result, e.g. |lse| + |z_y| per sample), and the
#   scale is the largest of max |expected|, max terms and floor. The factor stays
#   rtol * sqrt(k), so a wrong term still fails (a missed term of a loss is as large as
#   the terms, far beyond 84 ulp of them).
RTOL = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-12}
DEFAULT_FLOOR = 1e-6


def tolerance(expected, dtype, *, k=1, floor=DEFAULT_FLOOR, rtol=None, terms=None):
    e = np.asarray(expected, dtype=np.float64)
    finite = e[np.isfinite(e)]
    scale = max(float(np.max(np.abs(finite))) if finite.size else 0.0, floor)
    if terms is not None:
        t = np.asarray(terms, dtype=np.float64)
        t = t[np.isfinite(t)]
        if t.size:
            scale = max(scale, float(np.max(np.abs(t))))
    r = RTOL[np.dtype(dtype)] if rtol is None else rtol
    return r * scale * math.sqrt(max(k, 1))


def assert_close(
    actual, expected, dtype, *, k=1, floor=DEFAULT_FLOOR, rtol=None, terms=None, what=""
):
    """Assert `actual` (array or Python float) matches `expected` for results of `dtype`.

    NaN must be NaN in both, infinities must be equal, everything else must be within
    `tolerance(...)` (see above; `terms`: the size of the terms the results are made of).
    Arrays must also have the right dtype and shape.
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
        raise AssertionError(
            f"{label}NaN mismatch at {tuple(idx)}: actual {a[tuple(idx)]!r},"
            f" expected {e[tuple(idx)]!r}"
        )
    inf_e = np.isinf(e)
    if not np.array_equal(a[inf_e], e[inf_e]):
        raise AssertionError(f"{label}infinities differ: actual {a[inf_e]}, expected {e[inf_e]}")
    fin = np.isfinite(e)
    if not np.all(np.isfinite(a[fin])):
        idx = np.argwhere(fin & ~np.isfinite(a))[0]
        raise AssertionError(
            f"{label}non-finite at {tuple(idx)}: actual {a[tuple(idx)]!r},"
            f" expected {e[tuple(idx)]!r}"
        )
    if not fin.any():
        return
    tol = tolerance(e, dtype, k=k, floor=floor, rtol=rtol, terms=terms)
    diff = np.where(fin, np.abs(a - e), 0.0)
    err = float(np.max(diff))
    if not err <= tol:
        idx = np.unravel_index(int(np.argmax(diff)), diff.shape)
        raise AssertionError(
            f"{label}max abs error {err:.3e} > tolerance {tol:.3e} ({dtype}, k={k}); worst at "
            f"{tuple(int(i) for i in idx)}: actual {a[idx]!r}, expected {e[idx]!r}; "
            f"{int(np.count_nonzero(diff > tol))} of {diff.size} elements out of tolerance"
        )


def activation_terms(activation, a, dout=None):
    """The size of the terms of activation_derivative (dout None) or activation_backward
    results, for assert_close(terms=): tanh' = 1 - a*a, a difference of 1 and a*a, so
    |dout| (1 + a*a) (a float32 1 - a*a near |a| = 1 errs by eps/2, however small the
    result); None for the others (products and sums of non-negative terms)."""
    if activation != "tanh" or a is None:
        return None
    a = np.asarray(a, dtype=np.float64)
    d = 1.0 if dout is None else np.abs(np.asarray(dout, dtype=np.float64))
    with np.errstate(all="ignore"):
        return d * (1 + a * a)


def loss_terms(name, x, target, sample_weight=None):
    """The size of the terms each result of a loss is made of, for assert_close(terms=):
    (per-sample losses (n,), the loss (a number), the gradient (n, k)), or Nones for the
    losses whose results are sums of non-negative terms and exact differences (mse, l1,
    hinge: pred - y and 1 - y*pred are exact in double for float32, or rounded relative
    to themselves).

    softmax cross-entropy: l_i = lse_i - z_iy (with probabilities sum_j y_ij (lse_i -
    z_ij)), terms |lse| + |z|; grad c_i (p_ij sum_j y_ij - y_ij), terms c_i (p_ij sum_j
    y_ij + |y_ij|). Binary cross-entropy: l = sum_j max(z, 0) - z y + log1p(exp(-|z|)),
    terms |max(z, 0)| + |z y| + log1p(...); grad c (sigmoid(z) - y), terms c (sigmoid(z)
    + |y|). Poisson: l = sum_j exp(z) + y (log y - 1 - z), terms exp(z) + y (|log y| + 1 +
    |z|); grad c (exp(z) - y), terms c (exp(z) + y). The loss's terms are sum_i c_i T_i (the
    l_i are >= 0)."""
    if name not in ("softmax_cross_entropy", "sigmoid_binary_cross_entropy", "poisson"):
        return None, None, None
    z = np.asarray(x, dtype=np.float64)
    n, k = z.shape
    if sample_weight is None:
        c = np.full(n, 1.0 / n)
    else:
        w = np.asarray(sample_weight, dtype=np.float64)
        c = w / w.sum()
    with np.errstate(all="ignore"):
        if name == "softmax_cross_entropy":
            m = z.max(axis=1, keepdims=True)
            e = np.exp(z - m)
            lse = m + np.log(e.sum(axis=1, keepdims=True))
            p = e / e.sum(axis=1, keepdims=True)
            if target.ndim == 1:
                y = np.eye(k)[target]
            else:
                y = np.asarray(target, dtype=np.float64)
            sample = np.where(y == 0, 0.0, np.abs(y) * (np.abs(lse) + np.abs(z))).sum(axis=1)
            grad = c[:, None] * (p * y.sum(axis=1, keepdims=True) + np.abs(y))
        elif name == "poisson":
            y = np.asarray(target, dtype=np.float64)
            e = np.exp(z)
            log_y = np.abs(np.log(np.where(y > 0, y, 1.0)))
            sample = (e + y * (log_y + 1 + np.abs(z))).sum(axis=1)
            grad = c[:, None] * (e + y)
        else:
            y = np.asarray(target, dtype=np.float64)
            sample = (np.maximum(z, 0) + np.abs(z * y) + np.log1p(np.exp(-np.abs(z)))).sum(axis=1)
            grad = c[:, None] * (1 / (1 + np.exp(-z)) + np.abs(y))
        total = float(np.sum(c * np.where(np.isfinite(sample), sample, 0.0)))
    return sample, total, grad


def assert_bitwise_equal(actual, expected, what=""):
    """Same dtype, shape and bytes (NaN payloads and signed zeros included)."""
    if actual is None or expected is None:
        assert actual is None and expected is None, what
        return
    if isinstance(actual, float) or isinstance(expected, float):
        assert type(actual) is float and type(expected) is float, what
        assert np.float64(actual).tobytes() == np.float64(expected).tobytes(), (
            f"{what}: {actual!r} != {expected!r}"
        )
        return
    assert actual.dtype == expected.dtype and actual.shape == expected.shape, what
    a = np.ascontiguousarray(actual)
    e = np.ascontiguousarray(expected)
    if a.tobytes() != e.tobytes():
        diff = np.argwhere(~((a == e) | (np.isnan(a) & np.isnan(e))))
        raise AssertionError(
            f"{what}: results differ bitwise at {len(diff)} elements, first "
            f"{tuple(diff[0]) if len(diff) else '(signed zero / NaN bits)'}"
        )


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


# ---------------------------------------------------------------------------------------
# Deadlock detectors. A join, wait or subprocess timeout in a test only turns a hang into
# a failure: it must never be what a slow run on a loaded machine trips over, so it is
# hundreds of times the longest work it guards (a child interpreter that imports pynn and
# trains for a second or two, on a quiet machine). Speed is never asserted (DESIGN.md).
HANG_SECONDS = 900


def run_threads(targets, timeout=HANG_SECONDS):
    """Run each callable in its own thread; re-raise the first error; fail on a hang."""
    errors = []

    def guarded(target):
        try:
            target()
        except BaseException as error:  # reported in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(target,), daemon=True) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread hung (deadlock?)"
    if errors:
        raise errors[0]


def sanitized():
    """Whether this process runs with AddressSanitizer (.ci/sanitize: LD_PRELOAD, and the
    extension linked against it), whose shadow memory needs far more address space than
    any address-space limit a test can set."""
    if "asan" in os.environ.get("LD_PRELOAD", "") or "ASAN_OPTIONS" in os.environ:
        return True
    try:
        with open("/proc/self/maps") as maps:
            return any("libasan" in line or "libclang_rt.asan" in line for line in maps)
    except OSError:
        return False


def without_leak_check(env):
    """env for a child process whose exit LeakSanitizer does not check, under the sanitizer
    run only. LeakSanitizer's exit check stops the process's threads with ptrace, and in the
    children that fork with threads running (test_fork's scenarios) or are interrupted with
    threads running (test_cli's Ctrl-C child) its tracer has crashed now and then ("Tracer
    caught signal 11", exit status 1) after the child's work had passed; not understood yet.
    Every other process of the suite, pytest's own included, keeps the leak check."""
    if not sanitized():
        return env
    return dict(env, ASAN_OPTIONS=env.get("ASAN_OPTIONS", "") + ":detect_leaks=0")


# Prepended to a child's code (run_python): cap_address_space(extra) limits the process's
# address space to what it maps now plus `extra` bytes (RLIMIT_AS binds root too, unlike
# RLIMIT_NPROC) and returns a function that lifts the limit.
ADDRESS_CAP = r"""
import re as _re, resource as _resource
def cap_address_space(extra):
    with open("/proc/self/status") as status:
        mapped = int(_re.search(r"VmSize:\s+(\d+) kB", status.read()).group(1)) * 1024
    soft, hard = _resource.getrlimit(_resource.RLIMIT_AS)
    _resource.setrlimit(_resource.RLIMIT_AS, (mapped + extra, hard))
    return lambda: _resource.setrlimit(_resource.RLIMIT_AS, (soft, hard))
"""


def run_python(code, cwd, *args):
    """`code` in a fresh interpreter that imports the pynn under test, run in `cwd` (not
    the source tree, whose unbuilt pynn/ would shadow an installed one); its result, with
    output captured. The timeout is a deadlock guard only."""
    home = os.path.dirname(os.path.dirname(os.path.abspath(K.__file__)))
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONPATH=home)
    return subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=HANG_SECONDS,
    )


# Tests whose child caps its address space (ADDRESS_CAP): Linux only, and not under
# AddressSanitizer, whose shadow memory needs far more than any cap leaves.
needs_address_cap = pytest.mark.skipif(
    not sys.platform.startswith("linux") or sanitized(),
    reason="needs RLIMIT_AS and /proc, and no AddressSanitizer (its shadow memory fits no cap)",
)


def measured(value):
    """Whether `value` is a figure a benchmark measured: a finite number >= 0, whatever its
    size (speed is the benchmarks' business, as ratios, never a unit test's)."""
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )
