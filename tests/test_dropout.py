"""Dropout: the counter-based mask (Philox4x32-10, csrc/dropout_impl.h) against its NumPy
twin (pynn.reference_network) bit for bit, its statistics, inverted scaling, bitwise
training at 1 and 2 threads, reproducibility from the seed, the identity at predict, in
harden and after save/load, gradient checks and errors.

The statistical bounds are computed on fixed seeds: the masks are a function of (seed,
step, layer, element), so each test sees the same numbers on every run and cannot flake.
"""

import copy
import os
import pickle

import numpy as np
import pynn._kernels as K
import pytest
from helpers import assert_bitwise_equal

import pynn
from pynn import Dense, Dropout, Sequential
from pynn import reference_network as RN

pytestmark = pytest.mark.usefixtures("restore_threads")
DTYPES = (np.float32, np.float64)


def c_layers(n, width, p, stream, index, dtype, training=True):
    """Records of a C network: `index` identity layers, then a dropout layer."""
    identity = [
        {"kind": "activation", "activation": "identity", "param": None, "dx": None}
        for _ in range(index)
    ]
    for record in identity:
        record["out"] = np.empty((n, width), dtype)
    out = np.empty((n, width), dtype)
    mask = np.empty((n, width), dtype) if training else None
    return identity + [
        {"kind": "dropout", "p": p, "stream": stream, "mask": mask, "out": out, "dx": None}
    ]


def c_dropout(x, p, seed, step, index=0, threads=1):
    """The C network's dropout layer `index` over x in a training pass: (mask, out)."""
    n, width = x.shape
    stream = np.array([seed, step], np.uint64)
    layers = c_layers(n, width, p, stream, index, x.dtype)
    with pynn.threads(threads):
        network = K.Network(layers, None, x, None, np.empty((n, width), x.dtype), None, None)
        out = network.forward()
    return layers[-1]["mask"], out


# ---- the generator ------------------------------------------------------------------------
# Random123's kat_vectors for philox4x32 with 10 rounds: counter, key, output.
KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    (
        (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
        (0xA4093822, 0x299F31D0),
        (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1),
    ),
]


@pytest.mark.parametrize("counter,key,expected", KAT)
def test_philox_known_answers(counter, key, expected):
    words = RN.philox4x32_10([np.array([c]) for c in counter], key)
    assert tuple(int(w[0]) for w in words) == expected


SHAPES = [(1, 1), (3, 5), (7, 257), (64, 257), (128, 300)]  # the last two on threads at 2
STREAMS = [(0, 0, 0), (12345, 7, 2), (2**64 - 1, 2**40 + 3, 1)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("threads", [1, 2])
def test_c_mask_is_the_reference_mask(rng, dtype, shape, threads):
    """Same bits for every (seed, step, layer) and p, for any thread count; out = x * mask
    and the backward's dx = dout * mask."""
    x = rng.standard_normal(shape).astype(dtype)
    for seed, step, index in STREAMS:
        for p in (0.0, 0.1, 0.5, 0.9):
            mask, out = c_dropout(x, p, seed, step, index, threads)
            expected = RN.dropout_mask(seed, step, index, shape, p, dtype)
            assert_bitwise_equal(mask, expected, f"mask {seed, step, index, p}")
            assert_bitwise_equal(out, x * expected, "out")
            assert set(np.unique(mask)) <= {0, dtype(1 / (1 - p))}
    layers = c_layers(*shape, 0.3, np.array([5, 6], np.uint64), 0, dtype)
    layers.insert(0, {"kind": "prelu", "weight": np.ones(1, dtype), "dweight": np.empty(1, dtype),
                      "out": np.empty(shape, dtype), "dx": None})  # fmt: skip
    layers[1]["dx"] = np.empty(shape, dtype)
    dout = rng.standard_normal(shape).astype(dtype)
    with pynn.threads(threads):
        network = K.Network(layers, None, x, None, dout, None, None)
        network.forward()
        network.backward()
    assert_bitwise_equal(layers[1]["dx"], dout * RN.dropout_mask(5, 6, 1, shape, 0.3, dtype))


# ---- statistics -------------------------------------------------------------------------
@pytest.mark.parametrize("p", [0.05, 0.2, 0.5, 0.8])
def test_keep_rate_and_uniformity(p):
    """Over 10^6 elements of fixed seeds: the kept share within 5 standard deviations of
    1 - p, and a chi-square over 64 classes of columns (column mod 64: the four Philox
    output words each in 16 of them) below its 1e-6 quantile (fixed seeds: deterministic)."""
    n, width, bins = 4000, 256, 64
    for seed, step, index in STREAMS:
        kept = RN.dropout_mask(seed, step, index, (n, width), p, np.float64) != 0
        total = kept.size
        z = (kept.sum() - total * (1 - p)) / np.sqrt(total * p * (1 - p))
        assert abs(z) < 5, (seed, z)
        per_bin = kept.reshape(n, width // bins, bins).sum(axis=(0, 1))
        expected = total / bins * (1 - p)
        chi2 = np.sum((per_bin - expected) ** 2 / expected) / p  # binomial: var = np(1-p)
        assert chi2 < 140, (seed, chi2)  # chi-square, 63 degrees of freedom: P(> 140) < 1e-6


def test_masks_of_other_steps_layers_and_seeds_are_unrelated():
    """Two masks of different (seed, step, layer) agree on p^2 + (1-p)^2 of the elements,
    as independent draws do, within 5 standard deviations."""
    p, shape = 0.5, (1000, 200)
    base = RN.dropout_mask(3, 10, 1, shape, p, np.float64) != 0
    for seed, step, index in [(4, 10, 1), (3, 11, 1), (3, 10, 2), (3, 10 + 2**32, 1)]:
        other = RN.dropout_mask(seed, step, index, shape, p, np.float64) != 0
        agree = np.mean(base == other)
        assert abs(agree - 0.5) < 5 * np.sqrt(0.25 / base.size), (seed, step, index, agree)


@pytest.mark.parametrize("dtype", DTYPES)
def test_inverted_scaling_keeps_the_expected_value(dtype):
    """out = x * mask with mask in {0, 1/(1-p)}: the mean of out over many elements is the
    mean of x, within 5 standard deviations of the mask's noise."""
    x = np.full((2000, 100), 3.0, dtype)
    for p in (0.1, 0.5, 0.7):
        _, out = c_dropout(x, p, 99, 1)
        sigma = 3.0 * np.sqrt(p / (1 - p) / x.size)
        assert abs(out.astype(np.float64).mean() - 3.0) < 5 * sigma, p


# ---- training ---------------------------------------------------------------------------
def data(n=384, features=300, classes=10):
    rng = np.random.default_rng(7)
    X = rng.standard_normal((n, features))
    return X, np.argmax(X[:, :classes] + 0.3 * rng.standard_normal((n, classes)), axis=1)


def dropout_model(dtype=np.float32, backend="c", random_state=0, p=(0.5, 0.2)):
    return Sequential(
        Dense(300, 256, "relu"),
        Dropout(p[0]),
        Dense(256, 128, "relu"),
        Dropout(p[1]),
        Dense(128, 10),
        dtype=dtype,
        backend=backend,
        random_state=random_state,
    )


def train(model, epochs=2, **kwargs):
    X, y = data()
    X = X.astype(model.dtype)
    return model.fit(X, y, loss="softmax_cross_entropy", optimizer=pynn.SGD(lr=0.05),
                     epochs=epochs, batch_size=128, **kwargs)  # fmt: skip


@pytest.mark.parametrize("dtype", DTYPES)
def test_training_is_bitwise_the_same_for_1_and_2_threads(dtype):
    """Batches of 128 x 256 elements go through the dropout kernels on threads (6 * 32768
    element operations, above PYNN_PARALLEL_MIN_WORK) as through the GEMMs."""
    results = []
    for threads in (1, 2):
        with pynn.threads(threads):
            model = train(dropout_model(dtype))
        results.append((model.flat_params.copy(), model.history_["loss"]))
    assert_bitwise_equal(results[1][0], results[0][0], "parameters")
    assert results[1][1] == results[0][1]


def test_reproducible_from_the_seed():
    a, b = train(dropout_model()), train(dropout_model())
    assert_bitwise_equal(a.flat_params, b.flat_params, "same seed")
    assert a._dropout_stream[1] == 6  # 3 steps an epoch, 2 epochs
    c = train(dropout_model(), random_state=1)
    d = train(dropout_model(random_state=1))
    assert_bitwise_equal(c.flat_params, d.flat_params, "fit's seed is the model's default")
    e = train(dropout_model())
    e._dropout_stream[0] ^= np.uint64(1)  # another dropout seed, the same initial weights
    X, y = data()
    e.partial_fit(X.astype(np.float32), y)
    assert not np.array_equal(e.flat_params, a.flat_params)


def test_partial_fit_continues_the_dropout_stream():
    """fit(epochs=1) then partial_fit() is fit(epochs=2); a new seed restarts the stream."""
    X, y = data()
    X = X.astype(np.float32)
    two = train(dropout_model(), epochs=2)
    one = train(dropout_model(), epochs=1)
    one.partial_fit(X, y, batch_size=128)
    assert_bitwise_equal(one.flat_params, two.flat_params, "continued")
    stream = one._dropout_stream.copy()
    one.partial_fit(X, y, batch_size=128, random_state=5)
    assert one._dropout_stream[1] == 3 and one._dropout_stream[0] != stream[0]


def test_p_zero_and_no_dropout_train_the_same_bits():
    """Dropout(0) multiplies by exactly 1: the model trains as the one without it."""
    plain = Sequential(Dense(300, 256, "relu"), Dense(256, 128, "relu"), Dense(128, 10),
                       random_state=0)  # fmt: skip
    assert_bitwise_equal(train(dropout_model(p=(0, 0))).flat_params, train(plain).flat_params)
    assert not np.array_equal(train(dropout_model()).flat_params, train(plain).flat_params)


def test_reference_backend_draws_the_same_masks():
    """float64 training on both backends: the same mask bits at each step's end, the same
    parameters within the usual tolerance (the two backends' rounding differs)."""
    models = [
        train(dropout_model(np.float64, backend), epochs=1) for backend in ("c", "reference")
    ]
    for i in (1, 3):
        c_mask, ref_mask = (m._plan(128).layers[i]["mask"] for m in models)
        assert_bitwise_equal(c_mask, ref_mask, f"layer {i}'s mask")
    np.testing.assert_allclose(models[0].flat_params, models[1].flat_params, rtol=0, atol=1e-10)


# ---- off outside training ---------------------------------------------------------------
def test_predict_and_evaluate_ignore_dropout():
    model = train(dropout_model())
    plain = Sequential(*(layer for layer in model.layers if not isinstance(layer, Dropout)))
    plain.flat_params[...] = model.flat_params
    X, y = data()
    stream = model._dropout_stream.copy()
    assert_bitwise_equal(model.decision_function(X), plain.decision_function(X), "outputs")
    plain.loss_, plain.targets_ = model.loss_, model.targets_
    assert model.evaluate(X, y) == plain.evaluate(X, y)
    assert_bitwise_equal(model._dropout_stream, stream, "the stream does not advance")


@pytest.mark.parametrize("last_dropout", [False, True])
def test_harden_leaves_dropout_out(last_dropout):
    layers = [Dense(300, 16, "tanh"), Dropout(0.3), Dense(16, 1)] + [Dropout(0.1)] * last_dropout
    model = Sequential(*layers, random_state=0)
    X, y = data()
    model.fit(X, y % 2, loss="binary_cross_entropy", epochs=1)
    hard = model.harden()
    assert not any(isinstance(layer, Dropout) for layer in hard.layers)
    assert [type(layer).__name__ for layer in hard.layers] == ["Dense", "Dense"]
    assert hard.layers[-1].activation == "step"
    assert_bitwise_equal(hard.predict(X), model.predict(X), "predictions")


def test_save_load_pickle_and_summary(tmp_path):
    model = train(dropout_model())
    path = os.path.join(tmp_path, "model.npz")
    model.save(path)
    loaded = pynn.load(path)
    assert [layer.config() for layer in loaded.layers] == [
        layer.config() for layer in model.layers
    ]
    X, _ = data()
    assert_bitwise_equal(loaded.predict(X), model.predict(X), "loaded")
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert_bitwise_equal(clone._dropout_stream, model._dropout_stream, "stream")
        assert all(
            layer.stream is clone._dropout_stream
            for layer in clone.layers
            if isinstance(layer, Dropout)
        )
    assert "Dropout(0.5)" in str(model.summary())
    assert repr(Dropout(0.25)) == "Dropout(p=0.25)"
    assert pynn.Dropout is pynn.layers.Dropout and "Dropout" in pynn.layers.__all__


# ---- gradients --------------------------------------------------------------------------
@pytest.mark.parametrize("backend", ["c", "reference"])
def test_gradcheck_with_a_fixed_mask(backend):
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((12, 6)), rng.integers(0, 3, 12)
    model = Sequential(Dense(6, 10, "tanh"), Dropout(0.5), Dense(10, 3), backend=backend,
                       random_state=0)  # fmt: skip
    model.fit(X, y, loss="softmax_cross_entropy", epochs=1, batch_size=4)
    result = pynn.gradcheck(model, X, y)
    assert result.ok, result
    # the mask matters: the same model without dropout has another gradient
    plain = Sequential(Dense(6, 10, "tanh"), Dense(10, 3), backend=backend)
    plain.flat_params[...] = model.flat_params
    other = pynn.gradcheck(plain, X, y, "softmax_cross_entropy")
    assert not np.allclose(other.analytic["0.weight"], result.analytic["0.weight"])


def test_gradcheck_detects_a_wrong_dropout_gradient(monkeypatch):
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((12, 6)), rng.integers(0, 3, 12)
    model = Sequential(Dense(6, 10, "tanh"), Dropout(0.5), Dense(10, 3), backend="reference",
                       random_state=0)  # fmt: skip
    model.fit(X, y, loss="softmax_cross_entropy", epochs=1, batch_size=4)
    correct = RN.layer_backward

    def backward(layer, h, grad):
        dx = correct(layer, h, grad)
        if layer["kind"] == "dropout":
            dx *= 1.01
        return dx

    monkeypatch.setattr(RN, "layer_backward", backward)
    result = pynn.gradcheck(model, X, y)
    assert not result.ok and set(result.per_parameter) == {"0.weight", "0.bias", "2.weight",
                                                           "2.bias"}  # fmt: skip
    assert result.per_parameter["0.weight"] > 1e-3 and result.per_parameter["2.weight"] < 1e-5


# ---- errors -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "p,error",
    [(1, ValueError), (1.5, ValueError), (-0.1, ValueError), (float("nan"), ValueError),
     ("0.5", TypeError), (True, TypeError), (None, TypeError)],
)  # fmt: skip
def test_bad_p(p, error):
    with pytest.raises(error, match="Dropout's p"):
        Dropout(p)


def test_bad_records():
    x = np.zeros((4, 3), np.float32)
    dout = np.empty((4, 3), np.float32)

    def network(**changes):
        layers = c_layers(4, 3, 0.5, np.zeros(2, np.uint64), 0, np.float32)
        layers[0].update(changes)
        return K.Network(layers, None, x, None, dout, None, None)

    with pytest.raises(ValueError, match=r"\['p'\] must be in \[0, 1\)"):
        network(p=1.0)
    with pytest.raises(TypeError, match="must be a real number"):
        network(p="0.5")
    with pytest.raises(TypeError, match="must be a uint64 array"):
        network(stream=np.zeros(2, np.int64))
    with pytest.raises(ValueError, match="stream"):
        network(stream=np.zeros(3, np.uint64))
    with pytest.raises(ValueError, match=r"\['mask'\] must be given exactly when"):
        network(mask=None)
    with pytest.raises(ValueError, match="overlaps"):
        network(mask=x)
    forward = c_layers(4, 3, 0.5, np.zeros(2, np.uint64), 0, np.float32, training=False)
    out = K.Network(forward, None, x + 1, None, None, None, None).forward()
    assert_bitwise_equal(out, x + 1, "forward only: the identity")
