"""Each layer's forward pass inside a model against a plain NumPy formula written here,
independent of pynn.reference (the reference backend shares the layers' Python code)."""

import numpy as np
import pytest
from helpers import assert_close

import pynn


def _act(name, z, param=None):
    if name == "identity":
        return z
    if name == "sigmoid":
        return 1 / (1 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0)
    if name == "leaky_relu":
        return np.where(z < 0, (0.01 if param is None else param) * z, z)
    if name == "softplus":
        return np.logaddexp(0, z)
    if name == "elu":
        return np.where(z > 0, z, (1.0 if param is None else param) * np.expm1(z))
    if name == "step":
        return (z > 0).astype(z.dtype)
    if name == "sign":
        return np.sign(z)
    raise AssertionError(name)


def _numpy_forward(model, x):
    a = x.astype(np.float64)
    for layer in model.layers:
        p = {k: v.astype(np.float64) for k, v in getattr(layer, "params", {}).items()}
        if isinstance(layer, pynn.Dense):
            z = a @ p["weight"].T + (p["bias"] if layer.bias else 0)
            a = _act(layer.activation, z, layer.activation_param)
        elif isinstance(layer, pynn.Maxout):
            z = a @ p["weight"].T + (p["bias"] if layer.bias else 0)
            a = z.reshape(len(a), layer.out_features, layer.pieces).max(axis=2)
        elif isinstance(layer, pynn.PReLU):
            a = np.where(a > 0, a, p["weight"] * a)
        else:
            a = _act(layer.activation, a, layer.param)
    return a


ACTS = [
    ("identity", None),
    ("sigmoid", None),
    ("tanh", None),
    ("relu", None),
    ("leaky_relu", None),
    ("leaky_relu", 0.2),
    ("softplus", None),
    ("elu", None),
    ("elu", 0.5),
    ("step", None),
    ("sign", None),
]


def _random_params(model, rng):
    model.flat_params[...] = rng.standard_normal(model.n_parameters)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("act,param", ACTS)
def test_dense_and_activation_layers(dtype, act, param, rng):
    fused = pynn.Sequential(
        pynn.Dense(7, 13, act, activation_param=param),
        pynn.Dense(13, 3),
        dtype=dtype,
        random_state=0,
    )
    separate = pynn.Sequential(
        pynn.Dense(7, 13),
        pynn.Activation(act, param),
        pynn.Dense(13, 3),
        dtype=dtype,
        random_state=0,
    )
    _random_params(fused, rng)
    separate.flat_params[...] = fused.flat_params
    x = rng.standard_normal((31, 7)).astype(dtype)
    expected = _numpy_forward(fused, x)
    assert_close(fused.decision_function(x), expected, dtype, k=13)
    assert_close(separate.decision_function(x), expected, dtype, k=13)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("num_parameters", [1, 6])
def test_prelu(dtype, num_parameters, rng):
    model = pynn.Sequential(
        pynn.Dense(4, 6), pynn.PReLU(num_parameters), pynn.Dense(6, 2), dtype=dtype
    )
    _random_params(model, rng)
    x = rng.standard_normal((17, 4)).astype(dtype)
    assert_close(model.decision_function(x), _numpy_forward(model, x), dtype, k=6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("pieces,bias", [(1, True), (2, True), (3, False), (5, True)])
def test_maxout(dtype, pieces, bias, rng):
    model = pynn.Sequential(pynn.Maxout(9, 4, pieces, bias=bias), pynn.Dense(4, 3), dtype=dtype)
    assert model.layers[0].params["weight"].shape == (4 * pieces, 9)
    _random_params(model, rng)
    x = rng.standard_normal((23, 9)).astype(dtype)
    assert_close(model.decision_function(x), _numpy_forward(model, x), dtype, k=9)


def test_batches_of_any_size_give_the_same_outputs(rng):
    """predict reads X in chunks: a large X must give the rows a small one gives."""
    from pynn.core.plans import EVAL_BATCH

    model = pynn.Sequential(pynn.Dense(3, 8, "relu"), pynn.Dense(8, 2), dtype=np.float64)
    x = rng.standard_normal((2 * EVAL_BATCH + 7, 3))
    full = model.decision_function(x)
    assert full.shape == (len(x), 2)
    for rows in (slice(0, 1), slice(EVAL_BATCH - 3, EVAL_BATCH + 4), slice(-7, None)):
        assert np.array_equal(model.decision_function(x[rows]), full[rows])


def test_widths_chain_through_shape_free_layers():
    model = pynn.Sequential(
        pynn.ReLU(), pynn.Dense(5, 4), pynn.PReLU(), pynn.Tanh(), pynn.Maxout(4, 2, 3)
    )
    assert (model.n_features_in_, model.n_outputs_) == (5, 2)
    assert [name for name, _ in model.named_parameters()] == [
        "1.weight",
        "1.bias",
        "2.weight",
        "4.weight",
        "4.bias",
    ]
    assert model.n_parameters == 5 * 4 + 4 + 1 + 6 * 4 + 6
    # views into the one flat buffer
    for param in model.parameters():
        assert np.shares_memory(param, model.flat_params)


@pytest.mark.parametrize(
    "layer",
    [
        pynn.Dense(3, 4, "elu", activation_param=0.5, bias=False),
        pynn.Maxout(3, 2, 4),
        pynn.PReLU(5, init=0.1),
        pynn.Tanh(),
        pynn.LeakyReLU(0.2),
        pynn.ELU(),
        pynn.Step(),
        pynn.Identity(),
        pynn.Activation("softplus"),
    ],
    ids=repr,
)
def test_layers_rebuild_from_their_config(layer):
    from pynn.core.layers import layer_from_config

    rebuilt = layer_from_config(layer.config())
    assert rebuilt.config() == layer.config()
    if type(layer) is not pynn.Activation:
        assert type(rebuilt) is type(layer) and repr(rebuilt) == repr(layer)


def test_a_bad_layer_config_is_a_value_error():
    from pynn.core.layers import layer_from_config

    with pytest.raises(ValueError, match="param is only for 'leaky_relu' and 'elu'"):
        layer_from_config({"type": "Activation", "activation": "relu", "param": 0.3})
    with pytest.raises(ValueError, match="not a pynn layer description"):
        layer_from_config({"type": "Conv2d"})
