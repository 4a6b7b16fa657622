"""PReLU: x if x > 0 else a·x, with the slope a learned (He et al. 2015)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pynn.core.checks import finite_number, positive_int
from pynn.core.layers.base import Layer

if TYPE_CHECKING:
    import numpy as np


class PReLU(Layer):
    """Parametric ReLU with `num_parameters` slopes: 1 shared by every feature, or one per
    feature (then it must equal the incoming width). As PyTorch's `nn.PReLU`, the slopes
    start at `init` and are named `weight`.

    Parameters
    ----------
    num_parameters : int, default 1
        1 (one slope shared by every feature) or the incoming width (one per feature).
    init : float, default 0.25
        The slopes' initial value (finite).

    Raises
    ------
    TypeError
        A count that is not an integer, or an init that is not a number.
    ValueError
        A count < 1, or an init that is not finite.
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25) -> None:
        self.num_parameters = positive_int(num_parameters, "num_parameters")
        self.init = finite_number(init, "init")

    def build(self, in_features: int) -> int:
        if self.num_parameters not in (1, in_features):
            raise ValueError(
                f"{self!r} has {self.num_parameters} slopes but receives "
                f"{in_features} features: use 1 (shared) or {in_features}"
            )
        return super().build(in_features)

    def parameter_shapes(self) -> list[tuple[str, tuple[int, ...]]]:
        return [("weight", (self.num_parameters,))]

    def reset_parameters(self, rng: np.random.Generator) -> None:
        self.params["weight"][...] = self.init

    def record(self, buf: dict[str, Any], training: bool) -> dict[str, Any]:
        return {
            "kind": "prelu",
            "weight": self.params["weight"],
            "dweight": self.grads["weight"] if training else None,
            "out": buf["out"],
            "dx": buf.get("dx"),
        }

    def config(self) -> dict[str, Any]:
        return {"type": "PReLU", "num_parameters": self.num_parameters, "init": self.init}
