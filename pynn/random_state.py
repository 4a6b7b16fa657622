"""Seeds: what a random_state argument may be, and independent streams from one seed.

Low in the package (NumPy only), so that the data splits and the synthetic data sets
seed themselves without importing the model or the kernels.
"""
import numbers

import numpy as np


def check_random_state(random_state):
    """None, a non-negative int, a SeedSequence or a Generator (as NumPy accepts)."""
    if random_state is None or isinstance(random_state, (np.random.Generator,
                                                         np.random.SeedSequence)):
        return random_state
    if isinstance(random_state, bool) or not isinstance(random_state, numbers.Integral):
        raise TypeError(f"random_state must be None, an int or a numpy Generator, got "
                        f"{random_state!r}")
    if random_state < 0:
        raise ValueError(f"random_state must be non-negative, got {random_state}")
    return int(random_state)


def spawn_generators(random_state, count):
    """`count` independent Generators from one seed (the same seed, the same streams)."""
    if isinstance(random_state, np.random.Generator):
        return [random_state] * count
    seq = random_state if isinstance(random_state, np.random.SeedSequence) else \
        np.random.SeedSequence(random_state)
    return [np.random.default_rng(child) for child in seq.spawn(count)]
