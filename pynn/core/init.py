"""Weight initialisation: Glorot (Xavier) and He (Kaiming), uniform and normal.

Fan-in and fan-out are a dense weight's in_features and out_features. Values are drawn
in float64 from the caller's numpy Generator and rounded to the buffer's dtype, so one
seed gives the same model in float32 and float64 (up to that rounding).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from pynn.core.activations import RECTIFIERS
from pynn.core.checks import check_choice

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

INITS = ("glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "zeros")


def check_init(name: str) -> str:
    """name itself when it is one of INITS, else ValueError.

    Parameters
    ----------
    name : str
        An initialisation's name.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        Not one of INITS.
    """
    return check_choice(name, "init", INITS)


def default_init(activation: str) -> str:
    """He for the rectifier family (its variance argument assumes half the units are off),
    else Glorot.

    Parameters
    ----------
    activation : str
        The layer's activation name.

    Returns
    -------
    str
        "he_uniform" or "glorot_uniform".
    """
    if activation in RECTIFIERS:
        return "he_uniform"
    return "glorot_uniform"


def initialize(
    out: NDArray[Any], name: str, fan_in: int, fan_out: int, rng: np.random.Generator
) -> NDArray[Any]:
    """Fill `out` in place with the named initialisation.

    Parameters
    ----------
    out : numpy.ndarray
        The weight to fill.
    name : str
        One of INITS.
    fan_in, fan_out : int
        The weight's in_features and out_features.
    rng : numpy.random.Generator
        The source of the values (drawn in float64).

    Returns
    -------
    numpy.ndarray
        `out`.

    Raises
    ------
    ValueError
        `name` is not one of INITS.
    """
    check_init(name)
    if name == "zeros" or out.size == 0:
        out[...] = 0
        return out
    glorot = name.startswith("glorot")
    # Var(w) = 2/(fan_in + fan_out) (Glorot & Bengio 2010) or 2/fan_in (He et al. 2015).
    variance = 2.0 / (fan_in + fan_out) if glorot else 2.0 / fan_in
    if name.endswith("uniform"):
        limit = math.sqrt(3.0 * variance)
        out[...] = rng.uniform(-limit, limit, size=out.shape)
    else:
        out[...] = rng.normal(0.0, math.sqrt(variance), size=out.shape)
    return out
