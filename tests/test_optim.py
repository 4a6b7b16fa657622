"""sgd_update and adam_update against pynn.reference and torch.optim (when installed)."""

import numpy as np
import pytest
from helpers import DTYPES, K, R, assert_close, nan_like, rand, randn

OPT_SHAPES = [(0,), (1,), (7,), (13, 17), (777,), (3, 5, 7)]

SGD_CONFIGS = [
    dict(lr=0.1),
    dict(lr=0.1, momentum=0.9),
    dict(lr=0.05, momentum=0.9, dampening=0.1),
    dict(lr=0.1, momentum=0.9, nesterov=True),
    dict(lr=0.1, weight_decay=0.01),
    dict(lr=0.3, momentum=0.5, dampening=0.5, weight_decay=0.1),
    dict(lr=0.01, momentum=0.99, nesterov=True, weight_decay=1e-3),
    dict(lr=0.0, momentum=0.9),
]
SGD_IDS = ["-".join(f"{k}={v}" for k, v in c.items()) for c in SGD_CONFIGS]

ADAM_CONFIGS = [
    dict(),
    dict(lr=1e-2),
    dict(lr=1e-2, weight_decay=0.1),
    dict(lr=1e-2, weight_decay=0.1, decoupled_weight_decay=True),
    dict(lr=3e-3, beta1=0.5, beta2=0.99, eps=1e-6),
    dict(lr=1e-2, beta1=0.0, beta2=0.0),
    dict(lr=0.1, beta1=0.8, beta2=0.9, eps=0.0, weight_decay=0.01, decoupled_weight_decay=True),
]
ADAM_IDS = ["-".join(f"{k}={v}" for k, v in c.items()) or "default" for c in ADAM_CONFIGS]

STEPS = 6


@pytest.mark.parametrize("shape", OPT_SHAPES, ids=str)
@pytest.mark.parametrize("config", SGD_CONFIGS, ids=SGD_IDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_sgd_against_reference(rng, dtype, config, shape):
    p0 = randn(rng, shape, dtype)
    p, rp = p0.copy(), p0.copy()
    uses_buf = config.get("momentum", 0) != 0
    buf = nan_like(shape, dtype) if uses_buf else None  # step 1 sets it: NaN must vanish
    rbuf = np.zeros(shape, dtype) if uses_buf else None
    for step in range(1, STEPS + 1):
        g = randn(rng, shape, dtype)
        g_copy = g.copy()
        assert K.sgd_update(p, g, buf, step=step, **config) is None
        R.sgd_update(rp, g, rbuf, step=step, **config)
        np.testing.assert_array_equal(g, g_copy, err_msg="grad modified")
        assert_close(p, rp, dtype, k=step, what=f"param at step {step}")
        if uses_buf:
            assert_close(buf, rbuf, dtype, k=step, what=f"momentum_buffer at step {step}")
    if config["lr"] == 0:
        np.testing.assert_array_equal(p, p0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sgd_plain_step_formula(rng, dtype):
    p = randn(rng, (101,), dtype)
    g = randn(rng, (101,), dtype)
    expected = p.astype(np.float64) - 0.25 * g.astype(np.float64)
    K.sgd_update(p, g, step=3, lr=0.25)  # a power of two: exact product
    assert_close(p, expected, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sgd_momentum_formula(rng, dtype):
    """Two steps of momentum, written out from the spec in float64."""
    mu, damp, lr, wd = 0.9, 0.2, 0.1, 0.05
    p = randn(rng, (50,), dtype)
    buf = np.zeros(50, dtype)
    g1, g2 = randn(rng, (50,), dtype), randn(rng, (50,), dtype)
    P = p.astype(np.float64)
    d = g1 + wd * P
    B = d
    P = P - lr * B
    K.sgd_update(p, g1, buf, step=1, lr=lr, momentum=mu, dampening=damp, weight_decay=wd)
    assert_close(buf, B, dtype, k=2)
    assert_close(p, P, dtype, k=2)
    d = g2 + wd * p.astype(np.float64)
    B = mu * buf.astype(np.float64) + (1 - damp) * d
    P = p.astype(np.float64) - lr * B
    K.sgd_update(p, g2, buf, step=2, lr=lr, momentum=mu, dampening=damp, weight_decay=wd)
    assert_close(buf, B, dtype, k=2)
    assert_close(p, P, dtype, k=2)


@pytest.mark.parametrize("shape", OPT_SHAPES, ids=str)
@pytest.mark.parametrize("config", ADAM_CONFIGS, ids=ADAM_IDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_adam_against_reference(rng, dtype, config, shape):
    p0 = randn(rng, shape, dtype)
    p, rp = p0.copy(), p0.copy()
    m, v = np.zeros(shape, dtype), np.zeros(shape, dtype)
    rm, rv = m.copy(), v.copy()
    for step in range(1, STEPS + 1):
        g = randn(rng, shape, dtype)
        g_copy = g.copy()
        assert K.adam_update(p, g, m, v, step=step, **config) is None
        R.adam_update(rp, g, rm, rv, step=step, **config)
        np.testing.assert_array_equal(g, g_copy, err_msg="grad modified")
        assert_close(m, rm, dtype, k=step, what=f"exp_avg at step {step}")
        assert_close(v, rv, dtype, k=step, what=f"exp_avg_sq at step {step}")
        assert_close(p, rp, dtype, k=step, what=f"param at step {step}")


@pytest.mark.parametrize("decoupled", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
def test_adam_first_step_formula(rng, dtype, decoupled):
    """Step 1 from zero moments, from the spec in float64: the bias corrections cancel."""
    lr, b1, b2, eps, wd = 0.01, 0.9, 0.999, 1e-8, 0.1
    p = randn(rng, (64,), dtype)
    g = randn(rng, (64,), dtype)
    P, G = p.astype(np.float64), g.astype(np.float64)
    if decoupled:
        P = P * (1 - lr * wd)
    else:
        G = G + wd * P
    m = (1 - b1) * G
    v = (1 - b2) * G * G
    P = P - (lr / (1 - b1)) * m / (np.sqrt(v) / np.sqrt(1 - b2) + eps)
    M, V = np.zeros(64, dtype), np.zeros(64, dtype)
    K.adam_update(
        p,
        g,
        M,
        V,
        step=1,
        lr=lr,
        beta1=b1,
        beta2=b2,
        eps=eps,
        weight_decay=wd,
        decoupled_weight_decay=decoupled,
    )
    assert_close(M, m, dtype, k=4)
    assert_close(V, v, dtype, k=4)
    assert_close(p, P, dtype, k=4)


@pytest.mark.parametrize("dtype", DTYPES)
def test_adam_late_step_bias_correction(rng, dtype):
    shape = (37,)
    p, m, v = (
        randn(rng, shape, dtype),
        rand(rng, shape, dtype) * 0.1,
        rand(rng, shape, dtype, 0.01, 0.1),
    )
    rp, rm, rv = p.copy(), m.copy(), v.copy()
    g = randn(rng, shape, dtype)
    for step in (1000, 10**6):
        K.adam_update(p, g, m, v, step=step, lr=1e-3)
        R.adam_update(rp, g, rm, rv, step=step, lr=1e-3)
        assert_close(p, rp, dtype)
        assert_close(m, rm, dtype)
        assert_close(v, rv, dtype)


# ---------------------------------------------------------------------------------------
# torch.optim, 50 steps
TORCH_STEPS = 50


def torch_run(torch, make_opt, p0, grads):
    p = torch.tensor(p0.copy(), requires_grad=True)
    opt = make_opt([p])
    for g in grads:
        p.grad = torch.from_numpy(g.copy())
        opt.step()
    return p.detach().numpy(), opt.state[p]


TORCH_SGD = [
    dict(lr=0.1),
    dict(lr=0.05, momentum=0.9),
    dict(lr=0.05, momentum=0.9, dampening=0.3),
    dict(lr=0.05, momentum=0.9, nesterov=True),
    dict(lr=0.05, momentum=0.8, weight_decay=0.01),
    dict(lr=0.02, momentum=0.9, nesterov=True, weight_decay=0.1),
]


@pytest.mark.parametrize(
    "config", TORCH_SGD, ids=["-".join(f"{k}={v}" for k, v in c.items()) for c in TORCH_SGD]
)
@pytest.mark.parametrize("dtype", DTYPES)
def test_sgd_against_torch(rng, dtype, config):
    torch = pytest.importorskip("torch")
    shape = (33, 17)
    p0 = randn(rng, shape, dtype)
    grads = [randn(rng, shape, dtype) for _ in range(TORCH_STEPS)]
    tp, state = torch_run(
        torch, lambda ps: torch.optim.SGD(ps, foreach=False, **config), p0, grads
    )
    p = p0.copy()
    mu = config.get("momentum", 0.0)
    buf = np.zeros(shape, dtype) if mu else None
    for step, g in enumerate(grads, 1):
        K.sgd_update(p, g, buf, step=step, **config)
    assert_close(p, tp, dtype, k=TORCH_STEPS, what="param vs torch")
    if mu:
        assert_close(
            buf,
            state["momentum_buffer"].numpy(),
            dtype,
            k=TORCH_STEPS,
            what="momentum_buffer vs torch",
        )


TORCH_ADAM = [
    ("Adam", dict(lr=1e-3)),
    ("Adam", dict(lr=1e-2, betas=(0.8, 0.99), eps=1e-6)),
    ("Adam", dict(lr=1e-2, weight_decay=0.05)),
    ("AdamW", dict(lr=1e-2)),  # torch's default weight_decay=0.01
    ("AdamW", dict(lr=3e-2, betas=(0.5, 0.9), weight_decay=0.2)),
]


@pytest.mark.parametrize(
    "which,config",
    TORCH_ADAM,
    ids=[w + "-" + "-".join(f"{k}={v}" for k, v in c.items()) for w, c in TORCH_ADAM],
)
@pytest.mark.parametrize("dtype", DTYPES)
def test_adam_against_torch(rng, dtype, which, config):
    torch = pytest.importorskip("torch")
    shape = (29, 13)
    p0 = randn(rng, shape, dtype)
    grads = [randn(rng, shape, dtype) for _ in range(TORCH_STEPS)]
    cls = getattr(torch.optim, which)
    tp, state = torch_run(
        torch, lambda ps: cls(ps, foreach=False, fused=False, **config), p0, grads
    )
    kw = dict(
        lr=config["lr"],
        eps=config.get("eps", 1e-8),
        weight_decay=config.get("weight_decay", 0.01 if which == "AdamW" else 0.0),
        decoupled_weight_decay=which == "AdamW",
    )
    if "betas" in config:
        kw["beta1"], kw["beta2"] = config["betas"]
    p = p0.copy()
    m, v = np.zeros(shape, dtype), np.zeros(shape, dtype)
    for step, g in enumerate(grads, 1):
        K.adam_update(p, g, m, v, step=step, **kw)
    assert_close(m, state["exp_avg"].numpy(), dtype, k=TORCH_STEPS, what="exp_avg vs torch")
    assert_close(v, state["exp_avg_sq"].numpy(), dtype, k=TORCH_STEPS, what="exp_avg_sq vs torch")
    assert_close(p, tp, dtype, k=TORCH_STEPS, what="param vs torch")


def test_reference_adam_rounds_eps_whatever_the_step_type():
    """The reference rounds eps to the dtype as the kernel (and torch) do, also when step
    is a NumPy integer (which once made it add eps in float64): here eps is 0 in float32,
    so a zero gradient gives 0/0 in both (a fuzz case found by hypothesis)."""
    hyper = dict(lr=0.0, beta1=0.0, beta2=0.0, eps=4.1e-288, weight_decay=0.0)
    results = []
    for update, step in (
        (R.adam_update, 3),
        (R.adam_update, np.int32(3)),
        (K.adam_update, np.int32(3)),
    ):
        param = np.float32([-0.92, 0.5])
        with np.errstate(all="ignore"):
            update(
                param,
                np.float32([-0.0, 1.0]),
                np.float32([0.9, 0.1]),
                np.float32([1.5, 0.2]),
                step=step,
                **hyper,
            )
        results.append(param)
    for param in results:
        assert np.isnan(param[0]) and param[1] == np.float32(0.5), results
