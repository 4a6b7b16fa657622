"""Small synthetic data sets: the course notes' examples and the usual test problems.

Every generator takes `random_state` (None, an int or a np.random.Generator: the same int
gives the same data; a Generator is drawn from and advanced, so two calls with one Generator
give two different samples) and returns NumPy arrays (X, y) with float64 features X of
shape (n_samples, n_features).
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from pynn.core.checks import check_choice, non_negative_number, probability
from pynn.core.random_state import check_random_state

if TYPE_CHECKING:
    from pynn.core.random_state import RandomState

RED_BLUE_LABELS = ("names", "binary", "sign")


def make_red_blue(
    n_samples: int = 200,
    *,
    label_noise: float = 0.0,
    labels: str = "names",
    random_state: RandomState = None,
) -> tuple[NDArray[np.float64], NDArray[Any]]:
    """The notes' 2-D red/blue classifier (notes 000 and 003): points of the square
    [-1, 1]², red above the curve x2 = 0.5·sin(π·x1) and blue below it, a boundary no
    straight line follows. (The notes' picture is missing; this curve is our choice.)

    X: (n_samples, 2) float64, uniform on the square. y: (n_samples,), by `labels`:
    "names" -> str "red" / "blue"; "binary" -> int64 1 (red) / 0 (blue), as the notes'
    unit-step output; "sign" -> int64 +1 (red) / -1 (blue), as the notes' signum output.
    `label_noise` is the probability that each label is flipped to the other colour.

    Parameters
    ----------
    n_samples : int, default 200
        The number of samples (>= 1).
    label_noise : float, default 0.0
        The probability, in [0, 1], that a label is flipped.
    labels : {"names", "binary", "sign"}, default "names"
        How y names the colours.
    random_state : None, int or numpy.random.Generator, default None
        The same int gives the same data; a Generator is drawn from and advanced.

    Returns
    -------
    X : numpy.ndarray of shape (n_samples, 2), float64
    y : numpy.ndarray of shape (n_samples,)
        str or int64, by `labels`.

    Raises
    ------
    TypeError, ValueError
        An argument of the wrong type or out of range.
    """
    n_samples = _check_n_samples(n_samples)
    label_noise = probability(label_noise, "label_noise")
    labels = check_choice(labels, "labels", RED_BLUE_LABELS)
    rng = _generator(random_state)
    X = rng.uniform(-1.0, 1.0, size=(n_samples, 2))
    red = X[:, 1] > 0.5 * np.sin(np.pi * X[:, 0])
    flipped = rng.random(n_samples) < label_noise  # drawn always: X is the same for any noise
    red ^= flipped
    if labels == "names":
        return X, np.where(red, "red", "blue")
    if labels == "binary":
        return X, red.astype(np.int64)
    return X, np.where(red, 1, -1).astype(np.int64)


def make_semicircle_to_parabola(
    n_samples: int = 100,
    *,
    noise: float = 0.0,
    angles: str = "even",
    random_state: RandomState = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Notes 003, Example #2: a regression from the upper unit semicircle x1² + x2² = 1 to
    the parabola y2 = y1². Point θ in [0, π] maps x = (cos θ, sin θ) to y = (cos θ, cos² θ).

    X: (n_samples, 2) float64; Y: (n_samples, 2) float64, plus Gaussian noise of standard
    deviation `noise` on each target coordinate (X stays on the semicircle). `angles`:
    "even" spaces θ evenly from 0 to π (ordered; random_state then only drives the noise),
    "random" draws θ uniformly.

    Parameters
    ----------
    n_samples : int, default 100
        The number of samples (>= 1).
    noise : float, default 0.0
        The standard deviation of the targets' Gaussian noise (>= 0).
    angles : {"even", "random"}, default "even"
        How θ is chosen.
    random_state : None, int or numpy.random.Generator, default None
        The same int gives the same data; a Generator is drawn from and advanced.

    Returns
    -------
    X : numpy.ndarray of shape (n_samples, 2), float64
    Y : numpy.ndarray of shape (n_samples, 2), float64

    Raises
    ------
    TypeError, ValueError
        An argument of the wrong type or out of range.
    """
    n_samples = _check_n_samples(n_samples)
    noise = non_negative_number(noise, "noise")
    if angles not in ("even", "random"):
        raise ValueError(f"angles must be 'even' or 'random', got {angles!r}")
    rng = _generator(random_state)
    if angles == "even":
        theta = np.linspace(0.0, np.pi, n_samples)
    else:
        theta = rng.uniform(0.0, np.pi, size=n_samples)
    X = np.column_stack([np.cos(theta), np.sin(theta)])
    Y = np.column_stack([np.cos(theta), np.cos(theta) ** 2])
    Y += noise * rng.standard_normal(Y.shape)
    return X, Y


def make_polynomial(
    n_samples: int = 100,
    *,
    coef: ArrayLike | None = None,
    degree: int | None = None,
    noise: float = 0.1,
    x_range: tuple[float, float] = (-1.0, 1.0),
    return_coef: bool = False,
    random_state: RandomState = None,
) -> tuple[NDArray[np.float64], ...]:
    """Notes 001, polynomial regression: y = f(x) + ε with f(x) = b + w1·x + ... + wM·x^M.

    `coef` lists the coefficients from the constant up: coef[k] multiplies x**k, so
    coef = [b, w1, ..., wM]. Without coef, degree + 1 coefficients (degree 3 by default)
    are drawn from a standard normal. x is uniform on `x_range`; ε is Gaussian with standard
    deviation `noise`.

    Returns X: (n_samples, 1) float64 and y: (n_samples,) float64, and the float64
    coefficients too when `return_coef` is true.

    Parameters
    ----------
    n_samples : int, default 100
        The number of samples (>= 1).
    coef : array_like or None, default None
        The coefficients [b, w1, ..., wM] (finite), or None to draw them.
    degree : int or None, default None
        The degree M of drawn coefficients (3 when None); with coef, it must agree.
    noise : float, default 0.1
        The standard deviation of ε (>= 0).
    x_range : (float, float), default (-1.0, 1.0)
        The interval x is drawn from (finite, low < high).
    return_coef : bool, default False
        Also return the coefficients.
    random_state : None, int or numpy.random.Generator, default None
        The same int gives the same data; a Generator is drawn from and advanced.

    Returns
    -------
    X : numpy.ndarray of shape (n_samples, 1), float64
    y : numpy.ndarray of shape (n_samples,), float64
    coef : numpy.ndarray of shape (M + 1,), float64
        Only with return_coef.

    Raises
    ------
    TypeError, ValueError
        An argument of the wrong type or out of range, or coef and degree disagreeing.
    """
    n_samples = _check_n_samples(n_samples)
    noise = non_negative_number(noise, "noise")
    low, high = _check_range(x_range, "x_range")
    if degree is not None and (
        isinstance(degree, bool) or not isinstance(degree, numbers.Integral) or degree < 0
    ):
        raise ValueError(f"degree must be a non-negative int, got {degree!r}")
    rng = _generator(random_state)
    if coef is None:
        coef = rng.standard_normal(1 + (3 if degree is None else int(degree)))
    else:
        coef = _check_finite_array(coef, "coef", ndim=1)
        if coef.size == 0:
            raise ValueError("coef must hold at least one coefficient (the constant)")
        if degree is not None and degree != coef.size - 1:
            raise ValueError(
                f"degree={degree} disagrees with coef, which has {coef.size} "
                f"coefficients (degree {coef.size - 1}); give one of them"
            )
    x = rng.uniform(low, high, size=(n_samples, 1))
    # Summed in the notes' order, x·w1 + x²·w2 + ... + x^M·wM + b.
    y = coef[1] * x[:, 0] if coef.size > 1 else np.zeros(n_samples)
    for k in range(2, coef.size):
        y = y + coef[k] * x[:, 0] ** k
    y = y + coef[0]
    y = y + noise * rng.standard_normal(n_samples)
    return (x, y, coef) if return_coef else (x, y)


def make_spirals(
    n_samples: int = 200,
    *,
    noise: float = 0.0,
    turns: float = 1.5,
    shuffle: bool = True,
    random_state: RandomState = None,
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Two interleaved spirals in the plane, one per class (a classic problem no shallow
    linear boundary solves). Arm k (k = 0, 1) is the set of points r·(cos φ, sin φ) with
    r = t, φ = 2π·turns·t + k·π, t in [0, 1]: the second arm is the first turned by half
    a turn. t is drawn so that points spread evenly along the arms (t = √u, u uniform);
    then Gaussian noise of standard deviation `noise` is added to both coordinates.

    X: (n_samples, 2) float64, within the unit disc when noise = 0. y: (n_samples,) int64
    arm index 0 or 1, n_samples // 2 of class 0 and the rest class 1, in random order when
    `shuffle` (else class 0 first).

    Parameters
    ----------
    n_samples : int, default 200
        The number of samples (>= 1).
    noise : float, default 0.0
        The standard deviation of the Gaussian noise on each coordinate (>= 0).
    turns : float, default 1.5
        The turns each arm makes (>= 0).
    shuffle : bool, default True
        Samples in random order, else class 0 first.
    random_state : None, int or numpy.random.Generator, default None
        The same int gives the same data; a Generator is drawn from and advanced.

    Returns
    -------
    X : numpy.ndarray of shape (n_samples, 2), float64
    y : numpy.ndarray of shape (n_samples,), int64

    Raises
    ------
    TypeError, ValueError
        An argument of the wrong type or out of range.
    """
    n_samples = _check_n_samples(n_samples)
    noise = non_negative_number(noise, "noise")
    turns = non_negative_number(turns, "turns")
    rng = _generator(random_state)
    y = np.repeat(np.array([0, 1], dtype=np.int64), [n_samples // 2, n_samples - n_samples // 2])
    if shuffle:
        y = rng.permutation(y)
    t = np.sqrt(rng.random(n_samples))
    phi = 2.0 * np.pi * turns * t + np.pi * y
    X = np.column_stack([t * np.cos(phi), t * np.sin(phi)])
    X += noise * rng.standard_normal(X.shape)
    return X, y


def make_blobs(
    n_samples: int = 100,
    *,
    centers: int | ArrayLike = 3,
    cluster_std: float | ArrayLike = 1.0,
    n_features: int | None = None,
    center_box: tuple[float, float] = (-10.0, 10.0),
    shuffle: bool = True,
    return_centers: bool = False,
    random_state: RandomState = None,
) -> tuple[NDArray[Any], ...]:
    """Isotropic Gaussian blobs, one class per centre (as scikit-learn's make_blobs).

    `centers`: an int (that many centres drawn uniformly in the box `center_box` of
    `n_features` dimensions, 2 by default) or an array (k, n_features) of given centres.
    `cluster_std`: one standard deviation, or one per centre. The samples are shared out
    evenly: each centre gets n_samples // k, the first n_samples % k centres one more.

    X: (n_samples, n_features) float64. y: (n_samples,) int64 index of each sample's centre,
    in random order when `shuffle` (else grouped by centre). With `return_centers`, the
    centres (k, n_features) float64 come third.

    Parameters
    ----------
    n_samples : int, default 100
        The number of samples (>= 1).
    centers : int or array_like of shape (k, n_features), default 3
        The number of centres to draw, or the centres.
    cluster_std : float or array_like of shape (k,), default 1.0
        The standard deviation of every blob, or of each (>= 0).
    n_features : int or None, default None
        The dimension of drawn centres (2 when None); with given centres, it must agree.
    center_box : (float, float), default (-10.0, 10.0)
        The interval drawn centres' coordinates come from.
    shuffle : bool, default True
        Samples in random order, else grouped by centre.
    return_centers : bool, default False
        Also return the centres.
    random_state : None, int or numpy.random.Generator, default None
        The same int gives the same data; a Generator is drawn from and advanced.

    Returns
    -------
    X : numpy.ndarray of shape (n_samples, n_features), float64
    y : numpy.ndarray of shape (n_samples,), int64
    centers : numpy.ndarray of shape (k, n_features), float64
        Only with return_centers.

    Raises
    ------
    TypeError, ValueError
        An argument of the wrong type or out of range, or centres and n_features
        disagreeing.
    """
    n_samples = _check_n_samples(n_samples)
    if n_features is not None and (
        isinstance(n_features, bool)
        or not isinstance(n_features, numbers.Integral)
        or n_features < 1
    ):
        raise ValueError(f"n_features must be a positive int, got {n_features!r}")
    rng = _generator(random_state)
    if isinstance(centers, numbers.Integral) and not isinstance(centers, bool):
        if centers < 1:
            raise ValueError(
                f"centers must be a positive int or an array of centres, got {centers}"
            )
        low, high = _check_range(center_box, "center_box")
        centers = rng.uniform(low, high, size=(int(centers), n_features or 2))
    else:
        centers = _check_finite_array(centers, "centers", ndim=2)
        if centers.shape[0] == 0 or centers.shape[1] == 0:
            raise ValueError(
                f"centers must hold at least one centre of at least one "
                f"feature, got shape {centers.shape}"
            )
        if n_features is not None and n_features != centers.shape[1]:
            raise ValueError(
                f"n_features={n_features} disagrees with centers, which have "
                f"{centers.shape[1]} features; give one of them"
            )
    k = centers.shape[0]
    std = _check_cluster_std(cluster_std, k)
    counts = np.full(k, n_samples // k)
    counts[: n_samples % k] += 1
    y = np.repeat(np.arange(k, dtype=np.int64), counts)
    if shuffle:
        y = rng.permutation(y)
    X = centers[y] + std[y, None] * rng.standard_normal((n_samples, centers.shape[1]))
    return (X, y, centers) if return_centers else (X, y)


# ---------------------------------------------------------------------------------------
# Argument checks: each error names the argument.


def _generator(random_state):
    """A Generator from None, an int or a Generator (which is used, not copied)."""
    return np.random.default_rng(check_random_state(random_state))


def _check_n_samples(n_samples):
    if isinstance(n_samples, bool) or not isinstance(n_samples, numbers.Integral):
        raise TypeError(f"n_samples must be an int, got {n_samples!r}")
    if n_samples < 1:
        raise ValueError(f"n_samples must be at least 1, got {n_samples}")
    return int(n_samples)


def _check_range(pair, name):
    try:
        low, high = (float(v) for v in pair)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a pair of numbers (low, high), got {pair!r}") from None
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(f"{name} must be finite with low < high, got {pair!r}")
    return low, high


def _check_finite_array(values, name, ndim):
    try:
        array = np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array of numbers, got {values!r}") from None
    if array.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite, got {values!r}")
    return array


def _check_cluster_std(cluster_std, k):
    if isinstance(cluster_std, numbers.Real) and not isinstance(cluster_std, bool):
        return np.full(k, non_negative_number(cluster_std, "cluster_std"))
    std = _check_finite_array(cluster_std, "cluster_std", ndim=1)
    if std.size != k:
        raise ValueError(f"cluster_std has {std.size} values, one per centre needs {k}")
    if np.any(std < 0):
        raise ValueError(f"cluster_std must be >= 0, got {cluster_std!r}")
    return std
