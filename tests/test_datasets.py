"""pynn.datasets: the synthetic generators (shapes, dtypes, seeding, the shapes they
promise), the IDX and CSV loaders (on files written here, and on damaged ones) and
load_digits."""

import gzip
import struct
import sys

import numpy as np
import pytest

import pynn.datasets.csv_table as csv_table
from pynn.datasets import (
    load_csv,
    load_digits,
    load_idx,
    load_idx_pair,
    load_mnist,
    make_blobs,
    make_polynomial,
    make_red_blue,
    make_semicircle_to_parabola,
    make_spirals,
)

# Each generator with arguments that make its output random.
GENERATORS = {
    "red_blue": lambda **kw: make_red_blue(50, label_noise=0.1, **kw),
    "semicircle": lambda **kw: make_semicircle_to_parabola(50, noise=0.1, angles="random", **kw),
    "polynomial": lambda **kw: make_polynomial(50, **kw),
    "spirals": lambda **kw: make_spirals(50, noise=0.05, **kw),
    "blobs": lambda **kw: make_blobs(50, **kw),
}


# ---------------------------------------------------------------------------------------
# Seeding, shapes and dtypes, common to all generators.


@pytest.mark.parametrize("name", GENERATORS)
def test_generator_seeding(name):
    make = GENERATORS[name]
    X, y = make(random_state=3)
    X_again, y_again = make(random_state=3)
    np.testing.assert_array_equal(X, X_again)
    np.testing.assert_array_equal(y, y_again)
    X_other, _ = make(random_state=4)
    assert not np.array_equal(X, X_other)
    # A Generator is drawn from: the first call equals the int seed's, the next differs.
    rng = np.random.default_rng(3)
    X_first, y_first = make(random_state=rng)
    np.testing.assert_array_equal(X_first, X)
    np.testing.assert_array_equal(y_first, y)
    X_second, _ = make(random_state=rng)
    assert not np.array_equal(X_second, X)
    # None: fresh entropy each call.
    assert not np.array_equal(make(random_state=None)[0], make(random_state=None)[0])


@pytest.mark.parametrize("name", GENERATORS)
def test_generator_shapes_and_dtypes(name):
    X, y = GENERATORS[name](random_state=0)
    assert X.dtype == np.float64 and X.ndim == 2 and X.shape[0] == 50
    assert y.shape[0] == 50
    assert np.all(np.isfinite(X))


@pytest.mark.parametrize(
    "make", [make_red_blue, make_semicircle_to_parabola, make_polynomial, make_spirals, make_blobs]
)
def test_generator_bad_arguments(make):
    with pytest.raises(ValueError, match="n_samples"):
        make(0)
    with pytest.raises(TypeError, match="n_samples"):
        make(2.5)
    with pytest.raises(TypeError, match="n_samples"):
        make(True)
    with pytest.raises(TypeError, match="random_state"):
        make(5, random_state="seed")
    with pytest.raises(ValueError, match="random_state"):
        make(5, random_state=-1)


# ---------------------------------------------------------------------------------------
# Red/blue (notes 000 and 003).


def test_red_blue_labels_follow_the_curve():
    X, y = make_red_blue(2000, random_state=1)
    assert X.shape == (2000, 2) and y.dtype.kind == "U"
    assert X.min() >= -1 and X.max() <= 1
    above = X[:, 1] > 0.5 * np.sin(np.pi * X[:, 0])
    np.testing.assert_array_equal(y == "red", above)
    np.testing.assert_array_equal(y == "blue", ~above)
    # The curve halves the square (sin is odd), so both colours come in about equal shares
    # (the binomial standard deviation is 0.011 here).
    assert 0.45 < np.mean(above) < 0.55
    # No straight line follows it: the best least-squares linear classifier errs often.
    A = np.column_stack([X, np.ones(len(X))])
    coef, *_ = np.linalg.lstsq(A, np.where(above, 1.0, -1.0), rcond=None)
    assert np.mean((A @ coef > 0) == above) < 0.95


def test_red_blue_label_kinds():
    X, names = make_red_blue(300, random_state=2)
    X_binary, binary = make_red_blue(300, labels="binary", random_state=2)
    X_sign, sign = make_red_blue(300, labels="sign", random_state=2)
    np.testing.assert_array_equal(X, X_binary)
    np.testing.assert_array_equal(X, X_sign)
    assert binary.dtype == np.int64 and sign.dtype == np.int64
    np.testing.assert_array_equal(binary, np.where(names == "red", 1, 0))
    np.testing.assert_array_equal(sign, np.where(names == "red", 1, -1))
    with pytest.raises(ValueError, match="labels"):
        make_red_blue(10, labels="colours")


def test_red_blue_label_noise_flips_that_share():
    X, clean = make_red_blue(4000, random_state=5)
    X_noisy, noisy = make_red_blue(4000, label_noise=0.2, random_state=5)
    np.testing.assert_array_equal(X, X_noisy)  # the noise changes labels only
    flipped = np.mean(clean != noisy)
    assert 0.17 < flipped < 0.23  # 0.2 ± 4.7 binomial standard deviations
    np.testing.assert_array_equal(
        make_red_blue(50, label_noise=1.0, random_state=5)[1],
        np.where(clean[:50] == "red", "blue", "red"),
    )
    with pytest.raises(ValueError, match="label_noise"):
        make_red_blue(10, label_noise=1.5)
    with pytest.raises(ValueError, match="label_noise"):
        make_red_blue(10, label_noise=float("nan"))


# ---------------------------------------------------------------------------------------
# Semicircle -> parabola (notes 003, Example #2).


def test_semicircle_to_parabola_even_angles():
    X, Y = make_semicircle_to_parabola(9)
    theta = np.linspace(0, np.pi, 9)
    np.testing.assert_allclose(X, np.column_stack([np.cos(theta), np.sin(theta)]), atol=1e-15)
    np.testing.assert_allclose(Y[:, 0], X[:, 0], atol=0)
    np.testing.assert_allclose(Y[:, 1], Y[:, 0] ** 2, atol=1e-15)
    assert Y.shape == (9, 2) and Y.dtype == np.float64


def test_semicircle_to_parabola_random_angles_and_noise():
    X, Y = make_semicircle_to_parabola(3000, angles="random", noise=0.1, random_state=0)
    np.testing.assert_allclose(np.hypot(X[:, 0], X[:, 1]), 1.0, rtol=1e-12)
    assert np.all(X[:, 1] >= 0)  # the upper half
    residual = Y - np.column_stack([X[:, 0], X[:, 0] ** 2])
    assert np.std(residual) == pytest.approx(0.1, rel=0.05)
    assert abs(np.mean(residual)) < 0.01
    with pytest.raises(ValueError, match="angles"):
        make_semicircle_to_parabola(5, angles="grid")
    with pytest.raises(ValueError, match="noise"):
        make_semicircle_to_parabola(5, noise=-0.1)


# ---------------------------------------------------------------------------------------
# Noisy polynomial (notes 001).


def test_polynomial_given_coefficients():
    X, y = make_polynomial(
        200, coef=[0.3, 0.5, -1.0, 2.0], noise=0.0, x_range=(-2, 3), random_state=0
    )
    assert X.shape == (200, 1) and y.shape == (200,) and y.dtype == np.float64
    x = X[:, 0]
    assert x.min() >= -2 and x.max() <= 3 and x.max() - x.min() > 4.5
    np.testing.assert_allclose(y, 0.3 + 0.5 * x - x**2 + 2 * x**3, rtol=1e-13, atol=1e-13)
    # The noise is added to the same x.
    X_noisy, y_noisy = make_polynomial(
        200, coef=[0.3, 0.5, -1.0, 2.0], noise=0.2, x_range=(-2, 3), random_state=0
    )
    np.testing.assert_array_equal(X_noisy, X)
    assert np.std(y_noisy - y) == pytest.approx(0.2, rel=0.15)


def test_polynomial_drawn_coefficients():
    X, y, coef = make_polynomial(500, degree=4, noise=0.05, return_coef=True, random_state=1)
    assert coef.shape == (5,) and coef.dtype == np.float64
    residual = y - np.polynomial.polynomial.polyval(X[:, 0], coef)
    assert np.std(residual) == pytest.approx(0.05, rel=0.15)
    _, _, default = make_polynomial(10, return_coef=True, random_state=1)
    assert default.shape == (4,)  # degree 3 by default
    # A constant polynomial.
    X, y = make_polynomial(10, coef=[2.5], noise=0.0, random_state=0)
    np.testing.assert_array_equal(y, np.full(10, 2.5))


def test_polynomial_bad_arguments():
    with pytest.raises(ValueError, match="degree"):
        make_polynomial(10, coef=[1.0, 2.0], degree=3)
    with pytest.raises(ValueError, match="degree"):
        make_polynomial(10, degree=-1)
    with pytest.raises(ValueError, match="coef"):
        make_polynomial(10, coef=[])
    with pytest.raises(ValueError, match="coef"):
        make_polynomial(10, coef=[1.0, np.inf])
    with pytest.raises(ValueError, match="x_range"):
        make_polynomial(10, x_range=(1, 1))
    with pytest.raises(TypeError, match="x_range"):
        make_polynomial(10, x_range=3)


# ---------------------------------------------------------------------------------------
# Two spirals.


def test_spirals_points_lie_on_their_arm():
    X, y = make_spirals(501, turns=2.0, random_state=0)
    assert X.shape == (501, 2) and y.dtype == np.int64
    assert np.sum(y == 0) == 250 and np.sum(y == 1) == 251
    r = np.hypot(X[:, 0], X[:, 1])
    assert r.max() <= 1
    # Arm k: angle = 2π·turns·r + k·π (mod 2π).
    offset = np.mod(np.arctan2(X[:, 1], X[:, 0]) - 2 * np.pi * 2.0 * r, 2 * np.pi)
    distance = np.minimum(np.abs(offset - np.pi * y), 2 * np.pi - np.abs(offset - np.pi * y))
    assert distance.max() < 1e-9
    # The arms interleave: neither the radius nor the direction tells the classes apart,
    # both classes are in every ring and every quadrant.
    for low in (0.2, 0.4, 0.6, 0.8):
        ring = (r >= low) & (r < low + 0.2)
        assert set(y[ring]) == {0, 1}
    for sx in (-1, 1):
        for sy in (-1, 1):
            quadrant = (sx * X[:, 0] > 0) & (sy * X[:, 1] > 0)
            assert set(y[quadrant]) == {0, 1}


def test_spirals_shuffle_and_noise():
    X, y = make_spirals(10, shuffle=False, random_state=0)
    np.testing.assert_array_equal(y, [0] * 5 + [1] * 5)
    _, y_shuffled = make_spirals(200, random_state=0)
    assert np.any(np.diff(y_shuffled) < 0)  # not sorted
    X_noisy, _ = make_spirals(10, shuffle=False, noise=0.1, random_state=0)
    np.testing.assert_array_less(0, np.abs(X_noisy - X).max())
    with pytest.raises(ValueError, match="turns"):
        make_spirals(10, turns=-1)


# ---------------------------------------------------------------------------------------
# Gaussian blobs.


def test_blobs_drawn_centers():
    X, y, centers = make_blobs(
        3000, centers=3, n_features=4, cluster_std=0.5, return_centers=True, random_state=0
    )
    assert X.shape == (3000, 4) and y.dtype == np.int64 and centers.shape == (3, 4)
    assert centers.min() >= -10 and centers.max() <= 10
    np.testing.assert_array_equal(np.bincount(y), [1000, 1000, 1000])
    for k in range(3):
        members = X[y == k]
        np.testing.assert_allclose(members.mean(axis=0), centers[k], atol=0.1)
        np.testing.assert_allclose(members.std(axis=0), 0.5, rtol=0.1)


def test_blobs_given_centers_and_stds():
    centers = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    X, y = make_blobs(3001, centers=centers, cluster_std=[0.1, 1.0, 2.0], random_state=1)
    np.testing.assert_array_equal(np.bincount(y), [1001, 1000, 1000])
    for k, std in enumerate([0.1, 1.0, 2.0]):
        np.testing.assert_allclose(X[y == k].mean(axis=0), centers[k], atol=0.2)
        np.testing.assert_allclose(X[y == k].std(axis=0), std, rtol=0.1)
    _, grouped = make_blobs(7, centers=centers, shuffle=False, random_state=1)
    np.testing.assert_array_equal(grouped, [0, 0, 0, 1, 1, 2, 2])
    _, _, box_centers = make_blobs(
        5, centers=2, center_box=(3, 4), return_centers=True, random_state=1
    )
    assert box_centers.shape == (2, 2) and box_centers.min() >= 3 and box_centers.max() <= 4


def test_blobs_bad_arguments():
    with pytest.raises(ValueError, match="centers"):
        make_blobs(10, centers=0)
    with pytest.raises(ValueError, match="centers"):
        make_blobs(10, centers=[1.0, 2.0])
    with pytest.raises(ValueError, match="n_features"):
        make_blobs(10, centers=[[1.0, 2.0]], n_features=3)
    with pytest.raises(ValueError, match="n_features"):
        make_blobs(10, n_features=0)
    with pytest.raises(ValueError, match="cluster_std"):
        make_blobs(10, centers=3, cluster_std=[1.0, 2.0])
    with pytest.raises(ValueError, match="cluster_std"):
        make_blobs(10, cluster_std=-1.0)
    with pytest.raises(ValueError, match="center_box"):
        make_blobs(10, center_box=(5, -5))


# ---------------------------------------------------------------------------------------
# load_digits (scikit-learn).


def test_load_digits():
    pytest.importorskip("sklearn")
    X, y = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0 and X.max() == 16
    np.testing.assert_array_equal(np.unique(y), np.arange(10))
    X3, y3 = load_digits(n_class=3)
    np.testing.assert_array_equal(np.unique(y3), [0, 1, 2])
    with pytest.raises(ValueError, match="n_class"):
        load_digits(n_class=11)


def test_load_digits_without_sklearn(monkeypatch):
    for name in [name for name in sys.modules if name.startswith("sklearn")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "sklearn", None)  # makes `import sklearn...` fail
    with pytest.raises(ImportError, match=r'pip install "pynn\[sklearn\]"'):
        load_digits()


# ---------------------------------------------------------------------------------------
# IDX files, written here from the format's description.

IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
NATIVE = {
    0x08: np.uint8,
    0x09: np.int8,
    0x0B: np.int16,
    0x0C: np.int32,
    0x0D: np.float32,
    0x0E: np.float64,
}


def idx_bytes(array, type_code, shape=None):
    """Magic (0, 0, type code, ndim), big-endian uint32 sizes, big-endian values."""
    shape = np.shape(array) if shape is None else shape
    header = bytes([0, 0, type_code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape)
    return header + np.asarray(array).astype(IDX_TYPES[type_code]).tobytes()


def write(tmp_path, name, data, compress=False):
    path = tmp_path / name
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def sample_values(type_code, shape, rng):
    """Values spanning the type, its extremes included (endianness and sign show)."""
    dtype = np.dtype(NATIVE[type_code])
    size = int(np.prod(shape))
    if dtype.kind == "f":
        values = rng.standard_normal(size) * 1e3
        values[:2] = [np.finfo(dtype).max, -np.finfo(dtype).tiny]
    else:
        info = np.iinfo(dtype)
        values = rng.integers(info.min, int(info.max) + 1, size=size)
        values[:2] = [info.min, info.max]
    return values.astype(dtype).reshape(shape)


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("type_code", list(IDX_TYPES), ids=[f"0x{c:02X}" for c in IDX_TYPES])
@pytest.mark.parametrize("shape", [(7,), (3, 4), (2, 3, 5), (2, 1, 3, 2)])
def test_load_idx_round_trip(tmp_path, compress, type_code, shape, rng):
    values = sample_values(type_code, shape, rng)
    path = write(tmp_path, "data.idx", idx_bytes(values, type_code), compress)
    loaded = load_idx(path)
    assert loaded.shape == shape
    assert loaded.dtype == NATIVE[type_code] and loaded.dtype.isnative
    assert loaded.flags.writeable
    np.testing.assert_array_equal(loaded, values)


def test_load_idx_str_path_and_empty_dimension(tmp_path):
    path = write(tmp_path, "empty.idx", idx_bytes(np.zeros((0, 28, 28), np.uint8), 0x08))
    loaded = load_idx(str(path))
    assert loaded.shape == (0, 28, 28) and loaded.dtype == np.uint8
    with pytest.raises(FileNotFoundError):
        load_idx(tmp_path / "missing.idx")
    with pytest.raises(TypeError, match="path"):
        load_idx(3.5)


GOOD = idx_bytes(np.arange(24, dtype=np.int16).reshape(2, 3, 4), 0x0B)
DAMAGED = {
    # name: (file bytes, words the message must hold)
    "empty": (b"", "truncated"),
    "short magic": (b"\0\0", "truncated"),
    "cut in the sizes": (GOOD[:9], "truncated"),
    "cut in the data": (GOOD[:-1], "truncated"),
    "one extra byte": (GOOD + b"\0", "extra byte"),
    "wrong magic": (b"\x89PNG" + GOOD[4:], "not an IDX file"),
    "unknown type code": (bytes([0, 0, 0x0A, 3]) + GOOD[4:], "unknown type code 0x0A"),
    "no dimensions": (bytes([0, 0, 0x08, 0]) + b"\x01", "0 dimensions"),
    "sizes overflow": (bytes([0, 0, 0x0E, 3]) + b"\xff" * 12 + b"\0" * 8, "corrupt header"),
}


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("name", DAMAGED)
def test_load_idx_damaged_files(tmp_path, compress, name):
    data, words = DAMAGED[name]
    path = write(tmp_path, "bad.idx", data, compress)
    with pytest.raises(ValueError, match=words) as error:
        load_idx(path)
    assert str(path) in str(error.value)


def test_load_idx_header_promising_gigabytes_is_not_believed(tmp_path):
    """A gzip file whose header announces 4 GiB of data but holds 10 bytes: refused from
    its header (deflate cannot expand 31 bytes to 4 GiB), without allocating what the
    header announces; a plain one is reported as truncated."""
    data = bytes([0, 0, 0x08, 2]) + struct.pack(">2I", 65536, 65536) + bytes(10)
    path = write(tmp_path, "big.idx.gz", data, compress=True)
    with pytest.raises(ValueError, match="header lies.*4294967308 bytes.*deflate cannot expand"):
        load_idx(path)
    plain = write(tmp_path, "big.idx", data)
    with pytest.raises(ValueError, match="truncated.*4294967308 bytes in all"):
        load_idx(plain)


@pytest.mark.parametrize(
    "damage",
    ["cut in the middle", "cut before the trailer", "bad checksum", "garbage after the stream"],
)
def test_load_idx_damaged_gzip_stream(tmp_path, damage):
    values = np.arange(4000, dtype=np.int32)
    compressed = gzip.compress(idx_bytes(values, 0x0C))
    if damage == "cut in the middle":
        compressed = compressed[: len(compressed) // 2]
    elif damage == "cut before the trailer":
        compressed = compressed[:-4]  # all the data, without the length field
    elif damage == "bad checksum":
        compressed = compressed[:-8] + bytes([compressed[-8] ^ 1]) + compressed[-7:]
    else:
        compressed = compressed + b"garbage"
    path = tmp_path / "bad.idx.gz"
    path.write_bytes(compressed)
    with pytest.raises(ValueError, match="bad.idx.gz") as error:
        load_idx(path)
    assert "gzip" in str(error.value) or "truncated" in str(error.value)


def test_load_idx_pair(tmp_path):
    images = np.arange(36, dtype=np.uint8).reshape(6, 3, 2)
    labels = np.array([3, 1, 4, 1, 5, 9], dtype=np.uint8)
    images_path = write(tmp_path, "images.idx", idx_bytes(images, 0x08))
    labels_path = write(tmp_path, "labels.idx.gz", idx_bytes(labels, 0x08), compress=True)
    X, y = load_idx_pair(images_path, labels_path)
    assert X.dtype == np.float64 and y.dtype == np.int64
    np.testing.assert_array_equal(X, images.reshape(6, 6))
    np.testing.assert_array_equal(y, labels)
    X32, _ = load_idx_pair(images_path, labels_path, dtype=np.float32)
    assert X32.dtype == np.float32
    with pytest.raises(TypeError, match="dtype"):
        load_idx_pair(images_path, labels_path, dtype=np.int32)

    five = write(tmp_path, "five.idx", idx_bytes(labels[:5], 0x08))
    with pytest.raises(ValueError, match="6 samples.*5 labels") as error:
        load_idx_pair(images_path, five)
    assert str(images_path) in str(error.value) and str(five) in str(error.value)
    with pytest.raises(ValueError, match="1-D"):
        load_idx_pair(images_path, images_path)
    floats = write(tmp_path, "floats.idx", idx_bytes(labels.astype(np.float32), 0x0D))
    with pytest.raises(ValueError, match="integers"):
        load_idx_pair(images_path, floats)


def test_load_mnist_finds_the_published_names(tmp_path):
    rng = np.random.default_rng(0)
    for prefix, n, name in [
        ("train", 5, "{}-{}-idx{}-ubyte.gz"),
        ("t10k", 3, "{}-{}.idx{}-ubyte"),
    ]:
        images = rng.integers(0, 256, size=(n, 28, 28)).astype(np.uint8)
        labels = rng.integers(0, 10, size=n).astype(np.uint8)
        compress = name.endswith(".gz")
        write(tmp_path, name.format(prefix, "images", 3), idx_bytes(images, 0x08), compress)
        write(tmp_path, name.format(prefix, "labels", 1), idx_bytes(labels, 0x08), compress)
        X, y = load_mnist(tmp_path, "train" if prefix == "train" else "test")
        assert X.shape == (n, 784) and y.shape == (n,)
        np.testing.assert_array_equal(X, images.reshape(n, 784))
        np.testing.assert_array_equal(y, labels)
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        load_mnist(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="subset"):
        load_mnist(tmp_path, "validation")


# ---------------------------------------------------------------------------------------
# CSV files.


def csv_file(tmp_path, text, name="data.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_load_csv_numeric_without_header(tmp_path):
    path = csv_file(tmp_path, "1,2,0\n3.5,-4e-1,1\n\n5,6,1\n")  # a blank line is skipped
    X, y = load_csv(path)
    assert X.dtype == np.float64 and y.dtype == np.int64
    np.testing.assert_array_equal(X, [[1, 2], [3.5, -0.4], [5, 6]])
    np.testing.assert_array_equal(y, [0, 1, 1])
    X0, y0 = load_csv(str(path), target=0, dtype=np.float32)
    assert X0.dtype == np.float32
    np.testing.assert_array_equal(X0, np.float32([[2, 0], [-0.4, 1], [6, 1]]))
    np.testing.assert_array_equal(y0, [1, 3.5, 5])
    assert y0.dtype == np.float32  # a float target takes X's dtype


def test_load_csv_header_and_named_target(tmp_path):
    path = csv_file(tmp_path, "\ufeffa, b ,price\n1,2,10.5\n3,4,11\n", encoding="utf-8")
    X, y = load_csv(path)  # header found: "a" is not a number where "1" is
    np.testing.assert_array_equal(X, [[1, 2], [3, 4]])
    np.testing.assert_array_equal(y, [10.5, 11.0])
    assert y.dtype == np.float64
    Xb, yb = load_csv(path, target="b")  # names are stripped; the BOM is not a character
    np.testing.assert_array_equal(Xb, [[1, 10.5], [3, 11]])
    np.testing.assert_array_equal(yb, [2, 4])
    np.testing.assert_array_equal(load_csv(path, target="a")[1], [1, 3])
    # A numeric header is data unless told.
    numeric_names = csv_file(tmp_path, "0,1,2\n1,2,3\n", "numeric.csv")
    assert load_csv(numeric_names)[0].shape == (2, 2)
    assert load_csv(numeric_names, header=True)[0].shape == (1, 2)
    with pytest.raises(ValueError, match="not a number"):
        load_csv(path, header=False)


def test_load_csv_string_labels(tmp_path):
    path = csv_file(tmp_path, "0.5,1,red\n0.25,2, blue \n")
    X, y = load_csv(path)  # no header: the label column is text in both rows
    assert y.dtype.kind == "U"
    np.testing.assert_array_equal(y, ["red", "blue"])
    np.testing.assert_array_equal(X, [[0.5, 1], [0.25, 2]])
    with_header = csv_file(tmp_path, "x1,x2,colour\n0.5,1,red\n", "header.csv")
    np.testing.assert_array_equal(load_csv(with_header, target="colour")[1], ["red"])
    np.testing.assert_array_equal(load_csv(with_header)[1], ["red"])


def test_load_csv_target_dtype(tmp_path):
    mixed = csv_file(tmp_path, "1,0\n2,1\n3,other\n")
    with pytest.raises(
        ValueError,
        match=r"line 3, column 2: target 'other' is not a number.*"
        r"target_dtype=str",
    ):
        load_csv(mixed)
    np.testing.assert_array_equal(load_csv(mixed, target_dtype=str)[1], ["0", "1", "other"])
    ints = csv_file(tmp_path, "1,0\n2,1\n", "ints.csv")
    assert load_csv(ints, target_dtype=np.float32)[1].dtype == np.float32
    floats = csv_file(tmp_path, "1,0\n2,2.5\n", "floats.csv")
    with pytest.raises(ValueError, match=r"line 2, column 2: target '2.5' is not a int64"):
        load_csv(floats, target_dtype=np.int64)
    empty_label = csv_file(tmp_path, "1,a\n2,\n", "empty.csv")
    with pytest.raises(ValueError, match="line 2, column 2: the target is empty"):
        load_csv(empty_label)
    with pytest.raises(TypeError, match="target_dtype"):
        load_csv(ints, target_dtype=object)


def test_load_csv_delimiters_and_quotes(tmp_path):
    path = csv_file(tmp_path, 'a;b;y\n"1.5";2;"yes"\n3;4;"no"\n')
    X, y = load_csv(path, delimiter=";")
    np.testing.assert_array_equal(X, [[1.5, 2], [3, 4]])
    np.testing.assert_array_equal(y, ["yes", "no"])
    tabs = csv_file(tmp_path, "1\t2\t3\n", "tabs.tsv")
    np.testing.assert_array_equal(load_csv(tabs, delimiter="\t")[0], [[1, 2]])


@pytest.mark.parametrize(
    "text,words",
    [
        ("a,b,y\n1,2,0\n3,x,1\n", r"line 3, column 2 \('b'\): 'x' is not a number"),
        ("1,2,0\n\n3,,1\n", r"line 3, column 2: '' is not a number"),
        ("1,2,0\n3,4\n", r"line 2: 2 cells, but line 1 has 3"),
        ("1,2,0\n3,4,5,6\n", r"line 2: 4 cells, but line 1 has 3"),
        ("", r"is empty"),
        ("\n\n  \n", r"is empty"),
        ("a,b,y\n", r"header row but no data rows"),
        ("1\n2\n", r"at least one feature"),
        ('1,2,"0\n', r"line \d"),  # an unterminated quote
    ],
)
def test_load_csv_bad_files(tmp_path, text, words):
    path = csv_file(tmp_path, text)
    with pytest.raises(ValueError, match=words) as error:
        load_csv(path)
    assert str(path) in str(error.value)


def test_load_csv_bad_cell_in_a_later_block(tmp_path, monkeypatch):
    monkeypatch.setattr(csv_table, "CHUNK_ROWS", 3)  # many blocks from a small file
    rows = [f"{i},{2 * i},{i % 2}" for i in range(10)]
    path = csv_file(tmp_path, "\n".join(rows) + "\n")
    X, y = load_csv(path)
    np.testing.assert_array_equal(X[:, 1], 2 * np.arange(10))
    np.testing.assert_array_equal(y, np.arange(10) % 2)
    rows[7] = "7,seven,1"
    with pytest.raises(ValueError, match=r"line 8, column 2: 'seven'"):
        load_csv(csv_file(tmp_path, "\n".join(rows), "bad.csv"))


def test_load_csv_target_errors(tmp_path):
    path = csv_file(tmp_path, "a,b,y\n1,2,3\n")
    with pytest.raises(ValueError, match=r"target=3 is out of range.* 3 columns"):
        load_csv(path, target=3)
    with pytest.raises(ValueError, match=r"target=-4 is out of range"):
        load_csv(path, target=-4)
    with pytest.raises(ValueError, match=r"target='z'.*no column.*'a', 'b', 'y'"):
        load_csv(path, target="z")
    with pytest.raises(ValueError, match="header=False"):
        load_csv(path, target="y", header=False)
    twice = csv_file(tmp_path, "a,a,y\n1,2,3\n", "twice.csv")
    with pytest.raises(ValueError, match="2 columns of that name"):
        load_csv(twice, target="a")


def test_load_csv_bad_arguments(tmp_path):
    path = csv_file(tmp_path, "1,2\n")
    with pytest.raises(TypeError, match="target"):
        load_csv(path, target=1.0)
    with pytest.raises(TypeError, match="target"):
        load_csv(path, target=True)
    with pytest.raises(TypeError, match="delimiter"):
        load_csv(path, delimiter=",,")
    with pytest.raises(ValueError, match="header"):
        load_csv(path, header="yes")
    with pytest.raises(TypeError, match="dtype"):
        load_csv(path, dtype=np.int64)
    with pytest.raises(TypeError, match="path"):
        load_csv(None)
    latin = csv_file(tmp_path, "caf\xe9,b\n1,2\n", "latin.csv", encoding="latin-1")
    with pytest.raises(ValueError, match="not UTF-8"):
        load_csv(latin)


# ---- the fast reader (np.loadtxt) and the careful one agree ---------------------------------
FAST_CASES = {
    "numbers": ("{}\n", {}),
    "header-named-target": ("a,b,c,label\n{}\n", {"target": "label"}),
    "quoted-cells": ('"1.5",2,3,"0"\n{}\n', {}),
    "blank-lines": ("\n{}\n\n", {"target": 0}),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", FAST_CASES, ids=list(FAST_CASES))
def test_load_csv_fast_and_careful_readers_agree(tmp_path, monkeypatch, case, dtype):
    rng = np.random.default_rng(0)
    values = rng.standard_normal((50, 4)) * 10.0 ** rng.integers(-40, 40, (50, 4))
    values[:, 3] = rng.integers(0, 3, 50)
    body = "\n".join(",".join(repr(float(v)) for v in row) for row in values)
    template, options = FAST_CASES[case]
    path = tmp_path / "data.csv"
    path.write_text(template.format(body))
    with np.errstate(over="ignore"):
        fast = load_csv(path, dtype=dtype, **options)
        with monkeypatch.context() as patch:
            patch.setattr(csv_table, "_read_fast", lambda *args: None)
            careful = load_csv(path, dtype=dtype, **options)
    for got, expected in zip(fast, careful):
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)


def test_load_csv_uses_the_fast_reader_for_a_clean_file(tmp_path, monkeypatch):
    path = tmp_path / "data.csv"
    path.write_text("1,2,3\n4,5,6\n")
    monkeypatch.setattr(csv_table, "_cell_array", None)  # the careful reader would fail
    X, y = load_csv(path)
    np.testing.assert_array_equal(X, [[1, 2], [4, 5]])
    np.testing.assert_array_equal(y, [3, 6])
