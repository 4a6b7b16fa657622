"""pytest-benchmark suite: pynn's gemm, dense_forward and dense_backward against NumPy.

    OMP_NUM_THREADS=1 pytest benchmarks/test_bench_gemm.py --benchmark-only

Not part of the test suite (pyproject's testpaths is tests/). Each group holds the pynn call
and the NumPy computation of the same result on the same data, so the table's parenthesised
figures are the ratios within the group. Thread counts: OMP_NUM_THREADS sets both pynn's and
OpenBLAS's (OpenBLAS reads it only at import); prefix the command with
`env -u OPENBLAS_CORETYPE` for NumPy's AVX-512 kernels. benchmarks/gemm.py is the full
comparison (every shape, both NumPy kernels, interleaved medians).
"""

import os

import numpy as np
import pytest

pytest.importorskip("pytest_benchmark")

from cases import KINDS, shape_label  # noqa: E402  (also puts this source tree's pynn on sys.path)

import pynn  # noqa: E402

SHAPES = {
    "gemm": [(128, 784, 256), (1024, 1024, 1024)],
    "dense_forward": [(32, 784, 256), (128, 784, 256)],
    "dense_backward": [(32, 784, 256), (128, 784, 256)],
}
CASES = [(kind, shape) for kind, shapes in SHAPES.items() for shape in shapes]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "kind,shape", CASES, ids=[f"{k}-{'x'.join(map(str, s))}" for k, s in CASES]
)
@pytest.mark.parametrize("library", ["pynn", "numpy"])
def test_kernel(benchmark, library, kind, shape, dtype):
    make = KINDS[kind][0]
    run_pynn, run_numpy, flops = make(np.random.default_rng(0), np.dtype(dtype).type, *shape)
    benchmark.group = f"{kind} {dtype} {shape_label(kind, shape)}"
    benchmark.extra_info.update(
        {
            "library": library,
            "flops": flops,
            "pynn_threads": pynn.get_num_threads(),
            "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
            "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        }
    )
    benchmark(run_pynn if library == "pynn" else run_numpy)
    if benchmark.stats is not None:  # None under --benchmark-disable (a smoke run)
        benchmark.extra_info["median_gflops"] = flops / benchmark.stats.stats.median / 1e9
