"""The layers of a pynn.Sequential model, and rebuilding one from its saved description."""

from __future__ import annotations

from typing import Any

from pynn.core.activations import PARAM_DEFAULTS
from pynn.core.layers.activation import (
    ELU,
    Activation,
    Identity,
    LeakyReLU,
    ReLU,
    Sigmoid,
    Sign,
    Softplus,
    Step,
    Tanh,
)
from pynn.core.layers.base import Layer
from pynn.core.layers.dense import Dense
from pynn.core.layers.dropout import Dropout
from pynn.core.layers.maxout import Maxout
from pynn.core.layers.prelu import PReLU
from pynn.core.layers.standardize import Standardize

_BY_TYPE: dict[str, Any] = {
    "Dense": Dense,
    "Activation": Activation,
    "PReLU": PReLU,
    "Maxout": Maxout,
    "Standardize": Standardize,
    "Dropout": Dropout,
}


# Activation layers come back as their named class (Tanh(), LeakyReLU(0.2)), so a loaded
# model reads as the one that was saved.
_ACTIVATION_CLASSES: dict[str, Any] = {
    "identity": Identity,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "softplus": Softplus,
    "elu": ELU,
    "step": Step,
    "sign": Sign,
}


def layer_from_config(config: dict[str, Any]) -> Layer:
    """The layer described by `Layer.config()`.

    Activation layers come back as their named class (Tanh(), LeakyReLU(0.2)).

    Parameters
    ----------
    config : dict
        A layer's config(): {"type": the class name, and its constructor's arguments}.

    Returns
    -------
    Layer
        A new layer (without parameters until a model builds it).

    Raises
    ------
    ValueError
        Not a pynn layer description, or arguments the layer refuses (TypeError too).
    """
    if not isinstance(config, dict) or config.get("type") not in _BY_TYPE:
        raise ValueError(f"not a pynn layer description: {config!r}")
    args = {k: v for k, v in config.items() if k != "type"}
    if config["type"] == "Dense" and args.get("out_features") is None:
        # a description names both widths (Dense(units) alone is for code, not for files)
        raise ValueError(f"a Dense layer's description needs out_features: {config!r}")
    if (
        config["type"] == "Activation"
        and set(args) == {"activation", "param"}
        and args["activation"] in _ACTIVATION_CLASSES
    ):
        cls = _ACTIVATION_CLASSES[args["activation"]]
        if args["param"] is None:
            return cls()
        if args["activation"] in PARAM_DEFAULTS:
            return cls(args["param"])
    return _BY_TYPE[config["type"]](**args)


__all__: list[str] = [
    "Activation",
    "Dense",
    "Dropout",
    "ELU",
    "Identity",
    "Layer",
    "LeakyReLU",
    "Maxout",
    "PReLU",
    "ReLU",
    "Sigmoid",
    "Sign",
    "Softplus",
    "Standardize",
    "Step",
    "Tanh",
    "layer_from_config",
]
