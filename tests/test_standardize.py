"""pynn.layers.Standardize: (x - mean) / scale inside a model, saved with it."""

import json
import pickle

import numpy as np
import pytest

import pynn
import pynn.reference_network
from pynn.core.layers import Standardize, layer_from_config
from pynn.data import StandardScaler

DTYPES = (np.float32, np.float64)
BACKENDS = ("c", "reference")
TOLERANCE = {np.float32: 1e-6, np.float64: 1e-14}


def scaled_data(rng, n=40, d=5):
    """Features with very different means and spreads, and their scaler."""
    X = rng.normal(size=(n, d)) * rng.uniform(0.01, 100, d) + rng.uniform(-50, 50, d)
    return X, StandardScaler().fit(X)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_forward_is_numpy_formula(dtype, backend, rng):
    X, scaler = scaled_data(rng)
    model = pynn.Sequential(Standardize(scaler.mean_, scaler.scale_), dtype=dtype, backend=backend)
    out = model.forward(X)
    expected = (X - scaler.mean_) / scaler.scale_
    assert out.dtype == dtype and out.shape == X.shape
    np.testing.assert_allclose(out, expected, rtol=0, atol=TOLERANCE[dtype] * 10)
    # the model's dtype arithmetic exactly: (x - mean) / scale with each rounded to dtype
    d = np.dtype(dtype)
    exact = (X.astype(d) - scaler.mean_.astype(d)) / scaler.scale_.astype(d)
    np.testing.assert_array_equal(out, exact)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_backward_divides_by_scale(dtype, backend, rng):
    """With a Dense layer before it, the input gradient of Standardize reaches the first
    layer's weights: dW = (dout / scale)ᵀ x, checked against NumPy."""
    X = rng.normal(size=(12, 3))
    scale = np.array([0.5, 2.0, 4.0, 0.25])
    mean = np.array([1.0, -2.0, 0.5, 3.0])
    model = pynn.Sequential(
        pynn.Dense(3, 4), Standardize(mean, scale), dtype=dtype, backend=backend, random_state=0
    )
    y = rng.normal(size=(12, 4))
    model.fit(X, y, loss="mse", epochs=0)
    target = model.targets_.encode(y, model.dtype)
    model.loss_and_grad(X, target)
    W, b = (p.astype(np.float64) for p in model.parameters())
    out = ((X @ W.T + b) - mean) / scale
    dout = (out - y) / len(X)  # MSE with its 1/2: gradient (out - y) / n
    dz = dout / scale
    np.testing.assert_allclose(
        model.layers[0].grads["weight"],
        dz.T @ X,
        rtol=1e-4 if dtype == np.float32 else 1e-10,
        atol=1e-6,
    )
    np.testing.assert_allclose(
        model.layers[0].grads["bias"],
        dz.sum(axis=0),
        rtol=1e-4 if dtype == np.float32 else 1e-10,
        atol=1e-6,
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_gradcheck_through_standardize(backend, rng):
    X = rng.normal(size=(10, 3))
    y = rng.integers(0, 3, 10)
    model = pynn.Sequential(
        pynn.Dense(3, 4, activation="tanh"),
        Standardize([0.1, -0.2, 0.3, 0.0], [0.5, 2.0, 1.5, 0.8]),
        pynn.Dense(4, 3),
        backend=backend,
        random_state=1,
    )
    result = pynn.gradcheck(model, X, y, loss="softmax_cross_entropy")
    assert result.ok, result


def test_gradcheck_detects_a_wrong_backward(rng, monkeypatch):
    """The check above can fail: a backward pass that forgets the 1/scale is caught (the
    reference backend's network, whose standardize backward is patched)."""
    X = rng.normal(size=(10, 3))
    y = rng.integers(0, 3, 10)
    model = pynn.Sequential(
        pynn.Dense(3, 4, activation="tanh"),
        Standardize([0.0] * 4, [0.5, 2.0, 1.5, 0.8]),
        pynn.Dense(4, 3),
        backend="reference",
        random_state=1,
    )
    assert pynn.gradcheck(model, X, y, loss="softmax_cross_entropy").ok
    correct = pynn.reference_network.layer_backward

    def forgets_the_scale(layer, h, grad):
        if layer["kind"] != "standardize":
            return correct(layer, h, grad)
        return np.copyto(layer["dx"], grad) or layer["dx"]

    monkeypatch.setattr(pynn.reference_network, "layer_backward", forgets_the_scale)
    assert not pynn.gradcheck(model, X, y, loss="softmax_cross_entropy").ok


def test_no_parameters_and_width_inference():
    layer = Standardize([0.0, 1.0, 2.0], [1.0, 1.0, 1.0])
    assert layer.in_features == 3 and layer.parameter_shapes() == []
    model = pynn.Sequential(layer, pynn.Dense(3, 2))
    assert model.n_features_in_ == 3 and model.n_parameters == 3 * 2 + 2
    assert [name for name, _ in model.named_parameters()] == ["1.weight", "1.bias"]
    with pytest.raises(ValueError, match="expects 3 input features"):
        pynn.Sequential(pynn.Dense(4, 4), Standardize([0.0] * 3, [1.0] * 3))


def test_config_round_trips_floats_exactly(rng):
    mean, scale = rng.normal(size=7) * 1e3, rng.uniform(1e-8, 1e8, 7)
    layer = Standardize(mean, scale)
    config = json.loads(json.dumps(layer.config(), allow_nan=False))
    again = layer_from_config(config)
    assert isinstance(again, Standardize)
    np.testing.assert_array_equal(again.mean, mean)
    np.testing.assert_array_equal(again.scale, scale)
    assert config["type"] == "Standardize" and isinstance(config["mean"], list)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_save_load_pickle_and_harden(dtype, backend, rng, tmp_path):
    X, scaler = scaled_data(rng, n=60, d=3)
    y = np.where(X[:, 0] > scaler.mean_[0], "high", "low")
    model = pynn.Sequential(
        Standardize(scaler.mean_, scaler.scale_),
        pynn.Dense(3, 8, activation="relu"),
        pynn.Dense(8, 2),
        dtype=dtype,
        backend=backend,
        random_state=0,
    )
    model.fit(X, y, loss="softmax_cross_entropy", epochs=3, batch_size=16)
    path = tmp_path / "model.npz"
    model.save(path)
    for copy in (pynn.load(path), pickle.loads(pickle.dumps(model))):
        assert isinstance(copy.layers[0], Standardize)
        np.testing.assert_array_equal(copy.layers[0].mean, scaler.mean_)
        np.testing.assert_array_equal(copy.decision_function(X), model.decision_function(X))
        assert (copy.predict(X) == model.predict(X)).all()
    hard = model.harden()
    assert isinstance(hard.layers[0], Standardize)
    assert (hard.predict(X) == model.predict(X)).all()


def test_scaling_matters_in_the_model(rng):
    """A model with the layer on raw data computes what the same network computes on data
    scaled by StandardScaler: the layer is the scaler."""
    X, scaler = scaled_data(rng, n=30, d=4)
    inner = pynn.Sequential(pynn.Dense(4, 3, activation="tanh"), dtype=np.float64, random_state=0)
    outer = pynn.Sequential(
        Standardize(scaler.mean_, scaler.scale_),
        pynn.Dense(4, 3, activation="tanh"),
        dtype=np.float64,
    )
    outer.flat_params[...] = inner.flat_params
    np.testing.assert_allclose(
        outer.forward(X), inner.forward(scaler.transform(X)), rtol=1e-12, atol=1e-14
    )


def test_summary_lists_the_layer():
    model = pynn.Sequential(Standardize([0.0] * 3, [1.0] * 3), pynn.Dense(3, 2))
    text = str(model.summary(batch_size=4))
    assert "Standardize" in text
    assert model.summary().total_params == 8


@pytest.mark.parametrize(
    "mean,scale,error,match",
    [
        ([0.0, 1.0], [1.0, 0.0], ValueError, r"scale\[1\] is 0.0: every scale must be positive"),
        ([0.0], [-2.0], ValueError, r"scale\[0\] is -2.0"),
        ([0.0, 1.0], [1.0], ValueError, "2 means and 1 scales"),
        ([], [], ValueError, "non-empty 1-D"),
        ([[0.0, 1.0]], [[1.0, 1.0]], TypeError, r"mean must hold numbers, got \[0.0, 1.0\]"),
        (np.zeros((2, 2)), np.ones((2, 2)), ValueError, "mean must be a non-empty 1-D"),
        ([0.0, float("nan")], [1.0, 1.0], ValueError, r"mean\[1\] is nan: it must be finite"),
        ([0.0], [float("inf")], ValueError, r"scale\[0\] is inf"),
        ("01", [1.0, 1.0], TypeError, "mean must be a 1-D sequence of numbers"),
        ([True, 0.0], [1.0, 1.0], TypeError, "mean must hold numbers, got True"),
        ([0.0], ["1"], TypeError, "scale must hold numbers, got '1'"),
        (np.array(["a"]), [1.0], TypeError, "mean must hold numbers, got dtype <U1"),
        (3.0, 1.0, TypeError, "mean must be a 1-D sequence of numbers, got float"),
    ],
)
def test_bad_arguments(mean, scale, error, match):
    with pytest.raises(error, match=match):
        Standardize(mean, scale)


def test_arrays_are_copied_and_read_only():
    mean = np.array([1.0, 2.0])
    layer = Standardize(mean, np.array([1, 2]))  # integers are numbers too
    mean[0] = 100.0
    assert layer.mean[0] == 1.0 and layer.scale.dtype == np.float64
    with pytest.raises(ValueError):
        layer.mean[0] = 5.0


def test_bad_feature_count_at_predict(rng):
    model = pynn.Sequential(Standardize([0.0] * 3, [1.0] * 3), pynn.Dense(3, 1))
    with pytest.raises(ValueError, match="X has 2 features, but the model expects 3"):
        model.forward(rng.normal(size=(4, 2)))


def test_damaged_config_in_a_saved_model(tmp_path):
    model = pynn.Sequential(Standardize([0.0, 1.0], [1.0, 2.0]), pynn.Dense(2, 1))
    path = tmp_path / "m.npz"
    model.save(path)
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    config = json.loads(str(arrays["config"][()]))
    config["layers"][0]["scale"] = [1.0, 0.0]
    arrays["config"] = np.array(json.dumps(config))
    with open(path, "wb") as file:
        np.savez(file, **arrays)
    with pytest.raises(ValueError, match=r"not a valid pynn model file: layer 0: scale\[1\]"):
        pynn.load(path)
