"""Initialisation: Glorot and He, uniform and normal, seeded."""

import math

import numpy as np
import pytest

import pynn
from pynn.core.init import INITS, default_init, initialize


@pytest.mark.parametrize(
    "name,fan_in,fan_out",
    [
        ("glorot_uniform", 300, 200),
        ("glorot_normal", 300, 200),
        ("he_uniform", 300, 200),
        ("he_normal", 300, 200),
    ],
)
def test_variance_and_support(name, fan_in, fan_out):
    w = initialize(np.empty((fan_out, fan_in)), name, fan_in, fan_out, np.random.default_rng(0))
    variance = 2 / (fan_in + fan_out) if name.startswith("glorot") else 2 / fan_in
    # 60000 draws: the sample variance is within a few percent of the target
    assert w.var() == pytest.approx(variance, rel=0.03)
    assert abs(w.mean()) < 0.02 * math.sqrt(variance) * 10
    if name.endswith("uniform"):
        limit = math.sqrt(3 * variance)
        assert w.max() <= limit and w.min() >= -limit
        assert w.max() > 0.99 * limit and w.min() < -0.99 * limit
    else:
        assert np.abs(w).max() > 3 * math.sqrt(variance)  # not a bounded distribution


def test_zeros_and_unknown():
    assert not initialize(np.ones((3, 2)), "zeros", 2, 3, np.random.default_rng(0)).any()
    with pytest.raises(ValueError, match="init must be one of"):
        initialize(np.ones(3), "xavier", 1, 3, np.random.default_rng(0))
    with pytest.raises(ValueError, match="init must be one of"):
        pynn.Dense(2, 3, init="orthogonal")


def test_defaults_follow_the_activation():
    # benchmarks/accuracy.py's evidence for ReLU networks; docs/model.md, "Initialisation"
    for activation in ("relu", "leaky_relu", "elu", "softplus", "identity"):
        assert default_init(activation) == "torch_uniform"
        assert pynn.Dense(4, 3, activation).init == "torch_uniform"
    assert pynn.Dense(4, 3).init == "torch_uniform"
    for activation in ("tanh", "sigmoid"):
        assert default_init(activation) == "glorot_uniform"
        assert pynn.Dense(4, 3, activation).init == "glorot_uniform"
    assert pynn.Maxout(4, 3, 2).init == "glorot_uniform"
    assert set(INITS) >= {"glorot_uniform", "glorot_normal", "he_uniform", "he_normal"}


def _model(random_state, dtype=np.float32, init="glorot_normal"):
    return pynn.Sequential(
        pynn.Dense(5, 7, "tanh", init=init),
        pynn.PReLU(7),
        pynn.Maxout(7, 3, 2, init=init),
        pynn.Dense(3, 2, init=init),
        dtype=dtype,
        random_state=random_state,
    )


def test_seeded_models_are_identical():
    a, b, c = _model(3), _model(3), _model(4)
    assert np.array_equal(a.flat_params, b.flat_params)
    assert not np.array_equal(a.flat_params, c.flat_params)
    # biases start at zero, PReLU at its init value
    assert not a.layers[0].params["bias"].any()
    assert np.all(a.layers[1].params["weight"] == np.float32(0.25))


def test_one_seed_gives_the_same_model_in_both_dtypes():
    single, double = _model(5, np.float32), _model(5, np.float64)
    assert np.array_equal(single.flat_params, double.flat_params.astype(np.float32))


def test_reset_parameters_and_generators():
    model = _model(9)
    first = model.flat_params.copy()
    model.reset_parameters(9)
    assert np.array_equal(model.flat_params, first)
    model.reset_parameters(np.random.default_rng(9))
    again = model.flat_params.copy()
    model.reset_parameters(np.random.default_rng(9))
    assert np.array_equal(model.flat_params, again)
    unseeded = [_model(None).flat_params for _ in range(2)]
    assert not np.array_equal(*unseeded)
