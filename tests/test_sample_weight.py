"""Sample weights (issue 17) through the network's step, fit, partial_fit, evaluate, score
and the metrics, on both backends.

The weighted loss of a batch is sum_i w_i l_i / sum_i w_i and its gradient's row i is
scaled by w_i / sum_i w_i (docs/model.md, "Sample weights"): checked here against the
NumPy reference network (float64, 1e-9; tests/test_sample_weight_torch.py checks it
against PyTorch), against repeated and dropped rows, and for bitwise equality over thread
counts, with weights of 1 and through the custom-loss path. evaluate/score and
pynn.metrics are checked against scikit-learn's metrics with sample_weight.
"""

import numpy as np
import pytest
from helpers import assert_bitwise_equal

import pynn
from pynn.core.losses import Loss
from pynn.core.random_state import check_random_state, spawn_generators

# (loss, y maker (rng, n) -> y, outputs)
CASES = {
    "mse": (lambda rng, n: rng.standard_normal((n, 2)), 2),
    "l1": (lambda rng, n: rng.standard_normal((n, 2)), 2),
    "binary_cross_entropy": (lambda rng, n: rng.integers(0, 2, (n, 3)), 3),
    "softmax_cross_entropy": (lambda rng, n: rng.integers(0, 4, n), 4),
    "softmax_cross_entropy/probabilities": (lambda rng, n: rng.dirichlet(np.ones(4), n), 4),
    "hinge": (lambda rng, n: rng.integers(0, 2, n), 1),
}


def _model(k, backend="c", dtype="float64", seed=0):
    return pynn.Sequential(
        pynn.Dense(5, 9, activation="tanh"),
        pynn.Dense(9, k),
        dtype=dtype,
        backend=backend,
        random_state=seed,
    )


def _problem(case, n=40, seed=0):
    """(X, y, weights, loss name, outputs) of a CASES entry."""
    rng = np.random.default_rng(seed)
    make, k = CASES[case]
    X = rng.standard_normal((n, 5))
    w = rng.uniform(0, 3, n)
    w[::7] = 0
    return X, make(rng, n), w, case.split("/")[0], k


def _trained(case, backend="c", **fit):
    """A model of case `case` after one epoch's fit (its targets set), and its data."""
    X, y, w, loss, k = _problem(case)
    model = _model(k, backend)
    model.fit(X, y, loss=loss, epochs=1, batch_size=8, random_state=1, **fit)
    return model, X, y, w


def _loss_and_grad(model, X, y, w=None):
    target = model.targets_.encode(y, model.dtype)
    value = model.loss_and_grad(X, target, w)
    return value, model.flat_grads.copy()


@pytest.mark.parametrize("case", CASES)
def test_a_weighted_batch_equals_the_reference_network(case):
    """loss_and_grad with weights on "c" = on "reference" (fp64, 1e-9), and = the formula
    sum w l / sum w over the per-sample losses."""
    model, X, y, w = _trained(case)
    ref = _model(model.n_outputs_, "reference")
    ref.fit(X, y, loss=model.loss_, epochs=0)
    ref.flat_params[...] = model.flat_params
    value, grad = _loss_and_grad(model, X, y, w)
    ref_value, ref_grad = _loss_and_grad(ref, X, y, w)
    assert abs(value - ref_value) <= 1e-9 * max(1.0, abs(ref_value))
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-9, atol=1e-12)
    out = model.decision_function(X)
    losses = np.empty(len(X))
    model.loss_(model._kernels, out, model.targets_.encode(y, model.dtype), sample_loss=losses)
    assert abs(value - np.sum(w * losses) / np.sum(w)) <= 1e-12 * max(1.0, abs(value))
    assert value != _loss_and_grad(model, X, y)[0]  # the weights change the loss


@pytest.mark.parametrize("case", CASES)
def test_integer_weights_equal_repeated_rows_in_one_batch(case):
    model, X, y, _ = _trained(case)
    counts = np.arange(len(X)) % 3 + 1
    value, grad = _loss_and_grad(model, X, y, counts)
    rows = np.repeat(np.arange(len(X)), counts)
    rep_value, rep_grad = _loss_and_grad(model, X[rows], y[rows])
    assert abs(value - rep_value) <= 1e-12 * max(1.0, abs(rep_value))
    np.testing.assert_allclose(grad, rep_grad, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("case", CASES)
def test_zero_weights_equal_dropped_rows_in_one_batch(case):
    model, X, y, w = _trained(case)
    value, grad = _loss_and_grad(model, X, y, w)
    kept = w > 0
    drop_value, drop_grad = _loss_and_grad(model, X[kept], y[kept], w[kept])
    assert abs(value - drop_value) <= 1e-12 * max(1.0, abs(drop_value))
    np.testing.assert_allclose(grad, drop_grad, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("backend", ["c", "reference"])
def test_weights_of_one_leave_fit_bitwise_unchanged(case, backend):
    """The unweighted path is the weighted one with w = 1, bit for bit: 1 / sum(1) = 1/n."""
    X, y, _, loss, k = _problem(case)
    a, b = _model(k, backend), _model(k, backend)
    options = dict(loss=loss, epochs=2, batch_size=8, validation_split=0.25, random_state=3)
    a.fit(X, y, **options)
    b.fit(X, y, np.ones(len(X)), **options)
    assert_bitwise_equal(b.flat_params, a.flat_params, "parameters")
    assert a.history_ == {**b.history_, "time": a.history_["time"]}


@pytest.mark.parametrize("case", ["mse", "softmax_cross_entropy", "binary_cross_entropy"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_weighted_fit_is_bitwise_the_same_on_1_and_2_threads(case, dtype):
    rng = np.random.default_rng(5)
    make, k = CASES[case]
    X = rng.standard_normal((600, 5))
    y, w = make(rng, 600), rng.uniform(0, 2, 600)
    params = []
    for threads in (1, 2):
        with pynn.threads(threads):
            model = pynn.Sequential(
                pynn.Dense(5, 256, activation="relu"), pynn.Dense(256, k), dtype=dtype
            )
            model.fit(X, y, w, loss=case, epochs=2, batch_size=300, random_state=0)
            params.append(model.flat_params.copy())
    assert_bitwise_equal(params[1], params[0], "parameters")


@pytest.mark.parametrize("case", CASES)
def test_weighted_fit_c_matches_the_reference_backend(case):
    X, y, w, loss, k = _problem(case)
    models = [_model(k, backend) for backend in ("c", "reference")]
    for model in models:
        model.fit(X, y, w, loss=loss, epochs=3, batch_size=8, validation_split=0.2)
    np.testing.assert_allclose(models[0].flat_params, models[1].flat_params, rtol=1e-9, atol=1e-12)
    for key in ("loss", "val_loss"):
        np.testing.assert_allclose(models[0].history_[key], models[1].history_[key], rtol=1e-9)


def test_the_custom_loss_path_weighs_as_the_fused_step():
    """A Loss that is not one of LOSSES runs the slow path (loss called from Python): the
    same weighted fit, bit for bit."""
    X, y, w, _, k = _problem("mse")
    custom = Loss("mse", "mse", "dpred", None, ("values",))
    a, b = _model(k), _model(k)
    a.fit(X, y, w, loss="mse", epochs=2, batch_size=8)
    b.fit(X, y, w, loss=custom, epochs=2, batch_size=8)
    assert_bitwise_equal(b.flat_params, a.flat_params, "parameters")


def test_weights_are_shuffled_and_held_out_with_their_rows():
    """The logged losses are the weighted means: the last epoch's validation loss and
    accuracy are evaluate's on the held-out rows with their weights, and a fit where
    rows come with weight 0 trains as one without them (full batch)."""
    X, y, w, loss, k = _problem("softmax_cross_entropy", n=60)
    model = _model(k)
    model.fit(X, y, w, loss=loss, epochs=2, batch_size=7, validation_split=0.3, random_state=4)
    split_rng = spawn_generators(check_random_state(4), 3)[2]
    val = np.sort(split_rng.permutation(60)[:18])
    scores = model.evaluate(X[val], y[val], sample_weight=w[val])
    assert model.history_["val_loss"][-1] == scores["loss"]
    assert model.history_["val_accuracy"][-1] == scores["accuracy"]
    kept = w > 0
    a, b = _model(k), _model(k)
    a.fit(X, y, w, loss=loss, epochs=3, batch_size=None, random_state=2)
    b.fit(X[kept], y[kept], w[kept], loss=loss, epochs=3, batch_size=None, random_state=2)
    np.testing.assert_allclose(a.flat_params, b.flat_params, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(a.history_["loss"], b.history_["loss"], rtol=1e-10)


def test_validation_data_takes_weights():
    X, y, w, loss, k = _problem("mse", n=50)
    model = _model(k)
    data = (X[:20], y[:20], w[:20])
    model.fit(X[20:], y[20:], w[20:], loss=loss, epochs=2, validation_data=data)
    scores = model.evaluate(X[:20], y[:20], sample_weight=w[:20])
    assert model.history_["val_loss"][-1] == scores["loss"]
    assert model.history_["val_r2"][-1] == scores["r2"]


def test_a_batch_of_zero_weights_takes_no_step():
    X, y, w, loss, k = _problem("mse", n=16)
    w = np.r_[np.zeros(8), np.ones(8)]
    a, b = _model(k), _model(k)
    a.fit(X, y, w, loss=loss, epochs=1, batch_size=8, shuffle=False)
    b.fit(X[8:], y[8:], loss=loss, epochs=1, batch_size=8, shuffle=False)
    assert_bitwise_equal(a.flat_params, b.flat_params, "parameters")
    assert a.history_["loss"] == b.history_["loss"]


def test_partial_fit_takes_weights():
    X, y, w, loss, k = _problem("softmax_cross_entropy")
    a, b = _model(k), _model(k)
    a.fit(X, y, w, loss=loss, epochs=2, batch_size=8, random_state=0)
    b.fit(X, y, w, loss=loss, epochs=1, batch_size=8, random_state=0)
    b.partial_fit(X, y, w, batch_size=8)
    assert_bitwise_equal(b.flat_params, a.flat_params, "parameters")


def test_weights_of_one_with_dropout_train_to_the_bits_of_no_weights():
    """The weighted steps draw new Dropout masks each step, as the unweighted ones do."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((64, 6)), rng.integers(0, 3, 64)

    def trained(sample_weight):
        model = pynn.Sequential(
            pynn.Dense(6, 16, "relu"), pynn.Dropout(0.5), pynn.Dense(16, 3), random_state=0
        )
        model.fit(
            X,
            y,
            loss="softmax_cross_entropy",
            epochs=3,
            batch_size=16,
            sample_weight=sample_weight,
        )
        return model

    plain, weighted = trained(None), trained(np.ones(64))
    assert np.array_equal(plain.flat_params, weighted.flat_params)
    assert np.array_equal(plain._dropout_stream, weighted._dropout_stream)
    assert weighted._dropout_stream[1] == 12  # 3 epochs of 4 steps


@pytest.mark.parametrize("backend", ["c", "reference"])
def test_poisson_weighted_evaluate_is_scikit_learns(backend):
    """The rates' weighted R² and the weighted mean half deviance (evaluate's loss)."""
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 3))
    y = rng.poisson(np.exp(0.5 * X[:, 0])).astype(float)
    w = rng.uniform(0.5, 2.0, 120)
    model = pynn.Sequential(
        pynn.Dense(3, 8, "relu"),
        pynn.Dense(8, 1),
        dtype=np.float64,
        backend=backend,
        random_state=0,
    )
    model.fit(X, y, loss="poisson", epochs=3, batch_size=32, sample_weight=w)
    scores = model.evaluate(X, y, sample_weight=w)
    rate = model.predict(X).ravel()
    assert scores["r2"] == pytest.approx(metrics.r2_score(y, rate, sample_weight=w), abs=1e-12)
    half = metrics.mean_poisson_deviance(y, rate, sample_weight=w) / 2
    assert scores["loss"] == pytest.approx(half, rel=1e-9)
