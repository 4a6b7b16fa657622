"""Stochastic gradient descent, as torch.optim.SGD."""

from __future__ import annotations

from typing import Any

from pynn.core.checks import check_number
from pynn.core.optim.base import Optimizer


class SGD(Optimizer):
    """SGD with optional momentum (heavy ball or Nesterov), dampening and L2 weight decay.

    Per-sample (online) updates are fit(batch_size=1), full-batch updates
    fit(batch_size=None); the update rule is torch.optim.SGD's (docs/kernels.md).

    Parameters
    ----------
    lr : float, default 1e-3
        The learning rate (finite, >= 0).
    momentum : float, default 0.0
        The momentum factor, in [0, 1] (0: plain SGD, no momentum buffer).
    dampening : float, default 0.0
        Dampening of the momentum, in [0, 1].
    nesterov : bool, default False
        Nesterov momentum (needs momentum > 0 and dampening 0).
    weight_decay : float, default 0.0
        L2 penalty added to the gradient (>= 0).
    weight_decay_scope : {"all", "weights"}, default "all"
        The parameters weight_decay applies to: all (PyTorch's), or the weight matrices
        only, not the biases nor PReLU's slopes (scikit-learn's alpha).

    Raises
    ------
    TypeError
        A hyperparameter that is not a number, or nesterov that is not a bool.
    ValueError
        A hyperparameter out of range or not finite, nesterov without momentum or with
        dampening, or an unknown weight_decay_scope.
    """

    def __init__(
        self,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        weight_decay_scope: str = "all",
    ) -> None:
        super().__init__(lr, weight_decay_scope)
        # torch accepts any momentum >= 0, scikit-learn [0, 1]: above 1 the step grows
        # without bound (at 1 the velocity keeps every gradient it was given)
        self.momentum = check_number(momentum, "momentum", 0.0, 1.0)
        self.dampening = check_number(dampening, "dampening", 0.0, 1.0)
        self.weight_decay = check_number(weight_decay, "weight_decay")
        if not isinstance(nesterov, bool):
            raise TypeError(f"nesterov must be True or False, got {nesterov!r}")
        if nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError("nesterov momentum needs momentum > 0 and dampening = 0")
        self.nesterov = nesterov

    @property
    def state_names(self) -> tuple[str, ...]:  # type: ignore[override]  # Optimizer's: a tuple
        """The state arrays kept: the momentum buffer when momentum is on."""
        return ("momentum_buffer",) if self.momentum != 0 else ()

    def _update(self):
        self.kernels.sgd_update(
            self.params,
            self.grads,
            self.state.get("momentum_buffer"),
            step=self.step_count,
            lr=self.lr,
            momentum=self.momentum,
            dampening=self.dampening,
            nesterov=self.nesterov,
            weight_decay=self.weight_decay,
            decay_ranges=self.decay_ranges,
        )

    def config(self) -> dict[str, Any]:
        return {
            "type": "SGD",
            "lr": self.lr,
            "momentum": self.momentum,
            "dampening": self.dampening,
            "nesterov": self.nesterov,
            "weight_decay": self.weight_decay,
            "weight_decay_scope": self.weight_decay_scope,
        }
