"""The kernels a model runs on: pynn._kernels (C, the default) or pynn.reference (NumPy).

Both modules have the same functions and arguments (docs/kernels.md); only the C one
needs workspaces, so the sizes are asked here and are 0 for the reference.
"""
import numpy as np

from pynn import _kernels, reference

BACKENDS = ("c", "reference")


def check_backend(name):
    if name not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {name!r}")
    return name


def kernels(name):
    """The kernel module of a backend name."""
    return _kernels if check_backend(name) == "c" else reference


def dense_workspace_size(name, n, in_features, out_features, dtype, *, backward):
    """Elements of workspace a dense call needs on this backend at the current thread count."""
    if name == "reference":
        return 0
    size = _kernels.dense_backward_workspace_size if backward else _kernels.dense_forward_workspace_size
    return int(size(n, in_features, out_features, dtype=np.dtype(dtype)))
