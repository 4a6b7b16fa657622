"""pynn.sklearn's parameters against scikit-learn 1.9's MLPClassifier / MLPRegressor: the
same names and defaults, every value scikit-learn's _parameter_constraints accept taken
with its meaning, and bad values named at fit."""

import inspect
import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn import neural_network  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.utils._param_validation import validate_parameter_constraints  # noqa: E402
from sklearn_cases import fit_quietly, regression, three_classes  # noqa: E402

from pynn.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

PAIRS = [
    (MLPClassifier, neural_network.MLPClassifier),
    (MLPRegressor, neural_network.MLPRegressor),
]
PYNN_OWN = {"dtype": "float32", "n_threads": None, "divergence": 1e4, "init": None}
REGRESSOR_OWN = {"normalize_y": False}  # the regressor's own beyond those
CLASSIFIER_OWN = {"class_weight": None}  # scikit-learn 1.9's MLPClassifier has none


def pynn_own(cls):
    """The parameters of `cls` that scikit-learn's MLP has not, with their defaults."""
    return dict(PYNN_OWN, **(REGRESSOR_OWN if cls is MLPRegressor else CLASSIFIER_OWN))


def data_for(cls, n=60):
    return three_classes(n) if cls is MLPClassifier else regression(n)


# ---- names and defaults ----------------------------------------------------------------------
@pytest.mark.parametrize("ours,theirs", PAIRS)
def test_every_scikit_learn_parameter_with_its_default(ours, theirs):
    mine = inspect.signature(ours).parameters
    sk = inspect.signature(theirs).parameters
    assert set(sk) <= set(mine)  # max_fun and the regressor's loss included
    assert {name: mine[name].default for name in set(mine) - set(sk)} == pynn_own(ours)
    for name in sk:
        assert mine[name].default == sk[name].default, name
    assert list(mine)[:2] == ["hidden_layer_sizes", "activation"]  # pynn's positional ones
    if ours is MLPRegressor:
        assert mine["loss"].kind is inspect.Parameter.KEYWORD_ONLY


@pytest.mark.parametrize("ours,theirs", PAIRS)
@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_scikit_learns_get_params_construct_and_fit(ours, theirs, solver):
    sk_params = theirs(solver=solver, hidden_layer_sizes=(5,), max_iter=3).get_params()
    est = ours(**sk_params)
    assert est.get_params() == dict(sk_params, **pynn_own(ours))
    X, y = data_for(ours)
    fit_quietly(est, X, y)
    assert est.n_iter_ == 3 and est.max_fun == 15000
    assert ours(**theirs().get_params()).get_params() == ours().get_params()


def test_parameters_round_trip():
    params = dict(
        hidden_layer_sizes=(7, 3),
        activation="tanh",
        solver="sgd",
        alpha=0.01,
        batch_size=16,
        learning_rate="adaptive",
        learning_rate_init=0.05,
        power_t=0.25,
        max_iter=11,
        shuffle=False,
        random_state=5,
        tol=0.001,
        verbose=2,
        warm_start=True,
        momentum=0.5,
        nesterovs_momentum=False,
        early_stopping=True,
        validation_fraction=0.2,
        beta_1=0.8,
        beta_2=0.99,
        epsilon=1e-7,
        n_iter_no_change=np.inf,
        max_fun=30,
        dtype="float64",
        n_threads=1,
        divergence=None,
        init="he_normal",
    )
    regressor_extra = {"loss": "squared_error", "normalize_y": True}
    classifier_extra = {"class_weight": {0: 2.0}}
    for cls, extra in ((MLPClassifier, classifier_extra), (MLPRegressor, regressor_extra)):
        est = cls(**params, **extra)
        assert est.get_params() == dict(params, **extra)
        assert clone(est).get_params() == dict(params, **extra)
        est.set_params(alpha=0.5, dtype="float32", divergence=100, max_fun=7)
        assert (est.alpha, est.dtype, est.divergence, est.max_fun) == (0.5, "float32", 100, 7)


# ---- every value scikit-learn accepts --------------------------------------------------------
ACCEPTED = [
    ("hidden_layer_sizes", ()),
    ("hidden_layer_sizes", []),
    ("hidden_layer_sizes", 3),
    ("hidden_layer_sizes", np.int64(3)),
    ("hidden_layer_sizes", np.array([3, 2])),
    ("activation", "identity"),
    ("activation", "logistic"),
    ("activation", "tanh"),
    ("activation", "relu"),
    ("alpha", 0),
    ("alpha", np.float32(0.01)),
    ("batch_size", 1),
    ("batch_size", np.int64(7)),
    ("learning_rate", "invscaling"),
    ("learning_rate", "adaptive"),
    ("power_t", 0.0),
    ("max_iter", np.int64(1)),
    ("shuffle", np.bool_(False)),
    ("random_state", 0),
    ("random_state", 2**32 - 1),
    ("random_state", np.random.RandomState(0)),
    ("tol", 0.0),
    ("verbose", 0),
    ("verbose", 2),
    ("verbose", 10),
    ("verbose", np.bool_(True)),
    ("warm_start", True),
    ("momentum", 0.0),
    ("momentum", 1.0),  # with "adam", which does not read it
    ("nesterovs_momentum", False),
    ("early_stopping", True),
    ("validation_fraction", 0.0),
    ("validation_fraction", 0.5),
    ("beta_1", 0.0),
    ("beta_2", 0.0),
    ("epsilon", 1.0),
    ("n_iter_no_change", 1),
    ("n_iter_no_change", np.inf),
    ("n_iter_no_change", float("inf")),
    ("max_fun", 1),
    ("max_fun", np.int64(10**9)),
]


@pytest.mark.parametrize("ours,theirs", PAIRS)
@pytest.mark.parametrize("name,value", ACCEPTED)
def test_values_scikit_learn_accepts_are_accepted(ours, theirs, name, value, capsys):
    # the case is one scikit-learn's own checks accept
    validate_parameter_constraints(theirs._parameter_constraints, {name: value}, theirs.__name__)
    X, y = data_for(ours)
    params = dict(hidden_layer_sizes=(4,), max_iter=2, random_state=0)
    est = fit_quietly(ours(**dict(params, **{name: value})), X, y)
    assert 1 <= est.n_iter_ <= est.max_iter
    printed = capsys.readouterr().out
    assert ("Iteration 1, loss = " in printed) == (name == "verbose" and bool(value))


def test_regressor_loss_squared_error_is_the_default():
    X, y = regression()
    named = fit_quietly(MLPRegressor((4,), loss="squared_error", max_iter=3, random_state=0), X, y)
    default = fit_quietly(MLPRegressor((4,), max_iter=3, random_state=0), X, y)
    assert named.model_.loss_.name == "mse" and named.loss_curve_ == default.loss_curve_


@pytest.mark.parametrize("ours,theirs", PAIRS)
def test_n_iter_no_change_inf_never_stops_early_as_in_scikit_learn(ours, theirs):
    X, y = data_for(ours, 80)
    common = dict(hidden_layer_sizes=(4,), max_iter=12, tol=1e9, random_state=0)
    for patience, epochs in ((2, 4), (np.inf, 12)):  # tol=1e9: every epoch after the first
        runs = []  # stalls, so n_iter_no_change=2 stops at epoch 4
        for cls in (ours, theirs):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", ConvergenceWarning)
                est = cls(**common, n_iter_no_change=patience).fit(X, y)
            warned = any(issubclass(w.category, ConvergenceWarning) for w in caught)
            runs.append((est.n_iter_, len(est.loss_curve_), warned))
        assert runs[0] == runs[1] == (epochs, epochs, patience == np.inf)


@pytest.mark.parametrize("level", [1, 2, 5])
def test_verbose_levels_print_as_scikit_learns(level, capsys):
    X, y = three_classes()
    lines = []
    for cls in (MLPClassifier, neural_network.MLPClassifier):
        fit_quietly(cls((4,), max_iter=3, verbose=level, random_state=0), X, y)
        lines.append([line.split(",")[0] for line in capsys.readouterr().out.splitlines()])
    assert lines[0] == lines[1] == ["Iteration 1", "Iteration 2", "Iteration 3"]


def test_parameters_of_other_solvers_change_nothing():
    # momentum is read by "sgd" only, max_fun by "lbfgs" only: "adam" gives the same model
    X, y = three_classes()
    base = dict(hidden_layer_sizes=(5,), max_iter=3, random_state=0)
    reference = fit_quietly(MLPClassifier(**base), X, y).predict_proba(X)
    for extra in (dict(momentum=1.0), dict(max_fun=1), dict(momentum=0.0, max_fun=10**6)):
        other = fit_quietly(MLPClassifier(**base, **extra), X, y).predict_proba(X)
        assert np.array_equal(other, reference), extra


# ---- bad values, named at fit ----------------------------------------------------------------
BAD = [
    ("hidden_layer_sizes", (0,), ValueError, "hidden_layer_sizes must be > 0"),
    ("hidden_layer_sizes", (3.5,), TypeError, "hidden_layer_sizes must hold ints"),
    ("hidden_layer_sizes", None, TypeError, "hidden_layer_sizes must be an int"),
    ("activation", "softmax", ValueError, "activation must be one of"),
    ("activation", "step", ValueError, "activation must be one of"),
    ("solver", "LBFGS", ValueError, "solver must be one of"),
    ("solver", "newton", ValueError, "solver must be one of"),
    ("learning_rate", "optimal", ValueError, "learning_rate must be one of"),
    ("alpha", -1.0, ValueError, "alpha must be"),
    ("alpha", np.inf, ValueError, "alpha must be"),
    ("batch_size", 0, ValueError, "batch_size"),
    ("batch_size", "full", TypeError, "batch_size"),
    ("learning_rate_init", 0.0, ValueError, "learning_rate_init must be > 0"),
    ("power_t", -0.5, ValueError, "power_t must be"),
    ("max_iter", 0, ValueError, "max_iter must be"),
    ("max_iter", True, TypeError, "max_iter must be an integer"),
    ("shuffle", "yes", TypeError, "shuffle must be True or False"),
    ("shuffle", 1, TypeError, "shuffle must be True or False"),
    ("random_state", "seed", TypeError, "random_state must be"),
    ("random_state", -1, ValueError, r"random_state must be an int in \[0, 2\*\*32 - 1\]"),
    ("random_state", 2**32, ValueError, r"random_state must be an int in \[0, 2\*\*32 - 1\]"),
    ("tol", -1e-4, ValueError, "tol must be"),
    ("verbose", -1, ValueError, "verbose"),
    ("verbose", "loud", TypeError, "verbose"),
    ("momentum", 1.5, ValueError, "momentum must be"),
    ("momentum", -0.1, ValueError, "momentum must be"),
    ("validation_fraction", 1.0, ValueError, "validation_fraction must be"),
    ("beta_1", 1.0, ValueError, "beta_1 must be"),
    ("beta_2", 1.0, ValueError, "beta_2 must be"),
    ("epsilon", 0.0, ValueError, "epsilon must be > 0"),
    ("n_iter_no_change", 0, ValueError, "n_iter_no_change"),
    ("n_iter_no_change", 2.5, TypeError, "n_iter_no_change"),
    ("n_iter_no_change", -np.inf, TypeError, "n_iter_no_change"),
    ("n_iter_no_change", np.nan, TypeError, "n_iter_no_change"),
    ("max_fun", 0, ValueError, "max_fun must be an integer >= 1"),
    ("max_fun", 1.5, TypeError, "max_fun must be an integer"),
    ("dtype", "float16", TypeError, "dtype must be float32 or float64"),
    ("n_threads", 0, ValueError, "n_threads"),
    ("divergence", 1.0, ValueError, "divergence must be a finite factor > 1"),
    ("divergence", True, TypeError, "divergence must be None"),
]


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
@pytest.mark.parametrize("name,value,error,fragment", BAD)
def test_bad_parameters_are_named_at_fit(cls, name, value, error, fragment):
    X, y = data_for(cls, 30)
    est = cls(**{name: value})  # __init__ stores, fit checks (scikit-learn's rule)
    assert getattr(est, name) is value
    with pytest.raises(error, match=fragment):
        est.fit(X, y)
    assert not hasattr(est, "model_")


@pytest.mark.parametrize(
    "params,error,fragment",
    [
        (
            dict(loss="poisson", normalize_y=True),
            ValueError,
            "normalize_y=True does not go with loss='poisson'",
        ),
        (dict(loss="absolute_error"), ValueError, "loss must be one of"),
        (dict(loss=None), ValueError, "loss must be one of"),
        (dict(early_stopping=True, validation_fraction=0.0), ValueError, "validation_fraction"),
    ],
)
def test_what_pynn_cannot_do_is_refused_by_name(params, error, fragment):
    X, y = regression(30)
    with pytest.raises(error, match=fragment):
        MLPRegressor(**params).fit(X, y)
    if "loss" not in params:  # the same for the classifier, which has no loss parameter
        X, y = three_classes(30)
        with pytest.raises(error, match=fragment):
            MLPClassifier(**params).fit(X, y)
