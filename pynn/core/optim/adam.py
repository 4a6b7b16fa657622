"""Adam and AdamW, as torch.optim.Adam and torch.optim.AdamW."""

from __future__ import annotations

from typing import Any

from pynn.core.checks import check_number
from pynn.core.optim.base import Optimizer


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with torch's bias correction and eps placement; weight_decay
    is L2 added to the gradient (use AdamW for decoupled decay).

    Parameters
    ----------
    lr : float, default 1e-3
        The learning rate (finite, >= 0).
    betas : (float, float), default (0.9, 0.999)
        The decay rates of the first and second moment estimates, each in [0, 1).
    eps : float, default 1e-8
        Added to the denominator's square root, for stability (>= 0).
    weight_decay : float, default 0.0
        L2 penalty added to the gradient (>= 0).
    weight_decay_scope : {"all", "weights"}, default "all"
        The parameters weight_decay applies to: all (PyTorch's), or the weight matrices
        only, not the biases nor PReLU's slopes (scikit-learn's alpha).

    Raises
    ------
    TypeError
        A hyperparameter that is not a number, or betas that are not a pair.
    ValueError
        A hyperparameter out of range or not finite, or an unknown weight_decay_scope.
    """

    state_names: tuple[str, ...] = ("exp_avg", "exp_avg_sq")
    _decoupled = False

    def __init__(
        self,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        weight_decay_scope: str = "all",
    ) -> None:
        super().__init__(lr, weight_decay_scope)
        try:
            beta1, beta2 = betas
        except (TypeError, ValueError):
            raise TypeError(f"betas must be a pair (beta1, beta2), got {betas!r}") from None
        self.betas = (
            check_number(beta1, "betas[0]", 0.0, 1.0, high_open=True),
            check_number(beta2, "betas[1]", 0.0, 1.0, high_open=True),
        )
        self.eps = check_number(eps, "eps")
        self.weight_decay = check_number(weight_decay, "weight_decay")

    def _update(self):
        self.kernels.adam_update(
            self.params,
            self.grads,
            self.state["exp_avg"],
            self.state["exp_avg_sq"],
            step=self.step_count,
            lr=self.lr,
            beta1=self.betas[0],
            beta2=self.betas[1],
            eps=self.eps,
            weight_decay=self.weight_decay,
            decoupled_weight_decay=self._decoupled,
            decay_ranges=self.decay_ranges,
        )

    def config(self) -> dict[str, Any]:
        return {
            "type": type(self).__name__,
            "lr": self.lr,
            "betas": list(self.betas),
            "eps": self.eps,
            "weight_decay": self.weight_decay,
            "weight_decay_scope": self.weight_decay_scope,
        }


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019): params *= 1 - lr·wd.

    Parameters
    ----------
    lr : float, default 1e-3
        The learning rate (finite, >= 0).
    betas : (float, float), default (0.9, 0.999)
        The decay rates of the first and second moment estimates, each in [0, 1).
    eps : float, default 1e-8
        Added to the denominator's square root, for stability (>= 0).
    weight_decay : float, default 1e-2
        The decoupled decay rate (>= 0), applied to the parameters before the Adam step.
    weight_decay_scope : {"all", "weights"}, default "all"
        The parameters weight_decay applies to: all (PyTorch's), or the weight matrices
        only, not the biases nor PReLU's slopes.

    Raises
    ------
    TypeError
        A hyperparameter that is not a number, or betas that are not a pair.
    ValueError
        A hyperparameter out of range or not finite, or an unknown weight_decay_scope.
    """

    _decoupled = True

    def __init__(
        self,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        weight_decay_scope: str = "all",
    ) -> None:
        super().__init__(lr, betas, eps, weight_decay, weight_decay_scope)
