"""The matrix kernels read no element past their operands: each operand is placed so that
it ends exactly where an unreadable page begins, so a read beyond it crashes (the
sanitizer run, .ci/sanitize, sees such reads too; this test needs no sanitizer).

It runs in a subprocess, so that a crash fails the test instead of killing pytest."""

import os
import subprocess
import sys
import textwrap

import pytest
from helpers import HANG_SECONDS

import pynn

CHILD = textwrap.dedent(r"""
    import ctypes, itertools, mmap, sys
    import numpy as np
    import pynn._kernels as K

    libc = ctypes.CDLL(None, use_errno=True)
    libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    keep = []

    def guarded(shape, dtype):
        # An array whose last byte is followed by a page that cannot be read.
        nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
        page = mmap.PAGESIZE
        pages = -(-nbytes // page) + 1
        buf = mmap.mmap(-1, pages * page)
        address = ctypes.addressof(ctypes.c_char.from_buffer(buf))
        if libc.mprotect(address + (pages - 1) * page, page, 0) != 0:
            raise OSError(ctypes.get_errno(), "mprotect")
        keep.append(buf)
        start = (pages - 1) * page - nbytes
        return np.frombuffer(buf, dtype, int(np.prod(shape)), start).reshape(shape)

    rng = np.random.default_rng(0)
    count = 0
    for path in K.simd_paths():
        K.set_simd_path(path)
        for dtype, ta, tb in itertools.product((np.float32, np.float64), (0, 1), (0, 1)):
            for m, n, k in itertools.product((1, 3, 8, 11, 13, 14, 17, 29),
                                             (4, 8, 13, 16, 24, 32, 48), (1, 16, 203)):
                a = guarded((k, m) if ta else (m, k), dtype)
                b = guarded((n, k) if tb else (k, n), dtype)
                a[...] = rng.standard_normal(a.shape)
                b[...] = rng.standard_normal(b.shape)
                c = K.gemm(a, b, trans_a=ta, trans_b=tb)
                expected = (a.T if ta else a).astype(np.float64) @ \
                    (b.T if tb else b).astype(np.float64)
                if not np.allclose(c, expected, rtol=1e-4, atol=1e-4 * k):
                    sys.exit(f"wrong product {path} {np.dtype(dtype)} {ta} {tb} {m} {n} {k}")
                count += 1
    print(count)
""")


@pytest.mark.skipif(sys.platform != "linux", reason="uses mprotect through libc")
def test_gemm_reads_nothing_past_its_operands(tmp_path):
    # the pynn this test imports, from a scratch directory (where `python -c` cannot see a
    # checkout's unbuilt pynn/)
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(pynn.__file__)))
    result = subprocess.run(
        [sys.executable, "-c", CHILD],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=HANG_SECONDS,
    )
    assert result.returncode == 0, (result.returncode, result.stdout, result.stderr[-2000:])
    assert int(result.stdout) > 0
