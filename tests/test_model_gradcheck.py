"""pynn.gradcheck on whole models: every layer type and every loss, on both backends.

Each case draws small random data and parameters in float64 and checks that backprop
agrees with central differences to 1e-6 (pynn/gradcheck.py explains the error measure;
correct gradients land near 1e-9, wrong ones at 1e-2 and more). Finite differences are
wrong at kinks, so every case is redrawn until each kinked quantity (relu/leaky_relu/elu/
PReLU inputs, the gap between Maxout's two largest pieces, pred - y for l1, 1 - y·pred for
hinge) is at least MARGIN = 1e-3 from its kink: with inputs and weights of size <= 2, a
step of eps = 1e-6 moves them by a few 1e-6, so no perturbation crosses one.

A checker that cannot fail is worthless: other tests break a gradient on purpose (scaled
by 1.01) and require gradcheck to report it, and one test compares gradcheck's numeric
gradient with a closed form.
"""

import numpy as np
import pytest

import pynn
import pynn.reference as R
import pynn.reference_network
from pynn import (
    ELU,
    Activation,
    Dense,
    Identity,
    LeakyReLU,
    Maxout,
    PReLU,
    ReLU,
    Sequential,
    Sigmoid,
    Softplus,
    Tanh,
    gradcheck,
)
from pynn.gradcheck import GradcheckResult

F64 = np.float64
TOL = 1e-6
MARGIN = 1e-3
N, N_IN = 10, 4
BACKENDS = ("c", "reference")
KINKED = ("relu", "leaky_relu", "elu")

# Dense activations as (name, param): every differentiable one, parameters included.
DENSE_ACTS = (
    ("identity", None),
    ("sigmoid", None),
    ("tanh", None),
    ("relu", None),
    ("leaky_relu", None),
    ("leaky_relu", 0.2),
    ("leaky_relu", -0.3),
    ("softplus", None),
    ("elu", None),
    ("elu", 0.5),
    ("elu", 2.0),
)
ACT_LAYERS = {
    "Identity": Identity,
    "Sigmoid": Sigmoid,
    "Tanh": Tanh,
    "ReLU": ReLU,
    "LeakyReLU": LeakyReLU,
    "LeakyReLU(0.2)": lambda: LeakyReLU(0.2),
    "LeakyReLU(-0.3)": lambda: LeakyReLU(-0.3),
    "Softplus": Softplus,
    "ELU": ELU,
    "ELU(0.5)": lambda: ELU(0.5),
    "ELU(2.0)": lambda: ELU(2.0),
    "Activation(elu, 1.5)": lambda: Activation("elu", 1.5),
}


def act_id(case):
    return case[0] if case[1] is None else f"{case[0]}({case[1]})"


# ---- an independent NumPy forward that measures the distance to every kink -----------------
def kink_distance(model, X):
    """(smallest distance of a kinked quantity to its kink, the model's output), computed
    layer by layer with NumPy from the model's parameters."""
    a, distances = X, [np.inf]
    for layer in model.layers:
        p = layer.params
        if isinstance(layer, Dense):
            z = a @ p["weight"].T + (p["bias"] if layer.bias else 0)
            if layer.activation in KINKED:
                distances.append(np.min(np.abs(z)))
            a = R.activation_forward(
                np.ascontiguousarray(z), layer.activation, layer.activation_param
            )
        elif isinstance(layer, Maxout):
            z = a @ p["weight"].T + (p["bias"] if layer.bias else 0)
            pieces = np.sort(z.reshape(len(a), layer.out_features, layer.pieces), axis=2)
            if layer.pieces > 1:
                distances.append(np.min(pieces[:, :, -1] - pieces[:, :, -2]))
            a = pieces[:, :, -1]
        elif isinstance(layer, PReLU):
            distances.append(np.min(np.abs(a)))
            a = np.where(a > 0, a, p["weight"] * a)
        elif isinstance(layer, Activation):
            if layer.activation in KINKED:
                distances.append(np.min(np.abs(a)))
            a = R.activation_forward(np.ascontiguousarray(a), layer.activation, layer.param)
        else:
            raise AssertionError(f"unknown layer {layer!r}")
    return float(min(distances)), a


def loss_kink_distance(loss, out, y):
    """Distance of l1's pred - y and hinge's y·pred from their kinks (inf for smooth losses)."""
    if loss == "l1":
        return float(np.min(np.abs(out - y.reshape(out.shape))))
    if loss == "hinge":
        signs = np.where(y.reshape(out.shape) > 0, 1.0, -1.0)  # labels {0,1} or {-1,1}
        return float(np.min(np.abs(1 - signs * out)))
    return np.inf


def make_targets(rng, kind, n, k):
    if kind == "values":
        return rng.standard_normal((n, k))
    if kind == "values-1d":
        return rng.standard_normal(n)
    if kind == "labels":
        return rng.permutation(np.arange(n) % k)  # every class present
    if kind == "probabilities":
        return rng.dirichlet(np.ones(k), size=n)
    if kind == "binary":
        return rng.permutation(np.arange(n) % 2)
    if kind == "indicator":
        y = rng.integers(0, 2, size=(n, k))
        y[0], y[1] = 0, 1  # both values in every column
        return y
    if kind == "pm1":
        y = 2 * rng.integers(0, 2, size=(n, k)) - 1
        y[0], y[1] = -1, 1
        return y
    if kind == "counts":  # Poisson counts (zeros included) for the log-rate outputs
        return rng.poisson(2.0, size=(n, k)).astype(np.float64)
    raise AssertionError(kind)


def randomize(model, rng):
    """Random parameters everywhere (biases too, PReLU slopes of both signs)."""
    model.load_state_dict(
        {name: rng.uniform(-1, 1, size=p.shape) for name, p in model.named_parameters()}
    )


def kink_free_case(rng, make_layers, loss="mse", kind="values", backend="c", n=N):
    """A float64 model with random parameters and data whose kinks are >= MARGIN away."""
    for _ in range(100):
        model = Sequential(*make_layers(), dtype=F64, backend=backend)
        randomize(model, rng)
        X = rng.uniform(-2, 2, size=(n, model.n_features_in_))
        y = make_targets(rng, kind, n, model.n_outputs_)
        distance, out = kink_distance(model, X)
        if min(distance, loss_kink_distance(loss, out, y)) >= MARGIN:
            return model, X, y
    raise AssertionError("no kink-free draw in 100 tries")


def assert_agrees(model, X, y, loss):
    result = gradcheck(model, X, y, loss)
    assert isinstance(result, GradcheckResult)
    assert set(result.per_parameter) == {name for name, _ in model.named_parameters()}
    assert result.max_rel_error < TOL, result
    assert result.ok and result
    return result


# ---- every layer type --------------------------------------------------------------------
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("act", DENSE_ACTS, ids=[act_id(a) for a in DENSE_ACTS])
@pytest.mark.parametrize("backend", BACKENDS)
def test_dense_activations(rng, backend, act, bias):
    name, param = act
    model, X, y = kink_free_case(
        rng,
        lambda: (
            Dense(N_IN, 5, name, bias=bias, activation_param=param),
            Dense(5, 3, name, bias=bias, activation_param=param),
            Dense(3, 2, bias=bias),
        ),
        backend=backend,
    )
    assert_agrees(model, X, y, "mse")


@pytest.mark.parametrize("make", ACT_LAYERS.values(), ids=ACT_LAYERS.keys())
@pytest.mark.parametrize("backend", BACKENDS)
def test_activation_layers(rng, backend, make):
    model, X, y = kink_free_case(
        rng, lambda: (Dense(N_IN, 5), make(), Dense(5, 2), make()), backend=backend
    )
    assert_agrees(model, X, y, "mse")


@pytest.mark.parametrize("slopes", [1, 5], ids=["shared", "per-feature"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_prelu(rng, backend, slopes):
    model, X, y = kink_free_case(
        rng, lambda: (Dense(N_IN, 5), PReLU(slopes), Dense(5, 2)), backend=backend
    )
    result = assert_agrees(model, X, y, "mse")
    assert np.max(np.abs(result.analytic["1.weight"])) > 1e-2  # the slope is exercised


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("pieces", [2, 3])
@pytest.mark.parametrize("backend", BACKENDS)
def test_maxout(rng, backend, pieces, bias):
    model, X, y = kink_free_case(
        rng,
        lambda: (Maxout(N_IN, 3, pieces, bias=bias), Maxout(3, 2, pieces, bias=bias)),
        backend=backend,
    )
    assert_agrees(model, X, y, "mse")


UNUSUAL_STACKS = {
    "activation-first": lambda: (Tanh(), Dense(N_IN, 3), LeakyReLU(-0.3), Dense(3, 2)),
    "prelu-first": lambda: (PReLU(), Dense(N_IN, 3, "softplus"), PReLU(3), Dense(3, 2)),
    "elu-maxout-chain": lambda: (
        ELU(0.5),
        Maxout(N_IN, 3, 2),
        ELU(2.0),
        Sigmoid(),
        Dense(3, 2, "leaky_relu", activation_param=-0.5),
    ),
    "maxout-one-piece": lambda: (Maxout(N_IN, 3, 1, bias=False), Dense(3, 2, "elu", bias=False)),
    "two-activations": lambda: (Dense(N_IN, 3), ReLU(), Softplus(), Dense(3, 2)),
}


@pytest.mark.parametrize("make_layers", UNUSUAL_STACKS.values(), ids=UNUSUAL_STACKS.keys())
@pytest.mark.parametrize("backend", BACKENDS)
def test_unusual_stacks(rng, backend, make_layers):
    """Parameterless or parametric layers first (no input gradient asked of them), layers
    that save their input rather than their output, activations back to back."""
    model, X, y = kink_free_case(rng, make_layers, backend=backend)
    assert_agrees(model, X, y, "mse")


# ---- every loss --------------------------------------------------------------------------
LOSS_CASES = (
    ("mse", "values", 2),
    ("mse", "values-1d", 1),
    ("l1", "values", 2),
    ("binary_cross_entropy", "binary", 1),
    ("binary_cross_entropy", "indicator", 3),
    ("softmax_cross_entropy", "labels", 3),
    ("softmax_cross_entropy", "probabilities", 3),
    ("hinge", "binary", 1),
    ("hinge", "indicator", 3),
    ("hinge", "pm1", 3),
    ("poisson", "counts", 1),
    ("poisson", "counts", 3),
)


@pytest.mark.parametrize("loss,kind,k", LOSS_CASES, ids=[f"{c[0]}-{c[1]}" for c in LOSS_CASES])
@pytest.mark.parametrize("backend", BACKENDS)
def test_losses(rng, backend, loss, kind, k):
    model, X, y = kink_free_case(
        rng, lambda: (Dense(N_IN, 5, "tanh"), Dense(5, k)), loss=loss, kind=kind, backend=backend
    )
    assert_agrees(model, X, y, loss)


def test_numeric_gradient_matches_closed_form(rng):
    """Linear regression: d/dw mean ½(Xw + b - y)² = Xᵀr / n, d/db = mean r. The numeric
    gradient (not only its agreement with backprop) must be right."""
    model = Sequential(Dense(3, 1), dtype=F64)
    randomize(model, rng)
    X, y = rng.standard_normal((8, 3)), rng.standard_normal(8)
    w, b = model.state_dict()["0.weight"], model.state_dict()["0.bias"]
    r = X @ w[0] + b[0] - y
    result = gradcheck(model, X, y, "mse")
    np.testing.assert_allclose(result.numeric["0.weight"][0], X.T @ r / 8, rtol=1e-8)
    np.testing.assert_allclose(result.numeric["0.bias"], [r.mean()], rtol=1e-8)
    np.testing.assert_allclose(result.analytic["0.weight"][0], X.T @ r / 8, rtol=1e-12)
    assert result.loss == pytest.approx(0.5 * np.mean(r**2), rel=1e-12)


# ---- a wrong gradient is caught -------------------------------------------------------------
KINDS = {Dense: "dense", PReLU: "prelu", Maxout: "maxout", Activation: "activation"}


def scaled_backward(original, layer_type, what):
    """The reference network's layer backward with, for layers of layer_type, the parameter
    gradient `what` (or the input gradient "dx") 1% off."""

    def backward(layer, h, grad):
        dx = original(layer, h, grad)
        if layer["kind"] != KINDS[layer_type]:
            return dx
        if what == "dx":
            if dx is not None:
                dx *= 1.01
        else:
            layer["d" + what][...] *= 1.01
        return dx

    return backward


ALL = {"0.weight", "0.bias", "1.weight", "2.weight", "2.bias", "4.weight", "4.bias"}


WRONG_CASES = [
    (Dense, "weight", {"0.weight", "4.weight"}),  # a parameter gradient
    (Dense, "bias", {"0.bias", "4.bias"}),
    # an input gradient: wrong for every parameter before the layer (layer 0 has no dx)
    (Dense, "dx", {"0.weight", "0.bias", "1.weight", "2.weight", "2.bias"}),
    (PReLU, "weight", {"1.weight"}),
    (PReLU, "dx", {"0.weight", "0.bias"}),
    (Maxout, "weight", {"2.weight"}),
    (Maxout, "bias", {"2.bias"}),
    (Activation, "dx", {"0.weight", "0.bias", "1.weight", "2.weight", "2.bias"}),
]


@pytest.mark.parametrize(
    "layer_type,what,wrong",
    WRONG_CASES,
    ids=[f"{t.__name__}-{what}" for t, what, _ in WRONG_CASES],
)
def test_detects_a_wrong_gradient(rng, monkeypatch, layer_type, what, wrong):
    """On the reference backend, whose network (pynn.reference_network) runs Python per
    layer that can be patched; the C network is checked against it in test_network."""
    model, X, y = kink_free_case(
        rng,
        lambda: (Dense(N_IN, 5), PReLU(5), Maxout(5, 3, 2), Tanh(), Dense(3, 2)),
        backend="reference",
    )
    assert_agrees(model, X, y, "mse")
    monkeypatch.setattr(
        pynn.reference_network,
        "layer_backward",
        scaled_backward(pynn.reference_network.layer_backward, layer_type, what),
    )
    result = gradcheck(model, X, y, "mse")
    assert not result.ok and not result
    assert {name for name, e in result.per_parameter.items() if e > 1e-3} == wrong, result
    assert all(result.per_parameter[name] < TOL for name in ALL - wrong), result
    assert result.worst_parameter in wrong
    worst = result.worst_parameter
    diff = np.abs(result.analytic[worst] - result.numeric[worst])
    assert diff[result.worst_index] == np.max(diff)


def test_detects_a_wrong_loss_gradient(rng, monkeypatch):
    model, X, y = kink_free_case(
        rng,
        lambda: (Dense(N_IN, 3, "tanh"), Dense(3, 3)),
        loss="softmax_cross_entropy",
        kind="labels",
    )

    class Scaled(pynn.losses.Loss):
        """softmax_cross_entropy with its gradient 1% off (a custom loss: the network calls
        it from Python between its forward and backward passes)."""

        def __call__(self, kernels, out, target, *, grad=None, sample_loss=None):
            value = super().__call__(kernels, out, target, grad=grad, sample_loss=sample_loss)
            if grad is not None:
                grad *= 1.01
            return value

    loss = Scaled(
        "softmax_cross_entropy",
        "softmax_cross_entropy",
        "dlogits",
        "softmax",
        ("labels", "probabilities"),
    )
    result = gradcheck(model, X, y, loss)
    assert not result.ok and result.max_rel_error > 1e-3, result


def test_tolerance_decides_ok(rng):
    model, X, y = kink_free_case(rng, lambda: (Dense(N_IN, 2, "tanh"),))
    result = gradcheck(model, X, y, "mse", tolerance=0.0)
    assert result.max_rel_error > 0 and not result.ok  # rounding leaves some difference
    assert gradcheck(model, X, y, "mse", tolerance=1e-3).ok
    assert "max_rel_error" in repr(result) and "worst_parameter" in repr(result)


# ---- float32 models, trained models, and the model is left alone -----------------------------
def snapshot(model):
    return (
        model.flat_params.tobytes(),
        model.flat_grads.tobytes(),
        model.loss_,
        model.targets_,
        model.optimizer_,
        {k: list(v) for k, v in model.history_.items()},
        model.dtype,
        [layer.config() for layer in model.layers],
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_float32_trained_model_is_checked_in_float64_and_left_unchanged(rng, backend):
    X = rng.uniform(-2, 2, size=(40, N_IN)).astype(np.float32)
    y = rng.integers(0, 3, size=40)
    model = Sequential(
        Dense(N_IN, 6, "tanh"), PReLU(6), Dense(6, 3), backend=backend, random_state=1
    )
    model.fit(X, y, loss="softmax_cross_entropy", epochs=2, batch_size=16)
    before = snapshot(model)
    predictions = model.decision_function(X)

    result = gradcheck(model, X[:12], y[:12])  # the model's own loss and classes
    assert result.max_rel_error < TOL, result
    assert all(g.dtype == F64 for g in result.analytic.values())

    after = snapshot(model)
    assert after[:2] == before[:2]  # parameters and gradients, bitwise
    for a, b in zip(after[2:], before[2:]):
        assert a is b or a == b
    np.testing.assert_array_equal(model.decision_function(X), predictions)

    # The same check as a float64 model holding the float32 parameters exactly.
    twin = Sequential(
        *[pynn.core.layers.layer_from_config(layer.config()) for layer in model.layers],
        dtype=F64,
        backend=backend,
    )
    twin.load_state_dict(model.state_dict())
    twin_result = gradcheck(twin, X[:12], y[:12], "softmax_cross_entropy")
    assert twin_result.per_parameter == result.per_parameter


def test_trained_model_keeps_its_classes(rng):
    """y for the check may lack some of the classes the model was trained on."""
    X = rng.uniform(-2, 2, size=(30, N_IN))
    y = np.array(["a", "b", "c"])[np.arange(30) % 3]
    model = Sequential(Dense(N_IN, 3), dtype=F64, random_state=0)
    model.fit(X, y, loss="softmax_cross_entropy", epochs=1)
    only_two = y != "c"
    assert gradcheck(model, X[only_two][:8], y[only_two][:8]).max_rel_error < TOL


def test_float64_model_parameters_untouched(rng):
    model, X, y = kink_free_case(rng, lambda: (Dense(N_IN, 4, "sigmoid"), Dense(4, 2)))
    params, grads = model.flat_params.copy(), model.flat_grads.copy()
    gradcheck(model, X, y, "mse")
    assert model.flat_params.tobytes() == params.tobytes()
    assert model.flat_grads.tobytes() == grads.tobytes()
    assert model.loss_ is None and model.targets_ is None  # still untrained


# ---- bad arguments -----------------------------------------------------------------------
def test_errors(rng):
    model = Sequential(Dense(N_IN, 2), dtype=F64)
    X, y = rng.standard_normal((5, N_IN)), rng.standard_normal((5, 2))
    with pytest.raises(ValueError, match=r"\bloss\b"):
        gradcheck(model, X, y)
    with pytest.raises(ValueError, match=r"\bloss\b"):
        gradcheck(model, X, y, "cross_entropy")
    with pytest.raises(TypeError, match=r"\bmodel\b"):
        gradcheck(object(), X, y, "mse")
    for name, value in (
        ("eps", 0.0),
        ("eps", -1e-6),
        ("eps", np.inf),
        ("floor", 0.0),
        ("tolerance", -1.0),
        ("tolerance", np.nan),
    ):
        with pytest.raises(ValueError, match=rf"\b{name}\b"):
            gradcheck(model, X, y, "mse", **{name: value})
    with pytest.raises(TypeError, match=r"\beps\b"):
        gradcheck(model, X, y, "mse", eps="small")
    with pytest.raises(ValueError, match=r"\bX\b"):
        gradcheck(model, X[:, :2], y, "mse")
    with pytest.raises(ValueError, match=r"\by\b"):
        gradcheck(model, X, y[:3], "mse")
    hard = Sequential(Dense(N_IN, 2), pynn.Step(), dtype=F64)
    with pytest.raises(ValueError, match="inference only"):
        gradcheck(hard, X, y, "mse")
