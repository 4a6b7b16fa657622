"""What PyTorch and Keras users try first (issue 17): it works, or the error names the call
that does."""

import copy
import pickle

import numpy as np
import pytest

import pynn


def _data(n=64, features=4, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, features)), rng.integers(0, classes, n)


def _trained(seed=0):
    X, y = _data()
    model = pynn.Sequential(pynn.Dense(4, 8, "relu"), pynn.Dense(8, 3), random_state=seed)
    model.fit(X, y, loss="softmax_cross_entropy", epochs=3, batch_size=16)
    return model, X, y


# ---- model(X) --------------------------------------------------------------------------------
def test_calling_the_model_is_its_forward_pass():
    model, X, _ = _trained()
    assert np.array_equal(model(X), model.decision_function(X))
    assert np.array_equal(model(X, memory=2000), model.decision_function(X))


# ---- an optimizer given the parameters, as torch.optim's ------------------------------------
@pytest.mark.parametrize("cls", [pynn.SGD, pynn.Adam, pynn.AdamW])
@pytest.mark.parametrize("kind", ["list", "generator", "named dict"])
def test_an_optimizer_given_parameters_says_how_to_make_one(cls, kind):
    model, _, _ = _trained()
    params = {
        "list": model.parameters(),
        "generator": iter(model.parameters()),
        "named dict": dict(model.named_parameters()),
    }[kind]
    with pytest.raises(TypeError, match=rf"{cls.__name__} takes no parameters.*fit\(optimizer="):
        cls(params, lr=1e-3)
    with pytest.raises(TypeError, match="takes no parameters"):
        cls(params)


def test_an_optimizer_still_takes_its_rate_by_position_and_pickles():
    assert pynn.SGD(0.5).lr == 0.5 and pynn.Adam(0.01).lr == 0.01
    with pytest.raises(TypeError, match="lr must be a number"):
        pynn.Adam("fast")
    optimizer = pynn.Adam(0.01, weight_decay=0.1)
    assert pickle.loads(pickle.dumps(optimizer)).config() == optimizer.config()
    assert copy.deepcopy(optimizer).config() == optimizer.config()


# ---- callback= given what belongs elsewhere --------------------------------------------------
@pytest.mark.parametrize(
    "callback, where",
    [
        (pynn.EarlyStopping(patience=2), r"fit\(early_stopping=\.\.\.\)"),
        (pynn.StepLR(step_size=2), r"fit\(lr_scheduler=\.\.\.\)"),
        ([lambda model, epoch, logs: None], "one function"),
    ],
)
def test_a_callback_that_belongs_elsewhere_names_the_argument(callback, where):
    model, X, y = _trained()
    before = model.state_dict()
    with pytest.raises(TypeError, match=f"callback must be callable.*{where}"):
        model.fit(X, y, epochs=1, callback=callback)
    after = model.state_dict()
    assert all(np.array_equal(before[name], after[name]) for name in before)


# ---- reusing a trained model's layers ---------------------------------------------------------
def test_a_new_model_of_trained_layers_keeps_their_weights_and_leaves_the_old_model():
    model, X, _ = _trained()
    outputs, state = model.predict_proba(X), model.state_dict()
    reused = pynn.Sequential(*model.layers, random_state=123)
    assert all(a is not b for a, b in zip(reused.layers, model.layers))
    for name, value in reused.state_dict().items():
        assert np.array_equal(value, state[name]), name
    assert np.array_equal(model.predict_proba(X), outputs)  # the trained model is unchanged
    assert np.array_equal(reused.decision_function(X), model.decision_function(X))
    reused.reset_parameters(0)  # the copies are the new model's own
    assert np.array_equal(model.predict_proba(X), outputs)


def test_a_trained_body_under_a_new_head():
    model, X, y = _trained()
    body = model.layers[0]
    new = pynn.Sequential(body, pynn.Dense(8, 2), random_state=1)
    assert np.array_equal(new.layers[0].params["weight"], body.params["weight"])
    new.partial_fit(X, y % 2, loss="softmax_cross_entropy", batch_size=16)
    assert not np.array_equal(new.layers[0].params["weight"], body.params["weight"])
    assert np.array_equal(model.layers[0].params["weight"], body.params["weight"])


def test_a_reused_layer_takes_the_new_models_dtype():
    model, X, _ = _trained()
    wide = pynn.Sequential(*model.layers, dtype=np.float64)
    assert wide.flat_params.dtype == np.float64
    assert np.array_equal(wide.flat_params, model.flat_params.astype(np.float64))


# ---- callbacks=[...], as Keras's fit takes them ----------------------------------------------
def _fit_logs(model, X, y, **options):
    model.fit(X, y, loss="softmax_cross_entropy", batch_size=16, random_state=0, **options)
    return model.history_


def test_callbacks_sorts_early_stopping_schedules_and_functions():
    X, y = _data(96)
    val = _data(32, seed=1)
    seen = []

    def first(model, epoch, logs):
        seen.append(("first", epoch))

    def second(model, epoch, logs):
        seen.append(("second", epoch))
        return epoch == 4  # stops after the fifth epoch

    def fresh():
        return pynn.Sequential(pynn.Dense(4, 8, "relu"), pynn.Dense(8, 3), random_state=0)

    stopper, schedule = pynn.EarlyStopping(patience=50), pynn.StepLR(step_size=2, gamma=0.5)
    keras = _fit_logs(
        fresh(), X, y, epochs=9, validation_data=val, callbacks=[stopper, schedule, first, second]
    )
    assert seen == [(name, e) for e in range(5) for name in ("first", "second")]
    seen.clear()
    ours = _fit_logs(
        fresh(),
        X,
        y,
        epochs=9,
        validation_data=val,
        early_stopping=pynn.EarlyStopping(patience=50),
        lr_scheduler=pynn.StepLR(step_size=2, gamma=0.5),
        callback=first,
        callbacks=[second],
    )
    assert seen == [(name, e) for e in range(5) for name in ("first", "second")]
    assert keras.keys() == ours.keys() and len(keras["loss"]) == 5
    for key in set(keras) - {"time"}:  # the same training, bit for bit
        assert keras[key] == ours[key], key
    assert keras["lr"][2] == 0.5 * keras["lr"][0]  # the schedule ran


@pytest.mark.parametrize(
    "callbacks, options, error, match",
    [
        ((pynn.EarlyStopping(),), {}, None, None),
        ("not a list", {}, TypeError, "callbacks must be a list"),
        ([pynn.EarlyStopping], {}, TypeError, r"callbacks\[0\].*pass an instance"),
        ([3], {}, TypeError, r"callbacks\[0\] must be an EarlyStopping"),
        (
            [pynn.EarlyStopping()],
            {"early_stopping": True},
            ValueError,
            r"callbacks\[0\]: early stopping is given twice",
        ),
        (
            [pynn.StepLR(2), pynn.StepLR(3)],
            {},
            ValueError,
            r"callbacks\[1\]: a learning-rate schedule is given twice",
        ),
    ],
)
def test_callbacks_errors_name_the_item(callbacks, options, error, match):
    model, X, y = _trained()
    before = model.state_dict()
    if error is None:
        model.fit(X, y, epochs=1, callbacks=callbacks)
        return
    with pytest.raises(error, match=match):
        model.fit(X, y, epochs=1, callbacks=callbacks, **options)
    after = model.state_dict()
    assert all(np.array_equal(before[name], after[name]) for name in before)


def test_partial_fit_takes_callbacks():
    model, X, y = _trained()
    epochs = []
    model.partial_fit(X, y, epochs=3, callbacks=[lambda m, e, logs: epochs.append(e)])
    assert epochs == [0, 1, 2]


# ---- Keras's Dense(units): the input width from the layer before, or from X at the first fit --
def _keras_style(seed=0):
    return pynn.Sequential(pynn.Dense(16, activation="relu"), pynn.Dense(3), random_state=seed)


def test_dense_of_units_takes_its_width_at_the_first_fit(tmp_path):
    X, y = _data()
    model = _keras_style()
    assert not hasattr(model, "n_features_in_")
    with pytest.raises(AttributeError, match=r"Dense\(16\), takes its input width from X"):
        model.decision_function(X)
    with pytest.raises(AttributeError, match=r"fit first, or give the width"):
        model.state_dict()
    model.fit(X, y, loss="softmax_cross_entropy", epochs=3, batch_size=16)
    explicit = pynn.Sequential(pynn.Dense(4, 16, activation="relu"), pynn.Dense(16, 3))
    explicit.fit(X, y, loss="softmax_cross_entropy", epochs=3, batch_size=16, random_state=0)
    assert model.n_features_in_ == 4
    assert np.array_equal(model.flat_params, explicit.flat_params)  # the same training
    assert model.layers[0].config()["in_features"] == 4
    again = pickle.loads(pickle.dumps(model))
    assert np.array_equal(again.decision_function(X), model.decision_function(X))
    model.save(tmp_path / "model.npz")
    loaded = pynn.load(tmp_path / "model.npz")
    assert np.array_equal(loaded.decision_function(X), model.decision_function(X))
    assert "Dense(4 -> 16, relu)" in str(model.summary())


def test_dense_of_units_after_a_layer_takes_its_width():
    model = pynn.Sequential(
        pynn.Dense(4, 16, "relu"), pynn.Dense(8, activation="relu"), pynn.Dense(3)
    )
    assert model.n_features_in_ == 4
    assert [p.shape for p in model.parameters()] == [(16, 4), (16,), (8, 16), (8,), (3, 8), (3,)]


def test_a_first_fit_that_fails_leaves_the_model_waiting():
    X, y = _data()
    model = _keras_style()
    with pytest.raises(ValueError, match="y must have one row per sample"):
        model.fit(X, y[:10], loss="softmax_cross_entropy")
    assert not hasattr(model, "flat_params")
    assert not hasattr(model.layers[0], "params")
    model.partial_fit(X[:, :2], y, loss="softmax_cross_entropy")  # another width is fine
    assert model.n_features_in_ == 2
    with pytest.raises(ValueError, match="features"):
        model.partial_fit(X, y)  # now it has one


def test_a_reused_trained_layer_keeps_its_weights_behind_a_dense_of_units():
    trained, X, y = _trained()
    head = trained.layers[1]
    model = pynn.Sequential(pynn.Dense(8, activation="relu"), head, random_state=2)
    model.partial_fit(
        X,
        y,
        loss="softmax_cross_entropy",
        epochs=1,
        batch_size=64,
        optimizer=pynn.SGD(lr=0.0),
    )
    assert np.array_equal(model.layers[1].params["weight"], head.params["weight"])


@pytest.mark.parametrize("args", [(32, "relu"), (32, "tanh")])
def test_dense_given_its_activation_by_position_names_the_call(args):
    with pytest.raises(
        TypeError, match=rf"name the activation, Dense\(32, activation='{args[1]}'\)"
    ):
        pynn.Dense(*args)


# ---- scikit-learn's momentum=1 -----------------------------------------------------------------
def test_sgd_takes_scikit_learns_momentum_one_as_torch_does():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    start, grads = rng.standard_normal(5), rng.standard_normal((4, 5))
    params = start.copy()
    optimizer = pynn.SGD(lr=0.1, momentum=1.0)
    optimizer.bind(params, np.zeros(5), pynn._kernels)
    tensor = torch.tensor(start, requires_grad=True)
    theirs = torch.optim.SGD([tensor], lr=0.1, momentum=1.0)
    for grad in grads:
        optimizer.grads[...] = grad
        optimizer.step()
        tensor.grad = torch.tensor(grad)
        theirs.step()
    np.testing.assert_allclose(params, tensor.detach().numpy(), rtol=0, atol=1e-12)
