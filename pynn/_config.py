"""pynn.show_config(): how this build of pynn runs."""
import os
import platform

import numpy as np

from pynn import _kernels
from pynn._version import __version__


def config():
    """The build and runtime facts, as a dict."""
    return {
        "pynn": __version__,
        "threads": _kernels.threads_enabled(),
        "num_threads": _kernels.get_num_threads(),
        "usable_cpus": _kernels.default_num_threads(),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "simd": _kernels.simd_path(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "numpy": np.__version__,
    }


def show_config(mode="stdout"):
    """Print the configuration (mode="stdout") or return it (mode="dicts"),
    as numpy.show_config does."""
    info = config()
    if mode == "dicts":
        return info
    if mode != "stdout":
        raise ValueError(f"mode must be 'stdout' or 'dicts', got {mode!r}")
    width = max(len(key) for key in info)
    for key, value in info.items():
        print(f"{key:<{width}} : {value}")
