"""pynn's kernels against NumPy, as ratios measured in the same run.

    python benchmarks/bench_kernels.py [--threads 1] [--repeats 7]

For each case the pynn call and the NumPy expression are timed alternately
(interleaved, so that noise from this shared machine hits both alike), each
repeat being the best of a few calls; the table gives the medians and the
ratio NumPy time / pynn time (above 1: pynn is faster). Thread counts are set
for both libraries before NumPy is imported (OMP/OPENBLAS_NUM_THREADS).
See shared/BENCHMARKS.md for the peers' figures and the targets; NumPy's
OpenBLAS kernel depends on OPENBLAS_CORETYPE, so run it both with the
environment as it is and under `env -u OPENBLAS_CORETYPE`.
"""
import argparse
import os
import sys
import time


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=7)
    return parser.parse_args()


ARGS = parse_args()
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)

import numpy as np  # noqa: E402  (after the thread variables are set)

import pynn  # noqa: E402
from pynn import _kernels as K  # noqa: E402


def best_of(fn, calls):
    best = float("inf")
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def compare(pynn_fn, numpy_fn, repeats, calls):
    """Median seconds of pynn and NumPy, timed alternately."""
    pynn_fn(), numpy_fn()  # warm up
    ours, theirs = [], []
    for _ in range(repeats):
        ours.append(best_of(pynn_fn, calls))
        theirs.append(best_of(numpy_fn, calls))
    return float(np.median(ours)), float(np.median(theirs))


def gemm_case(rng, dtype, m, k, n):
    """C = A B^T as in a dense layer: A (m, k), B (n, k)."""
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((n, k)).astype(dtype)
    c = np.empty((m, n), dtype)
    ws = np.empty(K.gemm_workspace_size(m, n, k, dtype), dtype)
    flops = 2.0 * m * n * k
    return (lambda: K.gemm(a, b, c, trans_b=True, workspace=ws)), (lambda: a @ b.T), flops


def dense_case(rng, dtype, m, k, n):
    """relu(x W^T + b), fused in pynn, three NumPy operations."""
    x = rng.standard_normal((m, k)).astype(dtype)
    w = rng.standard_normal((n, k)).astype(dtype)
    b = rng.standard_normal(n).astype(dtype)
    out = np.empty((m, n), dtype)
    ws = np.empty(K.dense_forward_workspace_size(m, k, n, dtype), dtype)
    flops = 2.0 * m * n * k
    return ((lambda: K.dense_forward(x, w, b, "relu", out=out, workspace=ws)),
            (lambda: np.maximum(x @ w.T + b, 0)), flops)


CASES = [
    ("gemm", gemm_case, (128, 784, 256)),
    ("gemm", gemm_case, (128, 256, 128)),
    ("gemm", gemm_case, (128, 128, 10)),
    ("gemm", gemm_case, (32, 784, 256)),
    ("gemm", gemm_case, (1024, 1024, 1024)),
    ("dense relu", dense_case, (128, 784, 256)),
    ("dense relu", dense_case, (128, 256, 128)),
]


def main():
    pynn.set_num_threads(ARGS.threads)
    rng = np.random.default_rng(0)
    print(f"pynn {pynn.__version__}, {pynn.get_num_threads()} thread(s), simd: {K.simd_path()}; "
          f"numpy {np.__version__}, OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE')}")
    print(f"{'kernel':<11} {'dtype':<8} {'m·k·n':<15} {'pynn GF/s':>10} {'numpy GF/s':>11} "
          f"{'numpy/pynn':>11}")
    for dtype in (np.float32, np.float64):
        for name, make, (m, k, n) in CASES:
            ours_fn, numpy_fn, flops = make(rng, dtype, m, k, n)
            calls = max(1, int(2e8 / flops))
            ours, theirs = compare(ours_fn, numpy_fn, ARGS.repeats, calls)
            print(f"{name:<11} {np.dtype(dtype).name:<8} {f'{m}·{k}·{n}':<15} "
                  f"{flops / ours / 1e9:>10.1f} {flops / theirs / 1e9:>11.1f} "
                  f"{theirs / ours:>11.2f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
