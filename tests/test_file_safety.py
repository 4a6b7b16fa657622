"""pynn.load of damaged, forged and hostile files, and model.save's atomic write.

Every bad file must give a ValueError that names the file and says what is wrong (an
OSError for a path that cannot be read at all), never another exception, never a model
built from damaged bytes, never unpickled code, never an allocation the file's own size
does not justify. A save that is killed or fails leaves the previous file intact.
"""

import io
import json
import os
import pathlib
import pickle
import signal
import struct
import subprocess
import sys
import tracemalloc
import warnings
import zipfile

import numpy as np
import pytest
from helpers import HANG_SECONDS

import pynn
from pynn.core import persistence


def peak_bytes(call):
    """The peak of the memory Python allocated while `call()` ran (tracemalloc)."""
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def small_model():
    """A trained classifier with string classes, Standardize and PReLU: every part of the
    format (params, config with float lists, targets, classes) is in its 3.3 KB file."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    y = np.array(["ant", "bee", "cat"])[np.arange(30) % 3]
    model = pynn.Sequential(
        pynn.Standardize([0.5, 0, -1], [1, 2, 3]),
        pynn.Dense(3, 4, "tanh"),
        pynn.PReLU(4),
        pynn.Dense(4, 3),
        random_state=0,
    )
    return model.fit(X, y, loss="softmax_cross_entropy", epochs=1), X


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """(model, X, the bytes of its saved file)."""
    model, X = small_model()
    path = tmp_path_factory.mktemp("saved") / "model.npz"
    model.save(path)
    return model, X, path.read_bytes()


def arrays_and_config(data):
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    return arrays, json.loads(str(arrays["config"][()]))


def write_npz(path, **arrays):
    with open(path, "wb") as file:
        np.savez(file, **arrays)
    return path


class Scratch:
    """A new file name for each damaged file, the previous one removed: ext4 flushes a file
    truncated and rewritten on close (4 ms each), a new file costs 0.1 ms."""

    def __init__(self, directory):
        self.directory, self.count, self.last = directory, 0, None

    def path(self, suffix=".npz"):
        if self.last is not None and self.last.exists():
            self.last.unlink()
        self.count += 1
        self.last = self.directory / f"file{self.count}{suffix}"
        return self.last

    def bytes(self, data):
        path = self.path()
        path.write_bytes(bytes(data))
        return path

    def npz(self, **arrays):
        return write_npz(self.path(), **arrays)


@pytest.fixture
def scratch(tmp_path):
    return Scratch(tmp_path)


def refused(path, *phrases):
    """Load `path`, expecting pynn's ValueError naming the file and the given phrases;
    no zipfile/json/KeyError traceback chained behind it. Returns the message."""
    with pytest.raises(ValueError) as info:
        pynn.load(path)
    error = info.value
    assert type(error) is ValueError, repr(error)
    message = str(error)
    assert repr(str(path)) in message, message
    for phrase in phrases:
        assert phrase in message, message
    assert error.__context__ is None or error.__suppress_context__, repr(error.__context__)
    return message


def same_model(loaded, model, X):
    return (
        loaded.flat_params.tobytes() == model.flat_params.tobytes()
        and [layer.config() for layer in loaded.layers]
        == [layer.config() for layer in model.layers]
        and loaded.classes_.tolist() == model.classes_.tolist()
        and loaded.predict_proba(X).tobytes() == model.predict_proba(X).tobytes()
    )


def damaged_outcome(path, model, X):
    """'refused' (ValueError naming the file) or 'same' (a byte the format does not use,
    such as a zip timestamp); anything else fails the test."""
    try:
        loaded = pynn.load(path)
    except ValueError as error:
        assert repr(str(path)) in str(error), str(error)
        assert error.__context__ is None or error.__suppress_context__
        return "refused"
    assert same_model(loaded, model, X), "a damaged file loaded as a different model"
    return "same"


# ---- truncation and corruption ----------------------------------------------------------
def test_every_truncation_is_refused(saved, scratch, rng):
    model, X, data = saved
    sizes = (
        list(range(0, len(data), 2)) + rng.integers(0, len(data), 200).tolist() + [len(data) - 1]
    )
    for size in sizes:  # about 1900 files
        refused(scratch.bytes(data[:size]))


def test_bit_flips_are_refused_or_harmless(saved, scratch, rng):
    model, X, data = saved
    outcomes = []
    for _ in range(3000):
        damaged = bytearray(data)
        damaged[rng.integers(len(data))] ^= 1 << int(rng.integers(8))
        outcomes.append(damaged_outcome(scratch.bytes(damaged), model, X))
    # Most bytes are checked (CRC-32 of the data, headers, directory); a few are not read.
    assert outcomes.count("refused") > 2400, outcomes.count("refused")


def test_overwritten_runs_of_bytes_are_refused_or_harmless(saved, scratch, rng):
    model, X, data = saved
    for _ in range(1000):
        damaged = bytearray(data)
        start = int(rng.integers(len(data)))
        length = int(rng.integers(1, 64))
        damaged[start : start + length] = rng.bytes(length)[: len(damaged) - start]
        damaged_outcome(scratch.bytes(damaged), model, X)


def test_a_flipped_parameter_bit_fails_the_checksum(saved, scratch):
    model, X, data = saved
    offset = data.index(b"params.npy") + len("params.npy") + 128 + 8  # inside the floats
    for bit in range(8):
        damaged = bytearray(data)
        damaged[offset] ^= 1 << bit
        refused(scratch.bytes(damaged), "truncated or corrupted")


# ---- members replaced or forged ---------------------------------------------------------
def test_config_that_is_not_json(saved, scratch):
    _, _, data = saved
    arrays, _ = arrays_and_config(data)
    for text in (
        "",
        "not json",
        '{"format": "pynn-model", ',
        "[" * 100_000,
        '{"version": ' + "9" * 5000 + "}",
        "\x00\x01",
    ):
        refused(scratch.npz(**{**arrays, "config": np.array(text)}), "not valid JSON")
    for config in (np.array(b"{}"), np.array(["{}"]), np.zeros(3), np.array(3.0)):
        refused(scratch.npz(**{**arrays, "config": config}), "not a JSON string")


JUNK = [None, -1, 0, 10**12, 1.5, float("nan"), float("inf"), "x", True, [], {}, [1]]


def json_paths(value, prefix=()):
    yield prefix
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, item in items:
        yield from json_paths(item, prefix + (key,))


def test_every_config_entry_replaced_or_removed(saved, scratch):
    """Each value of the JSON description replaced by junk of every type, or removed:
    refused, or (when the junk happens to be valid, such as another random_state) a
    working model."""
    model, X, data = saved
    arrays, config = arrays_and_config(data)
    counts = {"refused": 0, "loaded": 0}
    for where in list(json_paths(config))[1:]:
        for junk in JUNK + ["remove"]:
            changed = json.loads(json.dumps(config))
            parent = changed
            for key in where[:-1]:
                parent = parent[key]
            if junk == "remove":
                del parent[where[-1]]
            else:
                parent[where[-1]] = junk
            path = scratch.npz(**{**arrays, "config": np.array(json.dumps(changed))})
            try:
                loaded = pynn.load(path)
            except ValueError as error:
                assert repr(str(path)) in str(error), (where, junk, str(error))
                counts["refused"] += 1
                continue
            counts["loaded"] += 1
            assert np.isfinite(loaded.decision_function(X)).all(), (where, junk)
    assert counts["refused"] > 5 * counts["loaded"], counts  # about 640 files in all


def test_unknown_layer_and_versions(saved, tmp_path):
    _, _, data = saved
    arrays, config = arrays_and_config(data)
    path = tmp_path / "c.npz"
    unknown = {
        **config,
        "layers": config["layers"][:1] + [{"type": "Conv2d", "kernel": 3}] + config["layers"][1:],
    }
    write_npz(path, **{**arrays, "config": np.array(json.dumps(unknown))})
    refused(path, "layer 1", "not a pynn layer description")
    # A future version is refused before its (unknown) contents are looked at.
    future = {"format": "pynn-model", "version": 2, "tensors": {"weight": "??"}}
    for version, future_config in ((2, future), (0, {**config, "version": 0})):
        write_npz(path, **{**arrays, "config": np.array(json.dumps(future_config))})
        refused(path, f"format version {version}", "reads version 1 only")


def test_wrong_parameter_arrays(saved, scratch):
    _, _, data = saved
    arrays, _ = arrays_and_config(data)
    params = arrays["params"]
    cases = [
        (params[:-1], "parameters but its layers need"),
        (np.append(params, params[:1]), "parameters but its layers need"),
        (params.astype(np.float64), "1-D float32"),
        (params.astype(">f4"), "1-D float32"),
        (params.reshape(1, -1), "1-D float32"),
        (params.astype(np.int32), "1-D float32"),
        (np.array(["a"] * params.size), "1-D float32"),
    ]
    for value in (np.nan, np.inf, -np.inf):
        bad = params.copy()
        bad[5] = value
        cases.append((bad, "NaN or infinity (at index 5)"))
    for bad, phrase in cases:
        refused(scratch.npz(**{**arrays, "params": bad}), phrase)


def test_missing_duplicated_and_extra_members(saved, tmp_path):
    _, _, data = saved
    arrays, _ = arrays_and_config(data)
    path = tmp_path / "m.npz"
    write_npz(path, config=arrays["config"])
    refused(path, "no params array")
    write_npz(path, **arrays, weights=np.zeros(3))
    refused(path, "unexpected arrays ['weights']")
    with zipfile.ZipFile(path, "w") as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate name
        for name in ("params", "config", "classes", "params"):  # params twice
            archive.writestr(name + ".npy", npy_bytes(arrays[name]))
    refused(path, "holds the array 'params' twice")


def npy_bytes(array):
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def zip_members(path, members, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_npy_headers_that_lie(saved, scratch):
    _, _, data = saved
    arrays, _ = arrays_and_config(data)
    members = {name + ".npy": npy_bytes(array) for name, array in arrays.items()}
    params = members["params.npy"]
    size = arrays["params"].size
    header_end = params.index(b"\n") + 1

    def with_params(raw):
        return zip_members(scratch.path(), {**members, "params.npy": raw})

    # The header promises 10**12 floats (4 TB) that the file does not hold.
    huge = params[:header_end].replace(f"({size},)".encode(), b"(1000000000000,)")
    refused(with_params(huge + params[header_end:]), "(1000000000000,)", "bytes follow")
    refused(with_params(params[:-4]), "bytes follow")
    refused(with_params(params + b"\0" * 4), "bytes follow")
    negative = params[:header_end].replace(f"({size},)".encode(), f"(-{size},)".encode())
    refused(with_params(negative + params[header_end:]), "negative size")
    # A dtype whose items have no size (numpy cannot even view bytes as it).
    for descr in (b"'|V0'", b"'|S0'", b"'<U0'"):
        zero = params[:header_end].replace(repr(arrays["params"].dtype.str).encode(), descr)
        assert zero != params[:header_end]
        refused(with_params(zero + params[header_end:]), "no size")
        refused(with_params(zero), "no size")  # as many bytes as it says: none
    refused(with_params(b"\x93NUMPY\x09\x00" + params[8:]), "damaged header")
    refused(with_params(b"not an npy file at all"), "damaged header")
    refused(with_params(b""), "damaged header")


def test_absurd_layer_sizes_are_refused_before_any_allocation(saved, tmp_path):
    _, _, data = saved
    arrays, config = arrays_and_config(data)
    path = tmp_path / "big.npz"
    maxout = {
        "type": "Maxout",
        "in_features": 4,
        "out_features": 3,
        "pieces": 10**11,
        "bias": True,
        "init": "glorot_uniform",
    }
    for layers in (
        [{"type": "Dense", "in_features": 10**12, "out_features": 3}],
        config["layers"][:3] + [maxout],
    ):
        big = {**config, "layers": layers}
        write_npz(path, **{**arrays, "config": np.array(json.dumps(big))})
        peak = peak_bytes(lambda: refused(path, "parameters but its layers need"))
        assert peak < 1_000_000, peak  # the 3.3 KB file, parsed: nothing of 10**12 size


# ---- pickles: refused, and nothing runs -------------------------------------------------
class Payload:
    """Unpickling this runs os.system, creating the marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


class TouchPayload(Payload):
    """The same without a shell: pathlib.Path(marker).touch()."""

    def __reduce__(self):
        return pathlib.Path.touch, (pathlib.Path(self.marker),)


@pytest.mark.skipif(os.name != "posix", reason="the payload runs `touch`")
@pytest.mark.parametrize("payload_class", [Payload, TouchPayload])
def test_pickle_bearing_files_execute_nothing(saved, tmp_path, payload_class):
    _, _, data = saved
    arrays, _ = arrays_and_config(data)
    marker = tmp_path / "marker"
    payload = payload_class(marker)
    pickle.loads(pickle.dumps(payload))  # the payload is live: unpickling it runs it
    assert marker.exists()
    marker.unlink()
    hostile = np.array([payload, "x"], dtype=object)

    files = {}
    files["raw.pkl"] = pickle.dumps(payload)
    buffer = io.BytesIO()
    np.save(buffer, hostile, allow_pickle=True)
    files["object.npy"] = buffer.getvalue()
    for name in ("classes", "params", "config"):  # an .npz with one object member
        buffer = io.BytesIO()
        np.savez(buffer, **{**arrays, name: hostile})
        files[f"object_{name}.npz"] = buffer.getvalue()
    # an .npz whose member is a bare pickle instead of .npy bytes
    buffer = io.BytesIO()
    zip_members(
        buffer,
        {
            "params.npy": npy_bytes(arrays["params"]),
            "config.npy": pickle.dumps(payload),
            "classes.npy": npy_bytes(arrays["classes"]),
        },
    )
    files["pickle_member.npz"] = buffer.getvalue()
    for name, content in files.items():
        path = tmp_path / name
        path.write_bytes(content)
        message = refused(path)
        if name.startswith("object_"):
            assert "object array, which would need pickle" in message, message
        assert not marker.exists(), name


# ---- paths and foreign files ------------------------------------------------------------
def test_paths_that_are_not_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        pynn.load(tmp_path / "missing.npz")
    with pytest.raises(
        IsADirectoryError if os.name == "posix" else OSError, match=str(tmp_path.name)
    ):
        pynn.load(tmp_path)


def test_foreign_files(tmp_path, rng):
    path = tmp_path / "f"
    for content in (
        b"",
        b"hello\n",
        b"a,b\n1,2\n",
        rng.bytes(4096),
        b"PK",
        b"PK\x03\x04",
        b"PK\x05\x06" + b"\0" * 18,
    ):
        path.write_bytes(content)
        refused(path)
    zip_members(path, {"readme.txt": b"a zip of something else"})
    refused(path, "no config or params array")
    zip_members(
        path,
        {
            "params.npy": npy_bytes(np.zeros(3)),
            "config.npy": npy_bytes(np.array(json.dumps({"format": "keras"}))),
        },
    )
    refused(path, "not a pynn model")


def test_compressed_and_bomb_members_are_refused_unread(saved, tmp_path):
    model, X, data = saved
    arrays, _ = arrays_and_config(data)
    members = {name + ".npy": npy_bytes(array) for name, array in arrays.items()}
    # An honest savez_compressed of the model: pynn writes stored members only.
    path = tmp_path / "compressed.npz"
    with open(path, "wb") as file:
        np.savez_compressed(file, **arrays)
    refused(path, "is compressed", "stored arrays only")
    # A deflated member expanding to 40 MB from 40 KB.
    bomb = npy_bytes(np.zeros(10_000_000, np.float32))
    zip_members(path, {**members, "params.npy": bomb}, zipfile.ZIP_DEFLATED)
    assert path.stat().st_size < 100_000
    del bomb
    peak = peak_bytes(lambda: refused(path, "is compressed"))
    assert peak < 5_000_000, peak
    # A stored member whose directory entries claim 4 GB.
    good = bytearray(data)
    for signature, size_offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = good.index(signature)  # the first member of each header kind: params
        struct.pack_into("<I", good, start + size_offset, 0xFFFFFFF0)
    forged = tmp_path / "forged.npz"
    forged.write_bytes(good)
    refused(forged, "do not fit")


def test_an_encrypted_flag_is_refused(saved, tmp_path):
    _, _, data = saved
    damaged = bytearray(data)
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = damaged.index(signature)
        damaged[start + flag_offset] |= 0x1
    path = tmp_path / "encrypted.npz"
    path.write_bytes(damaged)
    refused(path, "encrypted")


# ---- atomic save --------------------------------------------------------------------------
KILLED_SAVER = """
import sys, threading
import numpy as np
import pynn
from pynn.core import persistence

model = pynn.load(sys.argv[1])
model.flat_params[:] += 1  # a different model, so a finished save would change the file
real_savez = np.savez

def savez_then_hang(file, **arrays):
    real_savez(file, **arrays)
    file.truncate(file.tell() // 2)  # half written, then the process dies
    file.flush()
    print("half written", flush=True)
    threading.Event().wait()  # until killed: a timed sleep could end and finish the save

persistence.np.savez = savez_then_hang
model.save(sys.argv[1])
"""


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_a_save_killed_midway_leaves_the_old_file(saved, tmp_path):
    model, X, data = saved
    path = tmp_path / "model.npz"
    path.write_bytes(data)
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(pynn.__file__)))
    saver = subprocess.Popen(
        [sys.executable, "-c", KILLED_SAVER, str(path)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = saver.stdout.readline()
        assert line == "half written\n", line + saver.stderr.read()
        temporaries = [name for name in os.listdir(tmp_path) if name.endswith(".tmp")]
        assert len(temporaries) == 1 and (tmp_path / temporaries[0]).stat().st_size > 0
        os.kill(saver.pid, signal.SIGKILL)
        assert saver.wait(timeout=HANG_SECONDS) == -signal.SIGKILL
    finally:
        if saver.poll() is None:
            saver.kill()
            saver.wait()
        saver.stdout.close()
        saver.stderr.close()
    assert path.read_bytes() == data
    assert same_model(pynn.load(path), model, X)
    # Only the hidden temporary of the killed save is left (nothing can remove it then).
    assert sorted(os.listdir(tmp_path)) == sorted(["model.npz"] + temporaries)
    assert temporaries[0].startswith(".model.npz.")


@pytest.mark.parametrize("failing", ["savez", "fsync", "replace"])
@pytest.mark.parametrize("error", [KeyboardInterrupt(), OSError(28, "No space left on device")])
def test_a_failed_save_removes_its_temporary(saved, tmp_path, monkeypatch, failing, error):
    model, X, data = saved
    path = tmp_path / "model.npz"
    path.write_bytes(data)
    real = {
        "savez": persistence.np.savez,
        "fsync": persistence.os.fsync,
        "replace": persistence.os.replace,
    }[failing]

    def fail(*args, **kwargs):
        if failing == "savez":
            real(*args, **kwargs)  # the whole archive written, then the failure
        raise error

    monkeypatch.setattr(persistence.np if failing == "savez" else persistence.os, failing, fail)
    changed, _ = small_model()
    changed.flat_params[:] += 1
    with pytest.raises(type(error)):
        changed.save(path)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["model.npz"]
    assert path.read_bytes() == data
    assert same_model(pynn.load(path), model, X)


def test_save_errors_name_the_path_and_write_nothing(saved, tmp_path):
    model, _, _ = saved
    missing = tmp_path / "no" / "such" / "dir" / "m.npz"
    with pytest.raises(FileNotFoundError, match=r"cannot write .*m\.npz"):
        model.save(missing)
    (tmp_path / "adir").mkdir()
    with pytest.raises(OSError):
        model.save(tmp_path / "adir")
    assert sorted(os.listdir(tmp_path)) == ["adir"] and not os.listdir(tmp_path / "adir")
    broken, _ = small_model()
    broken.flat_params[3] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity"):
        broken.save(tmp_path / "nan.npz")
    assert sorted(os.listdir(tmp_path)) == ["adir"]
