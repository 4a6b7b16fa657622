"""pynn.metrics against hand-computed values and, when installed, scikit-learn."""

import math
import warnings

import numpy as np
import pytest

from pynn.metrics import (
    METRICS,
    accuracy_score,
    confusion_matrix,
    log_loss,
    mean_squared_error,
    r2_score,
    zero_one_loss,
)

EPS64 = np.finfo(np.float64).eps


# ---- accuracy and zero-one loss ----------------------------------------------------------
def test_accuracy_hand_values():
    assert accuracy_score([1, 2, 3, 4], [1, 2, 0, 4]) == 0.75
    assert accuracy_score(["a", "b", "b"], ["a", "a", "b"]) == pytest.approx(2 / 3)
    assert accuracy_score([1, 2, 3, 4], [1, 2, 0, 4], normalize=False) == 3.0
    # weights: the miss weighs 2 of 5
    assert accuracy_score([0, 1, 1], [0, 0, 1], sample_weight=[1, 2, 2]) == 0.6
    assert accuracy_score([0, 1, 1], [0, 0, 1], normalize=False, sample_weight=[1, 2, 2]) == 3
    # 2-D rows count only when the whole row is right
    assert accuracy_score([[1, 0], [0, 1], [1, 1]], [[1, 0], [1, 1], [1, 1]]) == pytest.approx(
        2 / 3
    )
    assert accuracy_score(np.array([True, False]), np.array([True, True])) == 0.5
    assert isinstance(accuracy_score([1], [1]), float)


def test_zero_one_loss_hand_values():
    assert zero_one_loss([1, 2, 3, 4], [1, 2, 0, 4]) == 0.25
    assert zero_one_loss(["x", "y"], ["y", "x"], normalize=False) == 2.0
    assert zero_one_loss([0, 1, 1], [0, 0, 1], sample_weight=[1, 2, 2]) == 0.4
    assert zero_one_loss([0, 1, 1], [0, 0, 1], normalize=False, sample_weight=[1, 2.5, 2]) == 2.5


@pytest.mark.parametrize("metric", [accuracy_score, zero_one_loss])
def test_label_metric_errors(metric):
    with pytest.raises(ValueError, match="different numbers of samples: 2 and 3"):
        metric([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="mix strings and numbers"):
        metric([1, 2], ["1", "2"])
    with pytest.raises(ValueError, match="empty"):
        metric([], [])
    with pytest.raises(ValueError, match="sample_weight must have one weight per sample"):
        metric([1, 2], [1, 2], sample_weight=[1])
    with pytest.raises(ValueError, match="non-negative"):
        metric([1, 2], [1, 2], sample_weight=[1, -1])
    with pytest.raises(ValueError, match="sums to zero"):
        metric([1, 2], [1, 2], sample_weight=[0, 0])
    with pytest.raises(TypeError, match="normalize"):
        metric([1, 2], [1, 2], normalize=None)
    with pytest.raises(ValueError, match="different shapes"):
        metric([[1, 2], [1, 2]], [[1, 2, 3], [1, 2, 3]])
    with pytest.raises(TypeError, match="y_pred"):
        metric([1, 2], [None, 2])


# ---- regression --------------------------------------------------------------------------
def test_mean_squared_error_hand_values():
    assert mean_squared_error([1.0, 2.0, 3.0], [1.0, 0.0, 6.0]) == pytest.approx(13 / 3)
    assert mean_squared_error([1, 2, 3], [1, 0, 6], sample_weight=[1, 1, 0]) == 2.0
    y, p = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1.0, 4.0], [5.0, 4.0]])
    np.testing.assert_allclose(mean_squared_error(y, p, multioutput="raw_values"), [2.0, 2.0])
    assert mean_squared_error(y, p) == 2.0
    assert mean_squared_error(y, [[1.0, 2.0], [3.0, 6.0]], multioutput=[3, 1]) == 0.5
    # a column vector and a 1-D prediction are the same single output
    assert mean_squared_error(np.array([[1.0], [2.0]]), [2.0, 2.0]) == 0.5


def test_r2_hand_values():
    # SST = 2 about the mean 2; SSE = 0.5
    assert r2_score([1.0, 2.0, 3.0], [1.5, 2.0, 2.5]) == pytest.approx(0.75)
    assert r2_score([1.0, 2.0, 3.0], [2.0, 2.0, 2.0]) == 0.0  # the mean scores 0
    assert r2_score([5.0, 5.0], [5.0, 5.0]) == 1.0  # constant, exact
    assert r2_score([5.0, 5.0], [5.0, 6.0]) == 0.0  # constant, missed
    assert r2_score([0.0, 2.0, 4.0], [0.0, 2.0, 5.0], sample_weight=[1, 1, 0]) == 1.0
    y = np.array([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0]])
    np.testing.assert_allclose(
        r2_score(y, [[1.5, 0.0], [2.0, 0.0], [2.5, 0.0]], multioutput="raw_values"), [0.75, 1.0]
    )
    with pytest.warns(UserWarning, match="fewer than two samples"):
        assert math.isnan(r2_score([1.0], [2.0]))


@pytest.mark.parametrize("metric", [mean_squared_error, r2_score])
def test_regression_metric_errors(metric):
    with pytest.raises(ValueError, match="different numbers of samples"):
        metric([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="different numbers of outputs"):
        metric([[1.0, 2.0], [1.0, 2.0]], [[1.0], [2.0]])
    with pytest.raises(ValueError, match="y_pred contains NaN"):
        metric([1.0, 2.0], [1.0, np.nan])
    with pytest.raises(TypeError, match="y_true must hold numbers"):
        metric(["a", "b"], [1.0, 2.0])
    with pytest.raises(ValueError, match="multioutput"):
        metric([1.0, 2.0], [1.0, 2.0], multioutput="mean")
    with pytest.raises(ValueError, match="multioutput weights"):
        metric([[1.0, 2.0], [3.0, 1.0]], [[1.0, 2.0], [2.0, 2.0]], multioutput=[1, 2, 3])
    with pytest.raises(ValueError, match="empty"):
        metric(np.zeros(0), np.zeros(0))


# ---- log loss ----------------------------------------------------------------------------
def test_log_loss_hand_values():
    y = [0, 1, 1]
    p = [[0.8, 0.2], [0.3, 0.7], [0.0, 1.0]]
    expected = -(math.log(0.8) + math.log(0.7) + math.log(1 - EPS64)) / 3
    assert log_loss(y, p) == pytest.approx(expected, rel=1e-15)
    assert log_loss(y, [0.2, 0.7, 1.0]) == pytest.approx(expected, rel=1e-15)  # P(label 1)
    assert log_loss(["no", "yes", "yes"], p) == pytest.approx(expected, rel=1e-15)
    assert log_loss(y, p, normalize=False) == pytest.approx(3 * expected, rel=1e-15)
    assert log_loss(y, p, sample_weight=[1, 0, 0]) == pytest.approx(-math.log(0.8))


def test_log_loss_clips_a_confident_mistake():
    value = log_loss([0, 1], [[0.0, 1.0], [0.0, 1.0]])
    assert math.isfinite(value)
    assert value == pytest.approx((-math.log(EPS64) - math.log(1 - EPS64)) / 2)
    # float32 probabilities clip at float32's eps
    value32 = log_loss([0, 1], np.array([[0.0, 1.0], [0.0, 1.0]], np.float32))
    assert value32 == pytest.approx(-math.log(np.finfo(np.float32).eps) / 2, rel=1e-6)


def test_log_loss_labels_argument():
    # y_true holds only label 2 of [0, 1, 2]: columns follow the sorted labels
    p = [[0.1, 0.2, 0.7], [0.2, 0.2, 0.6]]
    expected = -(math.log(0.7) + math.log(0.6)) / 2
    assert log_loss([2, 2], p, labels=[0, 1, 2]) == pytest.approx(expected)
    assert log_loss([2, 2], p, labels=[2, 0, 1]) == pytest.approx(expected)
    assert log_loss(["b", "b"], [0.3, 0.4], labels=["a", "b"]) == pytest.approx(
        -(math.log(0.3) + math.log(0.4)) / 2
    )


def test_log_loss_errors():
    with pytest.raises(ValueError, match="only one label"):
        log_loss([1, 1], [[0.5, 0.5], [0.5, 0.5]])
    with pytest.raises(ValueError, match="3 columns but there are 2 labels"):
        log_loss([0, 1], [[0.2, 0.3, 0.5], [0.2, 0.3, 0.5]])
    with pytest.raises(ValueError, match=r"y_true has labels not in labels: \[5\]"):
        log_loss([0, 5], [[0.5, 0.5], [0.5, 0.5]], labels=[0, 1])
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        log_loss([0, 1], [[1.5, -0.5], [0.5, 0.5]])
    with pytest.raises(ValueError, match="one row per sample"):
        log_loss([0, 1, 1], [[0.5, 0.5], [0.5, 0.5]])
    with pytest.raises(ValueError, match="1-D y_proba is for two labels"):
        log_loss([0, 1, 2], [0.5, 0.5, 0.5])
    with pytest.raises(ValueError, match="mix strings and numbers"):
        log_loss([0, 1], [0.5, 0.5], labels=["0", "1"])
    with pytest.raises(TypeError, match="y_proba"):
        log_loss([0, 1], ["a", "b"])
    with pytest.warns(UserWarning, match="do not sum to 1"):
        log_loss([0, 1], [[0.3, 0.3], [0.3, 0.7]])


# ---- confusion matrix --------------------------------------------------------------------
def test_confusion_matrix_hand_values():
    y_true = ["cat", "dog", "dog", "bird", "cat"]
    y_pred = ["cat", "cat", "dog", "cat", "fish"]
    # labels sorted: bird, cat, dog, fish; rows true, columns predicted
    expected = [[0, 1, 0, 0], [0, 1, 0, 1], [0, 1, 1, 0], [0, 0, 0, 0]]
    matrix = confusion_matrix(y_true, y_pred)
    np.testing.assert_array_equal(matrix, expected)
    assert matrix.dtype == np.int64
    # given labels: their order, others left out
    np.testing.assert_array_equal(
        confusion_matrix(y_true, y_pred, labels=["dog", "cat"]), [[1, 1], [0, 1]]
    )
    weighted = confusion_matrix([0, 1, 1], [0, 0, 1], sample_weight=[1, 2.5, 3])
    np.testing.assert_array_equal(weighted, [[1, 0], [2.5, 3]])
    np.testing.assert_allclose(
        confusion_matrix([0, 1, 1], [0, 0, 1], normalize="true"), [[1, 0], [0.5, 0.5]]
    )
    np.testing.assert_allclose(
        confusion_matrix([0, 1, 1], [0, 0, 1], normalize="pred"), [[0.5, 0], [0.5, 1]]
    )
    np.testing.assert_allclose(
        confusion_matrix([0, 1, 1], [0, 0, 1], normalize="all"), [[1 / 3, 0], [1 / 3, 1 / 3]]
    )
    # a label never seen as true gives a zero row, not NaN, when normalized by rows
    np.testing.assert_allclose(
        confusion_matrix([0, 0], [0, 1], normalize="true"), [[0.5, 0.5], [0, 0]]
    )


def test_confusion_matrix_errors():
    with pytest.raises(ValueError, match="none of labels is in y_true"):
        confusion_matrix([0, 1], [0, 1], labels=[5])
    with pytest.raises(ValueError, match="repeated"):
        confusion_matrix([0, 1], [0, 1], labels=[0, 0])
    with pytest.raises(ValueError, match="mix strings and numbers"):
        confusion_matrix([0, 1], ["0", "1"])
    with pytest.raises(ValueError, match="normalize"):
        confusion_matrix([0, 1], [0, 1], normalize="rows")
    with pytest.raises(ValueError, match="1-D"):
        confusion_matrix([[0, 1]], [[0, 1]])


def test_metrics_table():
    assert {name: greater for name, (_, greater) in METRICS.items()} == {
        "accuracy": True,
        "zero_one_loss": False,
        "mean_squared_error": False,
        "log_loss": False,
        "r2": True,
    }


# ---- against scikit-learn ----------------------------------------------------------------
@pytest.fixture
def sk_metrics():
    return pytest.importorskip("sklearn.metrics")


@pytest.mark.parametrize("labels", [np.array([0, 1, 2, 3]), np.array(["a", "b", "c"])])
@pytest.mark.parametrize("weighted", [False, True])
def test_label_metrics_match_sklearn(sk_metrics, rng, labels, weighted):
    y_true, y_pred = rng.choice(labels, 60), rng.choice(labels, 60)
    w = rng.uniform(0, 2, 60) if weighted else None
    for normalize in (True, False):
        assert accuracy_score(
            y_true, y_pred, normalize=normalize, sample_weight=w
        ) == pytest.approx(
            sk_metrics.accuracy_score(y_true, y_pred, normalize=normalize, sample_weight=w),
            rel=1e-14,
        )
        assert zero_one_loss(
            y_true, y_pred, normalize=normalize, sample_weight=w
        ) == pytest.approx(
            sk_metrics.zero_one_loss(y_true, y_pred, normalize=normalize, sample_weight=w),
            rel=1e-14,
        )
    for normalize in (None, "true", "pred", "all"):
        np.testing.assert_allclose(
            confusion_matrix(y_true, y_pred, sample_weight=w, normalize=normalize),
            sk_metrics.confusion_matrix(y_true, y_pred, sample_weight=w, normalize=normalize),
            rtol=1e-14,
        )
    subset = labels[::-1][:2]
    np.testing.assert_array_equal(
        confusion_matrix(y_true, y_pred, labels=subset),
        sk_metrics.confusion_matrix(y_true, y_pred, labels=subset),
    )


@pytest.mark.parametrize("k", [2, 4])
def test_log_loss_matches_sklearn(sk_metrics, rng, k):
    y = rng.integers(0, k, 40)
    p = rng.dirichlet(np.ones(k), 40)
    p[0] = np.eye(k)[(y[0] + 1) % k]  # one confident mistake: clipped
    w = rng.uniform(0, 1, 40)
    assert log_loss(y, p) == pytest.approx(sk_metrics.log_loss(y, p), rel=1e-13)
    assert log_loss(y, p, sample_weight=w, normalize=False) == pytest.approx(
        sk_metrics.log_loss(y, p, sample_weight=w, normalize=False), rel=1e-13
    )
    if k == 2:
        assert log_loss(y, p[:, 1]) == pytest.approx(sk_metrics.log_loss(y, p[:, 1]), rel=1e-13)
    p32 = p.astype(np.float32)
    p32 /= p32.sum(axis=1, keepdims=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert log_loss(y, p32) == pytest.approx(sk_metrics.log_loss(y, p32), rel=1e-6)


@pytest.mark.parametrize("outputs", [1, 3])
def test_regression_metrics_match_sklearn(sk_metrics, rng, outputs):
    shape = (30,) if outputs == 1 else (30, outputs)
    y, p = rng.standard_normal(shape), rng.standard_normal(shape)
    w = rng.uniform(0, 2, 30)
    for multioutput in ("uniform_average", "raw_values"):
        for weights in (None, w):
            np.testing.assert_allclose(
                mean_squared_error(y, p, sample_weight=weights, multioutput=multioutput),
                sk_metrics.mean_squared_error(
                    y, p, sample_weight=weights, multioutput=multioutput
                ),
                rtol=1e-13,
            )
            np.testing.assert_allclose(
                r2_score(y, p, sample_weight=weights, multioutput=multioutput),
                sk_metrics.r2_score(y, p, sample_weight=weights, multioutput=multioutput),
                rtol=1e-13,
            )
