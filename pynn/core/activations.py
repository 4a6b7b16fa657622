"""The activations, one catalogue: the layers, the initialisers, the command line and the
scikit-learn estimators read it, and nothing else of the library spells the names out.

The names, in the order of the C enum pynn_activation (csrc/pynn.h), are the kernels'
(pynn._kernels.ACTIVATIONS), and so is what each derivative reads (`saved_by`). Here is
what only the Python side decides: which activations are for inference only, which take a
parameter (and its default), and which initialiser suits them. pynn.reference keeps its
own list, as the oracle the tests hold the kernels to.
"""

from __future__ import annotations

from pynn import _kernels
from pynn.core.checks import finite_number

NAMES = tuple(_kernels.ACTIVATIONS)
# No useful derivative: for inference only (Sequential.harden puts them in; fit refuses them).
HARD = ("step", "sign")
# What a hidden layer may use (the command line's --activation, the estimators' activation).
TRAINABLE = tuple(name for name in NAMES if name not in HARD)
# The activations that take a parameter, and its default (the kernels fill in the same
# default for None).
PARAM_DEFAULTS = {"leaky_relu": 0.01, "elu": 1.0}
# The saturating activations: their default initialisation keeps zero biases, the others
# draw them (pynn.core.init.default_init).
SATURATING = ("sigmoid", "tanh")


def check_activation(
    activation: str | None, param: float | None, param_name: str = "activation_param"
) -> str:
    """Normalise an activation name (None means identity) and check its parameter.

    Parameters
    ----------
    activation : str or None
        A name of NAMES, or None for "identity".
    param : float or None
        The activation's parameter (only for those of PARAM_DEFAULTS; finite).
    param_name : str, default "activation_param"
        The parameter's name in error messages.

    Returns
    -------
    str
        The activation's name.

    Raises
    ------
    ValueError
        An unknown name, a parameter for an activation that takes none, or a parameter
        that is not finite (TypeError: not a number).
    """
    name = "identity" if activation is None else activation
    if not isinstance(name, str) or name not in NAMES:
        hint = (
            " (softmax is applied by loss='softmax_cross_entropy': end the model in logits)"
            if name == "softmax"
            else ""
        )
        raise ValueError(f"activation must be None or one of {NAMES}, got {activation!r}{hint}")
    if param is not None and name not in PARAM_DEFAULTS:
        raise ValueError(f"{param_name} is only for 'leaky_relu' and 'elu', not {name!r}")
    if param is not None:
        finite_number(param, param_name)
    return name


def saved_by(activation: str, param: float | None) -> str | None:
    """'output', 'input' or None: what the backward pass of the activation reads (None for
    the hard ones too, which have no backward pass).

    Parameters
    ----------
    activation : str
        A checked name (check_activation).
    param : float or None
        Its parameter.

    Returns
    -------
    {"output", "input"} or None
    """
    return None if activation in HARD else _kernels.activation_saves(activation, param)
