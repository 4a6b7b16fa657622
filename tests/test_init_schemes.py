"""Initialisation schemes beyond Glorot and He: scikit-learn's and PyTorch's formulas
(weights and biases) and a callable init, with its checks and what saving, loading and
copying keep of it."""

import copy
import math
import pickle

import numpy as np
import pytest

import pynn
from pynn.core.init import BIASED_INITS, INITS, initialize_affine

# ---- scikit-learn's and PyTorch's formulas --------------------------------------------------
# The bound of weights and biases, by hand: scikit-learn's sqrt(factor / (fan_in + fan_out)),
# factor 6 or 2 (logistic); PyTorch's nn.Linear 1 / sqrt(fan_in).
BOUNDS = {
    "sklearn_uniform": lambda fan_in, fan_out: math.sqrt(6 / (fan_in + fan_out)),
    "sklearn_logistic": lambda fan_in, fan_out: math.sqrt(2 / (fan_in + fan_out)),
    "torch_uniform": lambda fan_in, fan_out: 1 / math.sqrt(fan_in),
}


@pytest.mark.parametrize("name", sorted(BOUNDS))
def test_biased_scheme_is_the_hand_computed_draw(name):
    fan_in, fan_out = 5, 7
    weight, bias = np.empty((fan_out, fan_in)), np.empty(fan_out)
    initialize_affine(weight, bias, name, fan_in, fan_out, np.random.default_rng(11))
    # sqrt(6/12), sqrt(2/12), 1/sqrt(5); the weight drawn first, then the bias, from the
    # same generator (scikit-learn's _init_coef order)
    bound = {"sklearn_uniform": 0.5**0.5, "sklearn_logistic": 6**-0.5, "torch_uniform": 0.2**0.5}
    bound = bound[name]
    assert bound == pytest.approx(BOUNDS[name](fan_in, fan_out))
    rng = np.random.default_rng(11)
    assert np.array_equal(weight, rng.uniform(-bound, bound, size=(fan_out, fan_in)))
    assert np.array_equal(bias, rng.uniform(-bound, bound, size=fan_out))


@pytest.mark.parametrize("name", sorted(BOUNDS))
def test_biased_scheme_fills_its_bound_in_weights_and_biases(name):
    fan_in, fan_out = 300, 200
    bound = BOUNDS[name](fan_in, fan_out)
    model = pynn.Sequential(pynn.Dense(fan_in, fan_out, init=name), random_state=0)
    weight, bias = model.layers[0].params["weight"], model.layers[0].params["bias"]
    for values in (weight, bias):
        assert np.abs(values).max() <= np.float32(bound)
        assert values.max() > 0.97 * bound and values.min() < -0.97 * bound
    # uniform on ±bound: variance bound²/3
    assert weight.var() == pytest.approx(bound**2 / 3, rel=0.03)
    assert bias.var() == pytest.approx(bound**2 / 3, rel=0.3)


def test_only_the_sklearn_and_torch_schemes_draw_biases():
    assert set(BIASED_INITS) == set(BOUNDS) <= set(INITS)
    for name in INITS:
        model = pynn.Sequential(
            pynn.Dense(6, 9, "tanh", init=name), pynn.Maxout(9, 4, 3, init=name), random_state=1
        )
        for layer in model.layers:
            assert layer.params["bias"].any() == (name in BIASED_INITS), (name, layer)


def test_maxout_fans_are_its_widths():
    # the bound uses in_features and out_features, not the pieces' rows
    model = pynn.Sequential(pynn.Maxout(10, 20, 3, init="sklearn_uniform"), random_state=0)
    bound = math.sqrt(6 / 30)
    params = model.layers[0].params
    assert np.abs(params["weight"]).max() <= np.float32(bound)
    assert params["weight"].max() > 0.95 * bound and params["bias"].min() < -0.8 * bound


# ---- a callable --------------------------------------------------------------------------------
def _normal(shape, rng, dtype):
    return rng.normal(0.0, 0.1, size=shape)


def test_callable_gets_shape_rng_and_dtype_and_sets_the_weight():
    calls = []

    def init(shape, rng, dtype):
        calls.append((shape, type(rng), dtype))
        return np.arange(math.prod(shape), dtype=np.int64).reshape(shape)

    model = pynn.Sequential(
        pynn.Dense(3, 4, "relu", init=init),
        pynn.Maxout(4, 2, 3, init=init),
        dtype=np.float64,
        random_state=0,
    )
    assert calls == [
        ((4, 3), np.random.Generator, np.float64),
        ((6, 4), np.random.Generator, np.float64),
    ]
    assert np.array_equal(model.layers[0].params["weight"], np.arange(12).reshape(4, 3))
    assert np.array_equal(model.layers[1].params["weight"], np.arange(24).reshape(6, 4))
    assert not model.layers[0].params["bias"].any() and not model.layers[1].params["bias"].any()


def test_callable_draws_from_the_models_seed():
    def build(seed):
        return pynn.Sequential(pynn.Dense(5, 8, init=_normal), random_state=seed)

    a, b, c = build(3), build(3), build(4)
    assert np.array_equal(a.flat_params, b.flat_params)
    assert not np.array_equal(a.flat_params, c.flat_params)
    before = a.flat_params.copy()
    a.fit(np.ones((4, 5)), np.zeros((4, 8)), loss="mse", epochs=1, random_state=4)
    a.reset_parameters(3)
    assert np.array_equal(a.flat_params, before)


@pytest.mark.parametrize(
    "init,error,fragment",
    [
        (lambda shape, rng, dtype: np.zeros((shape[1], shape[0])), ValueError, r"shape \(3, 4\)"),
        (lambda shape, rng, dtype: np.zeros(shape[0]), ValueError, "init returned an array of"),
        (lambda shape, rng, dtype: np.full(shape, np.nan), ValueError, "init returned NaN"),
        (lambda shape, rng, dtype: np.full(shape, 1e39), ValueError, r"infinity \(in float32\)"),
        (lambda shape, rng, dtype: np.full(shape, "a"), TypeError, "init must return real"),
        (lambda shape, rng, dtype: None, TypeError, "init must return real"),
        (lambda shape, rng, dtype: np.zeros(shape, complex), TypeError, "init must return real"),
    ],
)
def test_callable_results_are_checked(init, error, fragment):
    with pytest.raises(error, match=fragment):
        pynn.Sequential(pynn.Dense(3, 4, init=init), random_state=0)


def test_an_init_that_is_not_a_name_or_a_callable_is_refused_at_once():
    for bad in (3, ("he_uniform",), np.zeros(2)):
        with pytest.raises(TypeError, match="init must be one of .* or a callable"):
            pynn.Dense(2, 3, init=bad)
        with pytest.raises(TypeError, match="init must be one of .* or a callable"):
            pynn.Maxout(2, 3, 2, init=bad)


def test_callable_init_save_load_and_copies(tmp_path):
    X = np.random.default_rng(0).standard_normal((20, 3))
    model = pynn.Sequential(
        pynn.Dense(3, 6, "relu", init=_normal), pynn.Maxout(6, 2, 2, init=_normal), random_state=0
    )
    path = tmp_path / "m.npz"
    model.save(path)
    loaded = pynn.load(path)
    # the file holds the parameters; the callable is recorded as None, the default
    assert np.array_equal(loaded.flat_params, model.flat_params)
    assert np.array_equal(loaded.decision_function(X), model.decision_function(X))
    assert [layer.init for layer in loaded.layers] == ["torch_uniform", "glorot_uniform"]
    # in-process copies keep the callable itself (a module-level function pickles)
    for twin in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert twin.layers[0].init is _normal and twin.layers[1].init is _normal
        assert np.array_equal(twin.flat_params, model.flat_params)
    assert pynn.gradcheck(model, X[:5], np.zeros((5, 2)), loss="mse").ok


# ---- pynn.sklearn's default --------------------------------------------------------------------
@pytest.mark.parametrize(
    "activation,scheme,factor",
    [
        ("relu", "sklearn_uniform", 6.0),
        ("tanh", "sklearn_uniform", 6.0),
        ("logistic", "sklearn_logistic", 2.0),
    ],
)
def test_estimators_start_from_scikit_learns_formula(activation, scheme, factor):
    pytest.importorskip("sklearn")
    from pynn.sklearn import MLPClassifier, MLPRegressor

    X = np.random.default_rng(0).standard_normal((40, 30))
    y = np.arange(40) % 3
    for est, target in ((MLPClassifier, y), (MLPRegressor, y.astype(float))):
        # a rate of 1e-12: one Adam step moves no parameter by more than about 1e-12
        fitted = est((50,), activation, learning_rate_init=1e-12, max_iter=1, random_state=0)
        with pytest.warns(Warning):  # ConvergenceWarning: max_iter=1
            fitted.fit(X, target)
        assert [layer.init for layer in fitted.model_.layers] == [scheme, scheme]
        for coef, intercept in zip(fitted.coefs_, fitted.intercepts_):
            bound = math.sqrt(factor / sum(coef.shape))
            assert np.abs(coef).max() <= bound + 1e-6 and np.abs(intercept).max() <= bound + 1e-6
            assert np.abs(coef).max() > 0.9 * bound and intercept.all()
        hidden_bound = math.sqrt(factor / (30 + 50))  # its 50 biases reach near their bound
        assert np.abs(fitted.intercepts_[0]).max() > 0.8 * hidden_bound


def test_estimator_init_parameter():
    pytest.importorskip("sklearn")
    from pynn.sklearn import MLPClassifier

    X = np.random.default_rng(0).standard_normal((40, 4))
    y = np.arange(40) % 2
    options = dict(hidden_layer_sizes=(8,), max_iter=2, random_state=0)
    with pytest.warns(Warning):
        named = MLPClassifier(init="he_normal", **options).fit(X, y)
    assert [layer.init for layer in named.model_.layers] == ["he_normal", "he_normal"]
    with pytest.warns(Warning):
        custom = MLPClassifier(init=_normal, **options).fit(X, y)
    assert custom.model_.layers[0].init is _normal
    for bad, error in (("xavier", ValueError), (1.5, TypeError)):
        est = MLPClassifier(init=bad, **options)
        with pytest.raises(error, match="init must be one of"):
            est.fit(X, y)
        assert not hasattr(est, "model_")
