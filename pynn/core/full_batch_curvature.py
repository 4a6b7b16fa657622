"""Curvature products of the full-batch loss (pynn.core.full_batch) for second-order
solvers (pynn.NewtonCG, pynn.NaturalGradient): the Hessian-vector product H v or the
Gauss-Newton product G v of the (weighted) mean loss over all rows, at the model's
current parameters, for a float64 direction v.

The blocks and their weights are FullBatch's: block b's product P_b (the network's hvp
over the block's rows, its weighted mean) is combined as the gradient is,

    product = sum_b P_b (W_b / W)

summed in block order into a float64 accumulator, so the result is the same bits for
any thread count; a single block's product is copied unscaled. One product costs about
two passes over the data (a forward and an R-forward, a backward and an R-backward).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pynn.core.full_batch import FullBatch, add_share
from pynn.core.model_type import Model
from pynn.core.network import fused_kernel


def check_curvature_model(model: Model, solver: str) -> None:
    """Refuse what has no curvature product: a custom loss (not fused into the network,
    which computes the product).

    Parameters
    ----------
    model : Sequential
        The model, its loss set.
    solver : str
        The solver's name, for the message.

    Raises
    ------
    ValueError
        The model's loss is not one of pynn.losses.LOSSES.
    """
    if fused_kernel(model.loss_) is None:
        raise ValueError(
            f"{solver} needs a loss of pynn.losses.LOSSES (the network computes its "
            f"curvature product), got the custom loss {model.loss_!r}: train with LBFGS"
        )


class FullBatchCurvature:
    """H v or G v of a FullBatch's loss: see the module docstring. `evaluate(v)` returns
    the loss at the model's parameters and leaves the product in `product` (float64, one
    element per parameter); the model's flat_grads holds the last block's gradient.

    Parameters
    ----------
    full : FullBatch
        The rows, targets, weights and blocks.
    solver : str, default "a curvature product"
        The solver's name, for the refusals' messages.

    Raises
    ------
    ValueError
        See check_curvature_model.
    """

    def __init__(self, full: FullBatch, solver: str = "a curvature product") -> None:
        model = full.model
        check_curvature_model(model, solver)
        self.full = full
        n_params = model.flat_params.size
        self.product = np.zeros(n_params, np.float64)
        # the direction and one block's product in the network's dtype
        self.direction = np.empty(n_params, model.dtype)
        self.block_product = np.empty(n_params, model.dtype)
        self.workspace = np.empty(self._workspace_size(), model.dtype)  # once per FullBatch

    def _workspace_size(self) -> int:
        """The largest workspace the blocks' networks need at the current thread count."""
        model = self.full.model
        sizes = {len(block) for block in self.full.blocks}
        return max(int(model._plan(size).network.hvp_workspace_size) for size in sizes)

    def evaluate(self, v: NDArray[Any], gauss_newton: bool = False) -> float:
        """The product along v at the model's parameters, into `product`.

        Parameters
        ----------
        v : numpy.ndarray of shape (n_params,)
            The direction (float64; rounded to the model's dtype).
        gauss_newton : bool, default False
            G v (the Gauss-Newton product) instead of H v.

        Returns
        -------
        float
            The (weighted) mean loss over all rows (unclipped). When a block's loss is not
            finite, that loss is returned at once and `product` is left unspecified.
        """
        full, model = self.full, self.full.model
        X, target, weights = full.X, full.target, full.sample_weight
        if v.shape != self.direction.shape:
            raise ValueError(f"v must have shape {self.direction.shape}, got {v.shape}")
        np.copyto(self.direction, v, casting="same_kind")
        if self.workspace.size < self._workspace_size():  # the thread count grew
            self.workspace = np.empty(self._workspace_size(), model.dtype)
        loss, single, total = 0.0, len(full.blocks) == 1, full.total_weight
        self.product.fill(0)
        for block, block_weight in zip(full.blocks, full.block_weights, strict=True):
            plan = model._plan(len(block))
            plan.read(X, block)  # hvp reads the batch in x and target, as they are
            target.take(block, axis=0, out=plan.target, mode="clip")
            block_w = None
            if weights is not None:
                weights.take(block, out=plan.sample_weight, mode="clip")
                block_w = plan.sample_weight
            value = plan.network.hvp(
                self.direction, self.block_product, gauss_newton, block_w, self.workspace
            )
            if not math.isfinite(value):
                return value
            if single:  # one block: its product unscaled, as the gradient
                np.copyto(self.product, self.block_product)
                return value
            share = block_weight / total
            loss += value * share
            add_share(self.product, self.block_product, share, self.full.scaled)
        return loss
