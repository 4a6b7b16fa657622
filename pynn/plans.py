"""The reused buffers of a Sequential model: one TrainingPlan per batch size, one
InferencePlan per kind of forward pass (predict, eval).

A training step keeps every layer's output, since backward reads them: its plan holds
each layer's buffers (`Layer.buffer_shapes`), the gathered inputs and targets, the output
gradient and one kernel workspace, made once per batch size so that a step allocates no
arrays.

A forward pass without training keeps nothing: each layer reads the output of the one
before and no later layer looks back. An InferencePlan therefore puts the layers' outputs
in two buffers, used in turn, and the scratch a layer needs during its own forward
(Maxout's affine outputs, Standardize's rows of scales) in buffers all layers share. Its
memory is that of the widest layer, whatever the depth, and it is sized from a memory
budget: `block_rows` is how many rows one pass may take.
"""
import math
import numbers
import warnings

import numpy as np

from pynn.dense_stack import dense_stack_step

EVAL_BATCH = 1024  # the most rows one forward pass takes in predict and evaluate
PREDICT_MEMORY = 64 * 2**20  # bytes: the default budget of a forward pass's buffers


class TrainingPlan:
    """The buffers of one training step on a batch of n rows: see the module docstring."""

    def __init__(self, model, n):
        alloc = lambda shape, dtype=None: np.empty(shape, dtype or model.dtype)  # noqa: E731
        self.n = n
        self.x = alloc((n, model.n_features_in_))
        self.staging = {}  # X's own dtype, when it differs from the model's
        self.layers = []
        size = 0
        for i, layer in enumerate(model.layers):
            shapes = layer.buffer_shapes(n, True, input_grad=i > 0)
            self.layers.append({k: alloc(*spec) for k, spec in shapes.items()})
            size = max(size, layer.workspace_size(model.backend, n, model.dtype, True))
        self.workspace = alloc((size,)) if model.backend == "c" else None
        t = model.targets_
        self.target = alloc((n,), np.int64) if t.kind == "labels" else alloc((n, t.n_outputs))
        self.sample_loss = alloc((n,))
        self.scratch = {k: alloc(*spec) for k, spec in t.scratch_shapes(n).items()}
        self.dout = alloc((n, model.n_outputs_))
        # the whole step in one kernel call, for a stack of Dense layers (pynn.dense_stack)
        self.step = dense_stack_step(model, self)

    def stage(self, dtype):
        if dtype not in self.staging:
            self.staging[dtype] = np.empty(self.x.shape, dtype)
        return self.staging[dtype]


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
        layers.append({name: place(("out", i % 2) if name == "out" else name, shape, dtype)
                       for name, (shape, dtype) in shapes.items()})
        workspace = max(workspace, layer.workspace_size(model.backend, n, model.dtype, False))
    if mode == "eval":
        t = model.targets_
        own["target"] = place("target", (n,), np.int64) if t.kind == "labels" else \
            place("target", (n, t.n_outputs))
        own["sample_loss"] = place("sample_loss", (n,))
        own["loss_prefix"] = place("loss_prefix", (n,), np.float64)
        own["scratch"] = {name: place(("scratch", name), shape, dtype)
                          for name, (shape, dtype) in t.scratch_shapes(n).items()}
    return sizes, layers, own, workspace if model.backend == "c" else 0


def inference_bytes(model, n, mode="predict"):
    """Bytes of the buffers an InferencePlan for n rows allocates."""
    sizes, _, _, workspace = _inference_layout(model, n, mode)
    return sum(count * dtype.itemsize for count, dtype in sizes.values()) + \
        workspace * model.dtype.itemsize


def check_memory(memory):
    """The budget in bytes: PREDICT_MEMORY for None, else a positive integer."""
    if memory is None:
        return PREDICT_MEMORY
    if isinstance(memory, bool) or not isinstance(memory, numbers.Integral):
        raise TypeError(f"memory must be a number of bytes (an int) or None, got {memory!r}")
    if memory < 1:
        raise ValueError(f"memory must be a positive number of bytes, got {memory}")
    return int(memory)


def block_rows(model, n_rows, mode, memory):
    """How many rows one forward pass takes: at most EVAL_BATCH and n_rows, and as many as
    fit the budget `memory` (bytes); one row when even one does not fit, with a warning,
    as scikit-learn does when a row exceeds its working_memory."""
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
        warnings.warn(f"one row's forward pass needs {need:,} bytes, more than the memory "
                      f"budget of {memory:,}: rows go one at a time over that budget",
                      ResourceWarning, stacklevel=4)
    return low


class InferencePlan:
    """The buffers of forward passes over up to `capacity` rows (mode "predict", or "eval"
    with the targets' buffers too): see the module docstring. `rows(r)` gives the views for
    a pass over r rows of `model` (the model that made it: a plan keeps no reference to
    its model, which keeps it), with the attributes a training plan has (x, layers,
    workspace, target, sample_loss, scratch, n)."""

    def __init__(self, model, capacity, mode):
        self.capacity = capacity
        self._mode = mode
        sizes, _, _, workspace = _inference_layout(model, capacity, mode)
        self._flat = {key: np.empty(count, dtype) for key, (count, dtype) in sizes.items()}
        self.staging = {}  # {X's dtype: flat buffer}, made when first needed
        self.workspace = np.empty(workspace, model.dtype) if model.backend == "c" else None
        self.nbytes = inference_bytes(model, capacity, mode)
        self._views = {}

    def rows(self, r, model):
        view = self._views.get(r)
        if view is None:
            if len(self._views) >= 4:  # the full block and the last one, as a rule
                self._views.clear()
            view = self._views[r] = _InferenceView(self, model, r)
        return view

    def view(self, key, shape):
        return self._flat[key][:math.prod(shape)].reshape(shape)



class _InferenceView:
    """The views of an InferencePlan's buffers for a pass over n rows."""

    def __init__(self, plan, model, n):
        _, layers, own, _ = _inference_layout(model, n, plan._mode)
        self.n = n
        self._staging, self._capacity = plan.staging, plan.capacity  # not the plan: no cycle
        self.x = plan.view(*own["x"])
        self.layers = [{name: plan.view(*place) for name, place in layer.items()}
                       for layer in layers]
        self.workspace = plan.workspace
        if "target" in own:
            self.target = plan.view(*own["target"])
            self.sample_loss = plan.view(*own["sample_loss"])
            self.loss_prefix = plan.view(*own["loss_prefix"])
            self.scratch = {name: plan.view(*place) for name, place in own["scratch"].items()}

    def stage(self, dtype):
        """A buffer of X's own dtype, for rows gathered from an X of another dtype."""
        if dtype not in self._staging:
            self._staging[dtype] = np.empty(self._capacity * self.x.shape[1], dtype)
        return self._staging[dtype][:self.x.size].reshape(self.x.shape)
