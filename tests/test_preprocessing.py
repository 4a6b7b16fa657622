"""pynn.data.preprocessing: StandardScaler, one_hot, polynomial_features."""

import numpy as np
import pytest

from pynn.data import StandardScaler, one_hot, polynomial_features


# ---- StandardScaler ----------------------------------------------------------------------
def test_scaler_hand_values_and_constant_column():
    X = np.array([[1.0, 10.0, -2.0], [3.0, 10.0, 0.0], [5.0, 10.0, 2.0]])
    scaler = StandardScaler().fit(X)
    np.testing.assert_allclose(scaler.mean_, [3.0, 10.0, 0.0])
    np.testing.assert_allclose(scaler.var_, [8 / 3, 0.0, 8 / 3])
    np.testing.assert_allclose(scaler.scale_, [np.sqrt(8 / 3), 1.0, np.sqrt(8 / 3)])
    Z = scaler.transform(X)
    s = np.sqrt(3 / 2)  # 2 / sqrt(8/3)
    np.testing.assert_allclose(Z, [[-s, 0, -s], [0, 0, 0], [s, 0, s]])
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-15)
    np.testing.assert_allclose(scaler.inverse_transform(Z), X)
    assert scaler.n_features_in_ == 3 and scaler.n_samples_seen_ == 3


def test_scaler_constant_column_not_exactly_representable():
    # 0.1 repeated: the mean and variance are rounded, but the column is constant.
    X = np.column_stack([np.full(7, 0.1), np.arange(7.0)])
    Z = StandardScaler().fit_transform(X)
    assert StandardScaler().fit(X).scale_[0] == 1.0
    assert np.all(np.abs(Z[:, 0]) < 1e-15)


def test_scaler_applies_training_statistics_to_new_data():
    train = np.array([[0.0], [2.0], [4.0]])
    scaler = StandardScaler().fit(train)
    np.testing.assert_allclose(scaler.transform([[6.0], [2.0]]), [[4 / np.sqrt(8 / 3)], [0.0]])


def test_scaler_dtypes():
    rng = np.random.default_rng(0)
    X32 = rng.standard_normal((20, 3)).astype(np.float32) * 5 + 2
    Z = StandardScaler().fit_transform(X32)
    assert Z.dtype == np.float32
    assert StandardScaler().fit(X32).inverse_transform(Z).dtype == np.float32
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-6)
    np.testing.assert_allclose(Z.std(axis=0), 1, rtol=1e-5)
    Zi = StandardScaler().fit_transform(np.array([[1, 2], [3, 4], [5, 7]]))
    assert Zi.dtype == np.float64
    X = X32.astype(np.float64)
    before = X.copy()
    StandardScaler().fit_transform(X)
    np.testing.assert_array_equal(X, before)  # the input is not changed


def test_scaler_options():
    X = np.array([[1.0, 4.0], [3.0, 8.0]])
    only_std = StandardScaler(with_mean=False).fit(X)
    np.testing.assert_allclose(only_std.transform(X), X / [1.0, 2.0])
    np.testing.assert_allclose(only_std.mean_, [2.0, 6.0])
    only_mean = StandardScaler(with_std=False).fit(X)
    assert only_mean.scale_ is None
    np.testing.assert_allclose(only_mean.transform(X), [[-1.0, -2.0], [1.0, 2.0]])
    np.testing.assert_allclose(only_mean.inverse_transform([[0.0, 0.0]]), [[2.0, 6.0]])
    assert repr(only_mean) == "StandardScaler(with_mean=True, with_std=False)"


def test_scaler_matches_sklearn():
    sk = pytest.importorskip("sklearn.preprocessing")
    rng = np.random.default_rng(1)
    X = rng.standard_normal((50, 4)) * [1, 100, 1e-3, 0] + [5, -3, 0, 7]
    for dtype in (np.float64, np.float32):
        Xd = X.astype(dtype)
        for with_mean in (True, False):
            for with_std in (True, False):
                ours = StandardScaler(with_mean=with_mean, with_std=with_std).fit(Xd)
                theirs = sk.StandardScaler(with_mean=with_mean, with_std=with_std).fit(Xd)
                rtol = 1e-12 if dtype == np.float64 else 1e-5
                got, expected = ours.transform(Xd), theirs.transform(Xd)
                assert got.dtype == expected.dtype
                np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol)
                if with_std:
                    np.testing.assert_allclose(ours.scale_, theirs.scale_, rtol=rtol)


def test_scaler_errors():
    scaler = StandardScaler()
    with pytest.raises(ValueError, match="not fitted"):
        scaler.transform([[1.0]])
    with pytest.raises(ValueError, match="not fitted"):
        scaler.inverse_transform([[1.0]])
    scaler.fit([[1.0, 2.0], [3.0, 5.0]])
    with pytest.raises(ValueError, match="X has 3 features, but the scaler was fitted on 2"):
        scaler.transform([[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match="X has 1 features"):
        scaler.inverse_transform([[1.0]])
    with pytest.raises(ValueError, match="NaN"):
        StandardScaler().fit([[1.0], [np.nan]])
    with pytest.raises(ValueError, match="2-D"):
        StandardScaler().fit([1.0, 2.0])
    with pytest.raises(TypeError, match="numbers"):
        StandardScaler().fit([["a"], ["b"]])
    with pytest.raises(TypeError, match="with_mean"):
        StandardScaler(with_mean=1)
    with pytest.raises(TypeError, match="with_std"):
        StandardScaler(with_std="no")


# ---- one_hot -----------------------------------------------------------------------------
def test_one_hot_default_classes_sorted():
    encoded, classes = one_hot([2, 0, 2, 1])
    np.testing.assert_array_equal(classes, [0, 1, 2])
    np.testing.assert_array_equal(encoded, [[0, 0, 1], [1, 0, 0], [0, 0, 1], [0, 1, 0]])
    assert encoded.dtype == np.float64
    np.testing.assert_array_equal(classes[encoded.argmax(axis=1)], [2, 0, 2, 1])


def test_one_hot_strings_given_order_and_dtype():
    encoded, classes = one_hot(
        ["dog", "cat", "dog"], classes=["dog", "cat", "bird"], dtype=np.float32
    )
    assert classes.tolist() == ["dog", "cat", "bird"]
    assert encoded.dtype == np.float32
    np.testing.assert_array_equal(encoded, [[1, 0, 0], [0, 1, 0], [1, 0, 0]])
    encoded, _ = one_hot([], classes=["a", "b"])
    assert encoded.shape == (0, 2)
    encoded, classes = one_hot([True, False, True])
    np.testing.assert_array_equal(encoded, [[0, 1], [1, 0], [0, 1]])


def test_one_hot_matches_sklearn():
    sk = pytest.importorskip("sklearn.preprocessing")
    labels = np.array(["b", "c", "a", "b", "c"])
    ours, classes = one_hot(labels)
    encoder = sk.OneHotEncoder(sparse_output=False).fit(labels.reshape(-1, 1))
    np.testing.assert_array_equal(ours, encoder.transform(labels.reshape(-1, 1)))
    np.testing.assert_array_equal(classes, encoder.categories_[0])


def test_one_hot_errors():
    with pytest.raises(ValueError, match=r"labels has values not in classes: \[3\]"):
        one_hot([1, 3], classes=[1, 2])
    with pytest.raises(ValueError, match=r"not in classes: \['z'\]"):
        one_hot(["a", "z"], classes=["a", "b"])
    with pytest.raises(ValueError, match="mix strings and numbers"):
        one_hot([1, 2], classes=["1", "2"])
    with pytest.raises(ValueError, match="repeated"):
        one_hot([1], classes=[1, 1])
    with pytest.raises(ValueError, match="non-empty"):
        one_hot([1], classes=[])
    with pytest.raises(ValueError, match="empty"):
        one_hot([])
    with pytest.raises(ValueError, match="1-D"):
        one_hot([[1, 2], [3, 4]])
    with pytest.raises(TypeError, match="labels"):
        one_hot(np.array([1, "a"], dtype=object))


# ---- polynomial_features -----------------------------------------------------------------
def test_polynomial_one_feature():
    x = np.array([2.0, -1.0, 0.5])
    expected = np.array([[1, 2, 4, 8], [1, -1, 1, -1], [1, 0.5, 0.25, 0.125]])
    np.testing.assert_array_equal(polynomial_features(x, 3), expected)
    np.testing.assert_array_equal(polynomial_features(x.reshape(-1, 1), 3), expected)
    np.testing.assert_array_equal(polynomial_features(x, 3, include_bias=False), expected[:, 1:])
    np.testing.assert_array_equal(polynomial_features(x, 0), np.ones((3, 1)))
    assert polynomial_features(x.astype(np.float32), 2).dtype == np.float32
    assert polynomial_features([1, 2], 2).dtype == np.float64


def test_polynomial_two_features_order():
    X = np.array([[2.0, 3.0], [1.0, -1.0]])
    # 1, a, b, a², ab, b², a³, a²b, ab², b³
    a, b = X[:, 0], X[:, 1]
    expected = np.column_stack(
        [np.ones(2), a, b, a * a, a * b, b * b, a**3, a * a * b, a * b * b, b**3]
    )
    np.testing.assert_array_equal(polynomial_features(X, 3), expected)


def test_polynomial_matches_sklearn():
    sk = pytest.importorskip("sklearn.preprocessing")
    X = np.random.default_rng(0).standard_normal((6, 3))
    for degree in (1, 2, 4):
        for bias in (True, False):
            theirs = sk.PolynomialFeatures(degree, include_bias=bias).fit_transform(X)
            np.testing.assert_allclose(
                polynomial_features(X, degree, include_bias=bias), theirs, rtol=1e-14
            )


def test_polynomial_regression_recovers_the_cubic():
    # The notes' polynomial regression: least squares on x, x², x³ (and a bias column).
    x = np.linspace(-1, 1, 30)
    y = 0.5 - 2 * x + 3 * x**3
    w, *_ = np.linalg.lstsq(polynomial_features(x, 3), y, rcond=None)
    np.testing.assert_allclose(w, [0.5, -2, 0, 3], atol=1e-12)


def test_polynomial_errors():
    with pytest.raises(ValueError, match="degree"):
        polynomial_features([1.0], -1)
    with pytest.raises(TypeError, match="degree"):
        polynomial_features([1.0], 2.0)
    with pytest.raises(TypeError, match="degree"):
        polynomial_features([1.0], True)
    with pytest.raises(ValueError, match="no columns"):
        polynomial_features([1.0], 0, include_bias=False)
    with pytest.raises(TypeError, match="include_bias"):
        polynomial_features([1.0], 2, include_bias=None)
    with pytest.raises(ValueError, match="NaN"):
        polynomial_features([1.0, np.inf], 2)
    with pytest.raises(ValueError, match="x must be 2-D"):
        polynomial_features(np.zeros((2, 2, 2)), 2)
