"""Models and optimizers survive pickle and copy.deepcopy (joblib and dask send them to
worker processes): the copy predicts bitwise alike, its parameters are views into its own
flat buffers again, its optimizer updates those buffers, and training it further gives
bitwise the same parameters as training the original."""

import copy
import pickle

import numpy as np
import pytest

import pynn

BACKENDS = ["c", "reference"]
DTYPES = [np.float32, np.float64]


def make_model(dtype, backend):
    return pynn.Sequential(
        pynn.Dense(5, 8, "relu"),
        pynn.PReLU(8),
        pynn.Maxout(8, 6, 2),
        pynn.Dense(6, 3),
        dtype=dtype,
        backend=backend,
        random_state=1,
    )


def data(rng, n=120):
    return rng.standard_normal((n, 5)), rng.integers(0, 3, n)


def round_trips(model):
    return [pickle.loads(pickle.dumps(model)), copy.deepcopy(model)]


def assert_bound(model):
    """Every parameter and gradient is a view into the model's flat buffers."""
    for layer in model.layers:
        for name, param in layer.params.items():
            assert np.shares_memory(param, model.flat_params), name
            assert np.shares_memory(layer.grads[name], model.flat_grads), name
    for (_, param), mine in zip(model.named_parameters(), model.parameters()):
        assert param is mine


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_unfitted_model_round_trips(rng, dtype, backend):
    model = make_model(dtype, backend)
    X, _ = data(rng)
    for copied in round_trips(model):
        assert_bound(copied)
        assert copied.dtype == model.dtype and copied.backend == backend
        np.testing.assert_array_equal(copied.flat_params, model.flat_params)
        np.testing.assert_array_equal(copied.decision_function(X), model.decision_function(X))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "optimizer",
    [pynn.SGD(0.05, momentum=0.9, nesterov=True), pynn.Adam(0.01)],
    ids=["sgd", "adam"],
)
def test_fitted_model_continues_training_alike(rng, dtype, backend, optimizer):
    model = make_model(dtype, backend)
    X, y = data(rng)
    model.fit(
        X,
        y,
        loss="softmax_cross_entropy",
        optimizer=optimizer,
        epochs=2,
        batch_size=16,
        random_state=0,
    )
    copies = round_trips(model)
    for copied in copies:
        assert_bound(copied)
        assert copied.optimizer_.params is copied.flat_params
        assert copied.optimizer_.grads is copied.flat_grads
        np.testing.assert_array_equal(copied.classes_, model.classes_)
        np.testing.assert_array_equal(copied.predict_proba(X), model.predict_proba(X))
    model.partial_fit(X, y, epochs=2, batch_size=16)
    for copied in copies:
        copied.partial_fit(X, y, epochs=2, batch_size=16)
        np.testing.assert_array_equal(copied.flat_params, model.flat_params)
        assert copied.history_["loss"] == model.history_["loss"]


def test_copy_is_independent(rng):
    model = make_model(np.float32, "c")
    X, y = data(rng)
    model.fit(X, y, loss="softmax_cross_entropy", optimizer=pynn.SGD(0.1), epochs=1)
    before = model.flat_params.copy()
    for copied in round_trips(model):
        copied.partial_fit(X, y, epochs=1)
        copied.layers[0].params["weight"][...] = 0
        np.testing.assert_array_equal(model.flat_params, before)
        assert not np.shares_memory(copied.flat_params, model.flat_params)


@pytest.mark.parametrize(
    "optimizer",
    [pynn.SGD(0.1, momentum=0.5), pynn.Adam(0.01), pynn.AdamW(0.01)],
    ids=["sgd", "adam", "adamw"],
)
def test_optimizer_round_trips(optimizer):
    unbound = pickle.loads(pickle.dumps(optimizer))
    assert repr(unbound) == repr(optimizer) and unbound.params is None
    params, grads = np.ones(7, np.float32), np.full(7, 0.5, np.float32)
    optimizer.bind(params, grads, pynn._kernels)
    optimizer.step()
    copied = pickle.loads(pickle.dumps(optimizer))
    assert copied.kernels is pynn._kernels
    assert copied.step_count == 1
    for name, value in optimizer.state.items():
        np.testing.assert_array_equal(copied.state[name], value)
    optimizer.step()
    copied.step()
    np.testing.assert_array_equal(copied.params, optimizer.params)
