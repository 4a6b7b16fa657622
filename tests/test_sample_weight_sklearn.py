"""Sample weights in evaluate, score, pynn.metrics and the scikit-learn estimators
(issue 17), against scikit-learn's metrics with sample_weight and its class weights;
and the errors for bad weights."""

import numpy as np
import pytest

pytest.importorskip("sklearn")
from sklearn import metrics as skm  # noqa: E402
from sklearn.utils.class_weight import compute_class_weight, compute_sample_weight  # noqa: E402
from test_sample_weight import _model, _problem  # noqa: E402

import pynn  # noqa: E402
from pynn import metrics  # noqa: E402
from pynn.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
FAST = dict(hidden_layer_sizes=(6,), max_iter=4, batch_size=16, random_state=0)


@pytest.mark.parametrize("case", ["softmax_cross_entropy", "binary_cross_entropy", "hinge"])
def test_evaluate_and_score_weigh_accuracy_as_scikit_learn(case):
    X, y, w, loss, k = _problem(case, n=80)
    model = _model(k)
    model.fit(X, y, loss=loss, epochs=3, batch_size=8)
    scores = model.evaluate(X, y, sample_weight=w)
    expected = skm.accuracy_score(y, model.predict(X), sample_weight=w)
    assert scores["accuracy"] == pytest.approx(expected, rel=1e-12)
    assert model.score(X, y, sample_weight=w) == scores["accuracy"]
    if case == "softmax_cross_entropy":
        proba = model.predict_proba(X)
        assert scores["loss"] == pytest.approx(skm.log_loss(y, proba, sample_weight=w), 1e-9)


@pytest.mark.parametrize("case", ["mse", "l1"])
def test_evaluate_and_score_weigh_r2_as_scikit_learn(case):
    X, y, w, loss, k = _problem(case, n=80)
    model = _model(k)
    model.fit(X, y, loss=loss, epochs=3, batch_size=8)
    scores = model.evaluate(X, y, sample_weight=w, memory=4096)  # several blocks
    expected = skm.r2_score(y, model.predict(X), sample_weight=w)
    assert scores["r2"] == pytest.approx(expected, rel=1e-12)
    assert model.score(X, y, sample_weight=w) == pytest.approx(scores["r2"], rel=1e-15)
    if case == "mse":
        mse = skm.mean_squared_error(y, model.predict(X), sample_weight=w)
        assert scores["loss"] == pytest.approx(mse * k / 2, rel=1e-12)  # 1/2 sum over k


def test_pynn_metrics_weigh_as_scikit_learn():
    rng = np.random.default_rng(0)
    y, p = rng.integers(0, 3, 50), rng.integers(0, 3, 50)
    w = rng.uniform(0, 2, 50)
    for name in ("accuracy_score", "zero_one_loss"):
        for normalize in (True, False):
            ours = getattr(metrics, name)(y, p, normalize=normalize, sample_weight=w)
            assert ours == pytest.approx(
                getattr(skm, name)(y, p, normalize=normalize, sample_weight=w), rel=1e-12
            )
    np.testing.assert_allclose(
        metrics.confusion_matrix(y, p, sample_weight=w),
        skm.confusion_matrix(y, p, sample_weight=w),
        rtol=1e-12,
    )
    proba = rng.dirichlet(np.ones(3), 50)
    assert metrics.log_loss(y, proba, sample_weight=w) == pytest.approx(
        skm.log_loss(y, proba, sample_weight=w), rel=1e-12
    )
    t, q = rng.standard_normal((50, 2)), rng.standard_normal((50, 2))
    for name in ("mean_squared_error", "r2_score"):
        for multioutput in ("uniform_average", "raw_values"):
            np.testing.assert_allclose(
                getattr(metrics, name)(t, q, sample_weight=w, multioutput=multioutput),
                getattr(skm, name)(t, q, sample_weight=w, multioutput=multioutput),
                rtol=1e-12,
            )


@pytest.mark.parametrize(
    "bad,error,message",
    [
        (np.ones(5), ValueError, r"shape \(40,\)"),
        (np.ones((40, 1)), ValueError, r"shape \(40,\)"),
        (np.r_[-1.0, np.ones(39)], ValueError, "finite and non-negative, got -1.0 at index 0"),
        (np.r_[np.ones(39), np.nan], ValueError, "finite and non-negative, got nan at index 39"),
        (np.zeros(40), ValueError, "must not be all zero"),
        (np.array(["a"] * 40), TypeError, "sample_weight must hold numbers"),
        (np.r_[np.ones(39), 1e300], ValueError, "too large for the model's float32"),
    ],
)
def test_bad_weights_are_refused_naming_sample_weight(bad, error, message):
    X, y, _, loss, k = _problem("mse")
    model = _model(k, dtype="float32")
    with pytest.raises(error, match=message):
        model.fit(X, y, bad, loss=loss, epochs=1)
    model.fit(X, y, loss=loss, epochs=1)
    before = model.flat_params.copy()
    with pytest.raises(error, match=message):
        model.partial_fit(X, y, bad)
    with pytest.raises(error, match=message):
        model.evaluate(X, y, sample_weight=bad)
    np.testing.assert_array_equal(model.flat_params, before)  # a bad call leaves it
    with pytest.raises(error, match=message):
        MLPRegressor(**FAST).fit(X, y, sample_weight=bad)


def test_a_split_that_leaves_only_zero_weights_is_refused():
    X, y, _, loss, k = _problem("mse", n=10)
    with pytest.raises(ValueError, match="only rows whose sample_weight is 0"):
        _model(k).fit(
            X,
            y,
            np.zeros(10) + (np.arange(10) < 1),
            loss=loss,
            validation_split=0.9,
            random_state=0,
        )


def test_the_networks_step_checks_the_batchs_weights():
    X, y, w, loss, k = _problem("mse", n=16)
    model = _model(k)
    model.fit(X, y, loss=loss, epochs=0)
    plan = model._plan(8)
    target = model.targets_.encode(y, model.dtype)
    rows = np.arange(8, dtype=np.int64)
    w[3] = -1
    with pytest.raises(
        ValueError, match="sample_weight must be finite and non-negative, got -1.0 at index 3"
    ):
        plan.network.step(X, rows, target, w)
    with pytest.raises(ValueError, match="positive, finite sum"):
        plan.network.step(X, rows, target, np.zeros(16))
    with pytest.raises(ValueError, match=r"shape \(16,\)"):
        plan.network.step(X, rows, target, np.ones(8))


def test_estimators_weigh_fit_and_score():
    X, y, w, _, _ = _problem("softmax_cross_entropy", n=60)
    a = MLPClassifier(**FAST).fit(X, y, sample_weight=w)
    b = MLPClassifier(**FAST).fit(X, y)
    assert not np.array_equal(a.model_.flat_params, b.model_.flat_params)
    assert a.score(X, y, sample_weight=w) == skm.accuracy_score(y, a.predict(X), sample_weight=w)
    c = MLPClassifier(**FAST).fit(X, y, sample_weight=np.ones(60))
    np.testing.assert_array_equal(c.model_.flat_params, b.model_.flat_params)
    Xr, yr, wr, _, _ = _problem("mse", n=60)
    r = MLPRegressor(**FAST, early_stopping=True).fit(Xr, yr, sample_weight=wr)
    assert r.score(Xr, yr, sample_weight=wr) == pytest.approx(
        skm.r2_score(yr, r.predict(Xr), sample_weight=wr), rel=1e-12
    )
    MLPRegressor(**FAST).partial_fit(Xr, yr, sample_weight=wr)


@pytest.mark.parametrize("early_stopping", [False, True])
def test_class_weight_balanced_is_scikit_learns_sample_weight(early_stopping):
    X, y, w, _, _ = _problem("softmax_cross_entropy", n=60)
    y = np.array(["a", "b", "c", "d"])[np.minimum(y, 3)]
    options = dict(FAST, early_stopping=early_stopping, validation_fraction=0.25)
    a = MLPClassifier(**options, class_weight="balanced").fit(X, y, sample_weight=w)
    expected = compute_sample_weight("balanced", y) * w
    b = MLPClassifier(**options).fit(X, y, sample_weight=expected)
    np.testing.assert_array_equal(a.model_.flat_params, b.model_.flat_params)
    assert a.loss_curve_ == b.loss_curve_
    weights = {"a": 3.0, "c": 0.5}
    d = MLPClassifier(**options, class_weight=weights).fit(X, y)
    e = MLPClassifier(**options).fit(X, y, sample_weight=compute_sample_weight(weights, y))
    np.testing.assert_array_equal(d.model_.flat_params, e.model_.flat_params)


def test_class_weight_in_partial_fit_and_multilabel():
    X, y, _, _, _ = _problem("softmax_cross_entropy", n=60)
    classes = np.unique(y)
    with pytest.raises(ValueError, match="class_weight='balanced' is not supported for partial"):
        MLPClassifier(**FAST, class_weight="balanced").partial_fit(X, y, classes=classes)
    weights = dict(zip(classes, compute_class_weight("balanced", classes=classes, y=y)))
    a = MLPClassifier(**FAST, class_weight=weights).partial_fit(X, y, classes=classes)
    b = MLPClassifier(**FAST).partial_fit(
        X, y, classes=classes, sample_weight=compute_sample_weight("balanced", y)
    )
    np.testing.assert_array_equal(a.model_.flat_params, b.model_.flat_params)
    Y = np.random.default_rng(1).integers(0, 2, (60, 3))
    c = MLPClassifier(**FAST, class_weight="balanced").fit(X, Y)
    d = MLPClassifier(**FAST).fit(X, Y, sample_weight=compute_sample_weight("balanced", Y))
    np.testing.assert_array_equal(c.model_.flat_params, d.model_.flat_params)


@pytest.mark.parametrize(
    "bad,error,message",
    [
        ("auto", TypeError, "class_weight must be None, 'balanced', a dict"),
        ({0: -1.0}, ValueError, "class_weight's weights must be finite numbers >= 0"),
        ({0: np.nan}, ValueError, "class_weight's weights must be finite numbers >= 0"),
        ({0: True}, ValueError, "class_weight's weights must be finite numbers >= 0"),
    ],
)
def test_bad_class_weight_is_refused_at_fit(bad, error, message):
    X, y, _, _, _ = _problem("softmax_cross_entropy")
    estimator = MLPClassifier(**FAST, class_weight=bad)  # __init__ only stores
    assert estimator.class_weight is bad
    with pytest.raises(error, match=message):
        estimator.fit(X, y)


def test_the_regressor_has_no_class_weight():
    assert "class_weight" not in MLPRegressor().get_params()
    assert pynn.sklearn.MLPClassifier().get_params()["class_weight"] is None
