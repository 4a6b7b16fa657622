"""The poisson loss in a model: torch's PoissonNLLLoss, learning counts of a known
log-linear rate, predict (the rate exp(z)) and decision_function (z), evaluate and score
(half the mean Poisson deviance and the rates' R², as scikit-learn's), save and load,
harden, the reference backend, bad targets, and `pynn train --loss poisson`.

The kernel itself (values, gradients, threads, overflow) is checked in test_losses.py."""

import numpy as np
import pytest
from helpers import DTYPES, K, R

import pynn
from pynn.cli import main

W_TRUE, B_TRUE = np.array([0.6, -0.4, 0.3]), 0.5


def counts(n, seed):
    """X uniform in [-1.5, 1.5]³ and Poisson counts of the rate exp(X·w + b)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.5, 1.5, (n, 3))
    rate = np.exp(X @ W_TRUE + B_TRUE)
    return X, rng.poisson(rate).astype(np.float64), rate


def half_deviance(y, mu):
    """Half the mean Poisson deviance, written out: mean of mu - y + y log(y / mu)."""
    safe = np.where(y > 0, y, 1.0)
    return float(np.mean(mu - y + np.where(y > 0, y * np.log(safe / mu), 0.0)))


def trained(dtype="float64", backend="c", n=2000, epochs=30):
    X, y, _ = counts(n, 17)
    model = pynn.Sequential(
        pynn.Dense(3, 8, activation="tanh"),
        pynn.Dense(8, 1),
        dtype=dtype,
        backend=backend,
        random_state=0,
    )
    model.fit(
        X, y, loss="poisson", optimizer=pynn.Adam(lr=0.01), epochs=epochs, batch_size=64,
        random_state=0,
    )  # fmt: skip
    return model


# ---- torch ----------------------------------------------------------------------------------
@pytest.mark.parametrize("n,k", [(1, 1), (7, 3), (128, 1), (513, 9)])
def test_poisson_matches_torch_poisson_nll_loss(rng, n, k):
    """pynn's loss is torch's PoissonNLLLoss(log_input=True, full=False) summed over outputs
    and averaged over samples, plus the constant mean_i Σ_j y log y - y that makes it half
    the deviance; the gradient is torch's (the constant has none). float64, within 1e-9
    (measured: a few 1e-16)."""
    torch = pytest.importorskip("torch")
    z = rng.normal(0, 1.5, (n, k))
    y = rng.poisson(np.exp(rng.normal(0, 1.5, (n, k)))).astype(np.float64)
    w = rng.uniform(0.1, 2.0, n)
    nll = torch.nn.PoissonNLLLoss(log_input=True, full=False, reduction="none")

    def torch_loss(weights):
        """torch's per-sample losses, and the gradient of their (weighted) mean."""
        zt = torch.tensor(z, requires_grad=True)
        per_sample = nll(zt, torch.tensor(y)).sum(dim=1)
        wt = torch.tensor(weights)
        ((per_sample * wt).sum() / wt.sum()).backward()
        return per_sample.detach().numpy(), zt.grad.numpy()

    per_sample, grad_t = torch_loss(np.ones(n))
    _, grad_tw = torch_loss(w)
    expected = per_sample + (np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0)), 0.0) - y).sum(1)
    for impl in (K, R):
        sl = np.empty(n)
        loss, grad = impl.poisson(z, y, sample_loss=sl)
        np.testing.assert_allclose(sl, expected, rtol=1e-9, atol=1e-9)
        assert loss == pytest.approx(float(expected.mean()), rel=1e-9, abs=1e-9)
        np.testing.assert_allclose(grad, grad_t, rtol=1e-9, atol=1e-12)
        loss_w, grad_w = impl.poisson(z, y, w)
        assert loss_w == pytest.approx(float(expected @ w / w.sum()), rel=1e-9, abs=1e-9)
        np.testing.assert_allclose(grad_w, grad_tw, rtol=1e-9, atol=1e-12)


# ---- behaviour ------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_a_network_learns_a_log_linear_rate(dtype):
    """Counts of a known rate: on 2000 new samples the trained model's half deviance closes
    at least 90% of the gap between a constant rate (the training mean: 0.955) and the true
    rate (0.566); measured 98.8% (0.5707). Seeds fixed: the same figures every run."""
    model = trained(np.dtype(dtype).name)
    X, y, rate = counts(2000, 18)
    ev = model.evaluate(X, y)
    oracle = half_deviance(y, rate)
    constant = half_deviance(y, np.full_like(y, counts(2000, 17)[1].mean()))
    assert (constant - ev["loss"]) / (constant - oracle) >= 0.9, (ev, oracle, constant)
    assert ev["loss"] - oracle < 0.03
    again = trained(np.dtype(dtype).name)
    np.testing.assert_array_equal(again.flat_params, model.flat_params)


def test_predict_is_the_rate_and_evaluate_is_scikit_learns_deviance_and_r2():
    r2_score = pytest.importorskip("sklearn.metrics").r2_score
    mean_poisson_deviance = pytest.importorskip("sklearn.metrics").mean_poisson_deviance
    model = trained(epochs=5)
    X, y, _ = counts(500, 19)
    z = model.decision_function(X)
    assert z.shape == (500, 1)
    pred = model.predict(X)
    assert pred.shape == (500,) and (pred > 0).all()
    np.testing.assert_array_equal(pred, np.exp(z[:, 0]))
    ev = model.evaluate(X, y)
    assert ev["loss"] == pytest.approx(mean_poisson_deviance(y, pred) / 2, rel=1e-12)
    assert ev["loss"] == pytest.approx(half_deviance(y, pred), rel=1e-12)
    assert ev["r2"] == pytest.approx(r2_score(y, pred), rel=1e-12)
    assert model.score(X, y) == ev["r2"]
    assert model.history_["r2"] and "loss" in model.history_


def test_two_outputs_and_the_reference_backend():
    rng = np.random.default_rng(3)
    X = rng.uniform(-1, 1, (300, 3))
    y = rng.poisson(np.exp(X @ rng.uniform(-1, 1, (3, 2)))).astype(np.float64)
    models = []
    for backend in ("c", "reference"):
        model = pynn.Sequential(pynn.Dense(3, 2), dtype="float64", backend=backend, random_state=0)
        model.fit(X, y, loss="poisson", epochs=3, batch_size=32, random_state=0)
        models.append(model)
    c, ref = models
    assert c.predict(X).shape == (300, 2)
    np.testing.assert_allclose(c.flat_params, ref.flat_params, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(c.predict(X), ref.predict(X), rtol=1e-9)


def test_save_load_and_harden(tmp_path):
    model = trained(dtype="float32", epochs=2)
    X, y, _ = counts(100, 20)
    model.save(tmp_path / "m.npz")
    loaded = pynn.load(tmp_path / "m.npz")
    assert loaded.loss_.name == "poisson" and loaded.targets_.kind == "rates"
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert loaded.evaluate(X, y) == model.evaluate(X, y)
    with pytest.raises(ValueError, match="poisson model has no hard output"):
        model.harden()


# ---- bad targets ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "bad, message",
    [
        (-1.0, r"y for the poisson loss must be counts or rates >= 0, got \[-1.0\]"),
        (np.nan, "y contains NaN or infinity"),
        (np.inf, "y contains NaN or infinity"),
    ],
)
def test_targets_must_be_finite_and_non_negative(bad, message):
    X, y, _ = counts(40, 21)
    y[7] = bad
    model = pynn.Sequential(pynn.Dense(3, 1), random_state=0)
    before = model.flat_params.copy()
    with pytest.raises(ValueError, match=message):
        model.fit(X, y, loss="poisson", epochs=1)
    np.testing.assert_array_equal(model.flat_params, before)
    assert model.loss_ is None
    good = trained(epochs=1)
    with pytest.raises(ValueError, match=message):
        good.evaluate(X, y)


def test_the_network_step_names_a_negative_target():
    dtype = np.float64
    x = np.zeros((2, 1), dtype)
    layers = [
        {"kind": "dense", "weight": np.ones((1, 1), dtype), "bias": None,
         "dweight": np.zeros((1, 1), dtype), "dbias": None, "activation": "identity",
         "param": None, "out": np.zeros((2, 1), dtype), "z": None, "dx": None}
    ]  # fmt: skip
    net = K.Network(
        layers, "poisson", x, np.zeros((2, 1), dtype), np.zeros((2, 1), dtype),
        np.zeros(2, dtype), None,
    )  # fmt: skip
    targets = np.array([[1.0], [2.0], [-3.0]])
    with pytest.raises(ValueError, match=r"finite and non-negative, got -3.0 in row 2 of targets"):
        net.step(np.zeros((3, 1)), np.array([0, 2], np.int64), targets)
    loss, hits = net.step(np.zeros((3, 1)), np.array([0, 1], np.int64), targets)
    # z = 0 (rate 1): 0 for y = 1, 1 - 2 + 2 log 2 for y = 2; the mean over the two rows
    assert hits is None and loss == pytest.approx((1.0 - 2.0 + 2.0 * np.log(2.0)) / 2, rel=1e-15)


# ---- the command line -----------------------------------------------------------------------
def test_pynn_train_loss_poisson(tmp_path, capsys):
    """Counts are not standardized (the default is off for poisson, and asking is refused);
    the saved model predicts the rates."""
    X, y, _ = counts(600, 22)
    np.savez(tmp_path / "counts.npz", X=X, y=y.astype(np.int64))
    saved = tmp_path / "m.npz"
    argv = ["train", "--quiet", "--data", str(tmp_path / "counts.npz"), "--loss", "poisson"]
    assert main([*argv, "--epochs", "5", "--save", str(saved)]) == 0
    out = capsys.readouterr().out
    assert "training: poisson" in out and "standardized" not in out
    model = pynn.load(saved)
    assert model.loss_.name == "poisson"
    assert not any(type(layer).__name__ == "Standardize" for layer in model.layers[1:])
    assert (model.predict(X) > 0).all()
    assert main([*argv, "--standardize-targets"]) != 0
    err = capsys.readouterr().err
    assert "--standardize-targets is not for --loss poisson" in err
