"""The reused buffers of a Sequential model: one TrainingPlan per batch size, one
InferencePlan per kind of forward pass (predict, eval).

A training step keeps every layer's output, since backward reads them: its plan holds
each layer's buffers (`Layer.buffer_shapes`), the gathered inputs and targets, the output
gradient and one kernel workspace, made once per batch size so that a step allocates no
arrays, and the network bound to them (pynn.core.network): a step is one call.

A forward pass without training keeps nothing: each layer reads the output of the one
before and no later layer looks back. An InferencePlan therefore puts the layers' outputs
in two buffers, used in turn, and the scratch a layer needs during its own forward
(Maxout's affine outputs) in buffers all layers share. Its
memory is that of the widest layer, whatever the depth, and it is sized from a memory
budget: `block_rows` is how many rows one pass may take.
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

from pynn.core.inputs import gather
from pynn.core.model_type import Model
from pynn.core.network import fused_kernel, make_network

if TYPE_CHECKING:
    #: rows of X: a slice or an index array
    Rows = slice | NDArray[np.integer[Any]]

EVAL_BATCH = 1024  # the most rows one forward pass takes in predict and evaluate
PREDICT_MEMORY = 64 * 2**20  # bytes: the default budget of a forward pass's buffers


def training_buffer_shapes(model: Model, n: int) -> list[dict[str, tuple[tuple[int, ...], Any]]]:
    """[{name: (shape, dtype or None)}] of each layer's buffers in a training step on n
    rows: an input gradient only where a layer before has parameters.

    Parameters
    ----------
    model : Sequential
        The model.
    n : int
        Rows of the batch.

    Returns
    -------
    list of dict
        One Layer.buffer_shapes dict per layer.
    """
    shapes, grads_before = [], False
    for layer in model.layers:
        shapes.append(layer.buffer_shapes(n, True, input_grad=grads_before))
        grads_before = grads_before or layer.has_parameters
    return shapes


def _read(plan, X, rows):
    """plan.x = X[rows] (a slice or index array) in the plan's dtype."""
    stage = None if X.dtype == plan.x.dtype or isinstance(rows, slice) else plan.stage(X.dtype)
    return gather(X, rows, plan.x, stage)


class TrainingPlan:
    """The buffers of one training step on a batch of n rows and the network bound to them
    (see the module docstring).

    step(X, rows, target, sample_weight=None) -> (loss, hits or None): one step without
    the update on rows `rows` of X and target (the full arrays), writing the gradients;
    sample_weight, the full weights (of the model's dtype) or None, is gathered with the
    rows into the plan's sample_weight buffer. For a loss of pynn.losses.LOSSES it is
    the network's own step, one call, which needs X of the model's dtype, C-contiguous
    and aligned; read_step takes any X. run() is the step over the batch already in x
    and target (and sample_weight, when weighted).

    Parameters
    ----------
    model : Sequential
        A model with its loss and targets set (fit sets them first).
    n : int
        Rows of the batch.
    """

    def __init__(self, model: Model, n: int) -> None:
        alloc = lambda shape, dtype=None: np.empty(shape, dtype or model.dtype)  # noqa: E731
        self.n = n
        self.x = alloc((n, model.n_features_in_))
        # X's own dtype, when it differs from the model's
        self.staging: dict[Any, NDArray[Any]] = {}
        self.layers = [
            {k: alloc(*spec) for k, spec in shapes.items()}
            for shapes in training_buffer_shapes(model, n)
        ]
        size = max(
            layer.workspace_size(model.backend, n, model.dtype, True) for layer in model.layers
        )
        self.workspace = alloc((size,)) if model.backend == "c" else None
        t: Any = model.targets_  # set: fit sets the targets before it makes plans
        self.target = alloc((n,), np.int64) if t.kind == "labels" else alloc((n, t.n_outputs))
        self.sample_loss = alloc((n,))
        self.sample_weight = alloc((n,))  # the batch's sample weights, when fit has them
        self.scratch = {k: alloc(*spec) for k, spec in t.scratch_shapes(n).items()}
        self.dout = alloc((n, model.n_outputs_))
        self.loss, self.kernels = model.loss_, model._kernels
        kernel = fused_kernel(model.loss_)
        self._fused = kernel is not None
        self.network = make_network(
            model,
            self.layers,
            True,
            self.x,
            self.workspace,
            kernel,
            self.target if kernel else None,
            self.dout,
            self.sample_loss if kernel else None,
            self.sample_weight if kernel else None,
        )
        self.step = self.network.step if self._fused else self.read_step

    @property
    def out(self) -> NDArray[Any]:
        """The last layer's output buffer."""
        return self.layers[-1]["out"]

    def stage(self, dtype: DTypeLike) -> NDArray[Any]:
        """A buffer of the batch's shape in X's own dtype, for rows gathered from an X of
        another dtype (made when first needed).

        Parameters
        ----------
        dtype : numpy dtype
            X's dtype.

        Returns
        -------
        numpy.ndarray
        """
        if dtype not in self.staging:
            self.staging[dtype] = np.empty(self.x.shape, dtype)
        return self.staging[dtype]

    def read(self, X: NDArray[Any], rows: Rows) -> NDArray[Any]:
        """Gather X[rows] into the plan's input buffer x, in the model's dtype.

        Parameters
        ----------
        X : numpy.ndarray
            The features.
        rows : slice or numpy.ndarray of int
            n rows of X.

        Returns
        -------
        numpy.ndarray
            The input buffer.
        """
        return _read(self, X, rows)

    def read_step(
        self,
        X: NDArray[Any],
        rows: NDArray[np.integer[Any]],
        target: NDArray[Any],
        sample_weight: NDArray[Any] | None = None,
    ) -> tuple[float, int | None]:
        """step for any X: rows of X, target (and sample_weight) gathered into the plan,
        then run().

        Parameters
        ----------
        X : numpy.ndarray
            All the features.
        rows : numpy.ndarray of int
            The batch's n rows.
        target : numpy.ndarray
            All the encoded targets.
        sample_weight : numpy.ndarray or None, default None
            All the rows' weights, in the model's dtype (None: unweighted).

        Returns
        -------
        loss : float
            The batch's (weighted) mean loss.
        hits : int or None
            The correct rows counted by the fused step, or None.
        """
        _read(self, X, rows)
        target.take(rows, axis=0, out=self.target, mode="clip")
        if sample_weight is None:
            return self.run()
        sample_weight.take(rows, out=self.sample_weight, mode="clip")
        return self.run(weighted=True)

    def run(self, weighted: bool = False) -> tuple[float, int | None]:
        """The step over x and target: (loss, hits or None). A custom loss (not one of
        LOSSES) is called from Python between the network's forward and backward.

        Parameters
        ----------
        weighted : bool, default False
            Weight the loss by the plan's sample_weight buffer (the batch's weights).

        Returns
        -------
        loss : float
            The batch's mean loss (no gradient is written when it is not finite).
        hits : int or None
            The correct rows counted by the fused step, or None.
        """
        weights = self.sample_weight if weighted else None
        if self._fused:
            return self.network.step(None, None, None, weights)
        out = self.network.forward()
        value = self.loss(
            self.kernels,
            out,
            self.target,
            grad=self.dout,
            sample_loss=self.sample_loss,
            **({} if weights is None else {"sample_weight": weights}),
        )
        if math.isfinite(value):
            self.network.backward()
        return value, None


def _inference_layout(model, n, mode):
    """Where the buffers of a forward pass over n rows live.

    Returns ({key: (elements, dtype)} of the flat buffers, [{name: (key, shape)}] of each
    layer, {name: (key, shape)} of the plan's own buffers, workspace elements). A key names
    one flat buffer; views of several shapes share it (see the module docstring).
    """
    sizes = {}

    def place(key, shape, dtype=None):
        dtype = np.dtype(dtype or model.dtype)
        key = (key, dtype.str)
        sizes[key] = (max(sizes.get(key, (0,))[0], math.prod(shape)), dtype)
        return key, shape

    own = {"x": place("x", (n, model.n_features_in_))}
    layers, workspace = [], 0
    for i, layer in enumerate(model.layers):
        shapes = layer.buffer_shapes(n, False, input_grad=False)
        layers.append(
            {
                name: place(("out", i % 2) if name == "out" else name, shape, dtype)
                for name, (shape, dtype) in shapes.items()
            }
        )
        workspace = max(workspace, layer.workspace_size(model.backend, n, model.dtype, False))
    if mode == "eval":
        t = model.targets_
        own["target"] = (
            place("target", (n,), np.int64)
            if t.kind == "labels"
            else place("target", (n, t.n_outputs))
        )
        own["sample_loss"] = place("sample_loss", (n,))
        own["loss_prefix"] = place("loss_prefix", (n,), np.float64)
        own["scratch"] = {
            name: place(("scratch", name), shape, dtype)
            for name, (shape, dtype) in t.scratch_shapes(n).items()
        }
    return sizes, layers, own, workspace if model.backend == "c" else 0


def inference_bytes(model: Model, n: int, mode: str = "predict") -> int:
    """Bytes of the buffers an InferencePlan for n rows allocates.

    Parameters
    ----------
    model : Sequential
        The model.
    n : int
        Rows of one pass.
    mode : {"predict", "eval"}, default "predict"
        "eval" adds the targets' buffers.

    Returns
    -------
    int
    """
    sizes, _, _, workspace = _inference_layout(model, n, mode)
    return (
        sum(count * dtype.itemsize for count, dtype in sizes.values())
        + workspace * model.dtype.itemsize
    )


def check_memory(memory: int | None) -> int:
    """The budget in bytes: PREDICT_MEMORY for None, else a positive integer.

    Parameters
    ----------
    memory : int or None
        The budget.

    Returns
    -------
    int

    Raises
    ------
    TypeError
        Not an int or None.
    ValueError
        memory < 1.
    """
    if memory is None:
        return PREDICT_MEMORY
    if isinstance(memory, bool) or not isinstance(memory, numbers.Integral):
        raise TypeError(f"memory must be a number of bytes (an int) or None, got {memory!r}")
    if memory < 1:
        raise ValueError(f"memory must be a positive number of bytes, got {memory}")
    return int(memory)


def block_rows(model: Model, n_rows: int, mode: str, memory: int) -> int:
    """How many rows one forward pass takes: at most EVAL_BATCH and n_rows, and as many as
    fit the budget `memory` (bytes); one row when even one does not fit, with a warning,
    as scikit-learn does when a row exceeds its working_memory.

    Parameters
    ----------
    model : Sequential
        The model.
    n_rows : int
        The rows to go through the model.
    mode : {"predict", "eval"}
        The kind of pass.
    memory : int
        The checked budget in bytes.

    Returns
    -------
    int
    """
    rows = min(n_rows, EVAL_BATCH)
    if inference_bytes(model, rows, mode) <= memory:
        return rows
    low, high = 1, rows  # the buffers grow with the rows: the largest count that fits
    while low < high:
        middle = (low + high + 1) // 2
        if inference_bytes(model, middle, mode) <= memory:
            low = middle
        else:
            high = middle - 1
    need = inference_bytes(model, low, mode)
    if need > memory:
        warnings.warn(
            f"one row's forward pass needs {need:,} bytes, more than the memory "
            f"budget of {memory:,}: rows go one at a time over that budget",
            ResourceWarning,
            stacklevel=4,
        )
    return low


class InferencePlan:
    """The buffers of forward passes over up to `capacity` rows (mode "predict", or "eval"
    with the targets' buffers too): see the module docstring. `rows(r)` gives the views for
    a pass over r rows of `model` (the model that made it: a plan keeps no reference to
    its model, which keeps it), with the attributes a training plan has (x, layers,
    workspace, target, sample_loss, scratch, n).

    Parameters
    ----------
    model : Sequential
        The model (its targets set for mode "eval").
    capacity : int
        The most rows of one pass.
    mode : {"predict", "eval"}
        The kind of pass.
    """

    def __init__(self, model: Model, capacity: int, mode: str) -> None:
        self.capacity = capacity
        self._mode = mode
        sizes, _, _, workspace = _inference_layout(model, capacity, mode)
        self._flat = {key: np.empty(count, dtype) for key, (count, dtype) in sizes.items()}
        self.staging: dict[Any, NDArray[Any]] = {}  # {X's dtype: flat buffer}, when needed
        self.workspace = np.empty(workspace, model.dtype) if model.backend == "c" else None
        self.nbytes = inference_bytes(model, capacity, mode)
        self._views: dict[int, _InferenceView] = {}

    def rows(self, r: int, model: Model) -> Any:
        """The views for a pass over r rows (at most capacity) of `model`, the model that
        made the plan (a few are kept).

        Parameters
        ----------
        r : int
            Rows of the pass.
        model : Sequential
            The plan's model.

        Returns
        -------
        _InferenceView
            With forward(X, rows) and the attributes a training plan has.
        """
        view = self._views.get(r)
        if view is None:
            if len(self._views) >= 4:  # the full block and the last one, as a rule
                self._views.clear()
            view = self._views[r] = _InferenceView(self, model, r)
        return view

    def view(self, key: tuple[Any, str], shape: tuple[int, ...]) -> NDArray[Any]:
        """A view of the flat buffer `key` with `shape`.

        Parameters
        ----------
        key : tuple
            A flat buffer's key.
        shape : tuple of int
            The view's shape (no more elements than the buffer holds).

        Returns
        -------
        numpy.ndarray
        """
        return self._flat[key][: math.prod(shape)].reshape(shape)


class _InferenceView:
    """The views of an InferencePlan's buffers for a pass over n rows, and the network
    bound to them; forward(X, rows) runs it."""

    def __init__(self, plan, model, n):
        _, layers, own, _ = _inference_layout(model, n, plan._mode)
        self.n = n
        self._staging, self._capacity = plan.staging, plan.capacity  # not the plan: no cycle
        self.x = plan.view(*own["x"])
        self.layers = [
            {name: plan.view(*place) for name, place in layer.items()} for layer in layers
        ]
        self.workspace = plan.workspace
        self.network = make_network(model, self.layers, False, self.x, self.workspace)
        if "target" in own:
            self.target = plan.view(*own["target"])
            self.sample_loss = plan.view(*own["sample_loss"])
            self.loss_prefix = plan.view(*own["loss_prefix"])
            self.scratch = {name: plan.view(*place) for name, place in own["scratch"].items()}

    def forward(self, X, rows):
        """The model's outputs for X[rows] (a slice or an index array of n rows), in a
        buffer of the plan. A slice of an X of the model's dtype is read in place."""
        if (
            isinstance(rows, slice)
            and X.dtype == self.x.dtype
            and type(X) in (np.ndarray, np.memmap)
            and X.flags.c_contiguous
            and X.flags.aligned
        ):
            return self.network.forward(X[rows])
        _read(self, X, rows)
        return self.network.forward()

    def stage(self, dtype):
        """A buffer of X's own dtype, for rows gathered from an X of another dtype."""
        if dtype not in self._staging:
            self._staging[dtype] = np.empty(self._capacity * self.x.shape[1], dtype)
        return self._staging[dtype][: self.x.size].reshape(self.x.shape)
