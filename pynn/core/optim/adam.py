"""Adam and AdamW, as torch.optim.Adam and torch.optim.AdamW."""

from __future__ import annotations

from typing import Any

from pynn.core.checks import check_choice, check_number
from pynn.core.optim.base import Optimizer

#: where Adam's eps goes: on sqrt(v_hat), the bias-corrected second moment (PyTorch's), or on
#: sqrt(v) (Kingma & Ba's "epsilon hat", as Keras and scikit-learn's MLP have it)
EPS_ON = ("v_hat", "v")


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
    eps_on : {"v_hat", "v"}, default "v_hat"
        The step is lr·m_hat / (sqrt(v_hat) + eps) with "v_hat" (PyTorch's), or
        lr·sqrt(1 - beta2^t)/(1 - beta1^t)·m / (sqrt(v) + eps) with "v" (Keras's and
        scikit-learn's): the same step for eps = 0, and an eps / sqrt(1 - beta2^t) on
        sqrt(v_hat) otherwise.

    Raises
    ------
    TypeError
        A hyperparameter that is not a number, or betas that are not a pair.
    ValueError
        A hyperparameter out of range or not finite, or an unknown weight_decay_scope or
        eps_on.
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
        eps_on: str = "v_hat",
    ) -> None:
        super().__init__(lr, weight_decay_scope)
        self.eps_on = check_choice(eps_on, "eps_on", EPS_ON)
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
        eps = self.eps
        if self.eps_on == "v":  # eps on sqrt(v) is eps / sqrt(1 - beta2^t) on sqrt(v_hat)
            eps = eps / (1.0 - self.betas[1] ** self.step_count) ** 0.5
        self.kernels.adam_update(
            self.params,
            self.grads,
            self.state["exp_avg"],
            self.state["exp_avg_sq"],
            step=self.step_count,
            lr=self.lr,
            beta1=self.betas[0],
            beta2=self.betas[1],
            eps=eps,
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
            "eps_on": self.eps_on,
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
    eps_on : {"v_hat", "v"}, default "v_hat"
        Where eps goes, as Adam's.

    Raises
    ------
    TypeError
        A hyperparameter that is not a number, or betas that are not a pair.
    ValueError
        A hyperparameter out of range or not finite, or an unknown weight_decay_scope or
        eps_on.
    """

    _decoupled = True

    def __init__(
        self,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        weight_decay_scope: str = "all",
        eps_on: str = "v_hat",
    ) -> None:
        super().__init__(lr, betas, eps, weight_decay, weight_decay_scope, eps_on)
