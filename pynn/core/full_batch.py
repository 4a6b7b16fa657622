"""The loss and gradient over all the rows of a data set in one call, for full-batch solvers
(pynn.core.optim.lbfgs): the model's training plans run over fixed blocks of rows and the
blocks' results are combined in a fixed order.

Why blocks: one plan over n rows would hold every layer's output for all n rows; a block
of BLOCK_ROWS rows bounds that memory whatever n is. Why a fixed block size: the result
must not depend on the thread count (shared/DESIGN.md, "Threads"), so the blocks are cut
by rows only, never by threads, and summed in block order.

The combination: block b has its (weighted) mean loss L_b and mean gradient g_b (what one
training step writes) and its weight total W_b (its rows, or the sum of their weights in
double, in row order). The total is

    loss = sum_b L_b (W_b / W)      grad = sum_b g_b (W_b / W)      W = sum_b W_b

summed in block order into a float64 accumulator: the model's dtype may be float32, and a
float32 sum over many blocks would lose digits the solver's line search needs. A block
whose weights are all zero is skipped (it weighs nothing, and the step refuses it). With a
single contributing block the gradient is that block's, copied unscaled, so that a data
set of at most BLOCK_ROWS rows gives exactly one training step's result.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pynn.core.model_type import Model
from pynn.core.sample_weights import check_sample_weight
from pynn.core.training_loop import clipped_mean

BLOCK_ROWS = 1024  # rows per block: the memory bound, independent of the thread count


def check_deterministic(model: Model) -> None:
    """Refuse a model whose training step is random (Dropout): a full-batch solver needs one
    function of the parameters, the same at each evaluation.

    Parameters
    ----------
    model : Sequential
        The model.

    Raises
    ------
    ValueError
        The model has a Dropout layer.
    """
    for i, layer in enumerate(model.layers):
        if type(layer).__name__ == "Dropout":
            raise ValueError(
                f"layer {i} is Dropout ({layer!r}): a full-batch solver (LBFGS, CG, NewtonCG, "
                f"NaturalGradient) needs a deterministic loss, and dropout draws new masks "
                f"at each evaluation; remove the Dropout layers, or train with SGD or Adam"
            )


class FullBatch:
    """The loss and gradient over all rows of (X, target[, sample_weight]): see the module
    docstring. `evaluate()` runs the model's network at its current parameters over every
    block and returns the loss; the gradient is then in `grad` (float64, one element per
    parameter). The model's flat_grads holds the last block's gradient afterwards.

    Parameters
    ----------
    model : Sequential
        A model whose loss and targets are set (fit sets them).
    X : numpy.ndarray of shape (n_samples, n_features_in_)
        The checked features (any float dtype; the model's own, C-contiguous, is read in
        place).
    target : numpy.ndarray
        The encoded targets (`targets_.encode(y, dtype)`).
    sample_weight : numpy.ndarray of shape (n_samples,) or None, default None
        The rows' checked weights in the model's dtype, or None: every row weighs 1.
    rows : numpy.ndarray of int or None, default None
        The rows to use (sorted, as fit's training rows); None: all of them.
    block_rows : int, default BLOCK_ROWS
        Rows per block (the last block takes the rest).
    logged_value : bool, default False
        Return the logged loss: each row's loss clipped to the loss's logged_bounds
        (Loss.with_logged_bounds, as scikit-learn's clipped log-loss) when it has them; the
        gradient is never clipped. fit's L-BFGS minimises that value, as scikit-learn does.
    """

    def __init__(
        self,
        model: Model,
        X: NDArray[Any],
        target: NDArray[Any],
        sample_weight: NDArray[Any] | None = None,
        rows: NDArray[np.integer[Any]] | None = None,
        block_rows: int = BLOCK_ROWS,
        logged_value: bool = False,
    ) -> None:
        check_deterministic(model)
        self.bounds = getattr(model.loss_, "logged_bounds", None) if logged_value else None
        if block_rows < 1:
            raise ValueError(f"block_rows must be >= 1, got {block_rows}")
        self.model, self.X, self.target, self.sample_weight = model, X, target, sample_weight
        all_rows = np.arange(X.shape[0], dtype=np.int64) if rows is None else rows
        self.rows = np.ascontiguousarray(all_rows, dtype=np.int64)
        if self.rows.size == 0:
            raise ValueError("a full batch needs at least one row")
        self.blocks = [
            self.rows[start : start + block_rows] for start in range(0, len(self.rows), block_rows)
        ]
        # each block's weight total, in double and in row order; blocks of weight 0 dropped
        if sample_weight is None:
            self.block_weights = [float(len(block)) for block in self.blocks]
        else:
            self.block_weights = [
                float(np.add.accumulate(sample_weight[block], dtype=np.float64)[-1])
                for block in self.blocks
            ]
            kept = [i for i, w in enumerate(self.block_weights) if w > 0]
            if not kept:
                raise ValueError("sample_weight is zero for every row of the full batch")
            self.blocks = [self.blocks[i] for i in kept]
            self.block_weights = [self.block_weights[i] for i in kept]
        self.total_weight = math.fsum(self.block_weights)
        self.grad = np.zeros(model.flat_grads.size, np.float64)
        self.scaled = np.empty(model.flat_grads.size, np.float64)  # add_share's scratch
        # the network reads rows straight from X when it has the model's dtype (as fit)
        self.direct = (
            type(X) in (np.ndarray, np.memmap)
            and X.dtype == model.dtype
            and X.flags.c_contiguous
            and X.flags.aligned
        )
        self.allocate()

    def allocate(self) -> None:
        """Make the plans of the block sizes now, for the current thread count (a fit
        allocates before it changes the model); evaluate() makes any it lacks later."""
        for size in {len(block) for block in self.blocks}:
            self.model._plan(size)

    def evaluate(self) -> float:
        """The loss over all rows at the model's parameters, and its gradient in `grad`.

        Returns
        -------
        float
            The (weighted) mean loss over all rows. When a block's loss is not finite,
            that loss is returned at once and `grad` is left unspecified.
        """
        model, X, target, weights = self.model, self.X, self.target, self.sample_weight
        extra = () if weights is None else (weights,)
        grads, total = model.flat_grads, self.total_weight
        loss, single = 0.0, len(self.blocks) == 1
        self.grad.fill(0)
        for block, block_weight in zip(self.blocks, self.block_weights, strict=True):
            plan = model._plan(len(block))  # the current thread count's plan
            step = plan.step if self.direct else plan.read_step
            value, _ = step(X, block, target, *extra)
            if not math.isfinite(value):
                return value
            if self.bounds is not None:
                block_w = None if weights is None else plan.sample_weight
                value = clipped_mean(plan.sample_loss, block_w, self.bounds, value)
            if single:  # one block: its gradient unscaled (exactly one step's)
                np.copyto(self.grad, grads)
                return value
            share = block_weight / total
            loss += value * share
            add_share(self.grad, grads, share, self.scaled)
        return loss


def add_share(
    total: NDArray[np.float64], part: NDArray[Any], share: float, scratch: NDArray[np.float64]
) -> None:
    """total += share * part, part taken in float64, through scratch: no array is
    allocated per block."""
    np.multiply(part, share, out=scratch, dtype=np.float64)
    total += scratch


def full_batch_loss_and_grad(
    model: Model,
    X: NDArray[Any],
    target: NDArray[Any],
    sample_weight: NDArray[Any] | None = None,
    block_rows: int = BLOCK_ROWS,
) -> tuple[float, NDArray[np.float64]]:
    """The (weighted) mean loss over all rows of (X, target) and its gradient (float64),
    computed over blocks of `block_rows` rows (see the module docstring): the same for
    any thread count, bit for bit.

    Parameters
    ----------
    model : Sequential
        A trained model (its loss and targets set), without Dropout layers.
    X : numpy.ndarray of shape (n_samples, n_features_in_)
        The features.
    target : numpy.ndarray
        The encoded targets (`model.targets_.encode(y, model.dtype)`).
    sample_weight : numpy.ndarray of shape (n_samples,) or None, default None
        One weight >= 0 per row (not all zero), or None.
    block_rows : int, default BLOCK_ROWS
        Rows per block.

    Returns
    -------
    loss : float
        sum_b L_b (W_b / W).
    grad : numpy.ndarray of shape (n_params,), float64
        sum_b g_b (W_b / W).

    Raises
    ------
    ValueError
        A model with Dropout layers, an untrained model, or weights all zero.
    """
    model._require_fitted("full_batch_loss_and_grad")
    X = model._check_X(X)
    if sample_weight is not None:
        sample_weight = np.ascontiguousarray(
            check_sample_weight(sample_weight, X.shape[0], model.dtype), model.dtype
        )
    with model._lock:
        full = FullBatch(model, X, np.ascontiguousarray(target), sample_weight, None, block_rows)
        loss = full.evaluate()
    return loss, full.grad
