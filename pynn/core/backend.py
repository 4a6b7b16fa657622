"""The kernels a model runs on: pynn._kernels (C, the default) or pynn.reference (NumPy).

Both modules have the same functions and arguments (docs/kernels.md); only the C one
needs workspaces, so the sizes are asked here and are 0 for the reference.

backend="reference" runs the test oracle in place of the kernels, for checking. It is
looked up by name when a model asks for it, as a plug-in is: no module of the library
imports the oracle or takes anything from it, so `import pynn` does not load it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import numpy as np

from pynn import _kernels
from pynn.core.checks import check_choice

if TYPE_CHECKING:
    from types import ModuleType

    from numpy.typing import DTypeLike

BACKENDS = ("c", "reference")
REFERENCE_MODULE = "pynn.reference"
# the oracle's network: pynn.reference_network's, with the products of pynn.reference_hvp
REFERENCE_NETWORK_MODULE = "pynn.reference_hvp"


def check_backend(name: str) -> str:
    """name itself when it is one of BACKENDS, else ValueError.

    Parameters
    ----------
    name : str
        "c" or "reference".

    Returns
    -------
    str

    Raises
    ------
    ValueError
        Not one of BACKENDS.
    """
    return check_choice(name, "backend", BACKENDS)


def kernels(name: str) -> ModuleType:
    """The kernel module of a backend name.

    Parameters
    ----------
    name : str
        "c" or "reference".

    Returns
    -------
    module
        pynn._kernels or pynn.reference.

    Raises
    ------
    ValueError
        Not one of BACKENDS.
    """
    if check_backend(name) == "c":
        return _kernels
    return importlib.import_module(REFERENCE_MODULE)


def network_class(name: str) -> Any:
    """The network class of a backend name: pynn._kernels.Network, or its NumPy twin.

    Parameters
    ----------
    name : str
        "c" or "reference".

    Returns
    -------
    type
        pynn._kernels.Network or pynn.reference_network.Network.

    Raises
    ------
    ValueError
        Not one of BACKENDS.
    """
    if check_backend(name) == "c":
        return _kernels.Network
    return importlib.import_module(REFERENCE_NETWORK_MODULE).Network


def dense_workspace_size(
    name: str, n: int, in_features: int, out_features: int, dtype: DTypeLike, *, backward: bool
) -> int:
    """Elements of workspace a dense call needs on this backend at the current thread count.

    Parameters
    ----------
    name : str
        The backend, "c" or "reference" (which needs none).
    n : int
        Rows of the batch.
    in_features, out_features : int
        The dense layer's widths.
    dtype : numpy dtype
        float32 or float64.
    backward : bool
        The backward call's size rather than the forward's.

    Returns
    -------
    int
    """
    if name == "reference":
        return 0
    size = (
        _kernels.dense_backward_workspace_size
        if backward
        else _kernels.dense_forward_workspace_size
    )
    return int(size(n, in_features, out_features, dtype=np.dtype(dtype)))
