"""model.harden(): softmax -> argmax, sigmoid -> unit step, tanh -> signum, predicting
exactly what the model predicts, on random inputs and on inputs at the decision boundary."""

import numpy as np
import pytest

import pynn
from pynn.core.harden import HardenedModel

DTYPES = (np.float32, np.float64)
BACKENDS = ("c", "reference")


def inputs(rng, n_features, dtype):
    """Random rows of several scales, plus rows that put the outputs on the boundary:
    with zero biases, x = 0 gives hidden units tanh(0) = relu(0) = 0 and so logits equal
    to the output bias, which the tests set to 0 (and -0.0)."""
    X = np.concatenate(
        [
            rng.normal(size=(60, n_features)),
            1e-3 * rng.normal(size=(20, n_features)),
            np.zeros((3, n_features)),
            -np.zeros((2, n_features)),
        ]
    )
    return X.astype(dtype)


def on_boundary(model, zero_output_rows=()):
    """Zero the output layer's bias and, for the given outputs, their weights, so that
    those logits are exactly 0 for every input and all of them are 0 at x = 0."""
    last = model.layers[-1]
    last.params["bias"][...] = 0
    last.params["bias"][::2] = -0.0
    for row in zero_output_rows:
        last.params["weight"][row] = 0
    return model


def assert_same_predictions(model, X):
    hardened = model.harden()
    ours, theirs = hardened.predict(X), model.predict(X)
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)
    return hardened


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("backend", BACKENDS)
def test_softmax_becomes_argmax(dtype, backend, rng):
    model = pynn.Sequential(
        pynn.Dense(3, 6, "tanh"), pynn.Dense(6, 3), dtype=dtype, backend=backend, random_state=1
    )
    X = inputs(rng, 3, dtype)
    model.fit(
        X, np.array(["b", "a", "c"])[np.arange(len(X)) % 3], loss="softmax_cross_entropy", epochs=0
    )
    assert_same_predictions(model, X)
    # Ties: two classes with equal logits everywhere, and all three equal at x = 0.
    on_boundary(model)
    model.layers[-1].params["weight"][2] = model.layers[-1].params["weight"][0]
    assert (model.predict(X[-5:]) == "a").all()  # argmax takes the first of a tie
    hardened = assert_same_predictions(model, X)
    assert hardened.output_rule == "argmax of the logits"
    assert list(hardened.classes_) == ["a", "b", "c"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("backend", BACKENDS)
def test_binary_cross_entropy_becomes_a_fused_unit_step(dtype, backend, rng):
    # A zero-bias init for the ReLU layer (its default draws the biases): x = 0 then gives
    # logit 0 once on_boundary zeroes the output bias.
    model = pynn.Sequential(
        pynn.Dense(4, 5, "relu", init="he_uniform"),
        pynn.Dense(5, 1),
        dtype=dtype,
        backend=backend,
        random_state=2,
    )
    X = inputs(rng, 4, dtype)
    model.fit(X, np.where(X[:, 0] > 0, "spam", "ham"), loss="binary_cross_entropy", epochs=0)
    assert_same_predictions(model, X)
    on_boundary(model)
    assert (model.decision_function(X[-5:]) == 0).all()
    hardened = assert_same_predictions(model, X)
    assert hardened.layers[-1].activation == "step" and len(hardened.layers) == 2
    assert (hardened.predict(X[-5:]) == "ham").all()  # logit 0: not > 0


@pytest.mark.parametrize("dtype", DTYPES)
def test_multi_label_binary_cross_entropy(dtype, rng):
    model = pynn.Sequential(
        pynn.Dense(4, 6, "tanh"), pynn.Dense(6, 3), dtype=dtype, random_state=3
    )
    X = inputs(rng, 4, dtype)
    model.fit(X, (X[:, :3] > 0).astype(int), loss="binary_cross_entropy", epochs=0)
    assert_same_predictions(model, X)
    on_boundary(model, zero_output_rows=[1])
    assert (model.decision_function(X)[:, 1] == 0).all()
    assert_same_predictions(model, X)


@pytest.mark.parametrize("dtype", DTYPES)
def test_step_follows_a_last_layer_it_cannot_fuse_into(dtype, rng):
    model = pynn.Sequential(
        pynn.Dense(4, 3, "tanh"),
        pynn.Maxout(3, 1, pieces=2),
        pynn.PReLU(),
        dtype=dtype,
        random_state=4,
    )
    X = inputs(rng, 4, dtype)
    model.fit(X, X[:, 1] > 0, loss="binary_cross_entropy", epochs=0)
    hardened = assert_same_predictions(model, X)
    assert [type(layer).__name__ for layer in hardened.layers] == [
        "Dense",
        "Maxout",
        "PReLU",
        "Activation",
    ]
    assert hardened.layers[-1].activation == "step"
    assert hardened.output_rule == "step added after the output"


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("output", ["tanh", None])
def test_hinge_becomes_signum(output, dtype, rng):
    model = pynn.Sequential(
        pynn.Dense(4, 5, "relu"), pynn.Dense(5, 1, output), dtype=dtype, random_state=5
    )
    X = inputs(rng, 4, dtype)
    model.fit(X, np.where(X[:, 2] > 0, 1, -1), loss="hinge", epochs=0)
    assert_same_predictions(model, X)
    on_boundary(model)
    hardened = assert_same_predictions(model, X)
    assert hardened.layers[-1].activation == "sign"
    assert (hardened.predict(X[-5:]) == -1).all()


@pytest.mark.parametrize("dtype", DTYPES)
def test_hinge_multi_label_with_a_tanh_layer(dtype, rng):
    model = pynn.Sequential(
        pynn.Dense(4, 5, "relu"), pynn.Dense(5, 2), pynn.Tanh(), dtype=dtype, random_state=6
    )
    X = inputs(rng, 4, dtype)
    model.fit(X, np.where(X[:, :2] > 0, 1, -1), loss="hinge", epochs=0)
    model.layers[1].params["bias"][...] = 0
    model.layers[1].params["weight"][0] = 0
    hardened = assert_same_predictions(model, X)
    assert hardened.layers[-1].activation == "sign" and len(hardened.layers) == 3


@pytest.mark.parametrize("dtype", DTYPES)
def test_outputs_at_the_smallest_magnitudes(dtype):
    """Subnormal and signed-zero logits: tanh keeps their sign, step and sign see it."""
    tiny = np.finfo(dtype).smallest_subnormal
    X = np.array([[tiny], [-tiny], [0.0], [-0.0], [np.finfo(dtype).tiny], [-1e-30]], dtype)
    for loss, output, y in (
        ("hinge", "tanh", [1, -1]),
        ("hinge", None, [1, -1]),
        ("binary_cross_entropy", None, [0, 1]),
    ):
        model = pynn.Sequential(pynn.Dense(1, 1, output), dtype=dtype)
        model.fit(X[:2], np.array(y), loss=loss, epochs=0)
        model.layers[0].params["weight"][...] = 1
        model.layers[0].params["bias"][...] = -0.0
        assert_same_predictions(model, X)
        np.testing.assert_array_equal(
            model.harden().predict(X) == model.classes_[1],
            [True, False, False, False, True, False],
        )


@pytest.mark.parametrize("dtype", DTYPES)
def test_tanh_regressor_gives_the_sign_of_its_output(dtype, rng):
    """The notes' example: tanh output trained with MSE on ±1 targets, hardened to signum."""
    model = pynn.Sequential(
        pynn.Dense(2, 4, "tanh"), pynn.Dense(4, 1, "tanh"), dtype=dtype, random_state=7
    )
    X = inputs(rng, 2, dtype)
    y = np.where(X[:, 0] * X[:, 1] > 0, 1.0, -1.0)
    model.fit(X, y, loss="mse", epochs=3, optimizer=pynn.SGD(lr=0.1))
    model.layers[0].params["bias"][...] = 0  # so that x = 0 gives output tanh(0) = 0
    on_boundary(model)
    hardened = model.harden()
    out = hardened.predict(X)
    assert out.shape == (len(X),) and out.dtype == dtype
    np.testing.assert_array_equal(out, np.sign(model.predict(X)))
    assert set(np.unique(out)) <= {-1.0, 0.0, 1.0} and (out[-5:] == 0).all()


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_regressor_gives_the_unit_step_of_the_excitation(dtype, rng):
    model = pynn.Sequential(
        pynn.Dense(3, 4, "relu"), pynn.Dense(4, 2), pynn.Sigmoid(), dtype=dtype, random_state=8
    )
    X = inputs(rng, 3, dtype)
    model.fit(X, rng.uniform(size=(len(X), 2)), loss="l1", epochs=0)
    model.layers[1].params["bias"][...] = 0
    hardened = model.harden()
    assert hardened.layers[-1].activation == "step"
    excitation = pynn.Sequential(*model.layers[:2], dtype=dtype)  # the same layer objects
    excitation.flat_params[...] = model.flat_params
    np.testing.assert_array_equal(
        hardened.predict(X), (excitation.decision_function(X) > 0).astype(dtype)
    )
    away = np.abs(model.predict(X) - 0.5) > 1e-3
    np.testing.assert_array_equal(hardened.predict(X)[away], (model.predict(X) > 0.5)[away])


@pytest.mark.parametrize("output", ["relu", None])
def test_regressor_without_a_hard_counterpart_is_refused(output, rng):
    model = pynn.Sequential(pynn.Dense(2, 3, "tanh"), pynn.Dense(3, 1, output))
    model.fit(rng.normal(size=(4, 2)), rng.normal(size=4), loss="mse", epochs=0)
    with pytest.raises(ValueError, match="no hard counterpart"):
        model.harden()


def test_untrained_model_is_refused():
    with pytest.raises(ValueError, match="trained model"):
        pynn.Sequential(pynn.Dense(2, 2)).harden()


def test_inference_only_and_independent_of_the_model(rng):
    model = pynn.Sequential(pynn.Dense(3, 4, "tanh"), pynn.Dense(4, 3), random_state=0)
    X = rng.normal(size=(30, 3))
    model.fit(X, np.arange(30) % 3, loss="softmax_cross_entropy", epochs=1)
    hardened = model.harden()
    assert isinstance(hardened, HardenedModel) and isinstance(hardened, pynn.HardenedModel)
    for name in ("fit", "partial_fit", "predict_proba"):
        assert not hasattr(hardened, name)
    assert hardened.n_features_in_ == 3 and hardened.n_parameters == model.n_parameters
    np.testing.assert_array_equal(hardened.classes_, [0, 1, 2])
    text = repr(hardened)
    assert "inference only" in text and "Dense(3 -> 4, tanh)" in text and "argmax" in text
    before = hardened.predict(X)
    model.fit(X, np.arange(30) % 3, epochs=3, random_state=9)  # changes the model's weights
    np.testing.assert_array_equal(hardened.predict(X), before)
    with pytest.raises(ValueError, match="features"):
        hardened.predict(X[:, :2])
