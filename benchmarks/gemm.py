"""GEMM and dense-layer speed of pynn against NumPy's BLAS, as in shared/BENCHMARKS.md.

    env -u OPENBLAS_CORETYPE OPENBLAS_NUM_THREADS=1 python benchmarks/gemm.py [--paths avx512,avx2]

C = A Bᵀ as in a dense layer (A (M, K), B (N, K)), shapes M x K x N. Each row is the median
of several repeats, pynn and NumPy interleaved. pynn's thread count is set per row; NumPy's
comes from OPENBLAS_NUM_THREADS (so run the 2-thread rows with OPENBLAS_NUM_THREADS=2 too).
"""
import argparse
import time

import numpy as np

import pynn._kernels as K

GEMM_SHAPES = [(128, 784, 256), (512, 784, 256), (1024, 1024, 1024), (2048, 2048, 2048)]
DENSE_SHAPES = [(128, 784, 256), (128, 256, 128), (512, 784, 256)]


def median_seconds(fns, repeats):
    """Median time of each fn, the fns run in turn repeats times."""
    times = [[] for _ in fns]
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            times[i].append(time.perf_counter() - start)
    return [sorted(t)[len(t) // 2] for t in times]


def gemm_row(m, k, n, dtype, paths, threads):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((n, k)).astype(dtype)
    c = np.empty((m, n), dtype)
    K.set_num_threads(threads)
    fns = []
    for path in paths:
        K.set_simd_path(path)
        ws = np.empty(K.gemm_workspace_size(m, n, k, dtype=dtype), dtype)
        fns.append(lambda path=path, ws=ws: (K.set_simd_path(path),
                                             K.gemm(a, b, c, trans_b=True, workspace=ws)))
    bt = b.T
    fns.append(lambda: np.matmul(a, bt, out=c))
    for fn in fns:
        fn()
    flops = 2.0 * m * n * k
    repeats = max(3, min(25, int(2e10 / flops)))
    return [flops / t / 1e9 for t in median_seconds(fns, repeats)]


def dense_row(n, fin, fout, dtype, threads):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, fin)).astype(dtype)
    w = rng.standard_normal((fout, fin)).astype(dtype)
    b = rng.standard_normal(fout).astype(dtype)
    out = np.empty((n, fout), dtype)
    z = np.empty((n, fout), dtype)
    K.set_num_threads(threads)
    ws = np.empty(max(K.dense_forward_workspace_size(n, fin, fout, dtype=dtype),
                      K.dense_backward_workspace_size(n, fin, fout, dtype=dtype)), dtype)
    dout = rng.standard_normal((n, fout)).astype(dtype)
    K.dense_forward(x, w, b, "relu", out=out, z=z, workspace=ws)
    dw, db, dx = np.empty_like(w), np.empty_like(b), np.empty_like(x)

    def numpy_backward():
        dz = dout * (out > 0)
        return dz.T @ x, dz.sum(axis=0), dz @ w

    fns = [lambda: K.dense_forward(x, w, b, "relu", out=out, workspace=ws),
           lambda: np.maximum(x @ w.T + b, 0),
           lambda: K.dense_backward(dout, x, w, "relu", a=out, dweight=dw, dbias=db, dx=dx,
                                    workspace=ws),
           numpy_backward]
    for fn in fns:
        fn()
    return median_seconds(fns, 30)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", default=",".join(reversed(K.simd_paths())),
                        help="comma-separated SIMD paths to time (default: all supported)")
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    args = parser.parse_args()
    paths = args.paths.split(",")
    threads = [int(t) for t in args.threads.split(",")]
    print("NumPy", np.__version__, "BLAS:",
          np.show_config(mode="dicts")["Build Dependencies"]["blas"]["name"])
    print("GEMM GFLOP/s, C = A Bᵀ, M x K x N")
    print(f"{'dtype':8} {'shape':16} {'thr':>3} " + " ".join(f"{p:>8}" for p in paths)
          + f" {'numpy':>8} {'ratio':>6}")
    for t in threads:
        for dtype in (np.float32, np.float64):
            for m, k, n in GEMM_SHAPES:
                if t > 1 and m < 1024:
                    continue
                row = gemm_row(m, k, n, dtype, paths, t)
                print(f"{np.dtype(dtype).name:8} {f'{m}x{k}x{n}':16} {t:>3} "
                      + " ".join(f"{g:8.1f}" for g in row) + f" {row[0] / row[-1]:6.2f}",
                      flush=True)
    K.set_simd_path(paths[0])
    print(f"dense layers ({paths[0]}, relu), microseconds: pynn / numpy (ratio numpy/pynn)")
    for t in threads[:1]:
        for n, fin, fout in DENSE_SHAPES:
            f, nf, bw, nb = (s * 1e6 for s in dense_row(n, fin, fout, np.float32, t))
            print(f"float32 {n}x{fin}x{fout} thr {t}: forward {f:.0f} / {nf:.0f} "
                  f"({nf / f:.2f}x), backward {bw:.0f} / {nb:.0f} ({nb / bw:.2f}x)", flush=True)


if __name__ == "__main__":
    main()
