"""The six losses: values, gradients, weights, targets kinds and outputs."""

import numpy as np
import pytest
from helpers import DTYPES, K, R, assert_close, loss_terms, nan_like, rand, randn

try:
    from hypothesis import given
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover
    given = None

import pynn

LOSS_SHAPES = [(1, 1), (1, 7), (7, 1), (13, 17), (31, 3), (97, 13), (129, 65), (513, 7), (3, 777)]

# (loss name, target kind)
LOSS_CASES = [
    ("softmax_cross_entropy", "labels"),
    ("softmax_cross_entropy", "probs"),
    ("softmax_cross_entropy", "onehot"),
    ("softmax_cross_entropy", "unnormalized"),
    ("sigmoid_binary_cross_entropy", "probs"),
    ("sigmoid_binary_cross_entropy", "binary"),
    ("mse", "real"),
    ("l1", "real"),
    ("hinge", "pm1"),
    ("poisson", "counts"),
    ("poisson", "rates"),
]
LOSS_IDS = [f"{n}-{t}" for n, t in LOSS_CASES]
GRAD_NAME = {
    "softmax_cross_entropy": "dlogits",
    "sigmoid_binary_cross_entropy": "dlogits",
    "mse": "dpred",
    "l1": "dpred",
    "hinge": "dpred",
    "poisson": "dpred",
}


def make_target(rng, kind, n, k, dtype):
    if kind == "labels":
        return rng.integers(0, k, size=n).astype(np.int64)
    if kind == "probs":
        if k == 1:
            return rng.uniform(0, 1, size=(n, 1)).astype(dtype)
        return rng.dirichlet(np.ones(k), size=n).astype(dtype)
    if kind == "onehot":
        return np.eye(k, dtype=dtype)[rng.integers(0, k, size=n)]
    if kind == "unnormalized":  # >= 0, rows need not sum to 1, some exact zeros
        t = rng.uniform(0, 2, size=(n, k))
        t[rng.uniform(size=(n, k)) < 0.3] = 0
        return t.astype(dtype)
    if kind == "binary":
        return rng.integers(0, 2, size=(n, k)).astype(dtype)
    if kind == "real":
        return rand(rng, (n, k), dtype, -2, 2)
    if kind == "counts":  # Poisson draws with rates from 0.05 to 20: many zeros, some large
        return rng.poisson(np.exp(rng.uniform(-3, 3, size=(n, k)))).astype(dtype)
    if kind == "rates":  # non-negative reals, some exact zeros
        t = rng.exponential(2.0, size=(n, k))
        t[rng.uniform(size=(n, k)) < 0.2] = 0
        return t.astype(dtype)
    if kind == "pm1":
        return (2 * rng.integers(0, 2, size=(n, k)) - 1).astype(dtype)
    raise AssertionError(kind)


def make_input(rng, name, n, k, dtype):
    if name in ("l1", "hinge"):
        # keep away from the kinks (pred == target, y * pred == 1)
        x = rand(rng, (n, k), dtype, 0.05, 3.0) * np.where(rng.uniform(size=(n, k)) < 0.5, -1, 1)
        return x.astype(dtype)
    return randn(rng, (n, k), dtype, 2.0)


def make_case(rng, name, kind, n, k, dtype, weighted):
    x = make_input(rng, name, n, k, dtype)
    t = make_target(rng, kind, n, k, dtype)
    if name == "l1":  # |pred - target| >= 0.01
        close = np.abs(x - t) < 0.01
        x[close] += dtype(0.05)
    w = rand(rng, (n,), dtype, 0.0, 2.0) if weighted else None
    if weighted:
        w[0] = dtype(0.5)  # a positive sum whatever the draw
        if n > 2:
            w[1] = 0.0  # a zero weight is allowed
    return x, t, w


def loss_per_sample64(name, x, t):
    """Per-sample losses in float64 from the spec's table, independent of pynn.reference."""
    x = x.astype(np.float64)
    if name == "softmax_cross_entropy":
        m = x.max(axis=1, keepdims=True)
        lse = m + np.log(np.exp(x - m).sum(axis=1, keepdims=True))
        if t.ndim == 1:
            return lse[:, 0] - x[np.arange(len(t)), t]
        t = t.astype(np.float64)
        return np.where(t == 0, 0.0, t * (lse - x)).sum(axis=1)
    t = t.astype(np.float64)
    if name == "sigmoid_binary_cross_entropy":
        return (np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x)))).sum(axis=1)
    if name == "mse":
        return 0.5 * ((x - t) ** 2).sum(axis=1)
    if name == "l1":
        return np.abs(x - t).sum(axis=1)
    if name == "hinge":
        return np.maximum(0, 1 - t * x).sum(axis=1)
    if name == "poisson":  # exp(z) - y z + y log y - y, 0 log 0 = 0
        ylogy = np.where(t > 0, t * np.log(np.where(t > 0, t, 1.0)), 0.0)
        return (np.exp(x) - t * x + ylogy - t).sum(axis=1)
    raise AssertionError(name)


def grad64(name, x, t, c):
    x = x.astype(np.float64)
    c = c[:, None]
    if name == "softmax_cross_entropy":
        m = x.max(axis=1, keepdims=True)
        p = np.exp(x - m)
        p /= p.sum(axis=1, keepdims=True)
        if t.ndim == 1:
            y = np.eye(x.shape[1])[t]
        else:
            y = t.astype(np.float64)
        return c * (p * y.sum(axis=1, keepdims=True) - y)
    t = t.astype(np.float64)
    if name == "sigmoid_binary_cross_entropy":
        return c * (1 / (1 + np.exp(-x)) - t)
    if name == "mse":
        return c * (x - t)
    if name == "l1":
        return c * np.sign(x - t)
    if name == "hinge":
        return c * np.where(t * x < 1, -t, 0.0)
    if name == "poisson":
        return c * (np.exp(x) - t)
    raise AssertionError(name)


def call(impl, name, x, t, w=None, **kw):
    return getattr(impl, name)(x, t, w, **kw)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("n,k", LOSS_SHAPES)
@pytest.mark.parametrize("name,kind", LOSS_CASES, ids=LOSS_IDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_loss_against_reference(rng, dtype, name, kind, n, k, weighted):
    x, t, w = make_case(rng, name, kind, n, k, dtype, weighted)
    inputs = [a.copy() if a is not None else None for a in (x, t, w)]
    sample_loss = nan_like(n, dtype)
    loss, grad = call(K, name, x, t, w, sample_loss=sample_loss)
    for before, after in zip(inputs, (x, t, w)):
        if before is not None:
            np.testing.assert_array_equal(before, after, err_msg="input modified")
    assert type(loss) is float
    assert isinstance(grad, np.ndarray) and grad.shape == (n, k) and grad.dtype == dtype
    rsl = nan_like(n, dtype)
    rloss, rgrad = call(R, name, x, t, w, sample_loss=rsl)
    terms_sl, terms_loss, terms_grad = loss_terms(name, x, t, w)
    assert_close(loss, rloss, dtype, k=k, terms=terms_loss, what="loss")
    assert_close(grad, rgrad, dtype, k=k, terms=terms_grad, what="grad")
    assert_close(sample_loss, rsl, dtype, k=k, terms=terms_sl, what="sample_loss")

    # independent float64 formulas from the spec
    l64 = loss_per_sample64(name, x, t)
    if w is None:
        c = np.full(n, 1.0 / n)
    else:
        c = w.astype(np.float64) / w.astype(np.float64).sum()
    assert_close(sample_loss, l64, dtype, k=k, terms=terms_sl, what="sample_loss vs float64")
    assert_close(loss, float(c @ l64), dtype, k=k, terms=terms_loss, what="loss vs float64")
    assert_close(grad, grad64(name, x, t, c), dtype, k=k, terms=terms_grad, what="grad vs float64")


@pytest.mark.parametrize("name,kind", LOSS_CASES, ids=LOSS_IDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_loss_grad_false_and_outputs(rng, dtype, name, kind):
    n, k = 23, 5
    x, t, w = make_case(rng, name, kind, n, k, dtype, True)
    loss, grad = call(K, name, x, t, w)
    loss2, none = call(K, name, x, t, w, grad=False)
    assert none is None
    assert_close(loss2, loss, dtype, k=k)
    gname = GRAD_NAME[name]
    out = nan_like((n, k), dtype)
    sl = nan_like(n, dtype)
    loss3, g3 = call(K, name, x, t, w, **{gname: out}, sample_loss=sl)
    assert g3 is out
    assert_close(out, grad, dtype, k=k)
    assert_close(loss3, loss, dtype, k=k)
    assert np.all(np.isfinite(sl))
    # sample_loss is unweighted: the same with and without weights
    sl_unweighted = nan_like(n, dtype)
    loss_unweighted, _ = call(K, name, x, t, None, grad=False, sample_loss=sl_unweighted)
    assert_close(sl, sl_unweighted, dtype, k=k)
    assert_close(loss_unweighted, float(np.mean(sl_unweighted.astype(np.float64))), dtype, k=k)


@pytest.mark.parametrize("name,kind", LOSS_CASES, ids=LOSS_IDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_loss_uniform_weights_equal_unweighted(rng, dtype, name, kind):
    n, k = 17, 4
    x, t, _ = make_case(rng, name, kind, n, k, dtype, False)
    w = np.full(n, 2.5, dtype)
    lw, gw = call(K, name, x, t, w)
    lu, gu = call(K, name, x, t)
    assert_close(lw, lu, dtype, k=k)
    assert_close(gw, gu, dtype, k=k)


@pytest.mark.parametrize("name,kind", LOSS_CASES, ids=LOSS_IDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_loss_integer_weights_equal_repeated_rows(rng, dtype, name, kind):
    n, k = 9, 3
    x, t, _ = make_case(rng, name, kind, n, k, dtype, False)
    counts = rng.integers(0, 4, size=n)
    counts[0] = 2
    w = counts.astype(dtype)
    lw, gw = call(K, name, x, t, w)
    idx = np.repeat(np.arange(n), counts)
    lr, gr = call(K, name, np.ascontiguousarray(x[idx]), np.ascontiguousarray(t[idx]))
    assert_close(lw, lr, dtype, k=k)
    # the repeated copies' gradients add up to the weighted row's gradient
    summed = np.zeros((n, k))
    np.add.at(summed, idx, gr.astype(np.float64))
    assert_close(gw, summed, dtype, k=k)
    # zero-weight rows have a zero gradient
    assert np.all(gw[counts == 0] == 0)


@pytest.mark.parametrize(
    "label_dtype",
    [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64, np.intp],
)
@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_cross_entropy_label_dtypes(rng, dtype, label_dtype):
    n, k = 29, 7
    x = randn(rng, (n, k), dtype)
    labels = rng.integers(0, k, size=n)
    loss64, grad64_ = K.softmax_cross_entropy(x, labels.astype(np.int64))
    loss, grad = K.softmax_cross_entropy(x, labels.astype(label_dtype))
    assert loss == loss64
    np.testing.assert_array_equal(grad, grad64_)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_cross_entropy_onehot_equals_labels(rng, dtype, weighted):
    n, k = 31, 9
    x = randn(rng, (n, k), dtype, 3.0)
    labels = rng.integers(0, k, size=n)
    onehot = np.eye(k, dtype=dtype)[labels]
    w = rand(rng, (n,), dtype, 0.1, 1.0) if weighted else None
    for impl in (K, R):
        l1_, g1 = impl.softmax_cross_entropy(x, labels, w)
        l2, g2 = impl.softmax_cross_entropy(x, onehot, w)
        assert_close(l1_, l2, dtype, k=k)
        assert_close(g1, g2, dtype, k=k)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_bce_known_values(dtype):
    x = np.array([[0.0, 0.0], [2.0, -3.0]], dtype)
    t = np.array([[1.0, 0.0], [1.0, 0.25]], dtype)
    loss, grad = K.sigmoid_binary_cross_entropy(x, t)
    l0 = 2 * np.log(2.0)
    l1_ = np.log1p(np.exp(-2.0)) + (0 + 0.25 * 3.0 + np.log1p(np.exp(-3.0)))
    assert_close(loss, (l0 + l1_) / 2, dtype)
    s = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    assert_close(grad, np.array([[-0.25, 0.25], [(s(2) - 1) / 2, (s(-3) - 0.25) / 2]]), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_hinge_and_l1_known_values(dtype):
    pred = np.array([[0.5, 2.0, -0.5]], dtype)
    y = np.array([[1.0, 1.0, 1.0]], dtype)
    loss, grad = K.hinge(pred, y)
    assert_close(loss, 0.5 + 0.0 + 1.5, dtype)
    assert_close(grad, np.array([[-1.0, 0.0, -1.0]]), dtype)
    loss, grad = K.l1(pred, y)
    assert_close(loss, 0.5 + 1.0 + 1.5, dtype)
    assert_close(grad, np.array([[-1.0, 1.0, -1.0]]), dtype)
    loss, grad = K.mse(pred, y)
    assert_close(loss, 0.5 * (0.25 + 1.0 + 2.25), dtype)
    assert_close(grad, np.array([[-0.5, 1.0, -1.5]]), dtype)


if given is not None:

    @given(
        case=st.sampled_from(LOSS_CASES),
        n=st.integers(1, 30),
        k=st.integers(1, 30),
        dtype=st.sampled_from(DTYPES),
        weighted=st.booleans(),
        scale=st.sampled_from([0.1, 1.0, 10.0, 100.0]),
        seed=st.integers(0, 2**32 - 1),
    )
    def test_loss_hypothesis(case, n, k, dtype, weighted, scale, seed):
        name, kind = case
        rng = np.random.default_rng(seed)
        x, t, w = make_case(rng, name, kind, n, k, dtype, weighted)
        if name not in ("l1", "hinge", "poisson"):  # poisson: exp(200) overflows float32
            x = (x * dtype(scale)).astype(dtype)
        sl, rsl = nan_like(n, dtype), nan_like(n, dtype)
        loss, grad = call(K, name, x, t, w, sample_loss=sl)
        rloss, rgrad = call(R, name, x, t, w, sample_loss=rsl)
        assert np.isfinite(loss) and np.all(np.isfinite(grad))
        terms_sl, terms_loss, terms_grad = loss_terms(name, x, t, w)
        assert_close(loss, rloss, dtype, k=k, terms=terms_loss, what="loss")
        assert_close(grad, rgrad, dtype, k=k, terms=terms_grad, what="grad")
        assert_close(sl, rsl, dtype, k=k, terms=terms_sl, what="sample_loss")


def test_softmax_cross_entropy_confident_row_float32():
    """Issue 14: a confident row's loss is log(1 + exp(-14.23)) = 6.6087e-07; the kernel
    gets it (log of a double sum); a float32 log(1 + tiny) would give 7.15e-07."""
    x = np.array([[7.6900477, -6.53966]], np.float32)
    labels, w = np.array([0]), np.array([0.5], np.float32)
    exact = float(np.log1p(np.exp(np.float64(x[0, 1]) - np.float64(x[0, 0]))))
    for impl in (K, R):
        loss, _ = impl.softmax_cross_entropy(x, labels, w)
        assert abs(loss - exact) <= 2**-24 * exact, (impl.__name__, loss, exact)


@pytest.mark.parametrize("dtype", DTYPES)
def test_poisson_threads_1_and_2_bitwise(rng, dtype):
    """Large enough to run on two threads: the same bits as one thread."""
    n, k = 4099, 33
    x, t, w = make_case(rng, "poisson", "counts", n, k, dtype, True)
    results = []
    for threads in (1, 2):
        with pynn.threads(threads):
            sl = nan_like(n, dtype)
            loss, grad = K.poisson(x, t, w, sample_loss=sl)
            results.append((loss, grad, sl, K.poisson(x, t, grad=False)[0]))
    (l1_, g1, s1, u1), (l2, g2, s2, u2) = results
    assert l1_ == l2 and u1 == u2
    np.testing.assert_array_equal(g1, g2)
    np.testing.assert_array_equal(s1, s2)


@pytest.mark.parametrize("dtype", DTYPES)
def test_poisson_known_values(dtype):
    """exp(z) - y + y log(y / exp(z)) per element: 0 at the optimum z = log y, exp(z) for
    y = 0; the gradient exp(z) - y over n."""
    z = np.array([[np.log(3.0), 0.0], [0.0, 1.0]], dtype)
    y = np.array([[3.0, 0.0], [2.0, 1.0]], dtype)
    sl = nan_like(2, dtype)
    loss, grad = K.poisson(z, y, sample_loss=sl)
    row0 = (np.exp(np.float64(z[0, 0])) - 3 + 3 * (np.log(3.0) - np.float64(z[0, 0]))) + 1.0
    row1 = (1.0 - 2.0 + 2.0 * np.log(2.0)) + (np.e - 1.0 - 1.0)
    assert_close(sl, np.array([row0, row1]), dtype)
    assert sl[0] <= 1.0 + 1e-6  # the first term is (near) 0 at the optimum
    assert_close(loss, (row0 + row1) / 2, dtype)
    expected = np.array([[np.exp(np.float64(z[0, 0])) - 3, 1.0], [1.0 - 2.0, np.e - 1.0]]) / 2
    assert_close(grad, expected, dtype)


@pytest.mark.parametrize("impl", [K, R], ids=["kernels", "reference"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_poisson_overflow_is_an_infinite_loss_not_nan(impl, dtype):
    """An exp that overflows gives loss and gradient +inf (never inf - inf = NaN), with y = 0
    or y > 0, and z = -inf with y > 0 too (a rate of 0 for a positive count); z = -inf with
    y = 0 is a loss of 0."""
    big = 800.0 if dtype == np.float64 else 100.0  # beyond exp's range in the dtype
    z = np.array([[big, 0.0], [np.inf, 0.0], [-np.inf, 0.0], [-np.inf, 0.0]], dtype)
    y = np.array([[2.0, 1.0], [0.0, 1.0], [2.0, 1.0], [0.0, 1.0]], dtype)
    sl = nan_like(4, dtype)
    loss, grad = impl.poisson(z, y, sample_loss=sl)
    assert loss == np.inf
    assert sl[0] == np.inf and sl[1] == np.inf and sl[2] == np.inf
    assert sl[3] == 0.0  # exp(-inf) = 0 for y = 0, and z = log 1 = 0 is the optimum
    assert grad[0, 0] == np.inf and grad[1, 0] == np.inf
    assert grad[2, 0] == dtype(-2.0 / 4) and grad[3, 0] == 0
    assert not np.isnan(grad).any() and not np.isnan(sl).any()


@pytest.mark.parametrize("impl", [K, R], ids=["kernels", "reference"])
@pytest.mark.parametrize("bad", [-1.0, np.nan, np.inf])
def test_poisson_target_must_be_finite_and_non_negative(impl, bad):
    z = np.zeros((2, 2))
    y = np.array([[1.0, 0.0], [bad, 2.0]])
    with pytest.raises(ValueError, match="target must be finite and non-negative"):
        impl.poisson(z, y)
