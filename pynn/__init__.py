"""pynn: small, fast multilayer perceptrons for Python.

The arithmetic lives in C kernels with OpenMP (csrc/), bound by Cython
(pynn._kernels); pynn.reference has the same kernels in plain NumPy.
"""
from pynn._config import show_config
from pynn._kernels import get_num_threads, openmp_enabled, set_num_threads
from pynn._version import __version__

__all__ = ["__version__", "get_num_threads", "openmp_enabled", "set_num_threads", "show_config"]
