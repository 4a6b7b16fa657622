"""pynn.sklearn's fitted attributes against scikit-learn 1.9's MLPClassifier / MLPRegressor
fitted on the same data: their types, shapes, lengths and None-ness, the records of
partial_fit and warm_start, and coefs_ / intercepts_ that set the network when assigned."""

import pickle

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn import neural_network  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn_cases import fit_quietly, regression, three_classes  # noqa: E402

from pynn.sklearn import MLPClassifier, MLPRegressor  # noqa: E402


def case_data(case):
    """(pynn's estimator class, scikit-learn's, X, y) for a kind of target."""
    X, y = three_classes(120)
    if case == "multiclass":
        return MLPClassifier, neural_network.MLPClassifier, X, y
    if case == "binary":
        return MLPClassifier, neural_network.MLPClassifier, X, np.where(y == "ant", "ant", "no")
    if case == "multilabel":
        Y = np.column_stack([y == "ant", y == "bee", X[:, 2] > 0]).astype(int)
        return MLPClassifier, neural_network.MLPClassifier, X, Y
    X, y = regression(outputs=2 if case == "two outputs" else None)
    return MLPRegressor, neural_network.MLPRegressor, X, y


CASES = ["multiclass", "binary", "multilabel", "regression", "two outputs"]
SAME = ("n_iter_", "t_", "n_layers_", "n_outputs_", "out_activation_", "n_features_in_")


def both(case, **params):
    ours, theirs, X, y = case_data(case)
    params = dict(dict(hidden_layer_sizes=(5, 3), max_iter=4, random_state=0), **params)
    return fit_quietly(ours(**params), X, y), fit_quietly(theirs(**params), X, y), X, y


@pytest.mark.parametrize("early_stopping", [False, True])
@pytest.mark.parametrize("case", CASES)
def test_fitted_attributes_as_scikit_learns(case, early_stopping):
    ours, theirs, _, _ = both(case, early_stopping=early_stopping, n_iter_no_change=50)
    for name in SAME:
        mine, sk = getattr(ours, name), getattr(theirs, name)
        assert (mine, type(mine)) == (sk, type(sk)), name
    if hasattr(theirs, "classes_"):
        assert np.array_equal(ours.classes_, theirs.classes_)
        assert ours.classes_.dtype == theirs.classes_.dtype
    for name in ("coefs_", "intercepts_"):
        mine, sk = getattr(ours, name), getattr(theirs, name)
        assert isinstance(mine, list) and all(isinstance(a, np.ndarray) for a in mine)
        assert [a.shape for a in mine] == [a.shape for a in sk], name
    for est in (ours, theirs):
        assert isinstance(est.loss_curve_, list) and len(est.loss_curve_) == est.n_iter_
        assert all(isinstance(loss, float) for loss in est.loss_curve_)
        assert isinstance(est.loss_, float) and est.loss_ == est.loss_curve_[-1]
        if early_stopping:
            assert est.best_loss_ is None
            assert isinstance(est.validation_scores_, list)
            assert len(est.validation_scores_) == est.n_iter_
            assert est.best_validation_score_ == max(est.validation_scores_)
        else:
            assert est.best_loss_ == min(est.loss_curve_)
            assert est.validation_scores_ is None and est.best_validation_score_ is None


def test_feature_names_as_scikit_learns():
    pd = pytest.importorskip("pandas")
    X, y = three_classes()
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    ours = fit_quietly(MLPClassifier((4,), max_iter=2), frame, y)
    theirs = fit_quietly(neural_network.MLPClassifier((4,), max_iter=2), frame, y)
    assert np.array_equal(ours.feature_names_in_, theirs.feature_names_in_)
    assert ours.feature_names_in_.dtype == theirs.feature_names_in_.dtype
    for est in (fit_quietly(MLPClassifier((4,), max_iter=2), X, y), fit_quietly(theirs, X, y)):
        assert not hasattr(est, "feature_names_in_")


@pytest.mark.parametrize("case", ["multiclass", "regression"])
def test_records_of_partial_fit_and_warm_start_as_scikit_learns(case):
    ours, theirs, X, y = case_data(case)
    records = []
    for cls in (ours, theirs):
        params = dict(hidden_layer_sizes=(5,), max_iter=3, random_state=0, n_iter_no_change=50)
        est = fit_quietly(cls(**params), X, y)
        est.partial_fit(X, y)
        est.partial_fit(X, y)
        after_partial = (est.n_iter_, est.t_, len(est.loss_curve_))
        fit_quietly(est.set_params(warm_start=True), X, y)
        records.append((after_partial, (est.n_iter_, est.t_, len(est.loss_curve_))))
    n = len(X)
    assert records[0] == records[1] == ((1, 5 * n, 5), (3, 8 * n, 8))


def test_a_warm_start_with_early_stopping_continues_its_records_as_scikit_learns():
    X, y = three_classes(200)
    params = dict(hidden_layer_sizes=(5,), max_iter=3, random_state=0, n_iter_no_change=50)
    params.update(early_stopping=True, warm_start=True, learning_rate_init=0.01)
    records = []
    for cls in (MLPClassifier, neural_network.MLPClassifier):
        est = fit_quietly(cls(**params), X, y)
        fit_quietly(est, X, y)
        scores = est.validation_scores_
        records.append((est.n_iter_, len(scores), len(est.loss_curve_), est.best_loss_))
        assert est.best_validation_score_ == max(scores)
    assert records[0] == records[1] == (3, 6, 6, None)
    # pynn put back the parameters of the best epoch of both fits. Each fit holds out
    # scikit-learn's split, not stratified for three classes, from its own RandomState(0):
    # the first draws it after the initial parameters (each layer's weight, then its bias),
    # the warm start (which keeps the network) first.
    ours = fit_quietly(fit_quietly(MLPClassifier(**params), X, y), X, y)
    rng = np.random.RandomState(0)
    if int(np.argmax(ours.validation_scores_)) < 3:  # the best epoch is the first fit's
        for fan_in, fan_out in [(4, 5), (5, 3)]:
            rng.uniform(size=(fan_in, fan_out)), rng.uniform(size=fan_out)
    _, X_val, _, y_val = train_test_split(X, y, test_size=0.1, random_state=rng)
    assert ours.score(X_val, y_val) == ours.best_validation_score_


# ---- coefs_ and intercepts_: assignable ------------------------------------------------------
@pytest.mark.parametrize("case", ["multiclass", "binary", "multilabel", "two outputs"])
def test_scikit_learns_weights_assigned_give_its_predictions(case):
    ours, theirs, X, y = case_data(case)
    params = dict(hidden_layer_sizes=(6, 4), activation="tanh")  # (by name: scikit-learn's
    sk = fit_quietly(theirs(**params, max_iter=20, random_state=0), X, y)  # regressor's first
    est = fit_quietly(ours(**params, max_iter=1, dtype="float64"), X, y)  # is its loss)
    assert not np.allclose(est.predict(X) if case == "two outputs" else est.predict_proba(X), 0)
    est.coefs_ = sk.coefs_
    est.intercepts_ = list(sk.intercepts_)
    for mine, theirs_ in zip(est.coefs_ + est.intercepts_, sk.coefs_ + sk.intercepts_):
        assert np.array_equal(mine, theirs_)
    if case == "two outputs":
        np.testing.assert_allclose(est.predict(X), sk.predict(X), rtol=1e-10, atol=1e-12)
    else:
        np.testing.assert_allclose(est.predict_proba(X), sk.predict_proba(X), rtol=1e-9)
        assert np.array_equal(est.predict(X), sk.predict(X))
    again = pickle.loads(pickle.dumps(est))
    assert np.array_equal(again.coefs_[0], sk.coefs_[0])


def test_an_item_assigned_or_written_into_sets_the_layer():
    X, y = three_classes()
    est = fit_quietly(MLPClassifier((5,), max_iter=2, random_state=0), X, y)
    W = np.arange(20.0).reshape(4, 5) / 16  # exact in float32
    est.coefs_[0] = W
    assert np.array_equal(est.coefs_[0], W)
    assert np.array_equal(est.model_.layers[0].params["weight"], W.T.astype(np.float32))
    coefs, intercepts = est.coefs_, est.intercepts_
    coefs[1] = np.zeros((5, 3))
    intercepts[1] = [0, 0, 0]
    assert not coefs[1].any() and not est.coefs_[1].any() and not est.intercepts_[1].any()
    np.testing.assert_allclose(est.predict_proba(X), 1 / 3)  # all-zero logits
    est.intercepts_[1][...] = [0, 0, 5]  # into the view: into the network
    assert (est.predict(X) == "cat").all()


def test_wrong_coefs_and_intercepts_are_refused_by_name():
    X, y = three_classes()
    est = fit_quietly(MLPClassifier((5,), max_iter=2, random_state=0), X, y)
    before = est.model_.flat_params.copy()
    good = est.coefs_
    cases = [
        ("coefs_", [good[0], np.zeros((3, 5))], ValueError, r"coefs_\[1\] must have shape "),
        ("coefs_", [good[0]], ValueError, "coefs_ must be a list of 2 arrays"),
        ("coefs_", np.zeros((4, 5)), TypeError, "coefs_ must be a list of 2 arrays"),
        ("coefs_", [np.full((4, 5), "a"), good[1]], TypeError, r"coefs_\[0\] must hold numbers"),
        ("coefs_", [[[1, 2], [3]], good[1]], TypeError, r"coefs_\[0\] must be an array"),
        ("intercepts_", [np.full(5, np.nan), np.zeros(3)], ValueError, r"\[0\] holds NaN"),
        ("intercepts_", [np.zeros(5), np.zeros((1, 3))], ValueError, r"intercepts_\[1\] must"),
    ]
    for name, value, error, fragment in cases:
        with pytest.raises(error, match=fragment):
            setattr(est, name, value)
    with pytest.raises(ValueError, match=r"coefs_\[1\] must have shape \(5, 3\) \(in, out\)"):
        est.coefs_[1] = np.zeros((3, 5))
    with pytest.raises(ValueError, match=r"intercepts_\[0\] must have shape \(5,\), got \(4,\)"):
        est.intercepts_[0] = np.zeros(4)
    assert np.array_equal(est.model_.flat_params, before)  # nothing was copied
    for cls in (MLPClassifier, MLPRegressor):
        with pytest.raises(NotFittedError):
            cls().coefs_ = good
        with pytest.raises(NotFittedError):
            cls().intercepts_  # noqa: B018


def test_a_warm_start_that_turns_early_stopping_on_or_off_starts_the_records_it_needs():
    # (scikit-learn's fails: it appends to validation_scores_=None, compares with None)
    X, y = three_classes(200)
    est = MLPClassifier((5,), max_iter=3, warm_start=True, random_state=0, n_iter_no_change=50)
    fit_quietly(est, X, y)
    fit_quietly(est.set_params(early_stopping=True), X, y)
    assert len(est.validation_scores_) == est.n_iter_ == 3 and est.best_loss_ is None
    assert est.best_validation_score_ == max(est.validation_scores_)
    assert len(est.loss_curve_) == 6 and est.t_ == 3 * 200 + 3 * 180
    fit_quietly(est.set_params(early_stopping=False), X, y)
    assert est.validation_scores_ is None and est.best_validation_score_ is None
    assert est.best_loss_ == min(est.loss_curve_[6:]) and len(est.loss_curve_) == 9
