"""The kernels a model runs on: pynn._kernels (C, the default) or pynn.reference (NumPy).

Both modules have the same functions and arguments (docs/kernels.md); only the C one
needs workspaces, so the sizes are asked here and are 0 for the reference.

backend="reference" runs the test oracle in place of the kernels, for checking. It is
looked up by name when a model asks for it, as a plug-in is: no module of the library
imports the oracle or takes anything from it, so `import pynn` does not load it.
"""
import importlib

import numpy as np

from pynn import _kernels

BACKENDS = ("c", "reference")
REFERENCE_MODULE = "pynn.reference"
REFERENCE_NETWORK_MODULE = "pynn.reference_network"  # the oracle's network, built on it


def check_backend(name):
    if name not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {name!r}")
    return name


def kernels(name):
    """The kernel module of a backend name."""
    if check_backend(name) == "c":
        return _kernels
    return importlib.import_module(REFERENCE_MODULE)


def network_class(name):
    """The network class of a backend name: pynn._kernels.Network, or its NumPy twin."""
    if check_backend(name) == "c":
        return _kernels.Network
    return importlib.import_module(REFERENCE_NETWORK_MODULE).Network


def dense_workspace_size(name, n, in_features, out_features, dtype, *, backward):
    """Elements of workspace a dense call needs on this backend at the current thread count."""
    if name == "reference":
        return 0
    size = _kernels.dense_backward_workspace_size if backward else _kernels.dense_forward_workspace_size
    return int(size(n, in_features, out_features, dtype=np.dtype(dtype)))
