"""model.save / pynn.load: exact round trips, atomic writes, and a clear ValueError for
every kind of damaged or foreign file (never unpickling anything)."""

import json
import os
import pathlib

import numpy as np
import pytest

import pynn
from pynn.core import persistence

DTYPES = (np.float32, np.float64)


def trained(kind, dtype=np.float32, backend="c", seed=0):
    """A model of each target kind, briefly trained, with its X."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(40, 3))
    hidden = [pynn.Dense(3, 5, "tanh"), pynn.PReLU(5), pynn.Maxout(5, 4, pieces=2)]
    if kind == "labels":
        y, loss, out = (
            np.array(["cat", "dog", "emu"])[rng.integers(0, 3, 40)],
            "softmax_cross_entropy",
            3,
        )
    elif kind == "int_labels":
        y, loss, out = rng.choice([3, 7, 11, 20], 40), "softmax_cross_entropy", 4
    elif kind == "binary":
        y, loss, out = np.where(X[:, 0] > 0, "yes", "no"), "binary_cross_entropy", 1
    elif kind == "indicator":
        y, loss, out = (X[:, :2] > 0).astype(int), "binary_cross_entropy", 2
    elif kind == "hinge":
        y, loss, out = np.where(X[:, 1] > 0, 1, -1), "hinge", 1
    elif kind == "values_1d":
        y, loss, out = X[:, 0] - X[:, 2], "mse", 1
    else:  # "values"
        y, loss, out = X[:, :2] * 2, "l1", 2
    model = pynn.Sequential(
        *hidden, pynn.Dense(4, out), dtype=dtype, backend=backend, random_state=seed
    )
    model.fit(X, y, loss=loss, epochs=2, batch_size=16)
    return model, X, y


def write_npz(path, **arrays):
    with open(path, "wb") as file:
        np.savez(file, **arrays)


def saved_parts(model, tmp_path):
    """The arrays of a saved model and its config as a dict, to build damaged files from."""
    path = tmp_path / "good.npz"
    model.save(path)
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    return arrays, json.loads(str(arrays["config"][()]))


# ---- round trips -----------------------------------------------------------------------
KINDS = ("labels", "int_labels", "binary", "indicator", "hinge", "values_1d", "values")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_round_trip_is_exact(kind, dtype, tmp_path):
    model, X, _ = trained(kind, dtype)
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = pynn.load(path)
    assert loaded.dtype == model.dtype and loaded.backend == model.backend
    assert loaded.random_state == 0
    assert [layer.config() for layer in loaded.layers] == [
        layer.config() for layer in model.layers
    ]
    assert loaded.flat_params.tobytes() == model.flat_params.tobytes()
    assert loaded.loss_ is model.loss_
    assert loaded.targets_.config() == model.targets_.config()
    if model.classes_ is None:
        assert loaded.classes_ is None
    else:
        assert loaded.classes_.dtype == model.classes_.dtype
        np.testing.assert_array_equal(loaded.classes_, model.classes_)
    for method in ("predict", "decision_function") + (
        ("predict_proba",) if model.loss_.proba else ()
    ):
        ours, theirs = getattr(loaded, method)(X), getattr(model, method)(X)
        assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
        assert ours.tobytes() == theirs.tobytes(), method


def test_reference_backend_round_trip(tmp_path):
    model, X, _ = trained("labels", np.float64, backend="reference")
    model.save(tmp_path / "m.npz")
    loaded = pynn.load(tmp_path / "m.npz")
    assert loaded.backend == "reference"
    assert loaded.predict_proba(X).tobytes() == model.predict_proba(X).tobytes()


def test_untrained_model_round_trips(tmp_path):
    model = pynn.Sequential(pynn.Dense(3, 4, "relu"), pynn.Dense(4, 2), dtype=np.float64)
    model.save(tmp_path / "m.npz")
    loaded = pynn.load(str(tmp_path / "m.npz"))
    assert loaded.loss_ is None and loaded.targets_ is None and loaded.random_state is None
    assert loaded.flat_params.tobytes() == model.flat_params.tobytes()
    X = np.ones((2, 3))
    assert loaded.decision_function(X).tobytes() == model.decision_function(X).tobytes()
    with pytest.raises(ValueError, match="trained"):
        loaded.predict(X)


def test_partial_fit_after_load_starts_a_fresh_optimizer(tmp_path):
    model, X, y = trained("labels")
    model.save(tmp_path / "m.npz")
    loaded = pynn.load(tmp_path / "m.npz")
    assert loaded.optimizer_ is None
    loaded.partial_fit(X, y, random_state=5)  # 40 rows in batches of 32: 2 steps
    assert loaded.optimizer_.step_count == 2 and len(loaded.history_["loss"]) == 1
    # The same as continuing the original with a new optimizer.
    model.optimizer_ = None
    model.partial_fit(X, y, random_state=5)
    assert loaded.flat_params.tobytes() == model.flat_params.tobytes()


# ---- writing ---------------------------------------------------------------------------
def test_writes_exactly_the_given_path(tmp_path):
    model, _, _ = trained("values")
    model.save(tmp_path / "weights.bin")
    model.save(str(tmp_path / "plain"))
    assert sorted(os.listdir(tmp_path)) == ["plain", "weights.bin"]  # no ".npz", no temp
    assert pynn.load(tmp_path / "plain").flat_params.tobytes() == model.flat_params.tobytes()


def test_overwrites_an_existing_file(tmp_path):
    first, _, _ = trained("values", seed=1)
    second, _, _ = trained("values", seed=2)
    path = tmp_path / "m.npz"
    first.save(path)
    second.save(path)
    assert pynn.load(path).flat_params.tobytes() == second.flat_params.tobytes()


def test_crash_mid_save_leaves_the_old_file_intact(tmp_path, monkeypatch):
    model, _, _ = trained("labels")
    path = tmp_path / "m.npz"
    model.save(path)
    before = path.read_bytes()

    def crash(file, **arrays):
        file.write(b"PK\x03\x04 half an archive")
        raise KeyboardInterrupt

    monkeypatch.setattr(persistence.np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        model.save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.npz"]


def test_path_type_is_checked(tmp_path):
    model, _, _ = trained("values")
    with pytest.raises(TypeError, match="path"):
        model.save(3)
    with pytest.raises(TypeError, match="path"):
        pynn.load(None)
    with pytest.raises(FileNotFoundError):
        pynn.load(tmp_path / "missing.npz")


def test_object_classes_are_refused(tmp_path):
    model, _, _ = trained("labels")
    model.targets_.classes_ = model.classes_.astype(object)
    with pytest.raises(ValueError, match="classes_ has dtype object"):
        model.save(tmp_path / "m.npz")
    assert os.listdir(tmp_path) == []


# ---- damaged and foreign files ---------------------------------------------------------
def load_error(path):
    with pytest.raises(ValueError) as info:
        pynn.load(path)
    return str(info.value)


def test_random_bytes_and_other_formats(tmp_path, rng):
    (tmp_path / "random").write_bytes(rng.bytes(5000))
    (tmp_path / "empty").write_bytes(b"")
    np.save(tmp_path / "array.npy", np.zeros(3))
    (tmp_path / "pickle").write_bytes(b"\x80\x04\x95" + rng.bytes(40))
    for name in ("random", "empty", "array.npy", "pickle"):
        assert "not an .npz (zip) archive" in load_error(tmp_path / name)


def test_truncated_files(tmp_path):
    model, _, _ = trained("labels")
    model.save(tmp_path / "m.npz")
    data = (tmp_path / "m.npz").read_bytes()
    for size in (4, 30, len(data) // 3, len(data) // 2, len(data) - 22, len(data) - 1):
        (tmp_path / "cut").write_bytes(data[:size])
        assert "truncated or corrupted" in load_error(tmp_path / "cut"), size


def test_corrupted_bytes_are_caught_by_the_checksum(tmp_path):
    model, _, _ = trained("labels")
    model.save(tmp_path / "m.npz")
    data = bytearray((tmp_path / "m.npz").read_bytes())
    start = data.index(b"params.npy") + len("params.npy")
    data[start + 200] ^= 0x01  # one bit of a parameter
    (tmp_path / "flipped").write_bytes(bytes(data))
    assert "truncated or corrupted" in load_error(tmp_path / "flipped")


def test_pickled_object_array_is_refused(tmp_path):
    model, _, _ = trained("labels")
    arrays, _ = saved_parts(model, tmp_path)
    arrays["classes"] = np.array(["cat", "dog", 3], dtype=object)
    write_npz(tmp_path / "pickled.npz", **arrays)
    assert "object array" in load_error(tmp_path / "pickled.npz")


def test_missing_and_unexpected_arrays(tmp_path):
    model, _, _ = trained("labels")
    arrays, _ = saved_parts(model, tmp_path)
    write_npz(tmp_path / "a.npz", config=arrays["config"], classes=arrays["classes"])
    assert "no params array" in load_error(tmp_path / "a.npz")
    write_npz(tmp_path / "b.npz", params=arrays["params"])
    assert "no config array" in load_error(tmp_path / "b.npz")
    write_npz(tmp_path / "c.npz", **arrays, extra=np.zeros(2))
    assert "unexpected arrays ['extra']" in load_error(tmp_path / "c.npz")
    write_npz(tmp_path / "d.npz", params=arrays["params"], config=arrays["config"])
    assert "needs its classes" in load_error(tmp_path / "d.npz")


def rewrite(tmp_path, arrays, config=None, **replace):
    """A copy of the saved arrays with a changed config and/or arrays; returns its path."""
    arrays = dict(arrays, **replace)
    if config is not None:
        arrays["config"] = np.array(config if isinstance(config, str) else json.dumps(config))
    path = tmp_path / "changed.npz"
    write_npz(path, **arrays)
    return path


def test_config_errors(tmp_path):
    model, _, _ = trained("labels")
    arrays, config = saved_parts(model, tmp_path)
    assert "not a pynn model" in load_error(
        rewrite(tmp_path, arrays, {**config, "format": "keras"})
    )
    assert "not a pynn model" in load_error(rewrite(tmp_path, arrays, [1, 2]))
    for version in (2, 0, "1", None, True):
        message = load_error(rewrite(tmp_path, arrays, {**config, "version": version}))
        assert "format version" in message and "reads version 1" in message
    assert "not valid JSON" in load_error(rewrite(tmp_path, arrays, '{"format": "pynn-m'))
    write_npz(tmp_path / "numbers.npz", **{**arrays, "config": np.zeros(3)})
    assert "not a JSON string" in load_error(tmp_path / "numbers.npz")
    assert "no 'layers'" in load_error(
        rewrite(tmp_path, arrays, {k: v for k, v in config.items() if k != "layers"})
    )
    assert "float32 or float64" in load_error(
        rewrite(tmp_path, arrays, {**config, "dtype": "int8"})
    )
    assert "backend" in load_error(rewrite(tmp_path, arrays, {**config, "backend": "gpu"}))
    bad_layer = {**config, "layers": [{"type": "Dense", "in_features": 3}] + config["layers"]}
    assert "layer 0" in load_error(rewrite(tmp_path, arrays, bad_layer))
    assert "layer 1" in load_error(
        rewrite(
            tmp_path, arrays, {**config, "layers": config["layers"][:1] + [{"type": "Conv2d"}]}
        )
    )
    assert "layer before it gives 5" in load_error(
        rewrite(
            tmp_path, arrays, {**config, "layers": config["layers"][:2] + config["layers"][3:]}
        )
    )


def test_targets_errors(tmp_path):
    model, _, _ = trained("labels")
    arrays, config = saved_parts(model, tmp_path)
    assert "unknown loss" in load_error(rewrite(tmp_path, arrays, {**config, "loss": "ce"}))
    wrong_kind = {**config, "targets": {**config["targets"], "kind": "values"}}
    assert "do not go with loss" in load_error(rewrite(tmp_path, arrays, wrong_kind))
    wrong_outputs = {**config, "targets": {**config["targets"], "n_outputs": 4}}
    assert "outputs" in load_error(rewrite(tmp_path, arrays, wrong_outputs))
    wrong_type = {**config, "targets": {**config["targets"], "squeeze": 0}}
    assert "'squeeze' must be a bool" in load_error(rewrite(tmp_path, arrays, wrong_type))
    for classes in (np.array(["a", "b"]), np.array(["b", "a", "c"]), np.array([[1, 2, 3]])):
        assert "classes" in load_error(rewrite(tmp_path, arrays, classes=classes))
    untrained = {**config, "loss": None, "targets": None}
    assert "classes but no loss" in load_error(rewrite(tmp_path, arrays, untrained))


def test_params_errors(tmp_path):
    model, _, _ = trained("labels")
    arrays, _ = saved_parts(model, tmp_path)
    params = arrays["params"]
    message = load_error(rewrite(tmp_path, arrays, params=params[:-1]))
    assert f"{params.size - 1} parameters but its layers need {params.size}" in message
    message = load_error(rewrite(tmp_path, arrays, params=np.append(params, params[:1])))
    assert "parameters but its layers need" in message
    assert "float32" in load_error(rewrite(tmp_path, arrays, params=params.astype(np.float64)))
    assert "1-D" in load_error(rewrite(tmp_path, arrays, params=params.reshape(1, -1)))


def test_load_returns_a_sequential(tmp_path):
    model, _, _ = trained("hinge")
    model.save(pathlib.PurePath(tmp_path / "m.npz"))
    assert isinstance(pynn.load(tmp_path / "m.npz"), pynn.Sequential)
