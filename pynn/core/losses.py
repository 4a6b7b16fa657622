"""Losses: everything pynn keys on a loss, in one record per loss (LOSSES).

Every loss is the mean over samples of a per-sample loss summed over outputs
(docs/kernels.md). The classification losses read the model's last layer as logits and
apply their nonlinearity themselves, fused with the loss for stability:

name                    output the model should end in      predict_proba
"mse"                   identity (regression)               (not a classifier)
"l1"                    identity (regression)               (not a classifier)
"binary_cross_entropy"  logits; sigmoid applied by the loss sigmoid(logits)
"softmax_cross_entropy" logits; softmax applied by the loss softmax(logits)
"hinge"                 a score (identity or tanh)          (no probabilities)
"poisson"               the log-rate z (identity)           (not a classifier; predict
                                                            returns the rate exp(z))

Who reads the record: the training step and evaluation (kernel, grad_name), the fused
whole-step kernel (kernel: the Network takes the kernel's name as its loss code),
pynn.core.targets (target_kinds, signed_targets), pynn.core.persistence (target_kinds,
signed_targets: a saved model's targets must go with its loss), pynn.core.harden
(hard_replaces, hard_after) and predict_proba (proba).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

__all__ = ["LOSSES", "Loss", "get_loss"]

if TYPE_CHECKING:
    from types import ModuleType

    from numpy.typing import NDArray


class Loss:
    """One entry of LOSSES.

    Parameters
    ----------
    name : str
        The loss's name, the key of LOSSES (fit(loss=name)).
    kernel : str
        The function name in pynn._kernels and pynn.reference.
    grad_name : str
        That function's keyword for the gradient output ("dpred" or "dlogits").
    proba : {"softmax", "sigmoid"} or None
        The output nonlinearity predict_proba applies, None for no probabilities.
    target_kinds : tuple of str
        The pynn.core.targets kinds it trains: (1-D y's kind, 2-D y's kind), or ("values",)
        or ("rates",) for a regression loss.
    signed_targets : bool, default False
        The kernel reads -1/+1 targets, not 0/1.
    hard_replaces : dict of str to str or None, default None
        For Sequential.harden: {soft activation of the last layer: hard activation
        replacing it}.
    hard_after : str or None, default None
        For Sequential.harden: the hard activation added after any other last layer (None:
        harden refuses).

    Attributes
    ----------
    logged_bounds : tuple of two floats or None
        The range fit clips each row's loss to in the training logs (history_["loss"]),
        set by with_logged_bounds; None: not clipped. The gradient is never clipped.
    unbounded : Loss
        The loss itself, or for a with_logged_bounds copy the loss it copies (a copy of a
        loss of LOSSES is fused into the network's step as that loss is).
    """

    def __init__(
        self,
        name: str,
        kernel: str,
        grad_name: str,
        proba: str | None,
        target_kinds: tuple[str, ...],
        *,
        signed_targets: bool = False,
        hard_replaces: dict[str, str] | None = None,
        hard_after: str | None = None,
    ) -> None:
        self.name = name
        self.kernel = kernel  # function name in pynn._kernels / pynn.reference
        self.grad_name = grad_name  # its keyword for the gradient output
        self.proba = proba  # "softmax", "sigmoid" or None
        # The pynn.core.targets kinds it trains: (1-D y's kind, 2-D y's kind), or ("values",)
        # or ("rates",) (regression)
        self.target_kinds = target_kinds
        self.signed_targets = signed_targets  # the kernel reads -1/+1 targets, not 0/1
        # Sequential.harden: {soft activation of the last layer: hard activation replacing
        # it}, and the hard activation to add after any other last layer (None: refuse)
        self.hard_replaces = {} if hard_replaces is None else hard_replaces
        self.hard_after = hard_after
        self.logged_bounds: tuple[float, float] | None = None
        self.unbounded = self  # with_logged_bounds' copies keep the loss they copy

    def with_logged_bounds(self, low: float, high: float) -> Loss:
        """A copy of this loss whose training logs clip each row's loss to [low, high].

        scikit-learn's MLP logs its log-loss with the probabilities clipped to [eps, 1 -
        eps], that is each row's loss to [-log(1 - eps), -log(eps)], while its gradient is
        the unclipped loss's; pynn.sklearn trains with such a copy so that its stopping rule
        reads the same losses. Only the logs change: the step, its gradient and the
        divergence check use the loss itself, and a saved model keeps the loss's name only.

        Parameters
        ----------
        low, high : float
            The bounds, low <= high.

        Returns
        -------
        Loss
            A new Loss; this one is unchanged.
        """
        if not low <= high:
            raise ValueError(f"with_logged_bounds needs low <= high, got {low!r} and {high!r}")
        bounded = copy.copy(self)
        bounded.logged_bounds = (float(low), float(high))
        return bounded

    @property
    def classifies(self) -> bool:
        """True for the classification losses (their targets are labels)."""
        return self.target_kinds not in (("values",), ("rates",))

    def __call__(
        self,
        kernels: ModuleType,
        out: NDArray[Any],
        target: NDArray[Any],
        *,
        grad: NDArray[Any] | None = None,
        sample_loss: NDArray[Any] | None = None,
        sample_weight: NDArray[Any] | None = None,
    ) -> float:
        """The mean loss as a float, sum_i w_i l_i / sum_i w_i with sample_weight (of
        out's dtype); the gradient w.r.t. `out` is written into `grad` when given."""
        loss, _ = getattr(kernels, self.kernel)(
            out,
            target,
            sample_weight,
            grad=grad is not None,
            sample_loss=sample_loss,
            **{self.grad_name: grad},
        )
        return loss

    def probabilities(self, kernels: ModuleType, logits: NDArray[Any]) -> NDArray[Any]:
        """The loss's output nonlinearity applied to `logits`: softmax rows or sigmoids.

        Parameters
        ----------
        kernels : module
            The backend's kernels (pynn._kernels or pynn.reference).
        logits : numpy.ndarray of shape (n_samples, n_outputs)
            The model's outputs.

        Returns
        -------
        numpy.ndarray of shape (n_samples, n_outputs)
            A new array of probabilities.

        Raises
        ------
        ValueError
            A loss without probabilities (mse, l1, hinge).
        """
        if self.proba == "softmax":
            return kernels.softmax(logits)
        if self.proba == "sigmoid":
            return kernels.activation_forward(logits, "sigmoid")
        raise ValueError(
            f"loss {self.name!r} gives no probabilities: use predict() or decision_function()"
        )

    def __repr__(self):
        if self.logged_bounds is not None:
            return f"Loss({self.name!r}, logged_bounds={self.logged_bounds})"
        return f"Loss({self.name!r})"


LOSSES = {
    "mse": Loss(
        "mse", "mse", "dpred", None, ("values",), hard_replaces={"tanh": "sign", "sigmoid": "step"}
    ),
    "l1": Loss(
        "l1", "l1", "dpred", None, ("values",), hard_replaces={"tanh": "sign", "sigmoid": "step"}
    ),
    "binary_cross_entropy": Loss(
        "binary_cross_entropy",
        "sigmoid_binary_cross_entropy",
        "dlogits",
        "sigmoid",
        ("binary", "indicator"),
        hard_replaces={"identity": "step"},
        hard_after="step",
    ),
    # softmax's hard counterpart is the argmax that predict takes of the logits already
    "softmax_cross_entropy": Loss(
        "softmax_cross_entropy",
        "softmax_cross_entropy",
        "dlogits",
        "softmax",
        ("labels", "probabilities"),
    ),
    "hinge": Loss(
        "hinge",
        "hinge",
        "dpred",
        None,
        ("binary", "indicator"),
        signed_targets=True,
        hard_replaces={"identity": "sign", "tanh": "sign"},
        hard_after="sign",
    ),
    # half the Poisson deviance of the rate exp(z); no hard output (harden refuses)
    "poisson": Loss("poisson", "poisson", "dpred", None, ("rates",)),
}


def get_loss(loss: str | Loss) -> Loss:
    """The Loss named `loss` (or `loss` itself when it is one).

    Parameters
    ----------
    loss : str or Loss
        A name of LOSSES, or a Loss.

    Returns
    -------
    Loss

    Raises
    ------
    ValueError
        Not a name of LOSSES.
    """
    if isinstance(loss, Loss):
        return loss
    if not isinstance(loss, str) or loss not in LOSSES:
        raise ValueError(f"loss must be one of {tuple(LOSSES)}, got {loss!r}")
    return LOSSES[loss]
