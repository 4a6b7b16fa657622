"""The C network (pynn._kernels.Network: forward, backward, the whole step over layer
records) against the same kernels called one stage at a time (bitwise: the per-stage path
the layers ran before), against its NumPy twin pynn.reference_network.Network, over every
layer kind and mixes of them, both dtypes, every loss and thread counts 1 and 2; fit
through the network; custom layers and losses; and the argument checks."""

import copy

import numpy as np
import pytest
from helpers import (
    DIFF_ACT_CASES,
    DIFF_ACT_IDS,
    DTYPES,
    K,
    assert_bitwise_equal,
    assert_close,
)
from network_cases import LOSS_CASES, Net, by_stage, make_targets

import pynn
import pynn.reference_network as RN
from pynn import Dense, Maxout, PReLU, Sequential, Standardize

RELU, TANH = ("relu", None), ("tanh", None)
# (batch n, rows of X, input width, layers): 1, primes, tile edges, past the thread grain
SHAPES = [
    (1, 3, 1, [("dense", 1, RELU, True)]),
    (7, 20, 13, [("dense", 5, RELU, True), ("dense", 3, ("identity", None), True)]),
    (32, 100, 64, [("standardize",), ("dense", 32, RELU, True), ("dense", 10, TANH, False)]),
    (17, 40, 9, [("maxout", 7, 3, True), ("prelu", False), ("dense", 4, TANH, True)]),
    (
        13,
        30,
        6,
        [
            ("dense", 8, ("identity", None), True),
            ("activation", ("elu", 0.5)),
            ("prelu", True),
            ("maxout", 3, 2, False),
        ],
    ),
    (
        131,
        300,
        97,
        [
            ("standardize",),
            ("maxout", 65, 4, True),
            ("activation", TANH),
            ("prelu", False),
            ("dense", 17, ("softplus", None), True),
            ("dense", 2, ("identity", None), True),
        ],
    ),
    (
        64,
        64,
        300,
        [
            ("dense", 200, ("leaky_relu", -0.3), True),
            ("standardize",),
            ("maxout", 130, 2, True),
            ("prelu", True),
            ("dense", 3, RELU, True),
        ],
    ),
]
SHAPE_IDS = [f"n{s[0]}-" + "-".join(layer[0] for layer in s[3]) for s in SHAPES]


def batch(rng, net, rows, dtype):
    X = rng.standard_normal((rows, net.in_f)).astype(dtype)
    targets = make_targets(rng, net.case, rows, net.k, dtype)
    picked = rng.choice(rows, net.n, replace=net.n > rows).astype(np.int64)
    return X, targets, picked


def assert_grads(net, expected):
    grads = net.grads()
    assert set(grads) == set(expected)
    for name, grad in grads.items():
        assert_bitwise_equal(grad, expected[name], name)


# ---- the step against the kernels one by one, and against the reference twin ----------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", LOSS_CASES)
@pytest.mark.parametrize("n, rows, in_f, specs", SHAPES, ids=SHAPE_IDS)
@pytest.mark.parametrize("threads", [1, 2])
def test_step_is_the_kernels_one_by_one(dtype, case, n, rows, in_f, specs, threads):
    rng = np.random.default_rng(n * 31 + len(specs))
    net = Net(rng, dtype, n, in_f, specs, case)
    X, targets, picked = batch(rng, net, rows, dtype)
    ref = copy.deepcopy(net)
    with pynn.threads(threads):
        loss, hits = net.network().step(X, picked, targets)
    expected_loss, expected, expected_hits = by_stage(net, X, picked, targets)
    assert loss == expected_loss and hits == expected_hits
    np.testing.assert_array_equal(net.x, X[picked])
    assert_grads(net, expected)

    ref_loss, ref_hits = ref.network(twin=True).step(X, picked, targets)
    assert_close(loss, ref_loss, dtype, k=300, what="loss")
    assert hits == ref_hits
    for name, grad in net.grads().items():
        assert_close(grad, ref.grads()[name], dtype, k=300 * n, what=name)
    for mine, theirs in zip(net.layers, ref.layers):  # the exact parts are exact
        if mine["kind"] == "maxout":
            assert_close(mine["z"], theirs["z"], dtype, k=300, what="maxout z")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("act", DIFF_ACT_CASES, ids=DIFF_ACT_IDS)
@pytest.mark.parametrize("bias", [True, False])
def test_every_activation_with_and_without_bias(dtype, act, bias):
    rng = np.random.default_rng(3)
    specs = [
        ("dense", 31, act, bias),
        ("activation", act),
        ("dense", 7, act, bias),
        ("maxout", 5, 2, bias),
    ]
    net = Net(rng, dtype, 17, 13, specs, "softmax_labels")
    X, targets, picked = batch(rng, net, 40, dtype)
    loss, hits = net.network().step(X, picked, targets)
    expected_loss, expected, expected_hits = by_stage(net, X, picked, targets)
    assert (loss, hits) == (expected_loss, expected_hits)
    assert_grads(net, expected)


def random_specs(rng):
    """A random mix of 1 to 5 layers (their widths 1 to 40)."""
    specs = []
    for _ in range(rng.integers(1, 6)):
        kind = rng.choice(["dense", "maxout", "activation", "prelu", "standardize"])
        act = DIFF_ACT_CASES[rng.integers(len(DIFF_ACT_CASES))]
        width, bias = int(rng.integers(1, 41)), bool(rng.integers(2))
        specs.append(
            {
                "dense": ("dense", width, act, bias),
                "maxout": ("maxout", width, int(rng.integers(1, 5)), bias),
                "activation": ("activation", act),
                "prelu": ("prelu", bool(rng.integers(2))),
                "standardize": ("standardize",),
            }[kind]
        )
    return specs


@pytest.mark.parametrize("seed", range(40))
def test_random_networks_against_the_stages_and_the_twin(seed):
    rng = np.random.default_rng(1000 + seed)
    dtype = DTYPES[seed % 2]
    case = list(LOSS_CASES)[seed % len(LOSS_CASES)]
    n, in_f = int(rng.integers(1, 90)), int(rng.integers(1, 50))
    net = Net(rng, dtype, n, in_f, random_specs(rng), case)
    X, targets, picked = batch(rng, net, n + 5, dtype)
    ref = copy.deepcopy(net)
    with pynn.threads(1 + seed % 2):
        loss, hits = net.network().step(X, picked, targets)
    expected_loss, expected, expected_hits = by_stage(net, X, picked, targets)
    assert (loss, hits) == (expected_loss, expected_hits)
    assert_grads(net, expected)
    ref_loss, _ = ref.network(twin=True).step(X, picked, targets)
    assert_close(loss, ref_loss, dtype, k=1000, what="loss")


# ---- forward, backward, a gathered batch, threads, a non-finite loss --------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n, rows, in_f, specs", SHAPES, ids=SHAPE_IDS)
def test_forward_and_backward_are_the_step(dtype, n, rows, in_f, specs):
    rng = np.random.default_rng(5)
    net = Net(rng, dtype, n, in_f, specs, "mse")
    X, targets, picked = batch(rng, net, rows, dtype)
    step_net = copy.deepcopy(net)
    step_net.network().step(X, picked, targets)
    # forward only, its outputs ping-ponging between two buffers as inference does
    infer = Net(np.random.default_rng(5), dtype, n, in_f, specs, "mse", training=False)
    pong = [np.empty(n * 400, dtype) for _ in range(2)]
    for i, layer in enumerate(infer.layers):
        layer["out"] = pong[i % 2][: layer["out"].size].reshape(layer["out"].shape)
    out = infer.network(loss=False).forward(np.ascontiguousarray(X[picked]))
    assert_bitwise_equal(out, step_net.layers[-1]["out"])
    # training forward, the loss from Python, backward
    trained = net.network(loss=False)
    net.x[...] = X[picked]
    out = trained.forward()
    K.mse(out, targets[picked], None, grad=True, dpred=net.dout)
    trained.backward()
    assert_grads(net, step_net.grads())


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_gathered_batch_runs_as_the_same_batch_read_by_rows(dtype):
    rng = np.random.default_rng(5)
    net = Net(
        rng,
        dtype,
        9,
        6,
        [("standardize",), ("maxout", 8, 2, True), ("prelu", False), ("dense", 4, TANH, True)],
        "softmax_labels",
    )
    X, targets, picked = batch(rng, net, 30, dtype)
    step = net.network()
    by_rows = step.step(X, picked, targets)
    grads = {k: v.copy() for k, v in net.grads().items()}
    net.x[...] = X[picked]
    net.target[...] = targets[picked]
    assert step.step(None, None, None) == by_rows
    assert_grads(net, grads)


@pytest.mark.parametrize("dtype", DTYPES)
def test_results_do_not_depend_on_the_thread_count(dtype):
    np.random.default_rng(7)
    specs = [
        ("standardize",),
        ("maxout", 130, 3, True),
        ("prelu", False),
        ("dense", 67, RELU, True),
        ("activation", TANH),
        ("dense", 10, RELU, True),
    ]
    results = []
    for threads in (1, 2, 3):
        net = Net(np.random.default_rng(8), dtype, 129, 257, specs, "softmax_labels")
        X, targets, picked = batch(np.random.default_rng(9), net, 300, dtype)
        with pynn.threads(threads):
            results.append((net.network().step(X, picked, targets), net))
    for value, net in results[1:]:
        assert value == results[0][0]
        assert_grads(net, results[0][1].grads())


def test_a_non_finite_loss_writes_no_gradient():
    rng = np.random.default_rng(9)
    net = Net(
        rng,
        np.float32,
        4,
        3,
        [("dense", 5, RELU, True), ("prelu", True), ("maxout", 2, 2, True)],
        "mse",
    )
    X = rng.standard_normal((8, 3)).astype(np.float32)
    X[2, 1] = np.nan
    targets = make_targets(rng, "mse", 8, 2, np.float32)
    loss, hits = net.network().step(X, np.array([0, 2, 4, 6]), targets)
    assert np.isnan(loss) and hits is None
    for grad in net.grads().values():
        assert np.isnan(grad).all()  # still the NaN the test filled them with


# ---- fit through the network ---------------------------------------------------------------
def model_of(kind, dtype, backend="c"):
    rng = np.random.default_rng(0)
    first = (
        [Standardize(rng.standard_normal(6), rng.uniform(0.5, 2, 6))]
        if kind == "standardize"
        else []
    )
    middle = {
        "dense": [Dense(6, 16, "elu"), Dense(16, 9, "tanh")],
        "standardize": [Dense(6, 16, "relu"), Dense(16, 9)],
        "prelu": [Dense(6, 16), PReLU(16), Dense(16, 9), PReLU()],
        "maxout": [Maxout(6, 16, 3), Dense(16, 9, "sigmoid")],
    }[kind]
    return Sequential(*first, *middle, Dense(9, 3), dtype=dtype, backend=backend, random_state=0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["dense", "standardize", "prelu", "maxout"])
@pytest.mark.parametrize("loss", ["softmax_cross_entropy", "binary_cross_entropy", "mse"])
def test_fit_reads_any_X_dtype_bitwise_alike(dtype, kind, loss):
    """X of the model's dtype goes to the network's step in place; X of another dtype is
    gathered by the plan first (read_step): the same values train the same model."""
    rng = np.random.default_rng(11)
    X = rng.integers(0, 200, (100, 6)).astype(np.uint8)
    y = {
        "softmax_cross_entropy": rng.choice(["a", "b", "c"], 100),
        "binary_cross_entropy": (rng.random((100, 3)) > 0.5).astype(int),
        "mse": rng.standard_normal((100, 3)),
    }[loss]
    models = []
    for x_dtype in (dtype, np.float64 if dtype == np.float32 else np.float32, np.uint8):
        model = model_of(kind, dtype)
        model.fit(X.astype(x_dtype), y, loss=loss, epochs=3, batch_size=13, validation_split=0.2)
        models.append(model)
    for model in models[1:]:
        assert_bitwise_equal(model.flat_params, models[0].flat_params)
        assert model.history_["val_loss"] == models[0].history_["val_loss"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["dense", "standardize", "prelu", "maxout"])
def test_the_reference_backend_trains_through_the_twin(dtype, kind):
    rng = np.random.default_rng(12)
    X = rng.random((60, 6)).astype(dtype)
    y = rng.integers(0, 3, 60)
    c, ref = model_of(kind, dtype), model_of(kind, dtype, "reference")
    for model in (c, ref):
        model.fit(X, y, loss="softmax_cross_entropy", epochs=2, batch_size=16)
    assert_close(c.flat_params, ref.flat_params, dtype, k=1000, what="parameters")
    assert isinstance(ref._plan(16).network, RN.Network)
    assert isinstance(c._plan(16).network, K.Network)


def test_gradients_go_through_the_network(monkeypatch):
    """loss_and_grad (gradcheck's backward) and decision_function run the plans' networks."""
    calls = []
    model = model_of("maxout", np.float64, "reference")
    for name in ("step", "forward"):
        original = getattr(RN.Network, name)
        monkeypatch.setattr(
            RN.Network,
            name,
            lambda self, *a, _o=original, _n=name: calls.append(_n) or _o(self, *a),
        )
    X, y = np.random.default_rng(0).random((10, 6)), np.arange(10) % 3
    model.fit(X, y, loss="softmax_cross_entropy", epochs=1, batch_size=10)
    assert calls == ["step"]
    assert pynn.gradcheck(model, X, y).ok
    assert calls[1] == "step" and set(calls[2:]) == {"forward"}


# ---- custom losses and layers ---------------------------------------------------------------
class DoubledMSE(pynn.losses.Loss):
    """A custom loss: twice mse (the network cannot fuse it: it is called from Python)."""

    def __init__(self):
        super().__init__("mse", "mse", "dpred", None, ("values",))
        self.calls = 0

    def __call__(self, kernels, out, target, *, grad=None, sample_loss=None):
        self.calls += 1
        value = super().__call__(kernels, out, target, grad=grad, sample_loss=sample_loss)
        if grad is not None:
            grad *= 2
        return 2 * value


@pytest.mark.parametrize("backend", ["c", "reference"])
def test_a_custom_loss_is_called_not_ignored(backend):
    rng = np.random.default_rng(3)
    X, y = rng.random((40, 6)), rng.standard_normal((40, 3))
    custom, plain = DoubledMSE(), model_of("prelu", np.float64, backend)
    model = model_of("prelu", np.float64, backend)
    model.fit(X, y, loss=custom, epochs=2, batch_size=8, optimizer=pynn.optim.SGD(lr=0.01))
    plain.fit(X, y, loss="mse", epochs=2, batch_size=8, optimizer=pynn.optim.SGD(lr=0.02))
    assert custom.calls >= 10  # every step (and the epochs' metrics) called it
    assert model.history_["loss"][0] == pytest.approx(2 * plain.history_["loss"][0])
    # lr 0.01 on twice the gradient is lr 0.02 on the gradient
    np.testing.assert_allclose(model.flat_params, plain.flat_params, rtol=1e-12, atol=1e-14)
    value = model.loss_and_grad(X[:5], y[:5])
    assert value == pytest.approx(
        2 * pynn.losses.LOSSES["mse"](model._kernels, model.decision_function(X[:5]), y[:5])
    )


def test_a_custom_layer_is_refused_naming_it():
    class Scaled(Dense):
        pass

    with pytest.raises(TypeError, match="layer 1 is a Scaled, which is not one of pynn's"):
        Sequential(Dense(3, 4), Scaled(4, 2))


# ---- argument checks -------------------------------------------------------------------------
def good_net(dtype=np.float32, case="softmax_labels", training=True):
    specs = [("dense", 5, ("softplus", None), True), ("maxout", 2, 2, True)]
    return Net(np.random.default_rng(0), dtype, 4, 3, specs, case, training)


def make(net, **change):
    args = {
        "layers": net.layers,
        "loss": LOSS_CASES[net.case],
        "x": net.x,
        "target": net.target,
        "dout": net.dout,
        "sample_loss": net.sample_loss,
        "workspace": None,
    }
    return K.Network(**{**args, **change})


def with_layer(net, i, **change):
    return [dict(layer, **change) if j == i else layer for j, layer in enumerate(net.layers)]


def test_construction_errors_name_the_argument():
    net = good_net()
    make(net)
    first, second = net.layers
    cases = [
        ({"layers": []}, TypeError, "layers must be a non-empty list"),
        ({"loss": "softmax"}, ValueError, "loss must be one of"),
        ({"x": np.zeros((4, 3), np.int32)}, TypeError, "x must have dtype float32 or float64"),
        (
            {"layers": with_layer(net, 0, weight=first["weight"].astype(float))},
            TypeError,
            r"layers\[0\]\['weight'\] has dtype float64",
        ),
        (
            {"layers": with_layer(net, 1, weight=np.zeros((4, 4), np.float32))},
            ValueError,
            r"layers\[1\]\['weight'\] must have 5 columns",
        ),
        (
            {"layers": with_layer(net, 1, weight=np.zeros((3, 5), np.float32))},
            ValueError,
            r"layers\[1\]\['weight'\] must have a positive multiple of 2 rows",
        ),
        (
            {"layers": with_layer(net, 0, z=None)},
            ValueError,
            (
                r"layers\[0\]\['z'\] must be given exactly when the network trains and the "
                r"activation's derivative reads its input"
            ),
        ),
        (
            {"layers": with_layer(net, 0, dx=np.empty((4, 3), np.float32))},
            ValueError,
            r"layers\[0\]\['dx'\] must be given exactly when .* a layer before it has parameters",
        ),
        (
            {"layers": with_layer(net, 1, dbias=None)},
            ValueError,
            r"layers\[1\]: give both bias and dbias",
        ),
        ({"layers": with_layer(net, 0, activation="step")}, ValueError, "is not differentiable"),
        (
            {"layers": [{"weight": first["weight"]}, second]},
            TypeError,
            r"layers\[0\] must be a dict with the key 'kind'",
        ),
        (
            {"layers": [dict(first, kind="conv"), second]},
            TypeError,
            r"layers\[0\] must be a dict with the key 'kind'",
        ),
        (
            {"layers": with_layer(net, 1, argmax=second["argmax"].astype(np.int32))},
            TypeError,
            r"layers\[1\]\['argmax'\] must be an int64 array",
        ),
        (
            {"layers": with_layer(net, 1, argmax=None)},
            ValueError,
            r"layers\[1\]\['argmax'\] must be given exactly when the network trains",
        ),
        (
            {"layers": with_layer(net, 1, pieces=0)},
            ValueError,
            r"layers\[1\]\['pieces'\] must be at least 1",
        ),
        ({"dout": np.empty((4, 3), np.float32)}, ValueError, "dout must have shape"),
        ({"dout": None}, ValueError, "a network with a loss trains: dout is required"),
        ({"loss": None}, ValueError, "target and sample_loss go with a loss"),
        ({"workspace": np.empty(1, np.float32)}, ValueError, "workspace must have at least"),
        ({"target": np.empty(4, np.int32)}, TypeError, "target must be int64 labels"),
        ({"loss": "mse", "target": np.empty(4, np.float32)}, ValueError, "target must have shape"),
        ({"layers": with_layer(net, 1, out=net.dout)}, ValueError, r"overlaps"),
        (
            {"dout": first["weight"].reshape(-1)[:8].reshape(4, 2)},
            ValueError,
            r"overlaps layers\[0\]\['weight'\]",
        ),
    ]
    for change, error, message in cases:
        with pytest.raises(error, match=message):
            make(net, **change)
    read_only = net.x.copy()
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match="x must be writeable"):
        make(net, x=read_only)


def test_kind_specific_checks():
    rng = np.random.default_rng(0)
    net = Net(
        rng,
        np.float64,
        4,
        3,
        [("prelu", False), ("standardize",), ("dense", 2, RELU, True)],
        "mse",
    )
    make(net)
    with pytest.raises(ValueError, match=r"layers\[0\]\['weight'\] must have shape \(3,\)"):
        make(net, layers=with_layer(net, 0, weight=np.ones(2), dweight=np.ones(2)))
    with pytest.raises(ValueError, match=r"layers\[1\]\['scale'\] must have shape \(3,\)"):
        make(net, layers=with_layer(net, 1, scale=np.ones(4)))
    with pytest.raises(ValueError, match=r"layers\[1\]\['dx'\] must be given exactly"):
        make(net, layers=with_layer(net, 1, dx=None))


def test_a_forward_network_takes_no_gradients_and_may_share_outputs():
    net = good_net(training=False)
    forward = make(net, loss=None, target=None, dout=None, sample_loss=None)
    assert forward.forward(np.zeros((4, 3), np.float32)) is net.layers[1]["out"]
    with pytest.raises(ValueError, match="does not train"):
        forward.backward()
    with pytest.raises(ValueError, match="has no loss"):
        forward.step(None, None, None)
    dweight = np.empty_like(net.layers[0]["weight"])
    with pytest.raises(ValueError, match=r"layers\[0\]\['dweight'\] must be given exactly"):
        make(
            net,
            layers=with_layer(net, 0, dweight=dweight),
            loss=None,
            target=None,
            dout=None,
            sample_loss=None,
        )
    # a layer's out may not be its own input
    with pytest.raises(ValueError, match=r"layers\[1\]\['out'\] overlaps layers\[0\]\['out'\]"):
        shared = net.layers[0]["out"].reshape(-1)[:8].reshape(4, 2)
        make(
            net,
            layers=with_layer(net, 1, out=shared),
            loss=None,
            target=None,
            dout=None,
            sample_loss=None,
        )
    with pytest.raises(ValueError, match="X must have shape"):
        forward.forward(np.zeros((5, 3), np.float32))


def test_run_errors_name_the_argument_and_write_nothing():
    net = good_net()
    step = net.network()
    rng = np.random.default_rng(1)
    X = rng.standard_normal((10, 3)).astype(np.float32)
    labels = rng.integers(0, 2, 10)
    rows = np.arange(4)
    step.step(X, rows, labels)
    before = {k: v.copy() for k, v in net.grads().items()}
    cases = [
        ({"X": X.astype(np.float64)}, TypeError, "X has dtype float64"),
        ({"X": np.asfortranarray(X)}, ValueError, "X must be C-contiguous"),
        ({"X": X[:, :2].copy()}, ValueError, "X must have 3 columns"),
        ({"X": X.ravel()}, ValueError, "X must be a 2-D array"),
        ({"rows": rows.astype(np.int32)}, TypeError, "rows must be a C-contiguous int64"),
        ({"rows": np.arange(5)}, ValueError, "rows must have shape"),
        ({"rows": np.array([0, 1, 10, 2])}, ValueError, r"rows must be in \[0, 10\), got 10"),
        ({"rows": np.array([0, -1, 2, 3])}, ValueError, r"rows must be in \[0, 10\), got -1"),
        ({"targets": labels[:9]}, ValueError, "targets must have shape"),
        ({"targets": labels.astype(np.float32)}, TypeError, "targets must be int64 labels"),
        (
            {"targets": np.where(labels == 1, 2, labels)},
            ValueError,
            r"labels must be in \[0, 2\) for 2 classes, got 2 in row \d of targets",
        ),
        ({"X": None}, ValueError, "give X, rows and targets together"),
        (
            {"X": net.x.reshape(-1)[:9].reshape(3, 3)},
            ValueError,
            "X overlaps a buffer the network writes",
        ),
        ({"targets": net.target}, ValueError, "targets must have shape"),
    ]
    for change, error, message in cases:
        with pytest.raises(error, match=message):
            step.step(**{"X": X, "rows": rows, "targets": labels, **change})
    assert_grads(net, before)


@pytest.mark.parametrize(
    "case, bad, message",
    [
        ("bce", 1.5, r"targets must be in \[0, 1\], got 1.5 in row 7 of targets"),
        (
            "hinge",
            0.0,
            "targets must be -1 or \\+1 for the hinge loss, got 0.0 in row 7 of targets",
        ),
        (
            "softmax_probs",
            -0.5,
            "targets must be finite and non-negative, got -0.5 in row 7 of targets",
        ),
    ],
)
def test_targets_outside_the_loss_domain_are_refused(case, bad, message):
    net = good_net(np.float64, case)
    step = net.network()
    rng = np.random.default_rng(2)
    targets = make_targets(rng, case, 10, 2, np.float64)
    targets[7, 1] = bad
    with pytest.raises(ValueError, match=message):
        step.step(rng.standard_normal((10, 3)), np.array([0, 1, 7, 3]), targets)


def test_a_bad_label_already_in_the_batch_names_its_sample():
    net = good_net()
    step = net.network()
    net.x[...] = 0
    net.target[...] = [0, 5, 1, 0]
    with pytest.raises(ValueError, match=r"got 5 in sample 1"):
        step.step(None, None, None)
