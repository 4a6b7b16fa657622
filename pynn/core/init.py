"""Weight initialisation: the named schemes and a callable.

The named schemes (INITS), with fan-in and fan-out a dense weight's in_features and
out_features:

- "glorot_uniform", "glorot_normal": Var(w) = 2/(fan_in + fan_out) (Glorot & Bengio 2010);
- "he_uniform", "he_normal": Var(w) = 2/fan_in (He et al. 2015);
- "sklearn_uniform", "sklearn_logistic": scikit-learn's MLP: weights and biases uniform in
  ±sqrt(factor/(fan_in + fan_out)), factor 6 ("sklearn_uniform", the Glorot bound) or 2
  ("sklearn_logistic", scikit-learn's choice for the logistic activation);
- "torch_uniform": PyTorch's nn.Linear: weights and biases uniform in ±1/sqrt(fan_in);
- "zeros": every weight 0.

Biases start at zero except with the scikit-learn and PyTorch schemes (BIASED_INITS),
which draw them after the weight from the same generator, within the weight's bound.
The layers' default is `default_init`'s.

A callable init is called as init(shape, rng, dtype) for the weight: shape is the weight's
(rows, in_features), rng the model's numpy Generator, dtype the model's numpy dtype; it
returns an array-like of exactly that shape, of real numbers finite in that dtype (a
TypeError or ValueError naming `init` otherwise). Biases then start at zero.

Named values are drawn in float64 from the caller's numpy Generator and rounded to the
buffer's dtype, so one seed gives the same model in float32 and float64 (up to that
rounding).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from pynn.core.activations import SATURATING
from pynn.core.checks import check_choice

if TYPE_CHECKING:
    from numpy.typing import NDArray

INITS = (
    "glorot_uniform",
    "glorot_normal",
    "he_uniform",
    "he_normal",
    "sklearn_uniform",
    "sklearn_logistic",
    "torch_uniform",
    "zeros",
)
# The schemes that draw the biases too (the others start them at zero).
BIASED_INITS = ("sklearn_uniform", "sklearn_logistic", "torch_uniform")
# scikit-learn's factor in its bound sqrt(factor / (fan_in + fan_out)).
_SKLEARN_FACTOR = {"sklearn_uniform": 6.0, "sklearn_logistic": 2.0}

# A layer's init: a name of INITS, or a callable (shape, rng, dtype) -> array.
Init = str | Callable[..., Any]


def check_init(init: Any) -> Init:
    """init itself when it is one of INITS or a callable, else an error naming `init`.

    Parameters
    ----------
    init : str or callable
        An initialisation's name, or a callable (shape, rng, dtype) -> array.

    Returns
    -------
    str or callable

    Raises
    ------
    ValueError
        A string that is not one of INITS.
    TypeError
        Neither a string nor a callable.
    """
    if callable(init):
        return init
    if not isinstance(init, str):
        raise TypeError(
            f"init must be one of {INITS} or a callable (shape, rng, dtype) -> array, got {init!r}"
        )
    return check_choice(init, "init", INITS)


def default_init(activation: str) -> str:
    """Dense's init=None: "glorot_uniform" for tanh and sigmoid, else "torch_uniform".

    "torch_uniform" (PyTorch's nn.Linear: weights and biases uniform in ±1/sqrt(fan_in))
    beat He uniform (the default before) for ReLU networks on every data set of
    benchmarks/accuracy.py, tied Glorot and scikit-learn's formula (within 0.03 and 0.002)
    on six of them, and alone held on unscaled wine, the seventh, where the small weights
    of the linear output layer decide (so it covers that layer too); drawn biases push tanh
    and sigmoid units off their linear zone (a 2-2-1 tanh network solves XOR from 15 of
    20 seeds with them, 19 without), so these keep Glorot with zero biases
    (docs/model.md, "Initialisation").

    Parameters
    ----------
    activation : str
        The layer's activation name.

    Returns
    -------
    str
        "torch_uniform" or "glorot_uniform".
    """
    if activation in SATURATING:
        return "glorot_uniform"
    return "torch_uniform"


def initialize(
    out: NDArray[Any], name: str, fan_in: int, fan_out: int, rng: np.random.Generator
) -> NDArray[Any]:
    """Fill the weight `out` in place with the named initialisation.

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
    check_choice(name, "init", INITS)
    if name == "zeros" or out.size == 0:
        out[...] = 0
        return out
    if name in BIASED_INITS:
        bound = uniform_bound(name, fan_in, fan_out)
        out[...] = rng.uniform(-bound, bound, size=out.shape)
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


def uniform_bound(name: str, fan_in: int, fan_out: int) -> float:
    """The bound of the weights and biases of a scheme of BIASED_INITS: scikit-learn's
    sqrt(factor / (fan_in + fan_out)), or PyTorch's 1 / sqrt(fan_in).

    Parameters
    ----------
    name : str
        "sklearn_uniform" (factor 6), "sklearn_logistic" (factor 2) or "torch_uniform".
    fan_in, fan_out : int
        The weight's in_features and out_features.

    Returns
    -------
    float
    """
    if name == "torch_uniform":
        return 1.0 / math.sqrt(fan_in)
    return math.sqrt(_SKLEARN_FACTOR[name] / (fan_in + fan_out))


def initialize_affine(
    weight: NDArray[Any],
    bias: NDArray[Any] | None,
    init: Init,
    fan_in: int,
    fan_out: int,
    rng: np.random.Generator,
) -> None:
    """Fill a layer's weight and bias in place: the weight by `init`, then the bias (drawn
    by the schemes of BIASED_INITS, else zero).

    Parameters
    ----------
    weight : numpy.ndarray
        The weight to fill, (rows, in_features).
    bias : numpy.ndarray or None
        The bias to fill, (rows,), or None for a layer without one.
    init : str or callable
        One of INITS, or a callable (shape, rng, dtype) -> array for the weight.
    fan_in, fan_out : int
        The weight's in_features and out_features.
    rng : numpy.random.Generator
        The source of the values.

    Raises
    ------
    TypeError, ValueError
        A bad init, or what a callable init returned (wrong shape, not real numbers, NaN or
        infinity in the weight's dtype).
    """
    if callable(init):
        weight[...] = _called(init, weight.shape, rng, weight.dtype)
    else:
        initialize(weight, init, fan_in, fan_out, rng)
    if bias is None:
        return
    if init in BIASED_INITS and bias.size:
        bound = uniform_bound(str(init), fan_in, fan_out)
        bias[...] = rng.uniform(-bound, bound, size=bias.shape)
    else:
        bias[...] = 0


def _called(
    init: Callable[..., Any], shape: tuple[int, ...], rng: np.random.Generator, dtype: Any
) -> NDArray[Any]:
    """What init(shape, rng, dtype) returned, checked and cast to dtype."""
    values = init(shape, rng, dtype)
    try:
        array = np.asarray(values)
    except (TypeError, ValueError) as error:
        raise TypeError(f"init returned {type(values).__name__}, not an array: {error}") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(f"init must return real numbers, got an array of dtype {array.dtype}")
    if array.shape != shape:
        raise ValueError(f"init returned an array of shape {array.shape}, expected {shape}")
    with np.errstate(over="ignore", invalid="ignore"):
        cast = array.astype(dtype)
    if not np.isfinite(cast).all():
        raise ValueError(f"init returned NaN or infinity (in {np.dtype(dtype).name})")
    return cast
