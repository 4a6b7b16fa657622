"""Dense: a = f(x Wᵀ + b), the activation fused into the matrix kernels."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pynn.core.activations import HARD, check_activation, saved_by
from pynn.core.checks import positive_int
from pynn.core.init import check_init, default_init
from pynn.core.layers.affine import AffineLayer


def _one_width_hint(in_features: Any, activation: str) -> str:
    """The error for Keras's Dense(units, activation) given by position."""
    return (
        f"Dense's second argument is out_features, got {activation!r}: name the activation, "
        f"Dense({in_features!r}, activation={activation!r}) (its input width is taken "
        f"from the layer before it, or from X at the first fit), or give both widths, "
        f"Dense(n, {in_features!r}, activation={activation!r})"
    )


class Dense(AffineLayer):
    """A fully connected layer: out = activation(x @ weight.T + bias).

    weight is (out_features, in_features) and bias (out_features,), as in PyTorch's
    `nn.Linear`. `init` is a named scheme of pynn.core.init.INITS or a callable; by default
    PyTorch's ("torch_uniform": weights and biases uniform in ±1/sqrt(in_features)), but
    for tanh and sigmoid Glorot uniform with zero biases; docs/model.md, "Initialisation",
    says why.
    "step" and "sign" are for inference only (see `Sequential.harden`).

    Parameters
    ----------
    in_features : int or None
        Input width (>= 1). Given alone, as Keras's Dense(units), it is the output width
        instead: Dense(32) takes the width the layer before it gives, or X's at the
        model's first fit (docs/model.md, "Layers"); None is the same.
    out_features : int or None, default None
        Output width (>= 1). Dense(32, "relu") raises a TypeError that names the call
        (the activation is the third argument).
    activation : str or None, default None
        A named activation of docs/kernels.md ("relu", "tanh", "sigmoid", "leaky_relu",
        "softplus", "elu", "step", "sign", ...), fused into the layer; None is the
        identity.
    bias : bool, default True
        Whether the layer has a bias.
    init : str, callable or None, default None
        One of pynn.core.init.INITS ("glorot_uniform", "glorot_normal", "he_uniform",
        "he_normal", "sklearn_uniform", "sklearn_logistic", "torch_uniform", "zeros"), or a
        callable init(shape, rng, dtype) returning the weight: shape (out_features,
        in_features), rng a numpy Generator, dtype the model's (biases then start at
        zero); None is "glorot_uniform" for tanh and sigmoid, else "torch_uniform".
    activation_param : float or None, default None
        The activation's parameter (leaky_relu's negative slope, elu's alpha); None is
        its default.

    Raises
    ------
    TypeError
        A width that is not an integer, a bias that is not a bool, or an init that is
        neither a string nor a callable.
    ValueError
        A width < 1, or an unknown activation or init, or a parameter for an activation
        that takes none. (A callable init is checked when the model draws the weights.)
    """

    def __init__(
        self,
        in_features: int | None,
        out_features: int | None = None,
        activation: str | None = None,
        bias: bool = True,
        init: str | Callable[..., Any] | None = None,
        activation_param: float | None = None,
    ) -> None:
        if isinstance(out_features, str):
            raise TypeError(_one_width_hint(in_features, out_features))
        if out_features is None:  # Dense(units), as Keras's: the input width comes later
            in_features, out_features = None, in_features
        if in_features is not None:
            in_features = positive_int(in_features, "in_features")
        self.in_features = in_features
        self.out_features = positive_int(out_features, "out_features")
        self.activation = check_activation(activation, activation_param)
        self.activation_param = None if activation_param is None else float(activation_param)
        if not isinstance(bias, bool):
            raise TypeError(f"bias must be True or False, got {bias!r}")
        self.bias = bias
        self.init = check_init(default_init(self.activation) if init is None else init)
        self.differentiable = self.activation not in HARD
        self._saves = saved_by(self.activation, self.activation_param)

    def buffer_shapes(
        self, n: int, training: bool, input_grad: bool
    ) -> dict[str, tuple[tuple[int, ...], Any]]:
        shapes = super().buffer_shapes(n, training, input_grad)
        if training and self._saves == "input":
            shapes["z"] = ((n, self.out_features), None)
        return shapes

    def record(self, buf: dict[str, Any], training: bool) -> dict[str, Any]:
        return {
            "kind": "dense",
            **self._affine_record(training),
            "activation": self.activation,
            "param": self.activation_param,
            "out": buf["out"],
            "z": buf.get("z") if training else None,
            "dx": buf.get("dx"),
        }

    def config(self) -> dict[str, Any]:
        return {
            "type": "Dense",
            # a Dense(units) records the width it was built for (None before)
            "in_features": self.__dict__.get("built_in_features", self.in_features),
            "out_features": self.out_features,
            "activation": None if self.activation == "identity" else self.activation,
            "bias": self.bias,
            "init": self.init,
            "activation_param": self.activation_param,
        }
