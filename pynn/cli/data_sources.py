"""What --data names: a built-in data set, or a CSV, NPZ or IDX file.

Built-in: `digits` (scikit-learn's 8x8 digits, needs scikit-learn) and the generators of
pynn.datasets with their default settings. Files are told apart by their names: `.csv`,
`.npz`, and IDX for names ending in `.gz` or `-ubyte` or containing `idx` (or any name
when --labels gives the IDX labels file).
"""

import csv
import math
import os
import warnings

import numpy as np

from pynn import datasets
from pynn.core.files import open_regular
from pynn.datasets.csv_table import check_parse_memory, is_number
from pynn.datasets.idx import idx_header
from pynn.datasets.npy import load_npz, npz_shapes

# name -> generator(n_samples, random_state) of (X, y); the generators' own defaults
GENERATED = {
    "red_blue": datasets.make_red_blue,
    "spirals": datasets.make_spirals,
    "blobs": datasets.make_blobs,
    "semicircle": datasets.make_semicircle_to_parabola,
    "polynomial": datasets.make_polynomial,
}
BUILTIN = ("digits", *GENERATED)
DEFAULT_SAMPLES = 1000


class Dataset:
    """Features X, targets y, and a name to report."""

    def __init__(self, name, X, y):
        self.name, self.X, self.y = name, X, y

    def describe(self, classifier):
        n, d = self.X.shape
        features = f"{d} feature{'s' if d != 1 else ''}"
        if classifier:
            what = f"{len(np.unique(self.y))} classes"
        else:
            outputs = 1 if self.y.ndim == 1 else self.y.shape[1]
            what = f"{outputs} target{'s' if outputs > 1 else ''}"
        return f"{self.name} ({n} samples, {features}, {what})"


def default_data():
    """'digits' when scikit-learn is installed, else the 2-D 'red_blue' set."""
    try:
        import sklearn  # noqa: F401
    except ImportError:
        return "red_blue"
    return "digits"


def file_format(path, labels=None):
    """'csv', 'npz' or 'idx', from the file's name (and whether IDX labels are given)."""
    name = os.path.basename(path).lower()
    if labels is not None:
        return "idx"
    if name.endswith(".csv"):
        return "csv"
    if name.endswith(".npz"):
        return "npz"
    if name.endswith((".gz", "-ubyte", ".ubyte")) or "idx" in name:
        return "idx"
    raise ValueError(
        f"cannot tell the format of {path!r} from its name: CSV files end in "
        f".csv, NumPy archives in .npz; for IDX images give --labels"
    )


def _check_exists(path, what="data"):
    if not os.path.exists(path):
        raise FileNotFoundError(2, f"{what} file not found", path)
    if os.path.isdir(path):
        raise IsADirectoryError(21, f"{what} is a directory, not a file", path)


def _column(target):
    """A --target value as a column index (an integer) or a column name."""
    try:
        return int(target)
    except ValueError:
        return target


def _npz_arrays(path, names):
    """The arrays `names` of an .npz file, their headers checked before they are allocated
    (pynn.datasets.npy)."""
    arrays = load_npz(path, names)
    return [arrays[name] for name in names]


def load_training_data(data, *, labels=None, target=None, samples=None, seed=0, dtype=np.float64):
    """The Dataset --data names. `labels`: the IDX labels file; `target`: the CSV target
    column; `samples`: the size of a generated set."""
    if data in BUILTIN and not os.path.exists(data):
        for option, value in (("--labels", labels), ("--target", target)):
            if value is not None:
                raise ValueError(f"{option} is for data files, not the built-in {data!r} set")
        if data == "digits":
            if samples is not None:
                raise ValueError("--samples is for the generated data sets; digits has 1797")
            X, y = datasets.load_digits()
            return Dataset("digits", X, y)
        n = DEFAULT_SAMPLES if samples is None else samples
        X, y = GENERATED[data](n, random_state=seed)
        return Dataset(data, X, y)
    if samples is not None:
        raise ValueError("--samples is for the generated data sets, not for files")
    if not os.path.exists(data) and os.sep not in data and "." not in data:
        raise ValueError(
            f"unknown data set {data!r}: choose one of {', '.join(BUILTIN)}, "
            f"or give a .csv, .npz or IDX file"
        )
    kind = file_format(data, labels)
    _check_exists(data)
    if target is not None and kind != "csv":
        raise ValueError(
            f"--target chooses a CSV column; it does not apply to {kind.upper()} files"
        )
    if kind == "csv":
        X, y = datasets.load_csv(data, -1 if target is None else _column(target), dtype=dtype)
    elif kind == "npz":
        X, y = _npz_arrays(data, ["X", "y"])
    else:
        if labels is None:
            raise ValueError(f"IDX images {data!r} need their labels: add --labels FILE")
        _check_exists(labels, "labels")
        X, y = datasets.load_idx_pair(data, labels, dtype=dtype)
    return Dataset(os.path.basename(data), X, y)


def load_features(path, *, target=None, dtype=np.float64, n_features=None):
    """The features X of a data file for prediction: every column of a CSV file but the
    --target one (when given), the array X of an NPZ file, or IDX images (flattened).
    n_features: the width the model needs; an NPZ or IDX file declaring another one in its
    header is refused (width_error) before its data are read."""
    kind = file_format(path)
    _check_exists(path)
    if target is not None and kind != "csv":
        raise ValueError(
            f"--target names a CSV column to leave out; it does not apply to {kind.upper()} files"
        )
    if kind == "csv":
        if target is not None:
            return datasets.load_csv(path, _column(target), dtype=dtype)[0]
        return _feature_csv(path, dtype)
    if kind == "npz":
        shape = npz_shapes(path, ["X"])["X"][0]
        if n_features is not None and len(shape) == 2 and shape[1] != n_features:
            raise width_error(path, shape[1], n_features, target)
        return _npz_arrays(path, ["X"])[0]
    shape = idx_header(path)[0]
    width = math.prod(shape[1:])
    if n_features is not None and width != n_features:
        raise width_error(path, width, n_features, target)
    return datasets.load_idx(path, dtype=dtype).reshape(shape[0], width)


def width_error(path, width, n_features, target):
    """The ValueError of a data file whose samples have `width` features where the model
    expects n_features."""
    hint = (
        ": if one column is the target, name it with --target"
        if target is None and width == n_features + 1
        else ""
    )
    return ValueError(
        f"{path!r} has {width} features per sample, but the model expects {n_features}{hint}"
    )


def _feature_csv(path, dtype):
    """A CSV file whose every column is a feature; a first row with text is a header."""
    with open_regular(path, "r", newline="", encoding="utf-8-sig") as file:
        first = next(csv.reader(file), [])
    if len(first) >= 2:  # load_csv reads it (and names a bad line): its target is the last column
        X, last = datasets.load_csv(path, -1, dtype=dtype, target_dtype=dtype)
        return np.column_stack([X, last])
    # One column: load_csv needs a feature and a target, so NumPy reads it.
    check_parse_memory(path, os.path.getsize(path))
    header = bool(first) and not is_number(first[0])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # an empty file is reported below
            X = np.loadtxt(
                path,
                delimiter=",",
                skiprows=int(header),
                ndmin=2,
                dtype=dtype,
                encoding="utf-8-sig",
            )
    except ValueError as error:
        raise ValueError(f"CSV file {path!r}: {error}") from None
    if X.size == 0:
        raise ValueError(f"CSV file {path!r} has no data rows")
    return X
