"""Gradient clipping (clip_grad_norm, clip_grad_value; fit's clip_norm and clip_value) and
the weight decay scope (decay_ranges; the optimizers' weight_decay_scope), against
pynn.reference, independent formulas, and across thread counts. test_clip_decay_torch.py
compares them with torch."""

import math

import numpy as np
import pytest
from helpers import DTYPES, IMPLS, K, R, assert_bitwise_equal, assert_close

import pynn

BIG = 200_003  # > PYNN_PARALLEL_MIN_WORK and many PYNN_BLOCKs: the kernels go parallel
PARTS = 64  # csrc/optim_impl.h's NORM_PARTS


def grads(rng, size, dtype, scale=1.0):
    return (scale * rng.standard_normal(size)).astype(dtype)


def parts_norm(g):
    """The C kernel's summation order written out: NORM_PARTS parts fixed by the size, each
    summed element by element in double, then the parts in order."""
    size = g.size
    part = -(-size // PARTS) if size > PARTS else 1
    total = 0.0
    for start in range(0, size, part):
        squares = g[start : start + part].astype(np.float64) ** 2
        total += float(np.cumsum(squares)[-1])  # cumsum: serial, in element order
    return math.sqrt(total)


# ---- clip_grad_norm and clip_grad_value: kernels ---------------------------------------------
@pytest.mark.parametrize("size", [0, 1, 63, 64, 65, 777, BIG])
@pytest.mark.parametrize("dtype", DTYPES)
def test_grad_norm_sums_in_the_documented_order(rng, dtype, size):
    g = grads(rng, size, dtype)
    norm = K.grad_norm(g)
    assert type(norm) is float
    assert norm == parts_norm(g)  # bitwise: the order is the kernel's contract
    assert_close(norm, R.grad_norm(g), np.float64, what="grad_norm vs reference")


@pytest.mark.parametrize("max_norm", [1e-3, 0.5, 3.0, 1e6], ids=str)
@pytest.mark.parametrize("size", [1, 13, 777, BIG])
@pytest.mark.parametrize("dtype", DTYPES)
def test_clip_grad_norm_against_reference_and_formula(rng, dtype, size, max_norm):
    g = grads(rng, size, dtype, scale=3.0 / math.sqrt(size))  # norm about 3
    ours, theirs = g.copy(), g.copy()
    norm = K.clip_grad_norm(ours, max_norm)
    ref_norm = R.clip_grad_norm(theirs, max_norm)
    assert norm == parts_norm(g)
    assert_close(norm, ref_norm, np.float64, what="norm")
    assert_close(ours, theirs, dtype, k=2, what="clipped grad vs reference")
    coef = max_norm / (norm + 1e-6)
    if coef >= 1:
        assert_bitwise_equal(ours, g, "a norm under max_norm leaves grad as it was")
    else:
        assert_bitwise_equal(ours, g * dtype(coef), "grad * (max_norm / (norm + 1e-6))")
        assert abs(K.grad_norm(ours) - max_norm) <= 1e-5 * max_norm + 1e-6


@pytest.mark.parametrize("dtype", DTYPES)
def test_clip_grad_norm_of_a_nan_or_infinite_gradient_is_torchs(dtype):
    g = np.array([1.0, np.inf, -2.0], dtype=dtype)
    assert K.clip_grad_norm(g, 1.0) == math.inf  # coef 0: inf * 0 is NaN, 1 * 0 is 0
    np.testing.assert_array_equal(g, np.array([0.0, np.nan, -0.0], dtype=dtype))
    g = np.array([1.0, np.nan], dtype=dtype)
    assert math.isnan(K.clip_grad_norm(g, 1.0))
    assert np.isnan(g).all()
    r = np.array([1.0, np.nan], dtype=dtype)
    assert math.isnan(R.clip_grad_norm(r, 1.0)) and np.isnan(r).all()


@pytest.mark.parametrize("clip_value", [1e-3, 0.5, 2.0, 1e9], ids=str)
@pytest.mark.parametrize("size", [0, 7, 777, BIG])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("impl", IMPLS)
def test_clip_grad_value_clamps(rng, impl, dtype, size, clip_value):
    g = grads(rng, size, dtype)
    if size:
        g[:3] = [np.nan, -0.0, np.inf][: min(size, 3)]
    ours = g.copy()
    assert impl.clip_grad_value(ours, clip_value) is None
    c = dtype(clip_value)
    assert_bitwise_equal(ours, np.where(np.isnan(g), g, np.clip(g, -c, c)), "clamped")


@pytest.mark.skipif(not pynn.threads_enabled(), reason="built without threads: one thread")
@pytest.mark.parametrize("dtype", DTYPES)
def test_clipping_kernels_give_the_same_bits_on_one_and_two_threads(rng, dtype, restore_threads):
    pynn.set_num_threads(2)
    g = grads(rng, BIG, dtype, scale=0.01)
    results = []
    for n in (1, 2):
        by_norm, by_value = g.copy(), g.copy()
        with pynn.threads(n):
            assert pynn.get_num_threads() == n
            norm = K.clip_grad_norm(by_norm, 0.3)
            K.clip_grad_value(by_value, 0.005)
        results.append((norm, by_norm, by_value))
    (n1, a1, b1), (n2, a2, b2) = results
    assert_bitwise_equal(n2, n1, "norm, 2 threads vs 1")
    assert_bitwise_equal(a2, a1, "clip_grad_norm, 2 threads vs 1")
    assert_bitwise_equal(b2, b1, "clip_grad_value, 2 threads vs 1")


BAD_BOUNDS = [
    (0.0, ValueError),
    (-1.0, ValueError),
    (math.nan, ValueError),
    (math.inf, ValueError),
    ("1", TypeError),
    (True, TypeError),
    (None, TypeError),
]


@pytest.mark.parametrize("value, error", BAD_BOUNDS, ids=repr)
@pytest.mark.parametrize("name", ["clip_grad_norm", "clip_grad_value"])
def test_clipping_kernels_refuse_bad_thresholds(name, value, error):
    g = np.ones(5)
    argument = "max_norm" if name == "clip_grad_norm" else "clip_value"
    with pytest.raises(error, match=argument):
        getattr(K, name)(g, value)
    np.testing.assert_array_equal(g, 1.0)


@pytest.mark.parametrize(
    "grad, error",
    [
        (np.ones(5, dtype=np.int64), TypeError),
        (np.ones(10)[::2], ValueError),
        ([1.0, 2.0], TypeError),
        (np.ones(5, dtype=np.float16), TypeError),
    ],
    ids=["int", "strided", "list", "float16"],
)
@pytest.mark.parametrize("name", ["clip_grad_norm", "clip_grad_value", "grad_norm"])
def test_clipping_kernels_name_a_bad_grad(name, grad, error):
    args = () if name == "grad_norm" else (1.0,)
    with pytest.raises(error, match="grad"):
        getattr(K, name)(grad, *args)


@pytest.mark.parametrize("name", ["clip_grad_norm", "clip_grad_value"])
def test_clipping_kernels_refuse_a_read_only_grad(name):
    g = np.full(5, 10.0)
    g.flags.writeable = False
    with pytest.raises(ValueError, match="grad must be writeable"):
        getattr(K, name)(g, 1.0)


# ---- decay_ranges: kernels ---------------------------------------------------------------------
def ranges_for(size):
    """Ranges that start at 0, cross PYNN_BLOCK (4096) boundaries, touch and leave gaps."""
    edges = [0, 5, 4090, 4100, 4100, 9000, 9001, size - 3]
    edges = sorted(min(e, size) for e in edges)
    return np.array(edges, dtype=np.int64).reshape(-1, 2)


def mask_of(ranges, size):
    mask = np.zeros(size, dtype=bool)
    for start, stop in ranges:
        mask[start:stop] = True
    return mask


UPDATES = [
    ("sgd", dict(lr=0.1, weight_decay=0.3)),
    ("sgd", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.2)),
    ("adam", dict(lr=0.01, weight_decay=0.3)),
    ("adam", dict(lr=0.01, weight_decay=0.3, decoupled_weight_decay=True)),
]


def run_update(impl, kind, config, p, g, steps, ranges=None):
    """`steps` updates of p (a copy) from the gradients g[i]; the final parameters."""
    p = p.copy()
    state = [np.zeros_like(p), np.zeros_like(p)]
    for step in range(1, steps + 1):
        if kind == "sgd":
            impl.sgd_update(p, g[step - 1], state[0], step=step, decay_ranges=ranges, **config)
        else:
            impl.adam_update(p, g[step - 1], *state, step=step, decay_ranges=ranges, **config)
    return p


@pytest.mark.parametrize("size", [9, 20_000, BIG])
@pytest.mark.parametrize("kind, config", UPDATES, ids=lambda c: str(c))
@pytest.mark.parametrize("dtype", DTYPES)
def test_decay_ranges_decay_exactly_their_elements(rng, dtype, kind, config, size):
    """Inside the ranges, the bits of a decay-everything update; outside, those of an update
    without decay; the reference agrees."""
    p0 = grads(rng, size, dtype)
    g = [grads(rng, size, dtype) for _ in range(3)]
    ranges = ranges_for(size)
    mask = mask_of(ranges, size)
    assert mask.any() and not mask.all()
    ours = run_update(K, kind, config, p0, g, 3, ranges)
    everywhere = run_update(K, kind, config, p0, g, 3)
    nowhere = run_update(K, kind, dict(config, weight_decay=0.0), p0, g, 3)
    assert_bitwise_equal(ours[mask], everywhere[mask], "decayed elements")
    assert_bitwise_equal(ours[~mask], nowhere[~mask], "undecayed elements")
    assert_close(ours, run_update(R, kind, config, p0, g, 3, ranges), dtype, k=3)


@pytest.mark.skipif(not pynn.threads_enabled(), reason="built without threads: one thread")
@pytest.mark.parametrize("kind, config", UPDATES, ids=lambda c: str(c))
def test_decay_ranges_give_the_same_bits_on_one_and_two_threads(
    rng, kind, config, restore_threads
):
    pynn.set_num_threads(2)
    p0, g = grads(rng, BIG, np.float32), [grads(rng, BIG, np.float32) for _ in range(2)]
    ranges = ranges_for(BIG)
    with pynn.threads(1):
        one = run_update(K, kind, config, p0, g, 2, ranges)
    with pynn.threads(2):
        two = run_update(K, kind, config, p0, g, 2, ranges)
    assert_bitwise_equal(two, one, "2 threads vs 1")


BAD_RANGES = [
    (np.array([[0, 3]], dtype=np.int32), TypeError, "int64"),
    (np.array([0, 3], dtype=np.int64), ValueError, "shape"),
    (np.array([[0, 3, 4]], dtype=np.int64), ValueError, "shape"),
    (np.array([[4, 6], [0, 3]], dtype=np.int64), ValueError, "sorted"),
    (np.array([[0, 4], [3, 6]], dtype=np.int64), ValueError, "disjoint"),
    (np.array([[3, 2]], dtype=np.int64), ValueError, "sorted"),
    (np.array([[-1, 2]], dtype=np.int64), ValueError, "within"),
    (np.array([[0, 11]], dtype=np.int64), ValueError, "within"),
    (np.zeros((4, 2), dtype=np.int64)[::2], ValueError, "contiguous"),
    ([[0, 3]], TypeError, "decay_ranges"),
]


@pytest.mark.parametrize("ranges, error, word", BAD_RANGES, ids=lambda v: str(v)[:20])
@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_bad_decay_ranges_are_named(kind, ranges, error, word):
    p, g = np.ones(10), np.ones(10)
    with pytest.raises(error, match="decay_ranges") as info:
        run_update(K, kind, dict(lr=0.1, weight_decay=0.1), p, [g], 1, ranges)
    assert word in str(info.value)


def test_decay_ranges_may_not_alias_param():
    ranges = np.zeros(4).view(np.int64).reshape(2, 2)  # [0, 0), [0, 0): valid ranges
    param = ranges.view(np.float64).ravel()  # the same memory
    with pytest.raises(ValueError, match="overlaps decay_ranges"):
        K.sgd_update(param, np.ones(4), step=1, lr=0.1, weight_decay=0.1, decay_ranges=ranges)


# ---- the model: weight_ranges, fit's clip_norm and clip_value, weight_decay_scope -------------
def test_weight_ranges_are_the_weight_matrices():
    model = pynn.Sequential(
        pynn.Dense(3, 4),  # weight 0-12, bias 12-16
        pynn.PReLU(),  # weight (slope) 16-17: not decayed
        pynn.Dense(4, 5, bias=False),  # 17-37
        pynn.Maxout(5, 2, pieces=2),  # weight 37-57 (adjacent: merged), bias 57-61
        pynn.Dense(2, 1),  # 61-63, bias 63-64
    )
    sizes = [(name, p.size) for name, p in model.named_parameters()]
    assert sizes == [
        ("0.weight", 12),
        ("0.bias", 4),
        ("1.weight", 1),
        ("2.weight", 20),
        ("3.weight", 20),
        ("3.bias", 4),
        ("4.weight", 2),
        ("4.bias", 1),
    ]
    ranges = model.weight_ranges()
    assert ranges.dtype == np.int64
    assert ranges.tolist() == [[0, 12], [17, 57], [61, 63]]


def data(n=120, features=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, features))
    y = np.argmax(X[:, :3] @ rng.standard_normal((3, 3)), axis=1)
    return X, y


def model_for(dtype=np.float64, backend="c", width=10, features=6):
    return pynn.Sequential(
        pynn.Dense(features, width, activation="tanh"),
        pynn.Dense(width, width, activation="relu"),
        pynn.Dense(width, 3),
        dtype=dtype,
        backend=backend,
        random_state=0,
    )


def trained(optimizer, dtype=np.float64, backend="c", width=10, X_y=None, **fit_args):
    X, y = data() if X_y is None else X_y
    model = model_for(dtype, backend, width, X.shape[1])
    model.fit(
        X,
        y,
        loss="softmax_cross_entropy",
        optimizer=optimizer,
        epochs=3,
        batch_size=16,
        **fit_args,
    )
    return model


OPTIMIZERS = {
    "sgd": lambda scope: pynn.SGD(
        lr=0.1, momentum=0.9, weight_decay=0.05, weight_decay_scope=scope
    ),
    "adam": lambda scope: pynn.Adam(lr=0.01, weight_decay=0.05, weight_decay_scope=scope),
    "adamw": lambda scope: pynn.AdamW(lr=0.01, weight_decay=0.1, weight_decay_scope=scope),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_the_options_off_change_no_bit(name):
    make = OPTIMIZERS[name]
    base = trained(make("all"))
    same = [
        trained(make("all"), clip_norm=None, clip_value=None),
        trained(make("all"), clip_norm=1e30),  # never clips: the gradient is not touched
        trained(make("all"), clip_value=1e30),
    ]
    for model in same:
        assert_bitwise_equal(model.flat_params, base.flat_params, name)
    assert "grad_norm" not in base.history_
    # weights only, on a model whose every parameter is a weight, is weight decay on all
    X, y = data()
    models = []
    for scope in ("all", "weights"):
        model = pynn.Sequential(
            pynn.Dense(6, 8, "tanh", bias=False),
            pynn.Dense(8, 3, bias=False),
            dtype=np.float64,
            random_state=0,
        )
        model.fit(X, y, loss="softmax_cross_entropy", optimizer=make(scope), epochs=2)
        models.append(model.flat_params)
    assert_bitwise_equal(models[1], models[0], "weights == all when there are no biases")


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_weights_scope_leaves_the_biases_undecayed(name):
    """The biases of a weights-only run follow the trajectory of a run whose decay spares
    them, which differs from decaying everything."""
    make = OPTIMIZERS[name]
    weights, everything = trained(make("weights")), trained(make("all"))
    bias = ~mask_of(weights.weight_ranges(), weights.n_parameters)
    assert np.abs(weights.flat_params - everything.flat_params)[bias].max() > 1e-6
    assert weights.optimizer_.decay_ranges.tolist() == weights.weight_ranges().tolist()
    assert "weight_decay_scope='weights'" in repr(weights.optimizer_)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_clipping_and_scope_match_the_reference_backend(name):
    args = dict(clip_norm=0.3, clip_value=0.05)
    ours = trained(OPTIMIZERS[name]("weights"), **args)
    ref = trained(OPTIMIZERS[name]("weights"), backend="reference", **args)
    assert_close(ours.flat_params, ref.flat_params, np.float64, k=30, what="c vs reference")
    assert_close(ours.history_["grad_norm"], ref.history_["grad_norm"], np.float64, k=30)
    plain = trained(OPTIMIZERS[name]("weights"))
    assert np.abs(ours.flat_params - plain.flat_params).max() > 1e-4  # clipping acted


@pytest.mark.skipif(not pynn.threads_enabled(), reason="built without threads: one thread")
@pytest.mark.parametrize("dtype", DTYPES)
def test_fit_with_clipping_and_scope_gives_the_same_bits_on_one_and_two_threads(
    dtype, restore_threads
):
    pynn.set_num_threads(2)
    X_y = data(n=256, features=40)
    runs = []
    for n in (1, 2):  # 40*300 + 300*300 + 300*3 parameters: parallel updates and norms
        with pynn.threads(n):
            model = trained(
                OPTIMIZERS["adamw"]("weights"),
                dtype,
                width=300,
                X_y=X_y,
                clip_norm=0.5,
                clip_value=0.01,
            )
        runs.append(model)
    assert runs[0].n_parameters > 100_000
    assert_bitwise_equal(runs[1].flat_params, runs[0].flat_params, "2 threads vs 1")
    assert runs[1].history_["grad_norm"] == runs[0].history_["grad_norm"]


@pytest.mark.parametrize("argument", ["clip_norm", "clip_value"])
@pytest.mark.parametrize("value, error", [*BAD_BOUNDS[:-1], (np.bool_(True), TypeError)], ids=repr)
def test_fit_refuses_bad_clipping_before_touching_the_model(argument, value, error):
    X, y = data()
    model = trained(pynn.SGD(lr=0.1))
    before, history = model.flat_params.copy(), dict(model.history_)
    for method in (model.fit, model.partial_fit):
        with pytest.raises(error, match=argument):
            method(X, y, loss="softmax_cross_entropy", **{argument: value})
    assert_bitwise_equal(model.flat_params, before, "parameters untouched")
    assert model.history_ == history


def test_partial_fit_clips_per_call():
    X, y = data()
    model = trained(pynn.SGD(lr=0.1), clip_norm=0.1)
    assert len(model.history_["grad_norm"]) == 3
    model.partial_fit(X, y)  # no clipping in this call: no grad_norm for its epoch
    model.partial_fit(X, y, clip_norm=0.1)
    assert len(model.history_["loss"]) == 5 and len(model.history_["grad_norm"]) == 4


@pytest.mark.parametrize("cls", [pynn.SGD, pynn.Adam, pynn.AdamW])
def test_bad_weight_decay_scope(cls):
    with pytest.raises(ValueError, match="weight_decay_scope"):
        cls(weight_decay_scope="biases")
    with pytest.raises(ValueError, match="weight_decay_scope"):
        cls(weight_decay_scope=None)
    optimizer = cls(weight_decay_scope="weights")
    with pytest.raises(ValueError, match="weight_ranges"):
        optimizer.bind(np.zeros(4), np.zeros(4), K)
    with pytest.raises(ValueError, match="weight_ranges"):
        optimizer.bind(np.zeros(4), np.zeros(4), K, [[0, 5]])
    optimizer.bind(np.zeros(4), np.zeros(4), K, [[0, 2]])
    assert optimizer.decay_ranges.tolist() == [[0, 2]]
