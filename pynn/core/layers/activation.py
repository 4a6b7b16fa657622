"""Activation layers: an elementwise nonlinearity with no parameters."""

from __future__ import annotations

from typing import Any

from pynn.core.activations import HARD, PARAM_DEFAULTS, check_activation, saved_by
from pynn.core.layers.base import Layer


class Activation(Layer):
    """Applies a named activation of docs/kernels.md elementwise ("relu", "tanh", ...).

    Usually fused into the Dense layer before it instead (`Dense(..., activation="relu")`),
    which saves a pass over memory; this layer is for models that want it separate.

    Parameters
    ----------
    activation : str
        A named activation of docs/kernels.md ("identity", "sigmoid", "tanh", "relu",
        "leaky_relu", "softplus", "elu", "step", "sign", ...). "step" and "sign" are for
        inference only.
    param : float or None, default None
        The activation's parameter (leaky_relu's negative slope, elu's alpha); None is its
        default.

    Raises
    ------
    ValueError
        An unknown activation, or a parameter for one that takes none.
    """

    def __init__(self, activation: str, param: float | None = None) -> None:
        self.activation = check_activation(activation, param, "param")
        self.param = None if param is None else float(param)
        self.differentiable = self.activation not in HARD
        self._saves = saved_by(self.activation, self.param)

    def record(self, buf: dict[str, Any], training: bool) -> dict[str, Any]:
        return {
            "kind": "activation",
            "activation": self.activation,
            "param": self.param,
            "out": buf["out"],
            "dx": buf.get("dx"),
        }

    def config(self) -> dict[str, Any]:
        return {"type": "Activation", "activation": self.activation, "param": self.param}

    def __repr__(self):
        if type(self) is Activation:
            return super().__repr__()
        return (
            f"{type(self).__name__}()"
            if self.param is None
            else f"{type(self).__name__}({self.param!r})"
        )


class Identity(Activation):
    """The identity, f(z) = z (an Activation layer)."""

    def __init__(self) -> None:
        super().__init__("identity")


class Sigmoid(Activation):
    """The logistic sigmoid, 1 / (1 + exp(-z)) (an Activation layer)."""

    def __init__(self) -> None:
        super().__init__("sigmoid")


class Tanh(Activation):
    """The hyperbolic tangent (an Activation layer)."""

    def __init__(self) -> None:
        super().__init__("tanh")


class ReLU(Activation):
    """The rectifier, max(z, 0) (an Activation layer)."""

    def __init__(self) -> None:
        super().__init__("relu")


class LeakyReLU(Activation):
    """The leaky rectifier, z if z > 0 else negative_slope * z (an Activation layer).

    Parameters
    ----------
    negative_slope : float, default 0.01
        The slope for z <= 0 (pynn.core.activations.PARAM_DEFAULTS["leaky_relu"]).
    """

    def __init__(self, negative_slope: float = PARAM_DEFAULTS["leaky_relu"]) -> None:
        super().__init__("leaky_relu", negative_slope)


class Softplus(Activation):
    """Softplus, log(1 + exp(z)) (an Activation layer)."""

    def __init__(self) -> None:
        super().__init__("softplus")


class ELU(Activation):
    """The exponential linear unit, z if z > 0 else alpha * (exp(z) - 1) (an Activation
    layer).

    Parameters
    ----------
    alpha : float, default 1.0
        The scale for z <= 0 (pynn.core.activations.PARAM_DEFAULTS["elu"]).
    """

    def __init__(self, alpha: float = PARAM_DEFAULTS["elu"]) -> None:
        super().__init__("elu", alpha)


class Step(Activation):
    """The unit step (1 if z > 0 else 0): for inference only, it has no useful derivative."""

    def __init__(self) -> None:
        super().__init__("step")


class Sign(Activation):
    """Signum: for inference only, it has no useful derivative."""

    def __init__(self) -> None:
        super().__init__("sign")
