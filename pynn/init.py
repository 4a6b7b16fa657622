"""Weight initialisation: Glorot (Xavier) and He (Kaiming), uniform and normal.

Fan-in and fan-out are a dense weight's in_features and out_features. Values are drawn
in float64 from the caller's numpy Generator and rounded to the buffer's dtype, so one
seed gives the same model in float32 and float64 (up to that rounding).
"""
import math

from pynn.activations import RECTIFIERS

INITS = ("glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "zeros")


def check_init(name):
    if name not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {name!r}")
    return name


def default_init(activation):
    """He for the rectifier family (its variance argument assumes half the units are off), else Glorot."""
    if activation in RECTIFIERS:
        return "he_uniform"
    return "glorot_uniform"


def initialize(out, name, fan_in, fan_out, rng):
    """Fill `out` in place with the named initialisation."""
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
