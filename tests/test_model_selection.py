"""pynn.data.model_selection: scorers, cross_validate, grid_search, parallel folds."""

import math

import joblib
import numpy as np
import pytest

import pynn
from pynn.data import (
    GridSearchResult,
    KFold,
    Scorer,
    StratifiedKFold,
    cross_validate,
    get_scorer,
    grid_search,
    parameter_grid,
)
from pynn.data.model_selection import check_cv, limited_threads, usable_cores
from pynn.metrics import log_loss, mean_squared_error, r2_score

pytestmark = pytest.mark.usefixtures("restore_threads")


class MeanRegressor:
    """Predicts the training mean plus `offset`: scores that are easy to compute by hand."""

    def __init__(self, offset=0.0, tag=None):
        self.offset = offset

    def fit(self, X, y, log=None):
        self.mean_ = float(np.mean(y))
        if log is not None:
            log.append(len(y))
        return self

    def predict(self, X):
        return np.full(len(X), self.mean_ + self.offset)

    def score(self, X, y):
        return r2_score(y, self.predict(X))


def by_hand(offset, X, y, folds, metric):
    """metric(y_test, prediction) per fold for MeanRegressor(offset)."""
    return np.array(
        [
            metric(y[test], MeanRegressor(offset).fit(X[train], y[train]).predict(X[test]))
            for train, test in folds
        ]
    )


# ---- scorers and folds -------------------------------------------------------------------
def test_get_scorer():
    model = MeanRegressor().fit(None, np.array([1.0, 3.0]))
    scorer, greater, name = get_scorer("mean_squared_error")
    assert (greater, name) == (False, "mean_squared_error")
    assert scorer(model, np.zeros(2), np.array([0.0, 2.0])) == 2.0
    assert get_scorer("r2")[1] is True and get_scorer("accuracy")[1] is True
    assert get_scorer("log_loss")[0].response == "predict_proba"
    assert get_scorer(None)[1:] == (True, "score")
    assert get_scorer(None)[0](model, np.zeros(2), np.array([1.0, 3.0])) == 0.0
    custom = lambda model, X, y: 1.0  # noqa: E731
    assert get_scorer(custom)[:2] == (custom, True)
    as_loss = Scorer(mean_squared_error, greater_is_better=False)
    assert get_scorer(as_loss)[1] is False
    with pytest.raises(ValueError, match="scoring must be one of"):
        get_scorer("mse")
    with pytest.raises(TypeError, match="scoring"):
        get_scorer(3)
    with pytest.raises(ValueError, match="response"):
        Scorer(mean_squared_error, response="decision")
    with pytest.raises(TypeError, match="metric"):
        Scorer("mean_squared_error")


def test_log_loss_scorer_uses_the_models_classes():
    class Fixed:
        classes_ = np.array(["a", "b", "c"])

        def predict_proba(self, X):
            return np.tile([0.2, 0.3, 0.5], (len(X), 1))

    scorer = get_scorer("log_loss")[0]
    # the test fold has no "a": the columns still mean a, b, c
    assert scorer(Fixed(), np.zeros(2), np.array(["c", "b"])) == pytest.approx(
        -(math.log(0.5) + math.log(0.3)) / 2
    )


@pytest.mark.parametrize(
    "y,expected",
    [
        (np.array([0, 1, 0, 1]), StratifiedKFold),
        (np.array(["a", "b", "a", "b"]), StratifiedKFold),
        (np.array([True, False, True, False]), StratifiedKFold),
        (np.array(["a", "b", "a", "b"], dtype=object), StratifiedKFold),
        (np.array([0.0, 1.0, 0.0, 1.0]), KFold),
        (np.eye(2)[[0, 1, 0, 1]], KFold),
    ],
)
def test_check_cv_by_target(y, expected):
    cv = check_cv(2, y)
    assert type(cv) is expected and cv.n_splits == 2 and not cv.shuffle
    shuffled = check_cv(2, y, random_state=3)
    assert shuffled.shuffle and shuffled.random_state == 3


def test_check_cv_errors():
    with pytest.raises(ValueError, match="random_state is for cv given as an int"):
        check_cv(KFold(2), np.zeros(4), random_state=0)
    with pytest.raises(TypeError, match="cv"):
        check_cv(True, np.zeros(4))
    with pytest.raises(TypeError, match="cv"):
        check_cv("5", np.zeros(4))
    splitter = KFold(3)
    assert check_cv(splitter, np.zeros(4)) is splitter


# ---- cross_validate ----------------------------------------------------------------------
def test_cross_validate_hand_values():
    X, y = np.zeros((4, 1)), np.array([0.0, 1.0, 3.0, 4.0])
    result = cross_validate(
        MeanRegressor, X, y, cv=2, scoring="mean_squared_error", return_train_score=True
    )
    assert list(result) == ["fit_time", "score_time", "test_score", "train_score"]
    # fold 0 trains on 3, 4 (mean 3.5) and tests on 0, 1; fold 1 the other way round
    np.testing.assert_allclose(result["test_score"], [9.25, 9.25])
    np.testing.assert_allclose(result["train_score"], [0.25, 0.25])
    assert result["fit_time"].shape == (2,) and (result["fit_time"] >= 0).all()
    default = cross_validate(MeanRegressor, X, y, cv=2)  # the model's score: R²
    np.testing.assert_allclose(default["test_score"], [1 - 18.5 / 0.5, 1 - 18.5 / 0.5])
    assert "train_score" not in default


def test_cross_validate_cv_forms_agree():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((30, 2)), rng.standard_normal(30)
    folds = list(KFold(5, shuffle=True, random_state=1).split(X))
    expected = by_hand(0.0, X, y, folds, mean_squared_error)
    for cv in (KFold(5, shuffle=True, random_state=1), folds, iter(folds)):
        got = cross_validate(MeanRegressor, X, y, cv=cv, scoring="mean_squared_error")
        np.testing.assert_allclose(got["test_score"], expected, rtol=1e-15)
    seeded = cross_validate(
        MeanRegressor, X, y, cv=5, scoring="mean_squared_error", random_state=1
    )
    np.testing.assert_allclose(seeded["test_score"], expected, rtol=1e-15)
    in_order = cross_validate(MeanRegressor, X, y, cv=5, scoring="mean_squared_error")
    np.testing.assert_allclose(
        in_order["test_score"], by_hand(0.0, X, y, list(KFold(5).split(X)), mean_squared_error)
    )


def test_cross_validate_passes_copied_fit_params():
    log = []
    X, y = np.zeros((9, 1)), np.arange(9.0)
    cross_validate(MeanRegressor, X, y, cv=3, fit_params={"log": log})
    assert log == []  # each fit got its own copy, as in a worker process
    # an optimizer already used in a fit (bound to a model's buffers) is copied too
    X, y = small_classification()
    used = fit_params()
    make_net().fit(X, y, **used)
    result = cross_validate(make_net, X, y, cv=2, fit_params=used)
    fresh = cross_validate(make_net, X, y, cv=2, fit_params=fit_params())
    np.testing.assert_array_equal(result["test_score"], fresh["test_score"])


def test_cross_validate_errors():
    X, y = np.zeros((6, 1)), np.arange(6.0)
    with pytest.raises(TypeError, match="make_model must be a callable"):
        cross_validate(MeanRegressor(), X, y)
    with pytest.raises(TypeError, match="make_model must return a model with fit"):
        cross_validate(lambda: 3, X, y, cv=2)
    with pytest.raises(ValueError, match="X: 6, y: 5"):
        cross_validate(MeanRegressor, X, y[:5])
    with pytest.raises(ValueError, match="y is required"):
        cross_validate(MeanRegressor, X, None)
    with pytest.raises(TypeError, match="fit_params"):
        cross_validate(MeanRegressor, X, y, fit_params=[("log", None)])
    with pytest.raises(ValueError, match="n_jobs"):
        cross_validate(MeanRegressor, X, y, n_jobs=0)
    with pytest.raises(TypeError, match="n_jobs"):
        cross_validate(MeanRegressor, X, y, n_jobs="2")
    with pytest.raises(TypeError, match="return_train_score"):
        cross_validate(MeanRegressor, X, y, return_train_score=1)
    with pytest.raises(ValueError, match="n_splits=7 is more than the 6 samples"):
        cross_validate(MeanRegressor, X, y, cv=7)
    with pytest.raises(TypeError, match="cv fold 0 must be a pair"):
        cross_validate(MeanRegressor, X, y, cv=[np.arange(3)])
    with pytest.raises(ValueError, match=r"cv fold 1 test has indices outside \[0, 6\)"):
        cross_validate(MeanRegressor, X, y, cv=[([0, 1], [2, 3]), ([0, 1], [6])])
    with pytest.raises(ValueError, match="cv fold 0 train must be a non-empty"):
        cross_validate(MeanRegressor, X, y, cv=[([], [2, 3])])
    with pytest.raises(TypeError, match="cv fold 0 test must hold integer"):
        cross_validate(MeanRegressor, X, y, cv=[([0, 1], [0.5])])
    with pytest.raises(ValueError, match="cv gave no folds"):
        cross_validate(MeanRegressor, X, y, cv=[])


def test_cross_validate_sklearn_estimator():
    linear = pytest.importorskip("sklearn.linear_model")
    selection = pytest.importorskip("sklearn.model_selection")
    rng = np.random.default_rng(1)
    X = rng.standard_normal((60, 3))
    y = np.where(X[:, 0] - X[:, 2] > 0.2, "yes", "no")
    ours = cross_validate(linear.LogisticRegression, X, y, cv=4)
    theirs = selection.cross_validate(linear.LogisticRegression(), X, y, cv=4)
    np.testing.assert_array_equal(ours["test_score"], theirs["test_score"])


# ---- parallel folds and threads ----------------------------------------------------------
def small_classification():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((90, 4))
    y = np.where(X[:, 0] + 0.5 * X[:, 1] > 0, "up", "down")
    return X, y


def make_net(hidden=4):
    return pynn.Sequential(
        pynn.Dense(4, hidden, activation="tanh"),
        pynn.Dense(hidden, 2),
        dtype=np.float64,
        random_state=0,
    )


def fit_params():
    return {
        "loss": "softmax_cross_entropy",
        "optimizer": pynn.Adam(lr=0.05),
        "epochs": 4,
        "batch_size": 16,
    }


FIT = fit_params()  # shared by the calls below: cross_validate never binds it


def test_cross_validate_parallel_equals_serial():
    X, y = small_classification()
    serial = cross_validate(make_net, X, y, cv=3, fit_params=FIT, return_train_score=True)
    parallel = cross_validate(
        make_net, X, y, cv=3, fit_params=FIT, return_train_score=True, n_jobs=2
    )
    np.testing.assert_array_equal(parallel["test_score"], serial["test_score"])
    np.testing.assert_array_equal(parallel["train_score"], serial["train_score"])
    # and they are the scores of fits done by hand on the same folds
    folds = list(StratifiedKFold(3).split(X, y))
    for k, (train, test) in enumerate(folds):
        model = make_net().fit(X[train], y[train], **fit_params())
        assert serial["test_score"][k] == model.score(X[test], y[test])


def threads_seen(model, X, y):
    """A scorer reporting the thread count pynn's kernels use where the fold runs."""
    return pynn.get_num_threads()


def test_workers_lower_pynn_threads():
    X, y = small_classification()
    pynn.set_num_threads(2)
    serial = cross_validate(make_net, X, y, cv=2, fit_params=FIT, scoring=threads_seen)
    np.testing.assert_array_equal(serial["test_score"], [2, 2])  # in-process: untouched
    workers = cross_validate(make_net, X, y, cv=2, fit_params=FIT, scoring=threads_seen, n_jobs=2)
    np.testing.assert_array_equal(workers["test_score"], max(1, usable_cores() // 2))
    pynn.set_num_threads(3)
    with joblib.parallel_backend("threading", n_jobs=3):  # in-process workers
        threaded = cross_validate(make_net, X, y, cv=3, fit_params=FIT, scoring=threads_seen)
    np.testing.assert_array_equal(threaded["test_score"], max(1, usable_cores() // 3))
    assert pynn.get_num_threads() == 3  # restored afterwards


def test_limited_threads_nests_and_restores():
    pynn.set_num_threads(3)
    with limited_threads(1):
        assert pynn.get_num_threads() == 1
        with limited_threads(2):
            assert pynn.get_num_threads() == 2
        assert pynn.get_num_threads() == 1  # each block restores its own
    assert pynn.get_num_threads() == 3
    with limited_threads(None):
        assert pynn.get_num_threads() == 3
    with pytest.raises(RuntimeError):
        with limited_threads(1):
            raise RuntimeError
    assert pynn.get_num_threads() == 3


# ---- grid search -------------------------------------------------------------------------
def test_parameter_grid():
    assert parameter_grid({"a": [1, 2], "b": ["x", "y"]}) == [
        {"a": 1, "b": "x"},
        {"a": 1, "b": "y"},
        {"a": 2, "b": "x"},
        {"a": 2, "b": "y"},
    ]
    assert parameter_grid([{"a": [1]}, {"b": (5, 6)}]) == [{"a": 1}, {"b": 5}, {"b": 6}]
    assert parameter_grid({}) == [{}]
    assert parameter_grid({"a": np.array([0.5, 1.0])}) == [{"a": 0.5}, {"a": 1.0}]
    with pytest.raises(TypeError, match=r"param_grid\['a'\] must be a list"):
        parameter_grid({"a": 0.1})
    with pytest.raises(TypeError, match=r"param_grid\['a'\] must be a list"):
        parameter_grid({"a": "relu"})
    with pytest.raises(ValueError, match=r"param_grid\['a'\] is empty"):
        parameter_grid({"a": []})
    with pytest.raises(TypeError, match="keys"):
        parameter_grid({1: [2]})
    with pytest.raises(TypeError, match="param_grid"):
        parameter_grid([])
    with pytest.raises(TypeError, match="param_grid"):
        parameter_grid([["a", [1]]])


@pytest.fixture
def regression_data():
    rng = np.random.default_rng(4)
    return rng.standard_normal((60, 2)), rng.standard_normal(60)


OFFSETS = [-3.0, 0.0, 5.0]


def test_grid_search_minimises_losses_and_maximises_scores(regression_data):
    X, y = regression_data
    folds = list(KFold(3).split(X))
    for scoring, metric, pick in (
        ("mean_squared_error", mean_squared_error, np.argmin),
        ("r2", r2_score, np.argmax),
    ):
        result = grid_search(MeanRegressor, {"offset": OFFSETS}, X, y, cv=3, scoring=scoring)
        expected = np.array([by_hand(o, X, y, folds, metric) for o in OFFSETS])
        for row, scores in zip(result.results_, expected):
            np.testing.assert_allclose(row["test_scores"], scores, rtol=1e-14)
            assert row["mean_test_score"] == pytest.approx(scores.mean(), rel=1e-14)
            assert row["std_test_score"] == pytest.approx(scores.std(), rel=1e-12)
        best = int(pick(expected.mean(axis=1)))
        assert OFFSETS[best] == 0.0  # the known answer
        assert result.best_index_ == best and result.best_params_ == {"offset": 0.0}
        assert result.best_score_ == result.results_[best]["mean_test_score"]
        assert result.results_[best]["rank_test_score"] == 1
    assert result.greater_is_better is True


def test_grid_search_callable_scorers(regression_data):
    X, y = regression_data
    grid = {"offset": OFFSETS}
    # a plain callable counts as higher-is-better (scikit-learn's convention) ...
    plain = grid_search(
        MeanRegressor,
        grid,
        X,
        y,
        cv=3,
        scoring=lambda m, X, y: mean_squared_error(y, m.predict(X)),
    )
    assert plain.best_params_ == {"offset": 5.0}
    # ... a Scorer says which way is better
    as_loss = grid_search(
        MeanRegressor,
        grid,
        X,
        y,
        cv=3,
        scoring=Scorer(mean_squared_error, greater_is_better=False),
    )
    assert as_loss.best_params_ == {"offset": 0.0}
    assert [row["rank_test_score"] for row in as_loss.results_] == [2, 1, 3]


def test_grid_search_ties_and_nan(regression_data):
    X, y = regression_data
    tied = grid_search(MeanRegressor, {"tag": ["a", "b"]}, X, y, cv=2)
    assert tied.best_index_ == 0
    assert [row["rank_test_score"] for row in tied.results_] == [1, 1]
    scores = np.array([[np.nan, 1.0], [0.5, 0.5], [2.0, 2.0]])
    times = np.zeros((3, 2))
    result = GridSearchResult([{"a": 1}, {"a": 2}, {"a": 3}], scores, times, times, True)
    assert result.best_params_ == {"a": 3}
    assert [row["rank_test_score"] for row in result.results_] == [3, 2, 1]
    with pytest.raises(ValueError, match="every setting scored NaN"):
        GridSearchResult([{}], np.full((1, 2), np.nan), np.zeros((1, 2)), np.zeros((1, 2)), True)


def test_grid_search_table(regression_data):
    X, y = regression_data
    result = grid_search(
        MeanRegressor,
        [{"offset": [0.0, 1.0]}, {"tag": ["t"]}],
        X,
        y,
        cv=2,
        scoring="mean_squared_error",
    )
    text = str(result)
    assert text == result.to_string()
    lines = text.splitlines()
    assert lines[0].split() == [
        "rank",
        "offset",
        "tag",
        "mean",
        "mean_squared_error",
        "std",
        "per",
        "fold",
    ]
    assert len(lines) == 1 + 3 + 1
    assert lines[2].split()[:3] == [str(result.results_[1]["rank_test_score"]), "1.0", "-"]
    assert "lower is better" in lines[-1] and "2 folds" in lines[-1]
    assert repr(result).startswith("GridSearchResult(best_params_=")


def test_grid_search_parallel_equals_serial():
    X, y = small_classification()
    grid = {"hidden": [2, 5]}
    serial = grid_search(make_net, grid, X, y, cv=3, fit_params=FIT, scoring="log_loss")
    parallel = grid_search(
        make_net, grid, X, y, cv=3, fit_params=FIT, scoring="log_loss", n_jobs=2
    )
    for a, b in zip(serial.results_, parallel.results_):
        np.testing.assert_array_equal(a["test_scores"], b["test_scores"])
    assert serial.best_index_ == parallel.best_index_
    assert serial.greater_is_better is False
    # the loss of one (setting, fold) pair, by hand
    train, test = next(StratifiedKFold(3).split(X, y))
    model = make_net(5).fit(X[train], y[train], **fit_params())
    assert serial.results_[1]["test_scores"][0] == pytest.approx(
        log_loss(y[test], model.predict_proba(X[test]), labels=model.classes_), rel=1e-15
    )
