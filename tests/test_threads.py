"""Thread count: set/get, and bit-for-bit identical results for 1, 2 and 3 threads on
problems large enough for the kernels to go parallel."""

import os
import subprocess
import sys

import numpy as np
import pytest
from helpers import DTYPES, HANG_SECONDS, K, assert_bitwise_equal, rand, randn

import pynn

THREADS = (1, 2, 3)
pytestmark = pytest.mark.usefixtures("restore_threads")


def run_with_threads(fn):
    """fn() under each thread count; all results must be bitwise equal to the first."""
    results = []
    for t in THREADS:
        K.set_num_threads(t)
        assert K.get_num_threads() == t
        results.append(fn())
    return results


def assert_all_identical(results, what):
    first = results[0]
    for t, r in zip(THREADS[1:], results[1:]):
        if isinstance(first, tuple):
            assert len(r) == len(first)
            for i, (p, q) in enumerate(zip(r, first)):
                assert_bitwise_equal(p, q, f"{what}[{i}] with {t} threads vs 1")
        else:
            assert_bitwise_equal(r, first, f"{what} with {t} threads vs 1")


def test_set_get_num_threads():
    for t in (1, 2, 5):
        K.set_num_threads(t)
        assert K.get_num_threads() == t
    assert isinstance(K.threads_enabled(), bool)
    # re-exported by the package
    pynn.set_num_threads(2)
    assert pynn.get_num_threads() == 2 == K.get_num_threads()
    assert pynn.threads_enabled() == K.threads_enabled()


def _default_threads(env_value):
    env = dict(os.environ)
    env.pop("OMP_NUM_THREADS", None)
    if env_value is not None:
        env["OMP_NUM_THREADS"] = env_value
    # import the same pynn as this process (in-place build or installed), from a neutral cwd
    env["PYTHONPATH"] = os.path.dirname(os.path.dirname(os.path.abspath(pynn.__file__)))
    code = "import pynn._kernels as K; print(K.get_num_threads())"
    res = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=os.path.dirname(env["PYTHONPATH"]),
        capture_output=True,
        text=True,
        timeout=HANG_SECONDS,
    )
    assert res.returncode == 0, res.stderr
    return int(res.stdout.strip())


def test_default_num_threads():
    """Without set_num_threads: OMP_NUM_THREADS, else the cores this process may use."""
    if not K.threads_enabled():
        pytest.skip("built without threads")
    assert _default_threads("3") == 3
    assert _default_threads(None) == len(os.sched_getaffinity(0))


@pytest.mark.parametrize("trans", ["NN", "NT", "TN", "TT"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_gemm_deterministic(rng, dtype, trans):
    m, n, k = 300, 500, 257
    ta, tb = trans[0] == "T", trans[1] == "T"
    a = rand(rng, (k, m) if ta else (m, k), dtype)
    b = rand(rng, (n, k) if tb else (k, n), dtype)
    c0 = rand(rng, (m, n), dtype)

    def go():
        c = c0.copy()
        return K.gemm(a, b, c, alpha=0.7, beta=0.3, trans_a=ta, trans_b=tb)

    assert_all_identical(run_with_threads(go), "gemm")


@pytest.mark.parametrize("dtype", DTYPES)
def test_dense_forward_deterministic(rng, dtype):
    n, fin, fout = 300, 500, 129
    x = rand(rng, (n, fin), dtype)
    w = rand(rng, (fout, fin), dtype)
    b = rand(rng, (fout,), dtype)

    def go():
        z = np.empty((n, fout), dtype)
        return K.dense_forward(x, w, b, "softplus", z=z), z

    assert_all_identical(run_with_threads(go), "dense_forward")


@pytest.mark.parametrize("act,param", [("tanh", None), ("elu", 0.5)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_dense_backward_deterministic(rng, dtype, act, param):
    n, fin, fout = 500, 300, 131
    x = rand(rng, (n, fin), dtype)
    w = rand(rng, (fout, fin), dtype)
    z = rand(rng, (n, fout), dtype, -2, 2)
    a = K.activation_forward(z, act, param)
    dout = rand(rng, (n, fout), dtype)
    init_w = rand(rng, (fout, fin), dtype)
    init_b = rand(rng, (fout,), dtype)

    def go():
        plain = K.dense_backward(dout, x, w, act, param, a=a, z=z)
        dw, db = init_w.copy(), init_b.copy()
        given = K.dense_backward(
            dout, x, w, act, param, a=a, z=z, dweight=dw, dbias=db, input_grad=False
        )
        return plain + given

    assert_all_identical(run_with_threads(go), "dense_backward")


@pytest.mark.parametrize("dtype", DTYPES)
def test_activations_deterministic(rng, dtype):
    x = rand(rng, (300, 500), dtype, -4, 4)
    dout = rand(rng, (300, 500), dtype)

    def go():
        out = []
        for name in ("sigmoid", "tanh", "softplus", "elu"):
            a = K.activation_forward(x, name)
            out += [a, K.activation_backward(dout, name, a=a, z=x)]
        return tuple(out)

    assert_all_identical(run_with_threads(go), "activations")


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_deterministic(rng, dtype):
    x = randn(rng, (300, 500), dtype, 3.0)
    assert_all_identical(run_with_threads(lambda: (K.softmax(x), K.log_softmax(x))), "softmax")


LOSS_NAMES = [
    "softmax_cross_entropy",
    "softmax_cross_entropy_probs",
    "sigmoid_binary_cross_entropy",
    "mse",
    "l1",
    "hinge",
    "poisson",
]


@pytest.mark.parametrize("name", LOSS_NAMES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_losses_deterministic(rng, dtype, name):
    n, k = 3000, 50
    x = randn(rng, (n, k), dtype, 2.0)
    w = rand(rng, (n,), dtype, 0.0, 2.0)
    if name == "softmax_cross_entropy":
        t = rng.integers(0, k, size=n)
    elif name == "softmax_cross_entropy_probs":
        t = rng.dirichlet(np.ones(k), size=n).astype(dtype)
    elif name == "sigmoid_binary_cross_entropy":
        t = rng.uniform(0, 1, size=(n, k)).astype(dtype)
    elif name == "hinge":
        t = (2 * rng.integers(0, 2, size=(n, k)) - 1).astype(dtype)
    elif name == "poisson":
        t = rng.poisson(3.0, size=(n, k)).astype(dtype)
    else:
        t = rand(rng, (n, k), dtype)
    fn = getattr(K, name.replace("_probs", ""))

    def go():
        sl = np.empty(n, dtype)
        loss, grad = fn(x, t, w, sample_loss=sl)
        loss2, _ = fn(x, t, None, grad=False)
        return loss, grad, sl, loss2

    assert_all_identical(run_with_threads(go), name)


@pytest.mark.parametrize("shared", [False, True], ids=["per-feature", "shared"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_prelu_deterministic(rng, dtype, shared):
    n, f = 1000, 300
    x = rand(rng, (n, f), dtype)
    slope = rand(rng, (1,) if shared else (f,), dtype)
    dout = rand(rng, (n, f), dtype)

    def go():
        ds = np.ones(slope.shape, dtype)
        dx, _ = K.prelu_backward(dout, x, slope, dslope=ds)
        return K.prelu_forward(x, slope), dx, ds

    assert_all_identical(run_with_threads(go), "prelu")


@pytest.mark.parametrize("dtype", DTYPES)
def test_optimizers_deterministic(rng, dtype):
    size = 300 * 500
    p0 = randn(rng, (size,), dtype)
    grads = [randn(rng, (size,), dtype) for _ in range(3)]

    def go():
        p, buf = p0.copy(), np.zeros(size, dtype)
        q, m, v = p0.copy(), np.zeros(size, dtype), np.zeros(size, dtype)
        for step, g in enumerate(grads, 1):
            K.sgd_update(
                p, g, buf, step=step, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01
            )
            K.adam_update(
                q, g, m, v, step=step, lr=0.01, weight_decay=0.01, decoupled_weight_decay=True
            )
        return p, buf, q, m, v

    assert_all_identical(run_with_threads(go), "optimizers")


@pytest.mark.parametrize("dtype", DTYPES)
def test_concurrent_python_threads(rng, dtype):
    """Kernels release the GIL and keep no global mutable state: calls from several Python
    threads at once give the same bits as the same calls made one after another."""
    import threading

    K.set_num_threads(2)
    jobs = []
    for _ in range(4):
        x = rand(rng, (150, 200), dtype)
        w = rand(rng, (130, 200), dtype)
        b = rand(rng, (130,), dtype)
        y = rng.integers(0, 130, size=150)
        jobs.append((x, w, b, y))

    def work(x, w, b, y):
        z = np.empty((150, 130), dtype)
        a = K.dense_forward(x, w, b, "tanh", z=z)
        loss, g = K.softmax_cross_entropy(a, y)
        grads = K.dense_backward(g, x, w, "tanh", a=a)
        return (K.gemm(x, w, trans_b=True), a, z, g, loss) + grads

    serial = [work(*j) for j in jobs]
    results = [None] * len(jobs)
    errors = []

    def run(i):
        try:
            for _ in range(3):
                results[i] = work(*jobs[i])
                for j, (p, q) in enumerate(zip(results[i], serial[i])):
                    assert_bitwise_equal(p, q, f"job {i} result {j}, concurrent vs serial")
        except BaseException as e:  # reported below, in the main thread
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=HANG_SECONDS)
    assert not any(t.is_alive() for t in threads), "a thread hung (deadlock?)"
    assert not errors, errors[0]
    assert all(r is not None for r in results)
