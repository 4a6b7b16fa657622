"""The benchmarked operations: each case builds its inputs once and returns a
pynn call and the NumPy computation of the same result, plus its flop count.

Shared by gemm.py (the comparison script) and test_bench_gemm.py (the
pytest-benchmark suite). pynn's outputs and workspaces are allocated here, so
the timed calls do not allocate; the NumPy expressions are written as a user
would write them (they allocate their results), except GEMM, which NumPy can
also write into a preallocated array.
"""
import os
import sys

import numpy as np

# Benchmark the pynn of this source tree (built in place), whichever directory we run from.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from pynn import _kernels as K  # noqa: E402

# BENCHMARKS.md's GEMM table: (M, K, N), C (M, N) = A (M, K) · B (N, K)ᵀ as in a dense layer.
GEMM_SHAPES = [
    (128, 784, 256),
    (128, 256, 128),
    (128, 128, 10),
    (32, 784, 256),
    (512, 784, 256),
    (1024, 1024, 1024),
    (2048, 2048, 2048),
]

# The MLP 784-256-128-10 at batch 32, 128 and 512: (batch, in_features, out_features).
DENSE_SHAPES = [
    (batch, n_in, n_out)
    for batch in (32, 128, 512)
    for (n_in, n_out) in ((784, 256), (256, 128), (128, 10))
]


def _random(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


def gemm_case(rng, dtype, m, k, n):
    """C = A·Bᵀ. Flops: 2·m·k·n."""
    a = _random(rng, (m, k), dtype)
    b = _random(rng, (n, k), dtype)
    c = np.empty((m, n), dtype)
    c_numpy = np.empty((m, n), dtype)
    workspace = np.empty(K.gemm_workspace_size(m, n, k, dtype), dtype)

    def run_pynn():
        K.gemm(a, b, c, trans_b=True, workspace=workspace)

    def run_numpy():
        np.matmul(a, b.T, out=c_numpy)

    return run_pynn, run_numpy, 2.0 * m * k * n


def dense_forward_case(rng, dtype, batch, n_in, n_out):
    """relu(x·Wᵀ + b): fused in pynn, three NumPy operations. Flops: 2·batch·in·out."""
    x = _random(rng, (batch, n_in), dtype)
    w = _random(rng, (n_out, n_in), dtype)
    b = _random(rng, (n_out,), dtype)
    out = np.empty((batch, n_out), dtype)
    workspace = np.empty(K.dense_forward_workspace_size(batch, n_in, n_out, dtype), dtype)

    def run_pynn():
        K.dense_forward(x, w, b, "relu", out=out, workspace=workspace)

    def run_numpy():
        return np.maximum(x @ w.T + b, 0)

    return run_pynn, run_numpy, 2.0 * batch * n_in * n_out


def dense_backward_case(rng, dtype, batch, n_in, n_out):
    """dW, db and dx of a ReLU dense layer. Flops: 4·batch·in·out (two products)."""
    x = _random(rng, (batch, n_in), dtype)
    w = _random(rng, (n_out, n_in), dtype)
    b = _random(rng, (n_out,), dtype)
    a = np.maximum(x @ w.T + b, 0).astype(dtype)  # the forward's output, from which ReLU' is read
    dout = _random(rng, (batch, n_out), dtype)
    dweight = np.empty((n_out, n_in), dtype)
    dbias = np.empty(n_out, dtype)
    dx = np.empty((batch, n_in), dtype)
    workspace = np.empty(K.dense_backward_workspace_size(batch, n_in, n_out, dtype), dtype)

    def run_pynn():
        K.dense_backward(dout, x, w, "relu", a=a, bias=True, input_grad=True,
                         dweight=dweight, dbias=dbias, dx=dx, workspace=workspace)

    def run_numpy():
        dz = dout * (a > 0)
        return dz.T @ x, dz.sum(0), dz @ w

    return run_pynn, run_numpy, 4.0 * batch * n_in * n_out


# kind -> (case builder, shapes, the 1-thread target for pynn speed / NumPy speed per dtype).
# The dense targets are float32's (BENCHMARKS.md sets them with its fp32 table; MLPs train
# in float32): float64 dense figures are reported without one.
KINDS = {
    "gemm": (gemm_case, GEMM_SHAPES, {"float32": 0.9, "float64": 0.85}),
    "dense_forward": (dense_forward_case, DENSE_SHAPES, {"float32": 1.3, "float64": None}),
    "dense_backward": (dense_backward_case, DENSE_SHAPES, {"float32": 1.2, "float64": None}),
}


def shape_label(kind, shape):
    if kind == "gemm":
        return "·".join(str(d) for d in shape)
    batch, n_in, n_out = shape
    return f"{batch}×{n_in}→{n_out}"
