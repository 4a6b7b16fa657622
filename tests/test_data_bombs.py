"""Data bombs (issue 15): small data files that declare huge arrays are refused before
anything is allocated, with a ValueError (the file's headers lie) or a MemoryError (more
than the memory budget) naming the file; real files at the edge still load.

The hostile loads run in a child process whose address space is capped 64 MiB above what
it maps (helpers.ADDRESS_CAP), and the bombs declare 256 MiB or more: a loader that
allocated before checking would fail there with NumPy's own MemoryError ("Unable to
allocate ..."), not with pynn's message naming the file.
"""

import gzip
import io
import json
import re
import struct
import zipfile

import numpy as np
import pytest
from helpers import ADDRESS_CAP, needs_address_cap, run_python

from pynn.cli import data_sources
from pynn.core import memory
from pynn.datasets import load_csv, load_idx, load_idx_pair, load_mnist
from pynn.datasets.npy import load_npy, load_npz

BOMB_BYTES = 256 << 20  # what each bomb declares, 4 times the child's free address space
CAP_BYTES = 64 << 20
ZEROS = bytes(1 << 22)


def npy_header(shape, dtype):
    """The .npy header (format 1.0) of an array of `shape` and `dtype`."""
    stream = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        stream, {"descr": np.dtype(dtype).str, "fortran_order": False, "shape": shape}
    )
    return stream.getvalue()


def deflated_npz_of_zeros(path, name, nbytes, dtype, level=1):
    """An .npz whose member `name` really holds nbytes of zeros, deflated (about 1 MB for
    256 MiB at level 1)."""
    dtype = np.dtype(dtype)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        with archive.open(name + ".npy", "w", force_zip64=True) as member:
            member.write(npy_header((nbytes // dtype.itemsize,), dtype))
            for start in range(0, nbytes, len(ZEROS)):
                member.write(ZEROS[: min(len(ZEROS), nbytes - start)])
    return path


def idx_header(type_code, shape):
    return bytes([0, 0, type_code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape)


def gzip_idx_of_zeros(path, type_code, shape, itemsize, level=1):
    """A gzip IDX file that really holds its declared zeros."""
    nbytes = int(np.prod(shape)) * itemsize
    with gzip.GzipFile(path, "wb", compresslevel=level, mtime=0) as file:
        file.write(idx_header(type_code, shape))
        for start in range(0, nbytes, len(ZEROS)):
            file.write(ZEROS[: min(len(ZEROS), nbytes - start)])
    return path


def zip_directory_lies(path, claimed):
    """An .npz of one small deflated member whose central directory entry claims
    `claimed` uncompressed bytes (zipfile trusts the directory's sizes)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("X.npy", npy_header((claimed // 8,), np.float64))
    data = bytearray(path.read_bytes())
    entry = data.index(b"PK\x01\x02")
    data[entry + 24 : entry + 28] = struct.pack("<I", claimed)  # uncompressed size
    path.write_bytes(bytes(data))
    return path


def zero_csv(path, nbytes, columns=100):
    """A CSV of "0,0,...,0" rows: 2 bytes of text per cell, 8 bytes of float64."""
    row = ",".join(["0"] * columns) + "\n"
    path.write_text(row * (nbytes // len(row)))
    return path


def build_bombs(folder):
    """{name: path} of the hostile files."""
    bombs = {
        "npz_f64": deflated_npz_of_zeros(folder / "f64.npz", "X", BOMB_BYTES, np.float64),
        "npz_f32": deflated_npz_of_zeros(folder / "f32.npz", "X", BOMB_BYTES, np.float32),
        "idx_u8": gzip_idx_of_zeros(
            folder / "images-idx3-ubyte.gz", 0x08, (BOMB_BYTES // 1024, 32, 32), 1
        ),
        "idx_f32": gzip_idx_of_zeros(
            folder / "floats-idx2.gz", 0x0D, (BOMB_BYTES // 4096, 1024), 4
        ),
        "zip_lies": zip_directory_lies(folder / "lies.npz", 4_000_000_000),
        # 16 MiB of text, 64 MiB of float64 at least: more than the child can allocate
        "csv": zero_csv(folder / "zeros.csv", 16 << 20),
    }
    # One long cell widens NumPy's text array of a whole column (or block): 20,000 rows and
    # one cell of 100,000 characters (Python's csv reads at most 131,072) ask for 8 GB of
    # text from a 200 KB file. All numbers ("000...0" is one), np.loadtxt's fast reader;
    # labels, the careful reader.
    long_cell = "0" * 100_000
    (folder / "long_number.csv").write_text("0,0\n" * 20_000 + f"0,{long_cell}\n")
    bombs["csv_long_number"] = folder / "long_number.csv"
    (folder / "long_label.csv").write_text(f"0,a{long_cell}\n" + "0,a\n" * 20_000)
    bombs["csv_long_label"] = folder / "long_label.csv"
    labels = folder / "labels-idx1-ubyte.gz"
    with gzip.open(labels, "wb") as file:
        file.write(idx_header(0x08, (BOMB_BYTES // 1024,)) + bytes(BOMB_BYTES // 1024))
    bombs["labels"] = labels
    # A stored member whose header declares 8 GB over 16 bytes of data.
    stored = folder / "stored.npz"
    with zipfile.ZipFile(stored, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("X.npy", npy_header((10**9,), np.float64) + bytes(16))
    bombs["stored_lies"] = stored
    # Plain .npy: one cut short, one whose header declares 80 GB.
    np.save(folder / "cut.npy", np.arange(1000.0))
    (folder / "cut.npy").write_bytes((folder / "cut.npy").read_bytes()[:-8])
    bombs["npy_cut"] = folder / "cut.npy"
    (folder / "huge.npy").write_bytes(npy_header((10**10,), np.float64) + bytes(64))
    bombs["npy_lies"] = folder / "huge.npy"
    # IDX headers that lie: a plain file declaring 10 GB over 10 bytes; a gzip file of
    # 64 KiB declaring 1 GB (more than deflate can hold); one declaring 32 MiB over 64 KiB
    # of random bytes (within deflate's ratio, but not what its gzip trailer records).
    (folder / "plain-idx2").write_bytes(idx_header(0x08, (100_000, 100_000)) + bytes(10))
    bombs["idx_plain_lies"] = folder / "plain-idx2"
    noise = np.random.default_rng(0).integers(0, 256, 1 << 16, dtype=np.uint8).tobytes()
    for name, shape in (("idx_ratio_lies", (1 << 20, 1024)), ("idx_isize_lies", (1 << 15, 1024))):
        path = folder / f"{name}.gz"
        path.write_bytes(gzip.compress(idx_header(0x08, shape) + noise, mtime=0))
        bombs[name] = path
    return bombs


# In the child: each hostile load, under the address-space cap; one JSON line per load:
# [name, exception type, message].
HOSTILE_LOADS = (
    ADDRESS_CAP
    + r"""
import json, sys
import numpy as np
from pynn.core import memory
from pynn.cli import data_sources
from pynn.datasets import load_csv, load_idx, load_idx_pair
from pynn.datasets.npy import load_npy, load_npz

bombs = json.loads(sys.argv[1])
loads = {
    "npz_f64": lambda: load_npz(bombs["npz_f64"]),
    "npz_f32": lambda: load_npz(bombs["npz_f32"], ["X"]),
    "cli_npz_features": lambda: data_sources.load_features(bombs["npz_f64"]),
    "cli_npz_wrong_width": lambda: data_sources.load_features(bombs["npz_f32"], n_features=3),
    "idx_u8": lambda: load_idx(bombs["idx_u8"]),
    "idx_f32": lambda: load_idx(bombs["idx_f32"]),
    "idx_pair": lambda: load_idx_pair(bombs["idx_u8"], bombs["labels"], dtype=np.float32),
    "cli_idx_train": lambda: data_sources.load_training_data(bombs["idx_u8"],
                                                             labels=bombs["labels"]),
    "cli_idx_features": lambda: data_sources.load_features(bombs["idx_u8"]),
    "cli_idx_wrong_width": lambda: data_sources.load_features(bombs["idx_u8"], n_features=784),
    "csv": lambda: load_csv(bombs["csv"]),
    "cli_csv_features": lambda: data_sources.load_features(bombs["csv"]),
    "csv_long_number": lambda: load_csv(bombs["csv_long_number"]),
    "csv_long_label": lambda: load_csv(bombs["csv_long_label"]),
    "zip_lies": lambda: load_npz(bombs["zip_lies"]),
    "stored_lies": lambda: load_npz(bombs["stored_lies"]),
    "npy_cut": lambda: load_npy(bombs["npy_cut"]),
    "npy_lies": lambda: load_npy(bombs["npy_lies"]),
    "idx_plain_lies": lambda: load_idx(bombs["idx_plain_lies"]),
    "idx_ratio_lies": lambda: load_idx(bombs["idx_ratio_lies"]),
    "idx_isize_lies": lambda: load_idx(bombs["idx_isize_lies"]),
}
lift = cap_address_space("""
    + str(CAP_BYTES)
    + r""")
assert memory.available_bytes() <= """
    + str(CAP_BYTES)
    + r"""
for name, load in loads.items():
    try:
        load()
    except BaseException as error:
        print(json.dumps([name, type(error).__name__, str(error)]), flush=True)
    else:
        print(json.dumps([name, "loaded", ""]), flush=True)
lift()
"""
)

# name: (the file the message must name, exception, words the message must hold)
EXPECTED = {
    "npz_f64": ("npz_f64", MemoryError, "member 'X' (shape (33554432,), float64) needs 256.0 MiB"),
    "npz_f32": ("npz_f32", MemoryError, "member 'X' (shape (67108864,), float32) needs 256.0 MiB"),
    "cli_npz_features": ("npz_f64", MemoryError, "needs 256.0 MiB"),
    "cli_npz_wrong_width": ("npz_f32", MemoryError, "member 'X'"),  # 1-D X: no width to check
    "idx_u8": (
        "idx_u8",
        MemoryError,
        "(shape (262144, 32, 32) of u1), read as uint8, needs 256.0 MiB",
    ),
    "idx_f32": ("idx_f32", MemoryError, "needs 256.0 MiB"),
    "idx_pair": ("idx_u8", MemoryError, "read as X (262144, 1024) of float32"),
    "cli_idx_train": ("idx_u8", MemoryError, "of float64 and y (262144,) of int64, needs 2.0 GiB"),
    "cli_idx_features": ("idx_u8", MemoryError, "read as float64, needs 2.0 GiB"),
    "cli_idx_wrong_width": (
        "idx_u8",
        ValueError,
        "has 1024 features per sample, but the model expects 784",
    ),
    "csv": (
        "csv",
        MemoryError,
        "(16777200 bytes; parsing takes up to 32 times that) needs 512.0 MiB",
    ),
    "cli_csv_features": ("csv", MemoryError, "parsing takes up to 32 times"),
    "csv_long_number": (
        "csv_long_number",
        MemoryError,
        "target column as text, 20001 cells as wide as the longest, 100000",
    ),
    "csv_long_label": (
        "csv_long_label",
        MemoryError,
        "lines 1 to 4096 as text, 8192 cells as wide as the longest, 100001",
    ),
    "zip_lies": (
        "zip_lies",
        ValueError,
        "the zip directory lies: 4000000000 bytes cannot inflate",
    ),
    "stored_lies": (
        "stored_lies",
        ValueError,
        "truncated or lying header: shape (1000000000,) of float64",
    ),
    "npy_cut": ("npy_cut", ValueError, "truncated or lying header"),
    "npy_lies": ("npy_lies", ValueError, "truncated or lying header: shape (10000000000,)"),
    "idx_plain_lies": (
        "idx_plain_lies",
        ValueError,
        "is truncated: its header announces shape (100000, 100000)",
    ),
    "idx_ratio_lies": ("idx_ratio_lies", ValueError, "header lies.*deflate cannot expand"),
    "idx_isize_lies": (
        "idx_isize_lies",
        ValueError,
        "is truncated or its header lies.*gzip trailer records",
    ),
}


@needs_address_cap
def test_bombs_are_refused_before_anything_is_allocated(tmp_path):
    bombs = build_bombs(tmp_path)
    run = run_python(HOSTILE_LOADS, tmp_path, json.dumps({k: str(v) for k, v in bombs.items()}))
    assert run.returncode == 0, run.stderr[-3000:]
    results = {
        name: (kind, message) for name, kind, message in map(json.loads, run.stdout.splitlines())
    }
    assert set(results) == set(EXPECTED), run.stdout
    for name, (bomb, error, words) in EXPECTED.items():
        kind, message = results[name]
        assert kind == error.__name__, (name, kind, message)
        assert repr(str(bombs[bomb])) in message, (name, message)
        assert re.search(words if "*" in words else re.escape(words), message), (name, message)
        assert "Unable to allocate" not in message, (name, message)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_real_files_at_deflates_edge_load(tmp_path, dtype):
    """8 MiB of zeros, deflated more than 1000:1 at level 9, is real data: the ratio checks
    (at most 1032:1) must not refuse it."""
    nbytes = 8 << 20
    count = nbytes // np.dtype(dtype).itemsize
    path = deflated_npz_of_zeros(tmp_path / "zeros.npz", "X", nbytes, dtype, level=9)
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("X.npy")
    assert info.file_size > 1000 * info.compress_size  # really at the edge
    X = load_npz(path)["X"]
    assert X.dtype == dtype and X.shape == (count,) and not X.any()
    type_code, itemsize = (0x0E, 8) if dtype == np.float64 else (0x0D, 4)
    idx = gzip_idx_of_zeros(
        tmp_path / "zeros-idx2.gz", type_code, (count // 64, 64), itemsize, level=9
    )
    assert idx.stat().st_size * 1000 < nbytes
    images = load_idx(idx)
    assert images.dtype == dtype and images.shape == (count // 64, 64) and not images.any()


def write_idx(path, array, type_code):
    path.write_bytes(
        idx_header(type_code, array.shape) + array.astype(array.dtype.newbyteorder(">")).tobytes()
    )
    return path


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_max_bytes_is_a_budget(tmp_path, dtype):
    """Each loader refuses a file needing one byte more than max_bytes, naming the file
    and the budget, and loads it within the budget."""
    dtype = np.dtype(dtype)
    X = np.arange(60, dtype=dtype).reshape(10, 6)
    y = np.arange(10) % 3
    np.save(tmp_path / "X.npy", X)
    np.savez_compressed(tmp_path / "d.npz", X=X, y=y)
    images = write_idx(
        tmp_path / "train-images-idx3-ubyte", np.arange(60, dtype=np.uint8).reshape(10, 2, 3), 0x08
    )
    write_idx(tmp_path / "train-labels-idx1-ubyte", y.astype(np.uint8), 0x08)
    csv = tmp_path / "d.csv"
    csv.write_text(
        "".join(",".join(map(str, row)) + f",{label}\n" for row, label in zip(X.astype(int), y))
    )
    pair_bytes = 10 * 6 * dtype.itemsize + 10 * 8
    loads = [
        (
            tmp_path / "X.npy",
            X.nbytes,
            lambda budget: load_npy(tmp_path / "X.npy", max_bytes=budget),
        ),
        (
            tmp_path / "d.npz",
            X.nbytes + y.nbytes,
            lambda budget: load_npz(tmp_path / "d.npz", max_bytes=budget)["X"],
        ),
        (
            images,
            60 * dtype.itemsize,
            lambda budget: load_idx(images, dtype=dtype, max_bytes=budget).reshape(10, 6),
        ),
        (
            images,
            pair_bytes,
            lambda budget: load_idx_pair(
                images, tmp_path / "train-labels-idx1-ubyte", dtype=dtype, max_bytes=budget
            )[0],
        ),
        (
            images,
            pair_bytes,
            lambda budget: load_mnist(tmp_path, dtype=dtype, max_bytes=budget)[0],
        ),
        (
            csv,
            32 * csv.stat().st_size,
            lambda budget: load_csv(csv, dtype=dtype, max_bytes=budget)[0],
        ),
    ]
    for path, needed, load in loads:
        with pytest.raises(
            MemoryError,
            match=rf"'{path}'.*needs .*\({needed} bytes\), more "
            rf"than the budget max_bytes={needed - 1}",
        ):
            load(needed - 1)
        np.testing.assert_array_equal(load(needed), X)


def test_max_bytes_must_be_a_byte_count(tmp_path):
    np.save(tmp_path / "X.npy", np.zeros(3))
    for bad in ("1000", 1e6, True):
        with pytest.raises(TypeError, match="max_bytes must be None or an int"):
            load_npy(tmp_path / "X.npy", max_bytes=bad)
    with pytest.raises(ValueError, match="max_bytes must be >= 0, got -1"):
        load_idx(tmp_path / "X.npy", max_bytes=-1)
    with pytest.raises(
        MemoryError, match="'a file' needs 10 B \\(10 bytes\\), more than the budget max_bytes=9"
    ):
        memory.check_allocation(10, "'a file'", max_bytes=9)
    memory.check_allocation(10, "'a file'", max_bytes=10)


def test_npz_members_must_be_plain_arrays(tmp_path):
    np.savez(tmp_path / "records.npz", X=np.zeros(3, dtype=[("a", "f8"), ("b", "i4")]))
    with pytest.raises(ValueError, match="records.npz' member 'X' holds .*no records"):
        load_npz(tmp_path / "records.npz")
    with zipfile.ZipFile(tmp_path / "objects.npz", "w") as archive:
        archive.writestr("X.npy", npy_header((2,), object) + b"\x80\x04N.")
    with pytest.raises(ValueError, match="member 'X' holds object values"):
        data_sources.load_features(str(tmp_path / "objects.npz"))
    # Strings are labels: y of a classifier.
    np.savez(tmp_path / "labels.npz", X=np.zeros((2, 1)), y=np.array(["cat", "dog"]))
    assert data_sources._npz_arrays(tmp_path / "labels.npz", ["X", "y"])[1].tolist() == [
        "cat",
        "dog",
    ]


# available_bytes() in a child whose address space is capped 100 MiB above its mapping.
SEES_RLIMIT = (
    ADDRESS_CAP
    + r"""
from pynn.core import memory
before = memory.available_bytes()
lift = cap_address_space(100 << 20)
print(before, memory.available_bytes())
lift()
print(memory.available_bytes())
"""
)


@needs_address_cap
def test_available_bytes_sees_an_address_space_limit(tmp_path):
    run = run_python(SEES_RLIMIT, tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    (before, capped), (lifted,) = [
        list(map(int, line.split())) for line in run.stdout.splitlines()
    ]
    assert 90 << 20 < capped <= 100 << 20 < before, (before, capped)
    assert lifted > 100 << 20
