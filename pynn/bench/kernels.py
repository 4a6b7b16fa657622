"""The kernel benchmark: pynn's gemm, dense_forward and dense_backward against NumPy.

Each case builds its inputs once and returns a pynn call and the NumPy computation of the
same result, plus its flop count. pynn's outputs and workspaces are allocated here, so the
timed calls do not allocate; the NumPy expressions are written as a user would write them
(they allocate their results), except GEMM, which NumPy can also write into a preallocated
array. benchmarks/gemm.py (every shape, 1 and 2 threads, both dtypes) and `pynn bench` (the
MLP's shapes at 1 thread, float32) use these cases.
"""

import numpy as np

from pynn import _kernels as K
from pynn.bench import processes
from pynn.bench.timing import BUSY_SHARE, OtherLoad, measure

# shared/BENCHMARKS.md's GEMM table: (M, K, N), C (M, N) = A (M, K) · B (N, K)ᵀ as in a dense
# layer.
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

# Two small shapes per kernel: a smoke run.
QUICK_SHAPES = {
    "gemm": [(128, 256, 128), (128, 128, 10)],
    "dense_forward": [(32, 784, 256), (128, 128, 10)],
    "dense_backward": [(32, 784, 256), (128, 128, 10)],
}


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
        K.dense_backward(
            dout,
            x,
            w,
            "relu",
            a=a,
            bias=True,
            input_grad=True,
            dweight=dweight,
            dbias=dbias,
            dx=dx,
            workspace=workspace,
        )

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

TITLES = {
    "gemm": "gemm C = A·Bᵀ (M·K·N)",
    "dense_forward": "dense_forward relu(x·Wᵀ+b) vs np.maximum(x @ w.T + b, 0)",
    "dense_backward": "dense_backward ReLU: dW, db, dx vs NumPy (4·b·i·o flops)",
}


def shape_label(kind, shape):
    if kind == "gemm":
        return "·".join(str(d) for d in shape)
    batch, n_in, n_out = shape
    return f"{batch}×{n_in}→{n_out}"


# ---- `pynn bench`: the MLP's shapes, float32, 1 thread ----------------------------------


def mlp_cases(quick):
    """[(kind, shape)]: the GEMMs and dense layers of the MLP 784-256-128-10 (the GEMM table
    without its square shapes), or QUICK_SHAPES."""
    if quick:
        return [(kind, shape) for kind, shapes in QUICK_SHAPES.items() for shape in shapes]
    gemm = [shape for shape in GEMM_SHAPES if shape[0] <= 512 and shape[1] <= 784]
    return [("gemm", shape) for shape in gemm] + [
        (kind, shape) for kind in ("dense_forward", "dense_backward") for shape in DENSE_SHAPES
    ]


def time_cases(cases, libraries, repeats, dtype="float32"):
    """Worker side: median seconds per call of each library ("pynn", "numpy") on each case,
    the libraries interleaved (timing.measure). Same seed, same data in every worker."""
    rng = np.random.default_rng(0)
    results = []
    for kind, shape in cases:
        run_pynn, run_numpy, flops = KINDS[kind][0](rng, np.dtype(dtype).type, *shape)
        fns = {"pynn": run_pynn, "numpy": run_numpy}
        load = OtherLoad().start()
        seconds, used = measure({name: fns[name] for name in libraries}, repeats)
        results.append(
            {
                "kind": kind,
                "shape": list(shape),
                "flops": flops,
                "repeats": used,
                "seconds": seconds,
                "others_share": load.stop(),
            }
        )
    return results


def compare(quick, repeats):
    """Parent side: pynn and NumPy at 1 thread, float32. Two worker processes with
    OMP_NUM_THREADS = OPENBLAS_NUM_THREADS = 1: NumPy alone with the environment's
    OPENBLAS_CORETYPE (or Haswell: AVX2 kernels), then pynn and NumPy interleaved with the
    variable removed (OpenBLAS's kernel for the CPU). Returns a JSON-ready dict."""
    cases = [[kind, list(shape)] for kind, shape in mlp_cases(quick)]
    env_coretype = processes.environment_coretype()
    env_numpy = processes.run_worker(
        {"task": "kernels", "cases": cases, "libraries": ["numpy"], "repeats": repeats},
        threads=1,
        coretype=env_coretype,
    )
    auto = processes.run_worker(
        {"task": "kernels", "cases": cases, "libraries": ["pynn", "numpy"], "repeats": repeats},
        threads=1,
        coretype=None,
    )
    rows = []
    for mine, theirs in zip(auto["results"], env_numpy["results"]):
        pynn_s, numpy_s = mine["seconds"]["pynn"], mine["seconds"]["numpy"]
        rows.append(
            {
                "kind": mine["kind"],
                "shape": mine["shape"],
                "flops": mine["flops"],
                "repeats": mine["repeats"],
                "pynn_seconds": pynn_s,
                "numpy_seconds": numpy_s,
                "numpy_env_seconds": theirs["seconds"]["numpy"],
                "speed_ratio": numpy_s / pynn_s,
                "target": KINDS[mine["kind"]][2]["float32"],
                "others_share": mine["others_share"],
            }
        )
    return {
        "threads": 1,
        "dtype": "float32",
        "repeats": repeats,
        "numpy_env": {"OPENBLAS_CORETYPE": env_coretype, "blas": env_numpy["blas"]},
        "numpy_auto": {"OPENBLAS_CORETYPE": None, "blas": auto["blas"]},
        "pynn": auto["pynn"],
        "rows": rows,
    }


def print_comparison(result, out):
    env_label = f"numpy[{result['numpy_env']['blas'].get('corename') or 'env'}]"
    auto_label = f"numpy[{result['numpy_auto']['blas'].get('corename') or 'auto'}]"
    print(
        "Kernels: pynn against NumPy at the MLP's shapes, float32, 1 thread: pynn and "
        "NumPy interleaved in one worker process (OMP_NUM_THREADS = OPENBLAS_NUM_THREADS = "
        f"1), median of {result['repeats']} repeats.",
        file=out,
    )
    print(
        f"  {env_label}: NumPy ({result['numpy_auto']['blas'].get('blas')}) with "
        f"OPENBLAS_CORETYPE={result['numpy_env']['OPENBLAS_CORETYPE']}, another process; "
        f"{auto_label}: the variable removed (the ratio uses this one).",
        file=out,
    )
    print(
        "  The full comparison (every shape, 2 threads in separate processes, float64, "
        "the machine's peak): python benchmarks/gemm.py, from a source checkout.",
        file=out,
    )
    header = (
        f"{'kernel':<15} {'shape':<14} {'pynn GF/s':>9} {env_label:>16} {auto_label:>16} "
        f"{'pynn/numpy':>10}  target (speed, above 1: pynn faster)"
    )
    print(header, file=out)
    busy = False
    for row in result["rows"]:
        gflops = lambda seconds, row=row: row["flops"] / seconds / 1e9  # noqa: E731
        verdict = f">= {row['target']:.2f} " + (
            "ok" if row["speed_ratio"] >= row["target"] else "MISS"
        )
        if row["others_share"] is not None and row["others_share"] > BUSY_SHARE:
            verdict += f"  busy: others used {row['others_share']:.0%} of the machine"
        print(
            f"{row['kind']:<15} {shape_label(row['kind'], row['shape']):<14} "
            f"{gflops(row['pynn_seconds']):>9.1f} {gflops(row['numpy_env_seconds']):>16.1f} "
            f"{gflops(row['numpy_seconds']):>16.1f} {row['speed_ratio']:>9.2f}x  {verdict}",
            file=out,
        )
        busy = busy or "busy" in verdict
    if busy:
        print(
            "busy: other processes used more than "
            f"{BUSY_SHARE:.0%} of the machine's cores while the row was measured (/proc/stat): "
            "rerun on a quiet machine.",
            file=out,
        )
