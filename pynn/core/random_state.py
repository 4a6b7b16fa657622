"""Seeds: what a random_state argument may be, and independent streams from one seed.

Low in the package (NumPy only), so that the data splits and the synthetic data sets
seed themselves without importing the model or the kernels.
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from typing import TypeAlias

    #: what a random_state argument may be
    RandomState: TypeAlias = None | int | np.random.Generator | np.random.SeedSequence


def check_random_state(random_state: Any) -> RandomState:
    """None, a non-negative int, a SeedSequence or a Generator (as NumPy accepts).

    Parameters
    ----------
    random_state : None, int, numpy.random.SeedSequence or numpy.random.Generator
        The seed to check.

    Returns
    -------
    None, int, numpy.random.SeedSequence or numpy.random.Generator
        random_state (an integer as a Python int).

    Raises
    ------
    TypeError
        Another type (bools are refused).
    ValueError
        A negative int.
    """
    if random_state is None or isinstance(
        random_state, (np.random.Generator, np.random.SeedSequence)
    ):
        return random_state
    if isinstance(random_state, bool) or not isinstance(random_state, numbers.Integral):
        raise TypeError(
            f"random_state must be None, an int or a numpy Generator, got {random_state!r}"
        )
    if random_state < 0:
        raise ValueError(f"random_state must be non-negative, got {random_state}")
    return int(random_state)


def spawn_generators(random_state: RandomState, count: int) -> list[np.random.Generator]:
    """`count` independent Generators from one seed (the same seed, the same streams).

    Parameters
    ----------
    random_state : None, int, numpy.random.SeedSequence or numpy.random.Generator
        A checked seed (check_random_state). A Generator is returned `count` times (its
        one stream); None gives fresh entropy.
    count : int
        How many Generators.

    Returns
    -------
    list of numpy.random.Generator
    """
    if isinstance(random_state, np.random.Generator):
        return [random_state] * count
    seq = (
        random_state
        if isinstance(random_state, np.random.SeedSequence)
        else np.random.SeedSequence(random_state)
    )
    return [np.random.default_rng(child) for child in seq.spawn(count)]
