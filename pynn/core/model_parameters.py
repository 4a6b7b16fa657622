"""Sequential's parameters: the flat buffers and their views, pickling, state_dict.

Memory (shared/DESIGN.md): every parameter is a view into `flat_params` and its gradient
the matching view into `flat_grads`, bound by `_build`; a pickled model travels as its
layers' configs and the two flat buffers, and is bound again on load. pynn.core.model's
Sequential inherits these methods from ParametersMixin.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from pynn.core import backend as backends
from pynn.core.inputs import as_features
from pynn.core.layers import Dropout, Layer, layer_from_config
from pynn.core.model_type import Model
from pynn.core.random_state import check_random_state, spawn_generators

if TYPE_CHECKING:
    from pynn.core.random_state import RandomState


#: what a model whose input width comes at its first fit has only after it
_BUILT_AT_FIT = ("flat_params", "flat_grads", "_names", "n_features_in_", "n_outputs_")


class ParametersMixin:
    """The parameter methods of pynn.core.model.Sequential: building the layers over one flat
    parameter buffer and one flat gradient buffer, pickling, the parameter views,
    state_dict and load_state_dict, reset_parameters and zero_grad."""

    layers: list[Layer]
    dtype: np.dtype[Any]
    backend: str
    flat_params: NDArray[Any]
    flat_grads: NDArray[Any]
    n_features_in_: int
    n_outputs_: int
    _names: list[tuple[str, NDArray[Any], NDArray[Any]]]
    _dropout_stream: NDArray[np.uint64] | None
    #: the weights of trained layers reused from another model, until they are in place
    _kept_weights: dict[int, dict[str, NDArray[Any]]]
    _lock: threading.RLock
    _loss_reference: Any

    # ---- structure -----------------------------------------------------------------------
    def _input_width(self):
        """The model's input width as its layers fix it: the first layer that requires a
        width gives it, unless a Dense given its output width only comes first (None: the
        width is X's at the first fit)."""
        for layer in self.layers:
            if layer.in_features is not None:
                return layer.in_features
            if layer.changes_width:
                return None
        raise ValueError("the model needs a Dense or Maxout layer to fix its input width")

    def __getattr__(self, name):
        # Only reached when the attribute is missing: a model whose width comes at its first
        # fit has no parameters before it.
        if name in _BUILT_AT_FIT and self.__dict__.get("_width_at_fit"):
            units = next(layer for layer in self.layers if layer.changes_width).out_features
            raise AttributeError(
                f"the model has no {name} yet: its first Dense, Dense({units}), takes its "
                f"input width from X at the first fit or partial_fit; fit first, or give the "
                f"width, Dense(n_features, {units}, ...)"
            )
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _build_at_fit(self, X):
        """Build a model whose width comes at its first fit for X's width, its parameters
        drawn from its random_state; whether it was built here."""
        if not self.__dict__.get("_width_at_fit"):
            return False
        self._build(width=as_features(X).shape[1])
        self._width_at_fit = False
        self._initialize()
        return True

    def _initialize(self):
        """The first parameters: drawn from the model's random_state, but those of a
        trained layer reused from another model (Sequential's `_own_copies`) kept."""
        self.reset_parameters(self.random_state)
        for i, values in self._kept_weights.items():
            for name, value in values.items():
                self.layers[i].params[name][...] = value

    def _unbuild(self):
        """Back to waiting for the first fit (a first fit that failed leaves no parameters)."""
        for name in _BUILT_AT_FIT:
            self.__dict__.pop(name, None)
        for layer in self.layers:
            layer.__dict__.pop("params", None)
            layer.__dict__.pop("grads", None)
        self._plans.clear()
        self._width_at_fit = True

    def _build(self, flat_params=None, flat_grads=None, width=None):
        """Build the layers for their input widths and bind their parameters and gradients
        as views into one flat buffer each: new zeroed buffers, or the given ones (a model
        being unpickled keeps its arrays, which its optimizer may also hold). `width`: the
        input width when the layers do not fix it."""
        width = self.n_features_in_ = width if width is not None else self._input_width()
        for i, layer in enumerate(self.layers):
            try:
                width = layer.build(width)
            except ValueError as error:
                raise ValueError(f"layer {i}: {error}") from None
        self.n_outputs_ = width
        specs = [
            (i, name, shape)
            for i, layer in enumerate(self.layers)
            for name, shape in layer.parameter_shapes()
        ]
        total = sum(math.prod(shape) for _, _, shape in specs)
        self.flat_params = np.zeros(total, self.dtype) if flat_params is None else flat_params
        self.flat_grads = np.zeros(total, self.dtype) if flat_grads is None else flat_grads
        self._names = []
        offset = 0
        views = [({}, {}) for _ in self.layers]
        for i, name, shape in specs:
            size = math.prod(shape)
            views[i][0][name] = self.flat_params[offset : offset + size].reshape(shape)
            views[i][1][name] = self.flat_grads[offset : offset + size].reshape(shape)
            self._names.append((f"{i}.{name}", views[i][0][name], views[i][1][name]))
            offset += size
        for layer, (params, grads) in zip(self.layers, views):
            layer.bind(params, grads)
        self._bind_dropout_stream()

    def _bind_dropout_stream(self):
        """The model's dropout stream (seed, step), one uint64 array that every Dropout
        layer's record reads (pynn.core.layers.dropout): kept when it exists (an unpickled
        model continues its stream), made at (0, 0) for a model with Dropout layers; None
        for a model without any. fit sets the seed; every training step advances the step."""
        dropouts = [layer for layer in self.layers if isinstance(layer, Dropout)]
        stream = getattr(self, "_dropout_stream", None)
        if dropouts and stream is None:
            stream = np.zeros(2, np.uint64)
        self._dropout_stream = stream if dropouts else None
        for layer in dropouts:
            layer.stream = stream

    # ---- pickling (copy.deepcopy, joblib and dask workers) ------------------------------
    def __getstate__(self):
        """The layers travel as their configs and the parameters as the flat buffers, so
        that the views are bound again on load; the kernel module is looked up again from
        the backend name, and the batch buffers and the lock are made again."""
        state = self.__dict__.copy()
        state["layers"] = [layer.config() for layer in self.layers]
        for name in ("_kernels", "_names", "_plans", "_lock"):
            state.pop(name, None)
        return state

    def __setstate__(self, state):
        state = dict(state)
        layers = [layer_from_config(config) for config in state.pop("layers")]
        self.__dict__.update(state)
        self.layers = layers
        self._kernels = backends.kernels(self.backend)
        self._plans = OrderedDict()
        self._lock = threading.RLock()
        if state.get("_width_at_fit"):
            self._bind_dropout_stream()
        else:
            self._build(self.flat_params, self.flat_grads, self.n_features_in_)

    @property
    def n_parameters(self) -> int:
        """Number of trainable parameters."""
        return self.flat_params.size

    def named_parameters(self) -> list[tuple[str, NDArray[Any]]]:
        """[(name, view)] with PyTorch's names ("0.weight", "0.bias", ...).

        Returns
        -------
        list of (str, numpy.ndarray)
            Each parameter's name (layer index, dot, parameter name) and its view into
            `flat_params` (writing to it changes the model), in flat-buffer order.
        """
        return [(name, param) for name, param, _ in self._names]

    def parameters(self) -> list[NDArray[Any]]:
        """The parameter views, in flat-buffer order.

        Returns
        -------
        list of numpy.ndarray
            Views into `flat_params` (writing to them changes the model).
        """
        return [param for _, param, _ in self._names]

    def weight_ranges(self) -> NDArray[np.int64]:
        """Where the weights lie in `flat_params`: the parameters of two or more dimensions
        (Dense's and Maxout's weight matrices), not the biases nor PReLU's slopes. An
        optimizer with weight_decay_scope="weights" decays these elements only.

        Returns
        -------
        numpy.ndarray of shape (k, 2), dtype int64
            Sorted, disjoint [start, stop) offsets (adjacent weights merged).
        """
        ranges: list[list[int]] = []
        offset = 0
        for _, param, _ in self._names:
            if param.ndim >= 2:
                if ranges and ranges[-1][1] == offset:
                    ranges[-1][1] = offset + param.size
                else:
                    ranges.append([offset, offset + param.size])
            offset += param.size
        return np.array(ranges, dtype=np.int64).reshape(-1, 2)

    def state_dict(self) -> dict[str, NDArray[Any]]:
        """{name: copy of the parameter}, PyTorch's names and shapes.

        Returns
        -------
        dict of str to numpy.ndarray
            A copy of each parameter, by the names of `named_parameters`, in the model's
            dtype; `load_state_dict` reads it back.
        """
        with self._lock:
            return {name: param.copy() for name, param, _ in self._names}

    def load_state_dict(self, state: Mapping[str, ArrayLike]) -> None:
        """Copy parameters in from a state_dict (the same names and shapes, any float dtype).

        Every value is checked before any is copied, so a bad state_dict leaves the model
        as it was. The divergence check's reference losses are forgotten.

        Parameters
        ----------
        state : mapping of str to array_like
            One array per parameter, by the names of `named_parameters` (PyTorch's), with
            the parameter's shape; numbers finite in the model's dtype.

        Raises
        ------
        ValueError
            Missing or unexpected names, a wrong shape, or NaN or infinity.
        TypeError
            A value that does not hold numbers.
        """
        names = [name for name, _, _ in self._names]
        if set(state) != set(names):
            missing, extra = sorted(set(names) - set(state)), sorted(set(state) - set(names))
            raise ValueError(
                f"state_dict does not match the model: missing {missing}, unexpected {extra}"
            )
        values = {}
        for name, param, _ in self._names:  # all checked before any is copied
            value = np.asarray(state[name])
            if value.dtype.kind not in "biuf":
                raise TypeError(f"state_dict[{name!r}] must hold numbers, got dtype {value.dtype}")
            if value.shape != param.shape:
                raise ValueError(
                    f"state_dict[{name!r}] has shape {value.shape}, the model's is {param.shape}"
                )
            with np.errstate(over="ignore"):
                finite = np.isfinite(value.astype(param.dtype)).all()
            if not finite:
                raise ValueError(
                    f"state_dict[{name!r}] holds NaN or infinity (in the model's {param.dtype})"
                )
            values[name] = value
        with self._lock:
            for name, param, _ in self._names:
                param[...] = values[name]
            self._loss_reference = None  # the losses were those of other parameters

    def reset_parameters(self, random_state: RandomState = None) -> Model:
        """Initialise every layer's parameters from one seed.

        The divergence check's reference losses are forgotten.

        Parameters
        ----------
        random_state : None, int, numpy.random.Generator or SeedSequence, default None
            The seed (None: fresh entropy, not the model's own `random_state`).

        Returns
        -------
        Sequential
            The model itself.
        """
        rng = spawn_generators(check_random_state(random_state), 1)[0]
        with self._lock:
            for layer in self.layers:
                layer.reset_parameters(rng)
            self._loss_reference = None  # the losses were those of other parameters
        return cast("Model", self)

    def zero_grad(self) -> None:
        """Set every gradient in `flat_grads` to zero."""
        with self._lock:
            self.flat_grads.fill(0)
