"""pynn: small, fast multilayer perceptrons for Python.

The arithmetic lives in C kernels on pynn's own thread pool (csrc/), bound by Cython
(pynn._kernels); pynn.reference has the same kernels in plain NumPy. On top of them:
layers (pynn.layers), losses (pynn.losses), optimizers and schedules (pynn.optim) and
the Sequential model with fit / predict / evaluate (pynn.core.model). Around them: splits,
folds, cross-validation, grid search and scaling (pynn.data), metrics (pynn.metrics),
data sets (pynn.datasets) and scikit-learn estimators (pynn.sklearn, optional).
"""

import importlib.util as _importlib_util
import os as _os

if _importlib_util.find_spec("pynn._kernels") is None:  # before anything imports it
    raise ImportError(
        f"pynn's compiled kernels (pynn._kernels) are not built in "
        f"{_os.path.dirname(_os.path.abspath(__file__))}: Python is importing pynn from this "
        f"source tree (with `python -m ...` or `python -c`, the current directory comes "
        f"first on sys.path), not an installed pynn. Build the kernels here with "
        f"`pip install -e .`, or run from another directory (or run the `pytest` command "
        f"instead of `python -m pytest`) to use the installed package."
    )

from pynn import data, datasets, layers, losses, memory, metrics, optim  # pynn.layers.Dense, ...
from pynn._config import show_config
from pynn._kernels import get_num_threads, set_num_threads, threads, threads_enabled
from pynn._threadpoolctl import register_with_threadpoolctl
from pynn._version import __version__
from pynn.core.early_stopping import EarlyStopping
from pynn.core.errors import ConvergenceWarning, DivergenceError, NonFiniteLossError
from pynn.core.harden import HardenedModel
from pynn.core.model import Sequential, load
from pynn.gradcheck import gradcheck
from pynn.layers import (
    ELU,
    Activation,
    Dense,
    Dropout,
    Identity,
    LeakyReLU,
    Maxout,
    PReLU,
    ReLU,
    Sigmoid,
    Sign,
    Softplus,
    Standardize,
    Step,
    Tanh,
)
from pynn.losses import LOSSES
from pynn.optim import (
    CG,
    LBFGS,
    SGD,
    Adam,
    AdamW,
    InverseScalingLR,
    NaturalGradient,
    NewtonCG,
    ReduceLROnPlateau,
    StepLR,
)

register_with_threadpoolctl()

__all__ = [
    "__version__",
    "get_num_threads",
    "set_num_threads",
    "threads",
    "threads_enabled",
    "show_config",
    "Sequential",
    "Dense",
    "Maxout",
    "PReLU",
    "Standardize",
    "Dropout",
    "Activation",
    "Identity",
    "Sigmoid",
    "Tanh",
    "ReLU",
    "LeakyReLU",
    "Softplus",
    "ELU",
    "Step",
    "Sign",
    "LOSSES",
    "SGD",
    "Adam",
    "AdamW",
    "LBFGS",
    "NewtonCG",
    "NaturalGradient",
    "CG",
    "StepLR",
    "InverseScalingLR",
    "ReduceLROnPlateau",
    "EarlyStopping",
    "NonFiniteLossError",
    "DivergenceError",
    "ConvergenceWarning",
    "gradcheck",
    "data",
    "datasets",
    "layers",
    "losses",
    "memory",
    "metrics",
    "optim",
    "HardenedModel",
    "load",
]
