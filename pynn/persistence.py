"""Saving a model to one .npz file and loading it back, without pickle.

The file is a NumPy .npz archive of
- "params": the flat parameter buffer, in the model's dtype,
- "config": a 0-d unicode array holding a JSON description: format marker and version,
  dtype, backend, random_state (when an int), each layer's `config()`, and for a trained
  model the loss name and the targets' `config()`,
- "classes": the trained model's classes_ (numbers or strings), when it has them.
Everything loads with `allow_pickle=False`, and `load` checks every part, so a damaged
or foreign file gives a ValueError that says what is wrong, never arbitrary code.
The optimizer state and history are not saved: `partial_fit` after `load` starts a
fresh optimizer.
"""
import json
import os
import secrets
import zipfile
import zlib

import numpy as np

from pynn._version import __version__
from pynn.layers import layer_from_config
from pynn.losses import LOSSES, get_loss
from pynn.targets import Targets

FORMAT = "pynn-model"
VERSION = 1
ARRAYS = ("params", "config", "classes")
CLASS_KINDS = "biufUS"  # numbers, booleans and strings load without pickle
ZIP_MAGIC = b"PK\x03\x04"
# Which target kinds each loss trains (pynn.targets): a file pairing others is damaged.
KINDS_OF_LOSS = {"mse": ("values",), "l1": ("values",),
                 "softmax_cross_entropy": ("labels", "probabilities"),
                 "binary_cross_entropy": ("binary", "indicator"),
                 "hinge": ("binary", "indicator")}


def _check_path(path):
    if isinstance(path, (str, os.PathLike)):
        path = os.fspath(path)
        if isinstance(path, str):
            return path
    raise TypeError(f"path must be a str or os.PathLike, got {path!r}")


def _description(model):
    config = {"format": FORMAT, "version": VERSION, "pynn_version": __version__,
              "dtype": model.dtype.name, "backend": model.backend,
              "random_state": model.random_state if isinstance(model.random_state, int)
              else None,
              "layers": [layer.config() for layer in model.layers],
              "loss": None, "targets": None}
    if model.targets_ is not None:
        config["loss"] = model.loss_.name
        config["targets"] = model.targets_.config()
    return config


def save(model, path):
    """Write `model` to exactly `path` (an .npz archive; see the module docstring).

    Atomic: the archive is written to a temporary file in the same directory and then
    renamed over `path`, so a crash mid-save leaves any earlier file at `path` intact."""
    path = _check_path(path)
    arrays = {"params": model.flat_params,
              "config": np.array(json.dumps(_description(model), allow_nan=False))}
    classes = model.classes_
    if classes is not None:
        if classes.dtype.kind not in CLASS_KINDS:
            raise ValueError(f"classes_ has dtype {classes.dtype}: pynn saves only numeric or "
                             f"string class labels (an object array would need pickle)")
        arrays["classes"] = classes
    directory = os.path.dirname(os.path.abspath(path))
    temporary = os.path.join(directory, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
    # O_EXCL: never write into someone else's file; mode 0o666 lets the umask decide, as
    # an ordinary open() would.
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                 0o666)
    try:
        with os.fdopen(fd, "wb") as file:
            np.savez(file, **arrays)  # a file object: no ".npz" is appended to the name
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def _bad(path, problem):
    return ValueError(f"{path!r} is not a valid pynn model file: {problem}")


def _read_arrays(path):
    """{name: array} of the archive, each read whole with allow_pickle=False."""
    with open(path, "rb") as file:
        if file.read(4) != ZIP_MAGIC:
            raise _bad(path, "it is not an .npz (zip) archive")
        file.seek(0)
        try:
            with np.load(file, allow_pickle=False) as archive:
                arrays = {name: archive[name] for name in archive.files}
        except ValueError as error:
            if "pickle" in str(error):
                raise _bad(path, "it holds an object array, which would need pickle to "
                                 "load (refused)") from None
            raise _bad(path, f"damaged archive ({error})") from None
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as error:
            raise _bad(path, f"truncated or corrupted archive ({error})") from None
    missing = {"params", "config"} - set(arrays)
    if missing:
        raise _bad(path, f"it has no {' or '.join(sorted(missing))} array")
    unexpected = set(arrays) - set(ARRAYS)
    if unexpected:
        raise _bad(path, f"unexpected arrays {sorted(unexpected)}")
    return arrays


def _read_config(path, array):
    if array.dtype.kind != "U" or array.ndim != 0:
        raise _bad(path, "its config is not a JSON string")
    try:
        config = json.loads(str(array[()]))
    except json.JSONDecodeError as error:
        raise _bad(path, f"its config is not valid JSON ({error})") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise _bad(path, f"not a pynn model (no {FORMAT!r} format marker)")
    version = config.get("version")
    if type(version) is not int or version != VERSION:
        raise ValueError(f"{path!r} is a pynn model of format version "
                         f"{version!r}; this pynn ({__version__}) reads "
                         f"version {VERSION} only")
    for key in ("dtype", "backend", "random_state", "layers", "loss", "targets"):
        if key not in config:
            raise _bad(path, f"its config has no {key!r}")
    if config["dtype"] not in ("float32", "float64"):
        raise _bad(path, f"dtype must be float32 or float64, got {config['dtype']!r}")
    if not isinstance(config["layers"], list) or not config["layers"]:
        raise _bad(path, "its config has no layers")
    return config


def _build_model(path, config):
    from pynn.model import Sequential

    layers = []
    for i, layer_config in enumerate(config["layers"]):
        try:
            layers.append(layer_from_config(layer_config))
        except (TypeError, ValueError) as error:
            raise _bad(path, f"layer {i}: {error}") from None
    try:
        return Sequential(*layers, dtype=config["dtype"], backend=config["backend"],
                          random_state=config["random_state"])
    except (TypeError, ValueError) as error:
        raise _bad(path, str(error)) from None


def _check_params(path, params, model):
    if params.dtype != model.dtype or params.ndim != 1:
        raise _bad(path, f"params must be a 1-D {model.dtype} array (the model's dtype), got "
                         f"{params.ndim}-D {params.dtype}")
    if params.size != model.n_parameters:
        raise _bad(path, f"it has {params.size} parameters but its layers need "
                         f"{model.n_parameters}")


def _targets(path, config, classes, model):
    """The Loss and Targets of a trained model's description (None, None if untrained)."""
    loss_name, description = config["loss"], config["targets"]
    if loss_name is None and description is None:
        if classes is not None:
            raise _bad(path, "it has classes but no loss")
        return None, None
    if loss_name not in LOSSES or not isinstance(description, dict):
        raise _bad(path, f"unknown loss {loss_name!r} or no targets description")
    expected = {"kind": str, "n_outputs": int, "squeeze": bool, "negative": float,
                "hinge": bool}
    for key, kind in expected.items():
        if not isinstance(description.get(key), kind) or isinstance(description[key], bool) \
                and kind is not bool:
            raise _bad(path, f"targets {key!r} must be a {kind.__name__}, got "
                             f"{description.get(key)!r}")
    kind = description["kind"]
    if kind not in KINDS_OF_LOSS[loss_name] or description["hinge"] != (loss_name == "hinge"):
        raise _bad(path, f"targets of kind {kind!r} (hinge={description['hinge']}) do not go "
                         f"with loss {loss_name!r}")
    if description["n_outputs"] != model.n_outputs_:
        raise _bad(path, f"targets have {description['n_outputs']} outputs, the layers give "
                         f"{model.n_outputs_}")
    if description["negative"] not in (0.0, -1.0):
        raise _bad(path, f"targets 'negative' must be 0 or -1, got {description['negative']}")
    if kind == "values":
        if classes is not None:
            raise _bad(path, "a regressor has no classes")
    else:
        if classes is None:
            raise _bad(path, "a classifier needs its classes array")
        expected_count = 2 if kind == "binary" else model.n_outputs_
        if classes.ndim != 1 or classes.dtype.kind not in CLASS_KINDS \
                or len(classes) != expected_count:
            raise _bad(path, f"classes must be a 1-D array of {expected_count} numbers or "
                             f"strings, got shape {classes.shape} dtype {classes.dtype}")
        if not np.array_equal(np.unique(classes), classes):
            raise _bad(path, "classes must be sorted and distinct")
    return get_loss(loss_name), Targets.from_config(description, classes)


def load(path):
    """The Sequential model saved at `path` by `model.save(path)`.

    Raises ValueError when the file is not a pynn model, is damaged, or was written by a
    newer, unsupported format version. Never unpickles anything."""
    path = _check_path(path)
    arrays = _read_arrays(path)
    config = _read_config(path, arrays["config"])
    model = _build_model(path, config)
    _check_params(path, arrays["params"], model)
    model.flat_params[...] = arrays["params"]
    model.loss_, model.targets_ = _targets(path, config, arrays.get("classes"), model)
    return model
