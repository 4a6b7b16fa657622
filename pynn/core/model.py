"""Sequential: a stack of layers over one flat parameter buffer and one flat gradient buffer.

Memory (shared/DESIGN.md): every parameter is a view into `flat_params` and its gradient
the matching view into `flat_grads`; an optimizer keeps flat state of the same length, so
an update is one kernel call. The buffers a batch needs (activations, what backward reads,
gradients, the gathered inputs and targets, one kernel workspace) form a TrainingPlan made
once per batch size and reused, so a training step allocates no arrays; predict and
evaluate use an InferencePlan sized from a memory budget (pynn.core.plans).

Threads: the plans are one model's scratch space, so every method that uses them (or
changes the parameters) holds the model's lock, a re-entrant one (a fit's callback may call
predict). Calls on one model from several threads therefore run one at a time, each as if
alone; different models train in parallel (the kernels release the GIL).

Sequential is built here and composes its methods by concern, one mixin each:
pynn.core.model_parameters (the flat buffers, pickling, state_dict), pynn.core.model_plans (the
batch buffers), pynn.core.model_inference (predict, evaluate, score) and pynn.core.model_training
(fit, partial_fit, loss_and_grad). Its summary, save and harden, and load, are here.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

from pynn.core import backend as backends
from pynn.core.checks import check_dtype
from pynn.core.harden import harden
from pynn.core.layers import Layer
from pynn.core.model_inference import InferenceMixin
from pynn.core.model_parameters import ParametersMixin
from pynn.core.model_plans import MAX_PLANS, PlansMixin
from pynn.core.model_training import TrainingMixin
from pynn.core.network import check_layers
from pynn.core.persistence import read_model, save
from pynn.core.random_state import check_random_state
from pynn.core.summary import summarize

if TYPE_CHECKING:
    from os import PathLike

    from pynn.core.harden import HardenedModel
    from pynn.core.losses import Loss
    from pynn.core.optim import Optimizer
    from pynn.core.random_state import RandomState
    from pynn.core.summary import ModelSummary
    from pynn.core.targets import Targets

__all__ = ["Sequential", "load", "MAX_PLANS"]  # MAX_PLANS: pynn.core.model_plans's


def _own_copies(layers: tuple[Layer, ...]) -> tuple[list[Layer], dict[int, dict[str, Any]]]:
    """The layers a new model takes, and the weights to give back to each reused one.

    A layer already in a model is bound to that model's flat buffers, and building it again
    would re-initialise it under the other model. The new model takes a copy of it instead,
    and starts from its current weights; both models keep working (pynn models share no
    parameters: each owns its buffers)."""
    own, kept = [], {}
    for i, layer in enumerate(layers):
        if hasattr(layer, "params"):  # bound by a model (Layer.bind)
            kept[i] = {name: np.array(value) for name, value in layer.params.items()}
            layer = copy.deepcopy(layer)
        own.append(layer)
    return own, kept


class Sequential(ParametersMixin, PlansMixin, InferenceMixin, TrainingMixin):
    """A multilayer network: the layers applied in order.

    >>> model = Sequential(Dense(64, 32, activation="relu"), Dense(32, 10), random_state=0)

    dtype is float32 (default) or float64; backend "c" runs pynn's C kernels, "reference"
    the plain-NumPy ones of pynn.reference (for checking). Parameters are initialised at
    construction from `random_state`; `fit` re-initialises them from its own random_state
    (default: the model's) so that one seed gives one result, while `partial_fit`
    continues from the current parameters.

    A model may be shared between threads: its calls (fit, predict, evaluate, ...) run one
    at a time, each waiting for the one running, so a predict during another thread's fit
    returns after that fit, with its parameters.

    Parameters
    ----------
    *layers : Layer
        The layers, in order (or one list or tuple of them): instances of pynn's layer
        classes (pynn.layers), each object at one position only. The first Dense or Maxout
        fixes the input width, or, given its output width only (Dense(units)), leaves it
        to X at the first fit or partial_fit, before which the model has no parameters.
        A layer that is already in a model (a trained model's
        `layers[i]`) is copied, with its current weights, so that the other model is left
        as it was (models share no parameters); `fit` re-initialises every parameter from
        its seed, `partial_fit` continues from these weights.
    dtype : numpy dtype, default numpy.float32
        The dtype of the parameters and of every computation: float32 or float64.
    backend : {"c", "reference"}, default "c"
        "c" runs pynn's C kernels, "reference" the plain-NumPy ones of pynn.reference.
    random_state : None, int, numpy.random.Generator or SeedSequence, default None
        Seeds the initial parameters, and is the default seed of `fit`.

    Raises
    ------
    ValueError
        No layers, the same layer object twice, no layer that fixes the input width, or
        widths that do not chain.
    TypeError
        A layer that is not one of pynn's layer classes, or a bad dtype or backend.

    Attributes
    ----------
    layers : list of Layer
        The layers.
    flat_params, flat_grads : numpy.ndarray
        The flat parameter and gradient buffers; every layer's parameters are views of them.
    n_features_in_, n_outputs_ : int
        The input and output widths.
    loss_, targets_, optimizer_ : Loss, Targets, Optimizer or None
        What the last fit trained with (None before the first fit).
    history_ : dict of str to list of float, or None
        Per-epoch logs of the last fit (docs/model.md).
    """

    layers: list[Layer]
    dtype: np.dtype[Any]
    backend: str
    flat_params: NDArray[Any]
    flat_grads: NDArray[Any]
    n_features_in_: int
    n_outputs_: int
    loss_: Loss | None
    targets_: Targets | None
    optimizer_: Optimizer | None
    history_: dict[str, list[float]] | None
    _plans: OrderedDict[tuple[Any, ...], Any]

    def __init__(
        self,
        *layers: Layer | list[Layer] | tuple[Layer, ...],
        dtype: DTypeLike = np.float32,
        backend: str = "c",
        random_state: RandomState = None,
    ) -> None:
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        if not layers:
            raise ValueError("Sequential needs at least one layer")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"layer {i} must be a pynn layer, got {type(layer).__name__}")
        check_layers(layers)  # type: ignore[arg-type]  # a single list is unpacked above
        if len({id(layer) for layer in layers}) != len(layers):
            raise ValueError("the same layer object appears twice: create one per position")
        self.layers, kept = _own_copies(layers)  # type: ignore[arg-type]  # unpacked above
        self.dtype = check_dtype(dtype)
        self.backend = backends.check_backend(backend)
        self.random_state = check_random_state(random_state)
        self._kernels = backends.kernels(backend)
        self._width_at_fit = self._input_width() is None  # a Dense(units) first: X's width
        self._kept_weights = kept
        self.loss_ = None
        self.targets_ = None
        self.optimizer_ = None
        self.history_ = None
        self._shuffle_rng = None  # the row-order stream partial_fit continues
        self._loss_reference = None  # the losses of fit's divergence check (pynn.core.training)
        self._plans = OrderedDict()
        self._lock = threading.RLock()  # see the module docstring
        if not self._width_at_fit:
            self._build()
            self._initialize()
            self._kept_weights = {}  # used: a model built now holds no copies

    def __repr__(self):
        inner = ",\n".join(f"    {layer!r}" for layer in self.layers)
        return f"Sequential(\n{inner},\n    dtype={self.dtype.name}, backend={self.backend!r})"

    # ---- summary, saving, hardening (pynn.core: summary, persistence, harden) ----------------
    def summary(
        self, batch_size: int = 32, optimizer: Optimizer | None = None, memory: int | None = None
    ) -> ModelSummary:
        """The layers, parameter counts, the memory training needs at this batch size
        (`optimizer` defaults to the model's own) and the memory predict uses within the
        budget `memory` (default 64 MiB); print it. See pynn.core.summary.

        Parameters
        ----------
        batch_size : int, default 32
            The training batch size the memory is counted for.
        optimizer : Optimizer or None, default None
            The optimizer whose state is counted (None: the model's own, as fit would use).
        memory : int or None, default None
            predict's memory budget in bytes (None: 64 MiB).

        Returns
        -------
        ModelSummary
            The summary; printing it (str) gives the table.
        """
        return summarize(self, batch_size, optimizer, memory)

    def save(self, path: str | PathLike[str]) -> None:
        """Write the model to the .npz file `path` (atomically); `pynn.load(path)` reads it.

        The parameters, layers, dtype, backend and, when trained, the loss and classes are
        saved; the optimizer state and history are not (pynn.core.persistence.save).

        Parameters
        ----------
        path : str or os.PathLike
            The file to write (exactly this name), replaced atomically if it exists.

        Raises
        ------
        ValueError
            Parameters holding NaN or infinity, or a path that exists and is not a regular
            file (a directory: IsADirectoryError).
        OSError
            The file cannot be written.
        """
        with self._lock:
            save(self, path)

    def harden(self) -> HardenedModel:
        """An inference-only copy with hard output nonlinearities (softmax -> argmax,
        sigmoid -> unit step, tanh -> signum) that predicts what this model predicts.

        Returns
        -------
        HardenedModel
            The copy (pynn.core.harden): its parameters are copied, so later training of this
            model does not change it.

        Raises
        ------
        ValueError
            An untrained model, or a regressor whose output has no hard counterpart.
        """
        with self._lock:
            return harden(self)


def load(path: str | PathLike[str]) -> Sequential:
    """The Sequential model saved at `path` by `model.save(path)` (pynn.load). The file and
    its checks are pynn.core.persistence's; the model is built here, where Sequential is.

    Parameters
    ----------
    path : str or os.PathLike
        The .npz file written by `Sequential.save`.

    Returns
    -------
    Sequential
        The model, with its parameters and, when it was trained, its loss and classes_
        (ready to predict; partial_fit starts a fresh optimizer).

    Raises
    ------
    ValueError
        The file is not a pynn model, is damaged, or has another format version (the
        message names the file).
    OSError
        The file cannot be opened.
    """
    return read_model(path, Sequential)
