"""Which BLAS NumPy runs, and which OpenBLAS kernel (core type) is in effect."""

import ctypes
import os

import numpy as np


def openblas_corename():
    """The kernel OpenBLAS runs (its get_corename), or None when it cannot be asked."""
    try:
        with open("/proc/self/maps") as maps:
            libraries = sorted(
                {line.split()[-1] for line in maps if "openblas" in line.lower() and ".so" in line}
            )
        for path in libraries:
            library = ctypes.CDLL(path)
            for symbol in (
                "scipy_openblas_get_corename64_",
                "scipy_openblas_get_corename",
                "openblas_get_corename64_",
                "openblas_get_corename",
            ):
                function = getattr(library, symbol, None)
                if function is not None:
                    function.restype = ctypes.c_char_p
                    return function().decode()
    except OSError:
        pass
    return None


def numpy_config():
    """NumPy's version, its BLAS, and the OpenBLAS settings of this process."""
    blas = np.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {})
    return {
        "numpy": np.__version__,
        "blas": f"{blas.get('name', '?')} {blas.get('version', '?')}",
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "corename": openblas_corename(),
        "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS"),
    }
