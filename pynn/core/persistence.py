"""Saving a model to one .npz file and loading it back, without pickle.

The file is a NumPy .npz archive (zip, members stored uncompressed, as np.savez writes) of
- "params": the flat parameter buffer, in the model's dtype,
- "config": a 0-d unicode array holding a JSON description: format marker and version,
  dtype, backend, random_state (when an int), each layer's `config()` (a callable `init`
  saved as None: the layer's default, which only a later fit or reset_parameters uses,
  since the file holds the parameters), and for a trained model the loss name and the
  targets' `config()`,
- "classes": the trained model's classes_ (numbers or strings), when it has them.
`read_model` (behind `pynn.load`) never unpickles and checks every part before it builds
anything: the zip directory (names, no encryption or compression, sizes that fit the
file), each member's .npy header against the bytes that follow (read whole, so zipfile
checks the CRC-32), the description, and the parameter count the layers imply (so a
forged layer size is refused, not allocated) and that the parameters are finite. A damaged
or foreign file gives a ValueError that names the file and says what is wrong; a path that
cannot be read, the OSError of opening it.
The optimizer state and history are not saved: `partial_fit` after `load` starts a
fresh optimizer.
"""

from __future__ import annotations

import io
import json
import math
import os
import secrets
import stat
import zipfile
import zlib
from typing import TYPE_CHECKING, Any

import numpy as np

from pynn._version import __version__
from pynn.core.checks import check_str_path
from pynn.core.files import open_regular, save_target
from pynn.core.layers import layer_from_config
from pynn.core.losses import LOSSES, get_loss
from pynn.core.model_type import Model
from pynn.core.targets import Targets

if TYPE_CHECKING:
    from os import PathLike


FORMAT = "pynn-model"
VERSION = 1
ARRAYS = ("params", "config", "classes")
CLASS_KINDS = "biufUS"  # numbers, booleans and strings load without pickle
ZIP_MAGIC = b"PK\x03\x04"
# What zipfile raises for a damaged archive (a bad offset can make a seek fail, too).
ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, ValueError)
NPY_HEADER_READERS = {
    (1, 0): np.lib.format.read_array_header_1_0,
    (2, 0): np.lib.format.read_array_header_2_0,
}


def _saved_config(layer):
    """A layer's config as saved: a callable init (which JSON cannot hold) is saved as None,
    the layer's default, since the file holds the parameters it drew."""
    config = layer.config()
    if callable(config.get("init")):
        config["init"] = None
    return config


def _description(model):
    config = {
        "format": FORMAT,
        "version": VERSION,
        "pynn_version": __version__,
        "dtype": model.dtype.name,
        "backend": model.backend,
        "random_state": model.random_state if isinstance(model.random_state, int) else None,
        "layers": [_saved_config(layer) for layer in model.layers],
        "loss": None,
        "targets": None,
    }
    if model.targets_ is not None:
        config["loss"] = model.loss_.name
        config["targets"] = model.targets_.config()
    return config


def save(model: Model, path: str | PathLike[str]) -> None:
    """Write `model` to exactly `path` (an .npz archive; see the module docstring).

    Atomic: the archive is written to a temporary file in the same directory, synced and
    then renamed over `path`, so a crash mid-save leaves any earlier file at `path` intact
    (an exception, KeyboardInterrupt included, removes the temporary file; one left by a
    killed process, ".<name>.<pid>.<random>.tmp", is removed by the next save of that
    name once its process is gone). Only a regular file is replaced: a path that exists
    and is anything else is refused (a device or a FIFO: ValueError; a directory:
    IsADirectoryError). A
    symlink is followed: its target is replaced, the link kept. The replaced file's mode
    (and owner, where permitted) is kept; a file's other hard links keep the old
    contents, as with any atomic replace. A model with NaN or infinite parameters is
    refused (ValueError), as load would refuse its file.

    Parameters
    ----------
    model : Sequential
        The model to save.
    path : str or os.PathLike
        The file written (exactly this name).

    Raises
    ------
    ValueError
        NaN or infinite parameters, or a path that exists and is not a regular file.
    IsADirectoryError
        The path is a directory.
    TypeError
        A path that is not a str or os.PathLike (bytes included).
    OSError
        The file cannot be written.
    """
    path = check_str_path(path)
    target, old = save_target(path)
    arrays = {
        "params": model.flat_params,
        "config": np.array(json.dumps(_description(model), allow_nan=False)),
    }
    classes = model.classes_
    if classes is not None:
        if classes.dtype.kind not in CLASS_KINDS:
            raise ValueError(
                f"classes_ has dtype {classes.dtype}: pynn saves only numeric or "
                f"string class labels (an object array would need pickle)"
            )
        arrays["classes"] = classes
    if not np.isfinite(model.flat_params).all():
        raise ValueError(
            "the model's parameters hold NaN or infinity: pynn.load would refuse "
            "the file, so it is not written"
        )
    directory, name = os.path.split(target)
    _remove_stale_temporaries(directory, name)
    temporary = os.path.join(directory, f".{name}.{os.getpid()}.{secrets.token_hex(6)}.tmp")
    # O_EXCL: never write into someone else's file; mode 0o666 lets the umask decide, as
    # an ordinary open() would.
    try:
        fd = os.open(
            temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666
        )
    except OSError as error:  # name the file asked for, not the temporary one
        raise type(error)(error.errno, f"cannot write {path!r}: {error.strerror}") from None
    try:
        if old is not None:
            _keep_mode_and_owner(fd, old)
        with os.fdopen(fd, "wb") as file:
            # a file object: no ".npz" is appended to the name
            np.savez(file, **arrays)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    _sync_directory(directory)


def _keep_mode_and_owner(fd, old):
    """The new file gets the replaced one's permission bits, and its owner and group
    where this process may set them (root may; others keep their own)."""
    if os.name != "posix":
        return
    os.fchmod(fd, stat.S_IMODE(old.st_mode))
    try:
        os.fchown(fd, old.st_uid, old.st_gid)
    except PermissionError:
        pass


def _remove_stale_temporaries(directory, name):
    """Remove the temporary files of saves of `name` whose process is gone (killed
    mid-save); those of running processes are left alone."""
    prefix, suffix = f".{name}.", ".tmp"
    try:
        entries = os.listdir(directory)
    except OSError:
        return
    for entry in entries:
        if not (entry.startswith(prefix) and entry.endswith(suffix)):
            continue
        pid, _, token = entry[len(prefix) : -len(suffix)].partition(".")
        if not (pid.isdigit() and token) or _process_alive(int(pid)):
            continue
        try:
            os.remove(os.path.join(directory, entry))
        except OSError:
            pass


def _process_alive(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # exists (another user's), or unknowable: keep its file
    return True


def _sync_directory(directory):
    """Make the rename itself durable (POSIX: a power cut could otherwise undo it)."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _bad(path, problem):
    return ValueError(f"{path!r} is not a valid pynn model file: {problem}")


def _members(path, archive, file_size):
    """{array name: ZipInfo} of the archive, after checking each member's name, flags and
    sizes from the zip directory alone: nothing is decompressed or allocated yet."""
    members = {}
    for info in archive.infolist():
        name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
        if name in members:
            raise _bad(path, f"it holds the array {name!r} twice")
        members[name] = info
    missing = {"params", "config"} - set(members)
    if missing:
        raise _bad(path, f"it has no {' or '.join(sorted(missing))} array")
    unexpected = set(members) - set(ARRAYS)
    if unexpected:
        raise _bad(path, f"unexpected arrays {sorted(unexpected)}")
    for name, info in members.items():
        if info.flag_bits & 0x1:
            raise _bad(path, f"its {name} array is encrypted")
        # np.savez stores its arrays uncompressed; refusing compression means a member
        # whose directory entry claims a huge size cannot expand past the file's own size.
        if info.compress_type != zipfile.ZIP_STORED:
            raise _bad(
                path,
                f"its {name} array is compressed (zip method "
                f"{info.compress_type}); pynn writes and reads stored arrays only",
            )
        if info.file_size != info.compress_size or info.compress_size > file_size:
            raise _bad(
                path,
                f"its {name} array's sizes in the zip directory ({info.file_size}"
                f" bytes, {info.compress_size} stored) do not fit the "
                f"{file_size}-byte file (truncated or forged)",
            )
    return members


def _parse_npy(path, name, data):
    """The array held by the .npy bytes `data`, checking that its header describes exactly
    the bytes that follow (and no object dtype, which would need pickle)."""
    stream = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(stream)
        if version not in NPY_HEADER_READERS:
            raise ValueError(f"unsupported .npy format version {version}")
        shape, fortran_order, dtype = NPY_HEADER_READERS[version](stream)
    except ValueError as error:
        raise _bad(path, f"its {name} array has a damaged header ({error})") from None
    if dtype.hasobject:
        raise _bad(
            path, f"its {name} array is an object array, which would need pickle to load (refused)"
        )
    if dtype.itemsize == 0:
        raise _bad(path, f"its {name} array has dtype {dtype.str!r}, whose items have no size")
    if any(size < 0 for size in shape):
        raise _bad(path, f"its {name} array has a negative size in its shape {shape}")
    expected = math.prod(shape) * dtype.itemsize
    if len(data) - stream.tell() != expected:
        raise _bad(
            path,
            f"its {name} array's header says shape {shape} of {dtype} "
            f"({expected} bytes) but {len(data) - stream.tell()} bytes follow",
        )
    flat = np.frombuffer(data, dtype, offset=stream.tell(), count=math.prod(shape))
    return flat.reshape(shape, order="F" if fortran_order else "C").copy()


def _read_arrays(path):
    """{name: array} of the archive: each member's sizes checked before it is read, then
    read whole (zipfile checks its CRC-32 at the end) and parsed without pickle."""
    with open_regular(path) as file:
        if file.read(4) != ZIP_MAGIC:
            raise _bad(path, "it is not an .npz (zip) archive")
        file.seek(0)
        file_size = os.fstat(file.fileno()).st_size
        try:
            archive = zipfile.ZipFile(file)
        except ZIP_ERRORS as error:
            raise _bad(path, f"truncated or corrupted archive ({error})") from None
        with archive:
            members = _members(path, archive, file_size)
            try:
                raw = {name: archive.read(info) for name, info in members.items()}
            except ZIP_ERRORS as error:
                raise _bad(path, f"truncated or corrupted archive ({error})") from None
    return {name: _parse_npy(path, name, data) for name, data in raw.items()}


def _read_config(path, array):
    if array.dtype.kind != "U" or array.ndim != 0:
        raise _bad(path, "its config is not a JSON string")
    try:
        config = json.loads(str(array[()]))
    except (ValueError, RecursionError) as error:  # JSONDecodeError, too long an integer
        raise _bad(path, f"its config is not valid JSON ({error})") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise _bad(path, f"not a pynn model (no {FORMAT!r} format marker)")
    version = config.get("version")
    if type(version) is not int or version != VERSION:
        raise ValueError(
            f"{path!r} is a pynn model of format version "
            f"{version!r}; this pynn ({__version__}) reads "
            f"version {VERSION} only"
        )
    for key in ("dtype", "backend", "random_state", "layers", "loss", "targets"):
        if key not in config:
            raise _bad(path, f"its config has no {key!r}")
    if config["dtype"] not in ("float32", "float64"):
        raise _bad(path, f"dtype must be float32 or float64, got {config['dtype']!r}")
    if not isinstance(config["layers"], list) or not config["layers"]:
        raise _bad(path, "its config has no layers")
    return config


def _layers(path, config):
    layers = []
    for i, layer_config in enumerate(config["layers"]):
        try:
            layers.append(layer_from_config(layer_config))
        except (TypeError, ValueError) as error:
            raise _bad(path, f"layer {i}: {error}") from None
    return layers


def _parameter_count(layers):
    """How many parameters Sequential(*layers) allocates, computed from the layers' shapes
    without allocating, or None when the layers do not fit together (Sequential says why).
    Checked against the file first, so absurd layer sizes are refused, not allocated."""
    widths = [layer.in_features for layer in layers if layer.in_features is not None]
    if not widths:
        return None
    width, count = widths[0], 0
    for layer in layers:
        try:
            width = layer.build(width)
        except ValueError:
            return None
        count += sum(math.prod(shape) for _, shape in layer.parameter_shapes())
    return count


def _check_params(path, params, dtype, count):
    if params.dtype != dtype or params.ndim != 1:
        raise _bad(
            path,
            f"params must be a 1-D {dtype} array (the model's dtype), got "
            f"{params.ndim}-D {params.dtype}",
        )
    if count is not None and params.size != count:
        raise _bad(path, f"it has {params.size} parameters but its layers need {count}")
    if not np.isfinite(params).all():
        raise _bad(
            path,
            f"its parameters hold NaN or infinity (at index "
            f"{np.flatnonzero(~np.isfinite(params))[0]})",
        )


def _build_model(path, config, layers, model_class):
    try:
        return model_class(
            *layers,
            dtype=config["dtype"],
            backend=config["backend"],
            random_state=config["random_state"],
        )
    except (TypeError, ValueError) as error:
        raise _bad(path, str(error)) from None


def _targets(path, config, classes, model):
    """The Loss and Targets of a trained model's description (None, None if untrained)."""
    loss_name, description = config["loss"], config["targets"]
    if loss_name is None and description is None:
        if classes is not None:
            raise _bad(path, "it has classes but no loss")
        return None, None
    if (
        not isinstance(loss_name, str)
        or loss_name not in LOSSES
        or not isinstance(description, dict)
    ):
        raise _bad(path, f"unknown loss {loss_name!r} or no targets description")
    expected = {"kind": str, "n_outputs": int, "squeeze": bool, "negative": float, "hinge": bool}
    for key, kind in expected.items():
        if (
            not isinstance(description.get(key), kind)
            or isinstance(description[key], bool)
            and kind is not bool
        ):
            raise _bad(
                path, f"targets {key!r} must be a {kind.__name__}, got {description.get(key)!r}"
            )
    kind, loss = description["kind"], get_loss(loss_name)
    if kind not in loss.target_kinds or description["hinge"] != loss.signed_targets:
        raise _bad(
            path,
            f"targets of kind {kind!r} (hinge={description['hinge']}) do not go "
            f"with loss {loss_name!r}",
        )
    if description["n_outputs"] != model.n_outputs_:
        raise _bad(
            path,
            f"targets have {description['n_outputs']} outputs, the layers give {model.n_outputs_}",
        )
    if description["negative"] not in (0.0, -1.0):
        raise _bad(path, f"targets 'negative' must be 0 or -1, got {description['negative']}")
    if kind in ("values", "rates"):  # regression
        if classes is not None:
            raise _bad(path, "a regressor has no classes")
    else:
        if classes is None:
            raise _bad(path, "a classifier needs its classes array")
        expected_count = 2 if kind == "binary" else model.n_outputs_
        if (
            classes.ndim != 1
            or classes.dtype.kind not in CLASS_KINDS
            or len(classes) != expected_count
        ):
            raise _bad(
                path,
                f"classes must be a 1-D array of {expected_count} numbers or "
                f"strings, got shape {classes.shape} dtype {classes.dtype}",
            )
        if not np.array_equal(np.unique(classes), classes):
            raise _bad(path, "classes must be sorted and distinct")
    return loss, Targets.from_config(description, classes)


def read_model(path: str | PathLike[str], model_class: type[Any]) -> Any:
    """The model saved at `path` by `model.save(path)`, built as `model_class` (Sequential:
    pynn.core.model passes it, which keeps this module below the model; pynn.load is
    pynn.core.model.load).

    Raises ValueError naming the file when it is not a pynn model, is damaged, or was
    written by another format version; OSError when it cannot be opened. Never unpickles
    anything, and allocates no more than the file's size justifies.

    Parameters
    ----------
    path : str or os.PathLike
        The .npz file.
    model_class : type
        The class to build (Sequential).

    Returns
    -------
    Sequential
        The model (an instance of model_class), with its loss and targets when it was
        trained.

    Raises
    ------
    ValueError
        Not a pynn model, damaged, or another format version (naming the file).
    OSError
        The file cannot be opened.
    TypeError
        A path that is not a str or os.PathLike.
    """
    path = check_str_path(path)
    arrays = _read_arrays(path)
    config = _read_config(path, arrays["config"])
    layers = _layers(path, config)
    _check_params(path, arrays["params"], np.dtype(config["dtype"]), _parameter_count(layers))
    model = _build_model(path, config, layers, model_class)
    model.flat_params[...] = arrays["params"]
    model.loss_, model.targets_ = _targets(path, config, arrays.get("classes"), model)
    return model
