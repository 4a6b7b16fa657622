"""The benchmarked kernel operations and shapes, for gemm.py and test_bench_gemm.py.

They are defined once, in pynn.bench.kernels (shipped with the package, for `pynn bench`):
each case builds its inputs once and returns a pynn call and the NumPy computation of the
same result, plus its flop count. Importing this module first puts this source tree's pynn
(built in place) at the front of sys.path, whichever directory the scripts run from.
"""

import os
import sys

# Benchmark the pynn of this source tree (built in place), whichever directory we run from.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from pynn.bench.kernels import (  # noqa: E402
    DENSE_SHAPES,
    GEMM_SHAPES,
    KINDS,
    QUICK_SHAPES,
    dense_backward_case,
    dense_forward_case,
    gemm_case,
    shape_label,
)

__all__ = [
    "DENSE_SHAPES",
    "GEMM_SHAPES",
    "KINDS",
    "QUICK_SHAPES",
    "dense_backward_case",
    "dense_forward_case",
    "gemm_case",
    "shape_label",
]
