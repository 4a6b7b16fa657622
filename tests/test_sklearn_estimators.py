"""pynn.sklearn: MLPClassifier and MLPRegressor as scikit-learn estimators."""

import copy
import os
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from helpers import HANG_SECONDS  # noqa: E402
from sklearn.exceptions import ConvergenceWarning, NotFittedError  # noqa: E402
from sklearn.model_selection import (  # noqa: E402
    GridSearchCV,
    cross_val_score,
    train_test_split,  # noqa: E402
)
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402
from sklearn_cases import FAST, fit_quietly, regression, three_classes  # noqa: E402

import pynn  # noqa: E402
from pynn.sklearn import MLPClassifier, MLPRegressor  # noqa: E402


# ---- scikit-learn's own estimator checks -----------------------------------------------------
# Small networks and few epochs keep the whole suite at a few seconds. The second pair runs
# the suite through the other solver, float64, two hidden layers and another activation
# (and the regressor with normalize_y).
@parametrize_with_checks(
    [
        MLPClassifier(**FAST),
        MLPRegressor(**FAST),
        MLPClassifier(
            **dict(FAST, hidden_layer_sizes=(8, 4)),
            solver="sgd",
            activation="tanh",
            dtype="float64",
        ),
        MLPRegressor(
            **dict(FAST, hidden_layer_sizes=(8, 4), learning_rate_init=0.01),
            solver="sgd",
            activation="tanh",
            dtype="float64",
            normalize_y=True,
        ),
    ],
    # Weight 2 equals a repeated row only for one full batch: minibatches of repeated
    # rows are other batches (tests/test_sample_weight.py checks what holds exactly).
    expected_failed_checks=lambda estimator: {
        "check_sample_weight_equivalence_on_dense_data": "stochastic minibatches differ "
        "from those of repeated rows"
    },
)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.filterwarnings("ignore:batch_size=32 is larger than:UserWarning")
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


# ---- the network and its training ------------------------------------------------------------
def test_classifier_builds_the_network_the_parameters_describe():
    X, y = three_classes()
    est = fit_quietly(
        MLPClassifier(
            hidden_layer_sizes=(6, 5), activation="logistic", max_iter=3, random_state=0
        ),
        X,
        y,
    )
    model = est.model_
    assert isinstance(model, pynn.Sequential) and model.dtype == np.float32
    assert [(d.in_features, d.out_features, d.activation) for d in model.layers] == [
        (4, 6, "sigmoid"),
        (6, 5, "sigmoid"),
        (5, 3, "identity"),
    ]
    assert model.loss_.name == "softmax_cross_entropy" and est.out_activation_ == "softmax"
    assert list(est.classes_) == ["ant", "bee", "cat"]
    assert est.n_features_in_ == 4 and est.n_layers_ == 4 and est.n_outputs_ == 3
    assert [c.shape for c in est.coefs_] == [(4, 6), (6, 5), (5, 3)]
    assert [b.shape for b in est.intercepts_] == [(6,), (5,), (3,)]
    assert np.shares_memory(est.coefs_[0], model.flat_params)
    assert len(est.loss_curve_) == est.n_iter_ == 3 and est.t_ == 3 * len(X)


def test_alpha_is_weight_decay_over_the_batch_size():
    X, y = three_classes(150)
    est = fit_quietly(MLPClassifier((4,), alpha=0.3, max_iter=1), X, y)
    assert isinstance(est.model_.optimizer_, pynn.Adam)
    assert est.model_.optimizer_.weight_decay == pytest.approx(0.3 / 150)  # auto: min(200, n)
    est = fit_quietly(
        MLPClassifier(
            (4,),
            alpha=0.3,
            batch_size=50,
            solver="sgd",
            max_iter=1,
            learning_rate_init=0.1,
            momentum=0.7,
        ),
        X,
        y,
    )
    opt = est.model_.optimizer_
    assert isinstance(opt, pynn.SGD) and opt.weight_decay == pytest.approx(0.3 / 50)
    assert (opt.lr, opt.momentum, opt.nesterov) == (0.1, 0.7, True)
    est = fit_quietly(MLPClassifier((4,), solver="sgd", momentum=0.0, max_iter=1), X, y)
    assert est.model_.optimizer_.nesterov is False  # Nesterov needs momentum


def test_loss_curve_adds_the_l2_term_to_pynns_loss():
    X, y = three_classes()
    est = fit_quietly(
        MLPClassifier((5,), alpha=2.0, batch_size=50, max_iter=4, random_state=1), X, y
    )
    # alpha decays the weights, not the intercepts (as scikit-learn's)
    assert est.model_.optimizer_.weight_decay_scope == "weights"
    # ½·alpha·‖W‖² per batch, with W before its step, over the rows: between the epoch's
    # smallest and largest ‖W‖² (test_sklearn_same_model.py compares it with scikit-learn's)
    weights = [p.ravel() for name, p in est.model_.named_parameters() if name.endswith("weight")]
    l2_end = 0.5 * 2.0 / len(X) * (len(X) / 50) * sum(float(np.dot(w, w)) for w in weights)
    penalty = est.loss_curve_[-1] - est.model_.history_["loss"][-1]
    assert 0 < penalty and penalty == pytest.approx(l2_end, rel=0.2)
    assert est.loss_ == est.loss_curve_[-1]


def test_same_random_state_same_model_and_other_seeds_differ():
    X, y = three_classes()
    first = fit_quietly(MLPClassifier((6,), max_iter=5, random_state=7), X, y)
    again = fit_quietly(MLPClassifier((6,), max_iter=5, random_state=7), X, y)
    other = fit_quietly(MLPClassifier((6,), max_iter=5, random_state=8), X, y)
    assert np.array_equal(first.predict_proba(X), again.predict_proba(X))
    assert first.loss_curve_ == again.loss_curve_
    assert not np.array_equal(first.predict_proba(X), other.predict_proba(X))
    # a RandomState or Generator is drawn from, as scikit-learn does with a RandomState
    a = fit_quietly(MLPClassifier((6,), max_iter=5, random_state=np.random.RandomState(3)), X, y)
    b = fit_quietly(MLPClassifier((6,), max_iter=5, random_state=np.random.RandomState(3)), X, y)
    assert np.array_equal(a.predict_proba(X), b.predict_proba(X))
    fit_quietly(MLPClassifier((6,), max_iter=2, random_state=np.random.default_rng(0)), X, y)


def test_n_threads_gives_the_same_model_and_restores_pynns_setting(restore_threads):
    X, y = three_classes()
    pynn.set_num_threads(2)
    one = fit_quietly(MLPClassifier((6,), max_iter=5, random_state=0, n_threads=1), X, y)
    assert pynn.get_num_threads() == 2
    two = fit_quietly(MLPClassifier((6,), max_iter=5, random_state=0, n_threads=2), X, y)
    assert np.array_equal(one.predict_proba(X), two.predict_proba(X))


def test_float64_trains_a_float64_network():
    X, y = three_classes()
    est32 = fit_quietly(MLPClassifier((6,), max_iter=3, random_state=0), X, y)
    est64 = fit_quietly(MLPClassifier((6,), max_iter=3, random_state=0, dtype="float64"), X, y)
    assert est64.model_.dtype == np.float64 and est64.model_.flat_params.dtype == np.float64
    assert est64.predict_proba(X).dtype == np.float64 == est32.predict_proba(X).dtype
    # the same initial parameters and row order: the curves agree to float32's precision
    np.testing.assert_allclose(est64.loss_curve_, est32.loss_curve_, rtol=1e-5)
    assert not np.array_equal(est64.loss_curve_, est32.loss_curve_)


def test_binary_classifier_has_one_logit_and_two_probability_columns():
    X, y = three_classes()
    y = np.where(y == "ant", "ant", "other")
    est = fit_quietly(
        MLPClassifier((6,), max_iter=40, batch_size=16, learning_rate_init=0.01, random_state=0),
        X,
        y,
    )
    assert est.model_.n_outputs_ == 1 and est.out_activation_ == "logistic"
    assert est.model_.loss_.name == "binary_cross_entropy"
    proba = est.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1, atol=1e-6)
    assert np.array_equal(est.predict(X), est.classes_[proba.argmax(axis=1)])
    np.testing.assert_allclose(est.predict_log_proba(X), np.log(proba), rtol=1e-7, atol=1e-12)
    # from the logits: finite where the probabilities round to exactly 0 and 1
    assert (
        np.isfinite(est.predict_log_proba(X * 1e4)).all()
        and (est.predict_proba(X * 1e4) == 0).any()
    )
    assert est.score(X, y) > 0.9


def test_multilabel_indicator_y():
    X, y = three_classes()
    Y = np.column_stack([y == "ant", y == "bee", X[:, 2] > 0]).astype(np.int32)
    est = fit_quietly(
        MLPClassifier((16,), max_iter=60, learning_rate_init=0.01, random_state=0), X, Y
    )
    assert est.model_.loss_.name == "binary_cross_entropy" and est.n_outputs_ == 3
    assert list(est.classes_) == [0, 1, 2]
    pred = est.predict(X)
    assert pred.shape == Y.shape and pred.dtype == np.int32
    assert np.array_equal(pred, (est.predict_proba(X) > 0.5).astype(np.int32))
    assert (pred == Y).mean() > 0.9
    with pytest.raises(ValueError, match="multi-label indicator"):
        est.set_params(warm_start=True).fit(X, y)


def test_classifier_rejects_targets_it_cannot_learn():
    X, y = three_classes(40)
    with pytest.raises(ValueError, match="Unknown label type"):
        MLPClassifier().fit(X, X[:, 0])
    with pytest.raises(ValueError, match="multiclass-multioutput"):
        MLPClassifier().fit(X, np.column_stack([np.arange(40) % 3, np.arange(40) % 2]))
    with pytest.raises(ValueError, match="one class only"):
        MLPClassifier().fit(X, np.zeros(40))


def test_bad_input_messages():
    X, y = three_classes(40)
    est = MLPClassifier((4,), max_iter=2)
    with pytest.raises(NotFittedError):
        est.predict(X)
    with pytest.raises(ValueError, match="NaN"):
        est.fit(np.where(X > 2, np.nan, X), y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        est.fit(X, y[:-1])
    fit_quietly(est, X, y)
    with pytest.raises(ValueError, match="X has 3 features, but MLPClassifier is expecting 4"):
        est.predict(X[:, :3])
    with pytest.raises(ValueError, match="2D array"):
        est.predict(X[0])


def test_regressor_1d_and_2d_targets():
    X, y = regression()
    est = fit_quietly(
        MLPRegressor((16,), max_iter=200, learning_rate_init=0.01, random_state=0), X, y
    )
    assert est.predict(X).shape == (len(X),) and est.predict(X).dtype == np.float64
    assert est.model_.loss_.name == "mse" and est.out_activation_ == "identity"
    assert est.score(X, y) > 0.8
    X, Y = regression(outputs=2)
    est = fit_quietly(
        MLPRegressor((16,), max_iter=200, learning_rate_init=0.01, random_state=0), X, Y
    )
    assert est.predict(X).shape == (len(X), 2) and est.n_outputs_ == 2
    assert est.score(X, Y) > 0.8


# ---- stopping: scikit-learn's rule -----------------------------------------------------------
def expected_stop(curve, tol, n_iter_no_change, higher_is_better):
    """The 1-based epoch at which scikit-learn's rule stops on this curve (None: never)."""
    best, count = (-np.inf if higher_is_better else np.inf), 0
    for epoch, value in enumerate(curve, 1):
        improved = value >= best + tol if higher_is_better else value <= best - tol
        count = 0 if improved else count + 1
        best = max(best, value) if higher_is_better else min(best, value)
        if count > n_iter_no_change:
            return epoch
    return None


def test_training_loss_stopping_rule_and_convergence_warning():
    X, y = three_classes()
    est = MLPClassifier((6,), max_iter=300, tol=1e-2, n_iter_no_change=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.fit(X, y)
    assert est.n_iter_ < 300
    assert expected_stop(est.loss_curve_, 1e-2, 3, False) == est.n_iter_
    assert est.best_loss_ == min(est.loss_curve_)
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(4\) reached"):
        est.set_params(max_iter=4).fit(X, y)
    assert est.n_iter_ == 4


def test_early_stopping_watches_the_validation_score_and_keeps_the_best_parameters():
    X, y = three_classes(300)
    est = MLPClassifier(
        (8,),
        early_stopping=True,
        validation_fraction=0.2,
        max_iter=300,
        n_iter_no_change=4,
        tol=0.0,
        random_state=0,
        learning_rate_init=0.05,
    )
    est.fit(X, y)
    assert len(est.validation_scores_) == est.n_iter_ < 300 and est.best_loss_ is None
    assert expected_stop(est.validation_scores_, 0.0, 4, True) == est.n_iter_
    assert est.best_validation_score_ == max(est.validation_scores_)
    # the validation share the estimator held out: scikit-learn's split, drawn from
    # RandomState(0) after the initial parameters (each layer's weight, then its bias), and
    # not stratified for three classes
    rng = np.random.RandomState(0)
    for fan_in, fan_out in [(4, 8), (8, 3)]:
        rng.uniform(size=(fan_in, fan_out)), rng.uniform(size=fan_out)
    _, X_val, _, y_val = train_test_split(X, y, test_size=0.2, random_state=rng)
    assert est.score(X_val, y_val) == est.best_validation_score_
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping"):
        est.partial_fit(X, y)


def test_sgd_learning_rate_schedules():
    X, y = three_classes()
    est = fit_quietly(
        MLPClassifier(
            (6,),
            solver="sgd",
            learning_rate="invscaling",
            learning_rate_init=0.5,
            power_t=0.5,
            max_iter=3,
        ),
        X,
        y,
    )
    assert est.model_.optimizer_.lr == pytest.approx(0.5 / (est.t_ + 1) ** 0.5)
    # "adaptive": each stall divides the rate by 5; below 1e-6 it stops
    est = fit_quietly(
        MLPClassifier(
            (6,),
            solver="sgd",
            learning_rate="adaptive",
            tol=10.0,
            n_iter_no_change=1,
            learning_rate_init=0.01,
            max_iter=100,
        ),
        X,
        y,
    )
    # epoch 1 improves on best_loss_ = inf, then every second epoch is a stall: the rate is
    # 0.01 / 5**k after epoch 1 + 2k, <= 1e-6 from k = 6, so the stall at epoch 15 stops
    assert est.model_.optimizer_.lr == pytest.approx(0.01 / 5**6)
    assert est.n_iter_ == 15


# ---- continuing: partial_fit and warm_start --------------------------------------------------
def test_partial_fit_continues_fit():
    X, y = three_classes()
    stepwise = fit_quietly(MLPClassifier((8,), max_iter=1, random_state=3), X, y)
    first = stepwise.predict_proba(X)
    stepwise.partial_fit(X, y)
    stepwise.partial_fit(X, y)
    assert not np.array_equal(stepwise.predict_proba(X), first)
    assert len(stepwise.loss_curve_) == 3 and stepwise.t_ == 3 * len(X)
    assert stepwise.n_iter_ == 1  # as scikit-learn's: the epochs of the last call
    # Each call draws its row order from a new RandomState(3), as scikit-learn's does, so
    # this is not a 3-epoch fit (test_sklearn_same_model.py compares both libraries' calls).
    fresh = MLPClassifier((8,), random_state=3).partial_fit(X, y, classes=np.unique(y))
    once = fit_quietly(MLPClassifier((8,), max_iter=1, random_state=3), X, y)
    assert np.array_equal(fresh.predict_proba(X), once.predict_proba(X))


def test_partial_fit_classes():
    X, y = three_classes()
    est = MLPClassifier((8,), random_state=0)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        est.partial_fit(X, y)
    est.partial_fit(X[y != "cat"], y[y != "cat"], classes=["ant", "bee", "cat", "dog"])
    assert list(est.classes_) == ["ant", "bee", "cat", "dog"]
    assert est.predict_proba(X).shape == (len(X), 4)
    est.partial_fit(X, y)  # "cat" was announced
    with pytest.raises(ValueError, match="not the same as on the first call"):
        est.partial_fit(X, y, classes=["ant", "bee"])
    with pytest.raises(ValueError, match=r"labels not in classes: \['emu'\]"):
        est.partial_fit(X[:3], ["ant", "emu", "bee"])
    losses = []
    for _ in range(5):
        est.partial_fit(X, y)
        losses.append(est.loss_)
    assert losses[-1] < losses[0]


def test_regressor_partial_fit():
    X, y = regression()
    est = MLPRegressor((8,), learning_rate_init=0.01, random_state=0)
    for _ in range(20):
        est.partial_fit(X, y)
    assert est.n_iter_ == 1 and len(est.loss_curve_) == 20 and est.t_ == 20 * len(X)
    assert est.loss_curve_[-1] < est.loss_curve_[0]
    with pytest.raises(ValueError, match="X has 2 features, but MLPRegressor is expecting 3"):
        est.partial_fit(X[:, :2], y)


def test_warm_start():
    X, y = three_classes()
    est = fit_quietly(MLPClassifier((8,), max_iter=5, warm_start=True, random_state=0), X, y)
    first_curve = list(est.loss_curve_)
    params = est.model_.flat_params.copy()
    fit_quietly(est, X, y)
    assert len(est.loss_curve_) == 10 and est.loss_curve_[:5] == first_curve
    assert est.loss_curve_[5] < first_curve[0]  # continued, not restarted
    assert not np.array_equal(params, est.model_.flat_params)
    with pytest.raises(ValueError, match="warm_start can only continue"):
        est.fit(X[y != "cat"], y[y != "cat"])
    with pytest.raises(ValueError, match="y must be 1-D class labels, as it was in fit"):
        est.fit(X, np.column_stack([y == "ant", y == "bee"]).astype(int))
    with pytest.raises(ValueError, match="warm_start=False"):
        est.set_params(hidden_layer_sizes=(9,)).fit(X, y)
    est.set_params(warm_start=False)
    fit_quietly(est, X, y)
    assert est.model_.layers[0].out_features == 9 and len(est.loss_curve_) == 5


def test_pickle_and_deepcopy_keep_the_model_and_its_optimizer():
    X, y = three_classes()
    est = fit_quietly(MLPClassifier((8,), max_iter=2, random_state=0), X, y)
    copies = [pickle.loads(pickle.dumps(est)), copy.deepcopy(est)]
    for other in copies:
        assert other.model_ is not est.model_
        assert np.array_equal(other.predict_proba(X), est.predict_proba(X))
    for model in [est] + copies:
        model.partial_fit(X, y)  # Adam's moments and the row order carry over
    for other in copies:
        assert np.array_equal(other.predict_proba(X), est.predict_proba(X))


# ---- scikit-learn's tools --------------------------------------------------------------------
def test_pipeline():
    X, y = three_classes()
    pipe = make_pipeline(
        StandardScaler(),
        MLPClassifier((8,), max_iter=50, batch_size=16, learning_rate_init=0.01, random_state=0),
    )
    fit_quietly(pipe, X * 100 + 5, y)
    assert pipe.score(X * 100 + 5, y) > 0.9


def test_grid_search():
    X, y = regression()
    search = GridSearchCV(
        MLPRegressor(max_iter=20, random_state=0),
        {"hidden_layer_sizes": [(2,), (16,)], "learning_rate_init": [1e-4, 0.01]},
        cv=3,
    )
    fit_quietly(search, X, y)
    assert search.best_params_ == {"hidden_layer_sizes": (16,), "learning_rate_init": 0.01}
    assert search.best_estimator_.model_.layers[0].out_features == 16


def test_cross_val_score():
    X, y = three_classes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = cross_val_score(
            MLPClassifier(
                (8,), max_iter=50, batch_size=16, learning_rate_init=0.01, random_state=0
            ),
            X,
            y,
            cv=3,
        )
    assert scores.shape == (3,) and scores.min() > 0.8


def test_feature_names_from_a_dataframe():
    pd = pytest.importorskip("pandas")
    X, y = three_classes()
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    est = fit_quietly(MLPClassifier((4,), max_iter=2), frame, y)
    assert list(est.feature_names_in_) == ["a", "b", "c", "d"]
    with pytest.warns(UserWarning, match="feature names"):
        est.predict(X)


def test_verbose_prints_each_epoch(capsys):
    X, y = three_classes()
    fit_quietly(MLPClassifier((4,), max_iter=2, verbose=True), X, y)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(",")[0] for line in lines] == ["Iteration 1", "Iteration 2"]


# ---- scikit-learn stays optional -------------------------------------------------------------
def run_python(code, cwd):
    # the same pynn as this process (in-place build or installed), from a neutral cwd
    home = os.path.dirname(os.path.dirname(os.path.abspath(pynn.__file__)))
    env = dict(os.environ, PYTHONPATH=home)
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=HANG_SECONDS,
    )


def test_import_pynn_does_not_import_sklearn_and_pynn_sklearn_says_how_to_install_it(tmp_path):
    result = run_python(
        "import sys\n"
        "import pynn\n"
        "assert 'sklearn' not in sys.modules, 'import pynn imported sklearn'\n"
        "sys.modules['sklearn'] = None  # as if scikit-learn were not installed\n"
        "try:\n"
        "    import pynn.sklearn\n"
        "except ImportError as error:\n"
        "    print(error)\n",
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.strip()
        == 'pynn.sklearn needs scikit-learn >= 1.6: pip install "pynn[sklearn]"'
    )
