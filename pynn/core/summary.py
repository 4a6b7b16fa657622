"""Sequential.summary(): the layers, their parameter counts, and the memory training needs.

Training memory (shared/notes/001, the "how much memory" quiz) is
- the parameters, and as much again for their gradients (one copy: a batch's gradient
  is averaged into the same buffer, never kept per sample),
- the optimizer's state (0, 1 or 2 copies of the parameters for SGD, SGD with momentum
  and Adam),
- one more copy of the parameters, which fit keeps from the start of each epoch to undo an
  update that overflows (early stopping with restore_best_weights keeps another),
- per batch: what each layer keeps for its backward pass and its input gradient, the
  input batch, the targets, the output gradient, the per-sample losses, the metric's
  scratch and the kernel workspace. These grow with the batch size.
The per-batch part is computed from the shapes the training loop allocates (the same
calls as `pynn.core.plans.TrainingPlan` makes), so it is what fit really uses,
apart from a staging copy of X when X's dtype differs from the model's and fit shuffles.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from pynn.core.memory import format_bytes
from pynn.core.model_type import Model
from pynn.core.optim import Optimizer
from pynn.core.plans import block_rows, check_memory, inference_bytes, training_buffer_shapes
from pynn.core.targets import Targets

MEMORY_KEYS = (
    "parameters",
    "gradients",
    "optimizer_state",
    "parameter_copy",
    "activations",
    "total",
)
BATCH_KEYS = ("layers", "input", "target", "output_grad", "sample_loss", "metric", "workspace")


def layer_label(layer: Any) -> str:
    """A short description of a layer: "Dense(3 -> 4, sigmoid)", "PReLU(4)", "Tanh".

    Parameters
    ----------
    layer : Layer
        A built layer.

    Returns
    -------
    str
    """
    kind = type(layer).__name__
    config = layer.config()
    if config["type"] in ("Dense", "Maxout"):
        width = layer.__dict__.get("built_in_features", layer.in_features)
        parts = [f"{width} -> {layer.out_features}"]
        if config["type"] == "Maxout":
            parts.append(f"pieces={layer.pieces}")
        elif layer.activation != "identity":
            param = "" if layer.activation_param is None else f"({layer.activation_param:g})"
            parts.append(layer.activation + param)
        if not layer.bias:
            parts.append("no bias")
        return f"{kind}({', '.join(parts)})"
    if config["type"] == "PReLU":
        return f"PReLU({layer.num_parameters})"
    if config["type"] == "Standardize":
        return f"Standardize({layer.in_features})"
    if config["type"] == "Dropout":
        return f"Dropout({layer.p:g})"
    if kind == "Activation":
        return layer.activation if layer.param is None else f"{layer.activation}({layer.param:g})"
    return kind if layer.param is None else f"{kind}({layer.param:g})"


def layer_rows(model: Model) -> list[tuple[int, str, tuple[None, int], int]]:
    """[(index, label, output shape, parameter count)] of a built Sequential.

    Parameters
    ----------
    model : Sequential
        The model.

    Returns
    -------
    list of (int, str, (None, int), int)
    """
    return [
        (
            i,
            layer_label(layer),
            (None, layer.out_features),
            sum(math.prod(shape) for _, shape in layer.parameter_shapes()),
        )
        for i, layer in enumerate(model.layers)
    ]


def layer_table(model: Model) -> list[str]:
    """The layer rows as aligned text lines, with a header.

    Parameters
    ----------
    model : Sequential
        The model.

    Returns
    -------
    list of str
        The header, a rule, then one line per layer.
    """
    rows = [("#", "Layer", "Output shape", "Params")]
    rows += [
        (str(i), label, str(shape), f"{count:,}") for i, label, shape, count in layer_rows(model)
    ]
    widths = [max(len(row[c]) for row in rows) for c in range(4)]
    lines = [
        f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:<{widths[2]}}  {d:>{widths[3]}}"
        for a, b, c, d in rows
    ]
    lines.insert(1, "-" * len(lines[0]))
    return lines


def _nbytes(shape, dtype):
    return math.prod(shape) * np.dtype(dtype).itemsize


def batch_buffer_bytes(model: Model, n: int) -> dict[str, int]:
    """{part: bytes} of the buffers one training step on a batch of n allocates.

    The same shapes as pynn.core.plans.TrainingPlan(model, n). Before the model is trained
    its targets are unknown; they are counted as regression values, (n, outputs) floats.

    Parameters
    ----------
    model : Sequential
        The model.
    n : int
        The batch size.

    Returns
    -------
    dict of str to int
        Bytes by part: layers, input, target, output_grad, sample_loss (the per-sample
        losses and sample weights), metric, workspace.
    """
    dtype = model.dtype
    parts = dict.fromkeys(BATCH_KEYS, 0)
    parts["input"] = _nbytes((n, model.n_features_in_), dtype)
    workspace = 0
    for layer, shapes in zip(model.layers, training_buffer_shapes(model, n)):
        parts["layers"] += sum(_nbytes(shape, dt or dtype) for shape, dt in shapes.values())
        workspace = max(workspace, layer.workspace_size(model.backend, n, dtype, True))
    if model.backend == "c":
        parts["workspace"] = _nbytes((workspace,), dtype)
    targets = model.targets_ or Targets("values", model.n_outputs_)
    parts["target"] = (
        _nbytes((n,), np.int64)
        if targets.kind == "labels"
        else _nbytes((n, targets.n_outputs), dtype)
    )
    parts["sample_loss"] = 2 * _nbytes((n,), dtype)  # the losses and the weights, (n,) each
    parts["metric"] = sum(
        _nbytes(shape, dt or dtype) for shape, dt in targets.scratch_shapes(n).values()
    )
    parts["output_grad"] = _nbytes((n, model.n_outputs_), dtype)
    return parts


class ModelSummary:
    """What `Sequential.summary()` returns; print it for the table.

    Attributes: `layers` [(index, label, output shape, params)], `total_params`,
    `trainable_params` (every pynn parameter is trained), `batch_size`, `dtype`,
    `optimizer` (its class name, or None), `memory` {parameters, gradients,
    optimizer_state, parameter_copy, activations, total} in bytes, `batch_memory` the
    per-batch part
    split by buffer (layers, input, target, output_grad, sample_loss, metric, workspace),
    `targets_assumed` (True when the model is untrained and targets were guessed),
    `prediction` {budget, rows, bytes}: predict's memory budget (`memory`, default
    pynn.core.plans.PREDICT_MEMORY), the rows one forward pass takes within it (for a batch of
    1024 or more) and the bytes of its buffers, which is all predict allocates beyond its
    result, whatever the number of rows.

    Parameters
    ----------
    model : Sequential
        The model described.
    batch_size : int, default 32
        The training batch size the memory is counted for (>= 1).
    optimizer : Optimizer or None, default None
        The optimizer whose state is counted (None: the model's own, if it has one).
    memory : int or None, default None
        predict's memory budget in bytes (None: pynn.core.plans.PREDICT_MEMORY).

    Raises
    ------
    ValueError
        batch_size is not an integer >= 1, or a bad memory budget.
    TypeError
        optimizer is not a pynn optimizer.
    """

    def __init__(
        self,
        model: Model,
        batch_size: int = 32,
        optimizer: Optimizer | None = None,
        memory: int | None = None,
    ) -> None:
        if (
            isinstance(batch_size, bool)
            or not isinstance(batch_size, numbers.Integral)
            or batch_size < 1
        ):
            raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
        if optimizer is None:
            optimizer = model.optimizer_
        if optimizer is not None and not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"optimizer must be a pynn optimizer (SGD, Adam, AdamW, LBFGS) or None, "
                f"got {optimizer!r}"
            )
        self.batch_size = int(batch_size)
        self.dtype = model.dtype
        self.backend = model.backend
        self.loss = None if model.loss_ is None else model.loss_.name
        self.layers = layer_rows(model)
        self.total_params = self.trainable_params = model.n_parameters
        self._table = layer_table(model)
        self.optimizer = None if optimizer is None else type(optimizer).__name__
        state = 0 if optimizer is None else optimizer.state_size(model.n_parameters)
        self.optimizer_state_size = state
        itemsize = model.dtype.itemsize
        self.batch_memory = batch_buffer_bytes(model, self.batch_size)
        self.targets_assumed = model.targets_ is None
        self.memory = {
            "parameters": model.n_parameters * itemsize,
            "gradients": model.n_parameters * itemsize,
            "optimizer_state": state * itemsize,
            "parameter_copy": model.n_parameters * itemsize,
            "activations": sum(self.batch_memory.values()),
        }
        self.memory["total"] = sum(self.memory.values())
        budget = check_memory(memory)
        rows = block_rows(model, 1024, "predict", budget)
        self.prediction = {
            "budget": budget,
            "rows": rows,
            "bytes": inference_bytes(model, rows, "predict"),
        }

    def __str__(self):
        lines = [
            f"Sequential ({self.dtype.name}, backend {self.backend!r}"
            + (f", loss {self.loss!r})" if self.loss else ")")
        ]
        lines += self._table
        lines.append(
            f"Total parameters: {self.total_params:,} (trainable: {self.trainable_params:,})"
        )
        copies = self.optimizer_state_size // self.total_params if self.total_params else 0
        optimizer = (
            "no optimizer"
            if self.optimizer is None
            else f"{self.optimizer}, state {copies} x parameters"
        )
        lines.append(f"Training memory for batch_size={self.batch_size} ({optimizer}):")
        labels = {
            "parameters": "parameters",
            "gradients": "gradients",
            "optimizer_state": "optimizer state",
            "parameter_copy": "fit's copy of the parameters",
            "activations": "activations and batch buffers",
            "total": "total",
        }
        details = ", ".join(
            f"{key.replace('_', ' ')} {format_bytes(value)}"
            for key, value in self.batch_memory.items()
            if value
        )
        for key in MEMORY_KEYS:
            line = (
                f"  {labels[key]:<30} {format_bytes(self.memory[key]):>10}  "
                f"({self.memory[key]:,} bytes)"
            )
            if key == "activations":
                line += f"\n    {details}"
                if self.targets_assumed:
                    line += "\n    (untrained: targets counted as (batch, outputs) values)"
            lines.append(line)
        p = self.prediction
        lines.append(
            f"Prediction memory: {format_bytes(p['bytes'])} ({p['bytes']:,} bytes), "
            f"{p['rows']} rows per pass (budget {format_bytes(p['budget'])})"
        )
        return "\n".join(lines)

    __repr__ = __str__


def summarize(
    model: Model,
    batch_size: int = 32,
    optimizer: Optimizer | None = None,
    memory: int | None = None,
) -> ModelSummary:
    """The ModelSummary of `model` for training with batches of `batch_size`, and for
    prediction within `memory` bytes.

    Parameters
    ----------
    model : Sequential
        The model.
    batch_size : int, default 32
        The training batch size.
    optimizer : Optimizer or None, default None
        The optimizer counted (None: the model's).
    memory : int or None, default None
        predict's memory budget in bytes.

    Returns
    -------
    ModelSummary

    Raises
    ------
    ValueError, TypeError
        As ModelSummary.
    """
    return ModelSummary(model, batch_size, optimizer, memory)
