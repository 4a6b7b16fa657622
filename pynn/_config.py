"""pynn.show_config(): how this build of pynn runs."""

from __future__ import annotations

import os
import platform
from typing import Any

import numpy as np

from pynn import _kernels
from pynn._version import __version__


def config() -> dict[str, Any]:
    """The build and runtime facts, as a dict.

    Returns
    -------
    dict of str to object
        pynn's version, whether it has threads, the thread count, the usable CPUs,
        OMP_NUM_THREADS, the SIMD path, the machine, and Python's and NumPy's versions.
    """
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


def show_config(mode: str = "stdout") -> dict[str, Any] | None:  # type: ignore[return]
    """Print the configuration (mode="stdout") or return it (mode="dicts"),
    as numpy.show_config does.

    Parameters
    ----------
    mode : {"stdout", "dicts"}, default "stdout"
        Print the facts, one per line, or return them.

    Returns
    -------
    dict of str to object or None
        The facts (pynn._config.config) for mode="dicts"; None when printed.

    Raises
    ------
    ValueError
        Another mode.
    """
    info = config()
    if mode == "dicts":
        return info
    if mode != "stdout":
        raise ValueError(f"mode must be 'stdout' or 'dicts', got {mode!r}")
    width = max(len(key) for key in info)
    for key, value in info.items():
        print(f"{key:<{width}} : {value}")
