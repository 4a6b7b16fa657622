"""Numerical faults: huge logits never give NaN, and a non-finite loss stops fit clearly.

The oracle is the mathematics computed in long double (an independent, wider evaluation
of the same formulas): where a sample's exact loss fits in the dtype, the kernels' loss
must be finite and close to it; where it exceeds the dtype's range, the loss is inf (the
correctly rounded overflow), never NaN. Gradients are always within range here, so they
must always be finite and close to the exact ones. Checked on every loss kernel of both
backends, and through fit's network step on models of Dense layers, with PReLU and with
Standardize.
"""

import re

import numpy as np
import pytest

import pynn
from pynn import SGD, Dense, PReLU, Sequential, Standardize
from pynn import _kernels as K
from pynn import reference as R

DTYPES = (np.float32, np.float64)
LD = np.longdouble
HUGE = {np.float32: (1e30, 3e38), np.float64: (1e30, 3e38, 1e300)}


# ---- the exact oracle ---------------------------------------------------------------------
def exact(loss, x, target, weight=None):
    """(per-sample losses, their largest term, gradient of the weighted mean loss) in long
    double. The largest term is a softmax sample's largest -log p_j among its classes with
    a target above 0, else the sample's loss: pynn.reference forms each -log p_j in the
    dtype, so with probability targets its loss is inf when one of them overflows (logits
    more than the dtype's maximum apart) although the sample's loss fits; the C kernel's
    is finite there, and is held to that."""
    z = x.astype(LD)
    n, k = z.shape
    c = np.full(n, LD(1) / n) if weight is None else weight.astype(LD) / weight.astype(LD).sum()
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        if loss == "softmax_cross_entropy":
            m = z.max(axis=1, keepdims=True)
            e = np.exp(z - m)
            # lse - z as log(s) + (m - z): lse itself would round log(s) away at 3e38
            nll = np.log(e.sum(axis=1, keepdims=True)) + (m - z)
            p = e / e.sum(axis=1, keepdims=True)
            if target.ndim == 1:
                t = np.eye(k, dtype=LD)[target]
                per_sample = largest = nll[np.arange(n), target]
            else:
                t = target.astype(LD)
                per_sample = np.where(t > 0, t * nll, LD(0)).sum(axis=1)
                largest = np.where(t > 0, nll, LD(0)).max(axis=1)
            grad = p * t.sum(axis=1, keepdims=True) - t
        else:
            y = target.astype(LD)
            if loss == "sigmoid_binary_cross_entropy":
                terms = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
                grad = 1 / (1 + np.exp(-z)) - y
            elif loss == "mse":
                terms, grad = (z - y) ** 2 / 2, z - y
            elif loss == "l1":
                terms, grad = np.abs(z - y), np.sign(z - y)
            else:  # hinge
                terms = np.maximum(1 - y * z, 0)
                grad = np.where(y * z < 1, -y, LD(0))
            per_sample = largest = terms.sum(axis=1)
    return per_sample, largest, grad * c[:, None]


def check_loss_value(got, exact_value, dtype, what, largest=None):
    """got (the kernel's, in `dtype` or float64) against the exact value: close when the
    exact value (and its largest term) fits the dtype with room, inf when it is beyond it,
    never NaN."""
    big = LD(np.finfo(dtype).max)
    largest = exact_value if largest is None else largest
    assert not np.isnan(got), f"{what}: NaN (exact {exact_value})"
    if exact_value < big / 2 and largest < big / 2:
        rtol, atol = (2e-5, 1e-6) if dtype == np.float32 else (1e-12, 1e-13)
        assert abs(got - exact_value) <= rtol * abs(exact_value) + atol, (
            f"{what}: {got} vs exact {exact_value}"
        )
    elif exact_value > big * LD(1.01):
        assert got == np.inf, f"{what}: {got}, but the exact {exact_value} overflows {dtype}"


def check_grad(got, exact_grad, dtype, what):
    assert np.isfinite(got).all(), f"{what}: non-finite gradient {got}"
    rtol, atol = (2e-5, 1e-6) if dtype == np.float32 else (1e-12, 1e-14)
    bad = np.abs(got - exact_grad) > rtol * np.abs(exact_grad) + atol
    assert not bad.any(), f"{what}: gradient {got[bad]} vs exact {exact_grad[bad]}"


# ---- every loss kernel, huge logits mixed with ordinary ones --------------------------------
def huge_logits(rng, dtype, n, k):
    """(n, k) logits: each entry a huge value of either sign, zero, or an ordinary number."""
    kind = rng.integers(0, 4, size=(n, k))
    huge = rng.choice(HUGE[dtype], size=(n, k)) * rng.choice([-1, 1], size=(n, k))
    ordinary = rng.normal(size=(n, k)) * 3
    return np.where(kind == 0, ordinary, np.where(kind == 1, 0.0, huge)).astype(dtype)


def targets_for(loss, rng, dtype, n, k):
    """A list of the targets each loss takes: labels and probabilities for softmax."""
    if loss == "softmax_cross_entropy":
        probs = rng.random((n, k)) * (rng.random((n, k)) < 0.6)
        probs[:, 0] += 0.05
        return [rng.integers(0, k, n), (probs / probs.sum(axis=1, keepdims=True)).astype(dtype)]
    if loss == "sigmoid_binary_cross_entropy":
        return [rng.choice([0.0, 1.0, 0.5, 0.25], size=(n, k)).astype(dtype)]
    if loss == "hinge":
        return [rng.choice([-1.0, 1.0], size=(n, k)).astype(dtype)]
    return [(rng.normal(size=(n, k)) * 2).astype(dtype)]


LOSS_KERNELS = ("softmax_cross_entropy", "sigmoid_binary_cross_entropy", "mse", "l1", "hinge")


@pytest.mark.parametrize("backend", [K, R], ids=["c", "reference"])
@pytest.mark.parametrize("loss", LOSS_KERNELS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_loss_kernels_on_huge_logits(dtype, loss, backend, rng):
    """150 random batches per case; widths cover the SIMD loops and their tails."""
    for trial in range(150):
        n, k = int(rng.integers(1, 9)), int(rng.choice([1, 2, 3, 7, 8, 9, 16, 17, 33]))
        if loss == "softmax_cross_entropy" and k == 1:
            k = 2
        x = huge_logits(rng, dtype, n, k)
        weight = None if trial % 2 else (rng.random(n) + 0.1).astype(dtype)
        for target in targets_for(loss, rng, dtype, n, k):
            what = f"{loss} {np.dtype(dtype)} x={x.tolist()} target={target.tolist()}"
            sample_loss = np.empty(n, dtype)
            with np.errstate(all="ignore"):  # the reference's overflow warnings
                value, grad = getattr(backend, loss)(x, target, weight, sample_loss=sample_loss)
            per_sample, largest, exact_grad = exact(loss, x, target, weight)
            if backend is K:  # the C kernel forms no term beyond the sample's loss
                largest = per_sample
            for i in range(n):
                check_loss_value(
                    sample_loss[i], per_sample[i], dtype, f"{what} sample {i}", largest[i]
                )
            if np.all(largest < np.finfo(dtype).max / 2):
                c = np.ones(n) / n if weight is None else weight / weight.sum()
                check_loss_value(value, float((c * per_sample).sum()), dtype, what)
            else:
                assert not np.isnan(value), what
            check_grad(grad, exact_grad, dtype, what)


@pytest.mark.parametrize("dtype", DTYPES)
def test_the_brief_cases_at_1e30(dtype):
    """The plain statements: at +-1e30 every loss but mse is finite in float32 (mse's half
    squared error 5e59 overflows float32: inf, not NaN; finite in float64)."""
    x = np.array([[1e30, -1e30, 0.5], [-1e30, 1e30, 1e30]], dtype)
    cases = {
        "softmax_cross_entropy": np.array([1, 0]),
        "sigmoid_binary_cross_entropy": np.array([[1, 0, 1], [1, 0, 0.5]], dtype),
        "mse": np.zeros((2, 3), dtype),
        "l1": np.ones((2, 3), dtype),
        "hinge": np.array([[1, 1, -1], [1, -1, 1]], dtype),
    }
    for loss, target in cases.items():
        value, grad = getattr(K, loss)(x, target)
        assert np.isfinite(grad).all(), loss
        if loss == "mse" and dtype == np.float32:
            assert value == np.inf
        else:
            assert np.isfinite(value), (loss, value)
            assert value > 1e29, (loss, value)  # every case has a sample that is wrong by 1e30


# ---- through fit: the network's step, every layer kind --------------------------------------
FIT_LOSSES = {
    "softmax_cross_entropy": "softmax_cross_entropy",
    "sigmoid_binary_cross_entropy": "binary_cross_entropy",
    "mse": "mse",
    "l1": "l1",
    "hinge": "hinge",
}
PATHS = ("stack", "prelu", "standardize")


def model_on(path, dtype, backend, outputs):
    hidden = {
        "stack": [Dense(3, 4, "relu")],
        "prelu": [Dense(3, 4), PReLU(4)],
        "standardize": [Standardize([0.1, 0, -0.2], [1, 2, 0.5]), Dense(3, 4, "tanh")],
    }
    return Sequential(
        *hidden[path], Dense(4, outputs), dtype=dtype, backend=backend, random_state=0
    )


def data_for(loss, rng, n=12):
    X = rng.normal(size=(n, 3))
    if loss == "softmax_cross_entropy":
        return X, np.arange(n) % 3, 3
    if loss in ("sigmoid_binary_cross_entropy", "hinge"):
        y = np.arange(n) % 2
        return X, (2 * y - 1 if loss == "hinge" else y), 1
    return X, rng.normal(size=(n, 2)), 2


def set_huge_logits(model, scale, rng):
    """The last layer gives logits of +-scale mixed with ordinary ones: from its weights
    for 1e30 (through the GEMM), from its bias for larger scales (weights would overflow)."""
    last = model.layers[-1]
    weight, bias = last.params["weight"], last.params["bias"]
    signs = rng.choice([-1.0, 1.0], size=weight.shape[0])
    if scale <= 1e30:
        weight[...] = signs[:, None] * scale / 4 * (0.5 + rng.random(weight.shape))
        weight[-1] = rng.normal(size=weight.shape[1])  # one ordinary output
        bias[...] = 0
    else:
        bias[...] = signs * scale
        bias[-1] = 0.5


@pytest.mark.parametrize("scale", [1e30, 3e38])
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("loss", LOSS_KERNELS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_fit_step_on_huge_logits(dtype, loss, path, scale, rng):
    """One full-batch step with lr=0 on both backends: the loss is the exact one (or the
    step stops with an inf, never NaN, loss when a sample's exact loss overflows), and the
    gradients are finite and agree between the C kernels and the reference."""
    X, y, outputs = data_for(loss, rng)
    grads, values = [], []
    for backend in ("c", "reference"):
        model = model_on(path, dtype, backend, outputs)
        model.fit(X, y, loss=FIT_LOSSES[loss], epochs=0)
        assert model._plan(len(X)).step is not None  # every path is the network's step
        set_huge_logits(model, scale, np.random.default_rng(1))
        before = model.flat_params.copy()
        with np.errstate(over="ignore"):
            logits = model.decision_function(X)
        target = model.targets_.encode(y, model.dtype)
        per_sample, largest, _ = exact(loss, logits, target)
        try:
            with np.errstate(over="ignore"):  # the reference's NumPy overflowing to inf
                model.partial_fit(X, y, optimizer=SGD(lr=0.0), batch_size=None, shuffle=False)
        except pynn.NonFiniteLossError as error:
            assert "loss became inf at epoch 1, step 1" in str(error), str(error)
            assert largest.max() > np.finfo(dtype).max / 2, (largest, str(error))
            assert model.flat_params.tobytes() == before.tobytes()
            values.append(np.inf)
            continue
        value = model.history_["loss"][-1]
        assert per_sample.max() < LD(np.finfo(dtype).max) * LD(1.01), (per_sample, value)
        check_loss_value(value, float(per_sample.mean()), dtype, f"{backend} {path}")
        assert np.isfinite(model.flat_grads).all(), backend
        assert model.flat_params.tobytes() == before.tobytes()  # lr=0
        grads.append(model.flat_grads.copy())
        values.append(value)
    assert values[0] == values[1] or abs(values[0] - values[1]) <= 1e-5 * abs(values[1])
    if grads:
        assert len(grads) == 2
        scale_of = np.abs(grads[1]).max()
        np.testing.assert_allclose(grads[0], grads[1], rtol=1e-4, atol=1e-5 * scale_of)


def test_mse_at_1e30_stops_float32_training_and_trains_float64():
    rng = np.random.default_rng(3)
    X, y, _ = data_for("mse", rng)
    for dtype in DTYPES:
        model = model_on("stack", dtype, "c", 2)
        model.fit(X, y, loss="mse", epochs=0)
        set_huge_logits(model, 1e30, rng)
        if dtype == np.float32:
            with pytest.raises(
                pynn.NonFiniteLossError, match="loss became inf at epoch 1, step 1"
            ):
                model.partial_fit(X, y, optimizer=SGD(lr=0.0), batch_size=None)
        else:
            model.partial_fit(X, y, optimizer=SGD(lr=0.0), batch_size=None)
            assert 1e58 < model.history_["loss"][-1] < 1e62


# ---- a non-finite loss in the middle of training ---------------------------------------------
def where_it_stopped(message):
    match = re.search(r"epoch (\d+), step (\d+)", message)
    assert match, message
    return int(match.group(1)), int(match.group(2))


class Recorder:
    """A batch_callback keeping the parameters after every step, and those at the start of
    every epoch; it can poison a parameter after a given step."""

    def __init__(self, model, poison_at=None, poison=np.nan):
        self.after = {(1, 0): model.flat_params.copy()}  # (epoch, step) from 1; step 0: start
        self.poison_at, self.poison = poison_at, poison

    def __call__(self, model, epoch, step, n_steps):
        self.after[(epoch + 1, step + 1)] = model.flat_params.copy()
        if step + 1 == n_steps:
            self.after[(epoch + 2, 0)] = model.flat_params.copy()
        if self.poison_at == (epoch + 1, step + 1):
            model.flat_params[1] = self.poison


def regression_data(n=64):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 3))
    return X, X @ np.array([1.0, -2.0, 0.5]) + 0.3


@pytest.mark.parametrize("backend", ["c", "reference"])
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_a_diverging_fit_stops_at_the_failing_step(dtype, path, backend):
    """A learning rate of 1e4 makes the loss overflow within a few steps: the error names
    the epoch and step, no update was made by that step, and the model holds exactly the
    parameters of the last good step (or of its epoch's start, when it says so)."""
    X, y = regression_data()
    model = model_on(path, dtype, backend, 1)
    model.fit(X, y, loss="mse", epochs=0)
    recorder = Recorder(model)
    optimizer = SGD(lr=1e4)
    with (
        pytest.raises(pynn.NonFiniteLossError, match=r"loss became (nan|inf)") as info,
        np.errstate(all="ignore"),
    ):  # the reference backend's NumPy warns as it overflows
        model.partial_fit(
            X, y, optimizer=optimizer, epochs=200, batch_size=16, batch_callback=recorder
        )
    message = str(info.value)
    epoch, step = where_it_stopped(message)
    assert optimizer.step_count == (epoch - 1) * 4 + step - 1  # the failing step: no update
    assert np.isfinite(model.flat_params).all()
    kept = (
        (epoch, 0)
        if "start of epoch" in message
        else (epoch, step - 1)
        if step > 1
        else (epoch, 0)
    )
    assert model.flat_params.tobytes() == recorder.after[kept].tobytes(), message
    # Its parameters are finite but may be huge by then; fit starts it again.
    model.fit(X, y, optimizer=SGD(lr=1e-3), epochs=1)
    assert np.isfinite(model.history_["loss"]).all()


@pytest.mark.parametrize("poison", [np.nan, np.inf])
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("loss", LOSS_KERNELS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_a_parameter_poisoned_mid_epoch(dtype, loss, path, poison):
    """NaN or inf written into a first-layer weight after step 2 of epoch 2. Either step
    3's loss is not finite, or (inf into a tanh layer, which saturates) the loss stays
    finite and the end-of-epoch check finds it; either way the model goes back to the start
    of epoch 2 (its parameters before step 3 are not finite) and the message says so."""
    X, y, outputs = data_for(loss, np.random.default_rng(0), n=64)
    model = model_on(path, dtype, "c", outputs)
    model.fit(X, y, loss=FIT_LOSSES[loss], epochs=0)
    recorder = Recorder(model, poison_at=(2, 2), poison=poison)
    with pytest.raises(pynn.NonFiniteLossError) as info:
        model.partial_fit(
            X, y, optimizer=SGD(lr=1e-3), epochs=5, batch_size=16, batch_callback=recorder
        )
    message = str(info.value)
    if "loss became" in message:
        assert where_it_stopped(message) == (2, 3), message
    else:
        assert path == "standardize" and poison == np.inf, message
        assert "update of epoch 2 made the parameters NaN or infinite" in message
    assert "start of epoch 2" in message, message
    assert model.flat_params.tobytes() == recorder.after[(2, 0)].tobytes()
    assert len(model.history_["loss"]) == 1  # epoch 1 only


@pytest.mark.parametrize("path", ["stack", "prelu"])
@pytest.mark.parametrize(
    "loss", ["softmax_cross_entropy", "sigmoid_binary_cross_entropy", "hinge", "l1"]
)
def test_classification_and_l1_losses_diverge_clearly(loss, path):
    """Losses whose gradient is bounded grow the parameters only linearly: an lr of 1e38
    in float32 overflows them within a few steps; whatever the first non-finite value
    (loss or update), fit raises naming where, on finite parameters. (The tanh model of
    the standardize path is left out: with hinge or binary cross-entropy it can settle on
    huge finite weights whose saturated margins have zero gradient, which is no fault; the
    poisoned-parameter test covers that path.)"""
    rng = np.random.default_rng(0)
    X, y, outputs = data_for(loss, rng, n=48)
    model = model_on(path, np.float32, "c", outputs)
    model.fit(X, y, loss=FIT_LOSSES[loss], epochs=0)
    recorder = Recorder(model)
    with pytest.raises(pynn.NonFiniteLossError) as info:
        model.partial_fit(
            X, y, optimizer=SGD(lr=1e38), epochs=20, batch_size=16, batch_callback=recorder
        )
    message = str(info.value)
    assert re.search(r"epoch \d+", message), message
    assert np.isfinite(model.flat_params).all()
    if "loss became" in message:
        epoch, step = where_it_stopped(message)
        kept = (
            (epoch, 0)
            if "start of epoch" in message
            else (epoch, step - 1)
            if step > 1
            else (epoch, 0)
        )
    else:  # an update overflowed at the epoch's end: back to its start
        epoch = int(re.search(r"update of epoch (\d+)", message).group(1))
        kept = (epoch, 0)
    assert model.flat_params.tobytes() == recorder.after[kept].tobytes(), message
