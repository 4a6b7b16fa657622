"""Sequential(backend="reference"): the same training on the plain-NumPy kernels.

In float64 the two backends do the same arithmetic up to the order of sums and fused
multiply-adds, a relative difference of ~1e-16 per operation; over the few dozen updates
trained here that stays below ~1e-14, so losses and parameters must agree to 1e-10
relative. A real difference (a missed term, a wrong index, a layer calling a kernel with
the wrong arguments, state updated in a different order) is orders of magnitude larger.

Also: training is deterministic (one random_state, one result, bitwise), independent of
the thread count (bitwise), and the reference model really runs pynn.reference.
"""

import numpy as np
import pynn._kernels as K
import pytest

import pynn
import pynn.reference as R
from pynn import (
    ELU,
    SGD,
    Adam,
    AdamW,
    Dense,
    LeakyReLU,
    Maxout,
    PReLU,
    ReLU,
    Sequential,
    Sigmoid,
    Softplus,
    StepLR,
    Tanh,
)

F64 = np.float64
RTOL = 1e-10
ATOL = 1e-12  # parameters and losses are O(0.01 .. 1); this only matters for values near 0
N, N_IN = 53, 5  # validation_split 0.2 keeps 43 rows: batches of 16, 16 and a remainder of 11

ARCHITECTURES = {
    "relu-tanh-sigmoid": lambda k: (
        Dense(N_IN, 8, "relu"),
        Dense(8, 6, "tanh"),
        Dense(6, 5, "sigmoid"),
        Dense(5, k),
    ),
    "prelu-maxout": lambda k: (
        Dense(N_IN, 8),
        PReLU(8),
        Maxout(8, 6, 3),
        PReLU(),
        Dense(6, k, bias=False),
    ),
    "separate-activations": lambda k: (
        Dense(N_IN, 8),
        ReLU(),
        Dense(8, 6, "elu", bias=False, activation_param=0.5),
        LeakyReLU(0.1),
        Dense(6, 4),
        Softplus(),
        ELU(),
        Dense(4, k),
    ),
    "activation-first": lambda k: (
        Tanh(),
        PReLU(),
        Dense(N_IN, 6, "leaky_relu", activation_param=-0.2),
        Maxout(6, 4, 1),
        Sigmoid(),
        Dense(4, k, "softplus"),
    ),
}

OPTIMIZERS = {
    "sgd-momentum": lambda: SGD(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=1e-3),
    "sgd-nesterov": lambda: SGD(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
    "adam": lambda: Adam(lr=0.01, weight_decay=1e-3),
    "adamw": lambda: AdamW(lr=0.01, weight_decay=1e-2),
}

# (loss, kind of y, outputs)
LOSSES = (
    ("mse", "values", 2),
    ("l1", "values", 2),
    ("binary_cross_entropy", "binary", 1),
    ("binary_cross_entropy", "indicator", 3),
    ("softmax_cross_entropy", "labels", 3),
    ("softmax_cross_entropy", "probabilities", 3),
    ("hinge", "binary", 1),
)


def make_data(kind, k, n=N, n_in=N_IN, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, n_in))
    if kind == "values":
        y = X[:, :k] * 0.5 - X[:, 1 : k + 1] ** 2 + 0.1 * rng.standard_normal((n, k))
    elif kind == "binary":
        y = (X[:, 0] + X[:, 1] ** 2 > 0.5).astype(int)
    elif kind == "indicator":
        y = (X[:, :k] + 0.3 * X[:, 1 : k + 1] > 0).astype(int)
    elif kind == "labels":
        y = np.digitize(X[:, 0] - X[:, 2], [-0.5, 0.5])
    else:  # probabilities
        logits = X[:, :k] - X[:, 1 : k + 1]
        y = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return X, y


def train(backend, arch, loss, kind, k, optimizer, dtype=F64, **fit_args):
    X, y = make_data(kind, k)
    model = Sequential(*ARCHITECTURES[arch](k), dtype=dtype, backend=backend, random_state=3)
    args = dict(
        loss=loss,
        optimizer=OPTIMIZERS[optimizer](),
        epochs=4,
        batch_size=16,
        shuffle=True,
        validation_split=0.2,
        random_state=7,
    )
    args.update(fit_args)
    return model.fit(X, y, **args)


def assert_same_training(a, b, rtol, atol):
    assert set(a.history_) == set(b.history_)
    for key in a.history_:
        if key == "time":
            continue
        if key.endswith("accuracy"):  # counts of correct rows: equal unless a logit ties
            assert a.history_[key] == b.history_[key], key
        else:
            np.testing.assert_allclose(
                a.history_[key], b.history_[key], rtol=rtol, atol=atol, err_msg=key
            )
    np.testing.assert_allclose(
        a.flat_params, b.flat_params, rtol=rtol, atol=atol, err_msg="flat_params"
    )


@pytest.mark.parametrize("loss,kind,k", LOSSES, ids=[f"{c[0]}-{c[1]}" for c in LOSSES])
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_backends_agree_in_float64(arch, optimizer, loss, kind, k):
    c = train("c", arch, loss, kind, k, optimizer)
    ref = train("reference", arch, loss, kind, k, optimizer)
    assert c.backend == "c" and ref.backend == "reference"
    assert len(c.history_["loss"]) == 4 and "val_loss" in c.history_
    untrained = train("c", arch, loss, kind, k, optimizer, epochs=0)
    assert np.max(np.abs(c.flat_params - untrained.flat_params)) > 1e-3  # it did train
    assert_same_training(c, ref, RTOL, ATOL)


@pytest.mark.parametrize(
    "batch_size,shuffle",
    [(1, True), (None, False), (10, False)],
    ids=["online", "full-batch", "unshuffled"],
)
def test_backends_agree_for_other_batchings(batch_size, shuffle):
    runs = [
        train(
            backend,
            "prelu-maxout",
            "softmax_cross_entropy",
            "labels",
            3,
            "adam",
            batch_size=batch_size,
            shuffle=shuffle,
            epochs=2,
            lr_scheduler=StepLR(1, gamma=0.5),
            validation_split=0.0,
            validation_data=make_data("labels", 3, n=20, seed=1),
        )
        for backend in ("c", "reference")
    ]
    assert_same_training(*runs, RTOL, ATOL)


def test_backends_agree_after_partial_fit_and_in_predictions():
    X, y = make_data("labels", 3)
    models = []
    for backend in ("c", "reference"):
        model = Sequential(
            *ARCHITECTURES["separate-activations"](3), dtype=F64, backend=backend, random_state=5
        )
        model.fit(X, y, loss="softmax_cross_entropy", optimizer=OPTIMIZERS["adamw"](), epochs=2)
        model.partial_fit(X, y, epochs=2)  # warm start: same optimizer state continues
        models.append(model)
    c, ref = models
    assert_same_training(c, ref, RTOL, ATOL)
    np.testing.assert_allclose(c.predict_proba(X), ref.predict_proba(X), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(c.evaluate(X, y)["loss"], ref.evaluate(X, y)["loss"], rtol=RTOL)


@pytest.mark.parametrize("optimizer", ["sgd-nesterov", "adam"])
def test_backends_agree_approximately_in_float32(optimizer):
    """float32 rounds each operation to ~6e-8 relative, and the backends sum in different
    orders (the C GEMM in blocks with FMA, NumPy pairwise or through BLAS), so their
    results differ by a few ulp per operation, and through the training steps (each
    update reads every parameter's rounding) by ~1e-7 in the parameters and losses here
    (measured: 1.2e-7 absolute, 3e-8 relative). 1e-5 relative and 1e-6 absolute leave a
    margin of 10 and still catch any real difference, which is 1e-3 or more after a few
    steps."""
    runs = [
        train(
            backend,
            "prelu-maxout",
            "softmax_cross_entropy",
            "labels",
            3,
            optimizer,
            dtype=np.float32,
            epochs=3,
        )
        for backend in ("c", "reference")
    ]
    assert all(m.flat_params.dtype == np.float32 for m in runs)
    assert_same_training(*runs, rtol=1e-5, atol=1e-6)


# ---- the reference model runs pynn.reference, the C model pynn._kernels ---------------------
def test_each_backend_runs_its_own_kernels(monkeypatch):
    calls = {"c": 0, "reference": 0}
    names = (
        "dense_forward",
        "dense_backward",
        "prelu_forward",
        "prelu_backward",
        "activation_forward",
        "activation_backward",
        "softmax_cross_entropy",
        "adam_update",
    )
    for module, key in ((K, "c"), (R, "reference")):
        for name in names:

            def counted(*args, _original=getattr(module, name), _key=key, **kwargs):
                calls[_key] += 1
                return _original(*args, **kwargs)

            monkeypatch.setattr(module, name, counted)
    X, y = make_data("labels", 3)
    for backend in ("reference", "c"):
        before = dict(calls)
        model = Sequential(
            *ARCHITECTURES["separate-activations"](3)[:2],
            Dense(8, 3),
            PReLU(),
            dtype=F64,
            backend=backend,
            random_state=0,
        )
        model.fit(X, y, loss="softmax_cross_entropy", epochs=1, batch_size=None)
        other = "c" if backend == "reference" else "reference"
        # reference: its network twin calls forward, backward, loss kernels, then the
        # update; c: the network's step is one C call (not a kernel of this module), then
        # the update
        assert calls[backend] - before[backend] >= (8 if backend == "reference" else 1)
        assert calls[other] == before[other], f"{backend} model called {other} kernels"


# ---- determinism ---------------------------------------------------------------------------
def history_without_time(model):
    return {k: v for k, v in model.history_.items() if k != "time"}


@pytest.mark.parametrize("backend", ["c", "reference"])
def test_same_random_state_gives_bitwise_identical_training(backend):
    a = train(backend, "prelu-maxout", "mse", "values", 2, "adam")
    b = train(backend, "prelu-maxout", "mse", "values", 2, "adam")
    assert a.flat_params.tobytes() == b.flat_params.tobytes()
    assert history_without_time(a) == history_without_time(b)
    c = train(backend, "prelu-maxout", "mse", "values", 2, "adam", random_state=8)
    assert not np.array_equal(a.flat_params, c.flat_params)
    assert history_without_time(a)["loss"] != history_without_time(c)["loss"]


def test_different_model_random_state_gives_different_initial_parameters():
    a = Sequential(Dense(N_IN, 4), dtype=F64, random_state=1)
    b = Sequential(Dense(N_IN, 4), dtype=F64, random_state=2)
    c = Sequential(Dense(N_IN, 4), dtype=F64, backend="reference", random_state=1)
    assert not np.array_equal(a.flat_params, b.flat_params)
    assert a.flat_params.tobytes() == c.flat_params.tobytes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_thread_count_does_not_change_results(restore_threads, dtype):
    """Large enough that the kernels really split work (csrc/parallel.h runs problems of
    more than 32768 multiply-adds on several threads): batches of 128 x 24 x 64."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((320, 24))
    y = (X[:, :3] @ rng.standard_normal((3, 3))).argmax(axis=1)
    results = []
    for threads in (1, 2):
        pynn.set_num_threads(threads)
        assert pynn.get_num_threads() == threads
        model = Sequential(
            Dense(24, 64, "relu"),
            Maxout(64, 32, 2),
            PReLU(32),
            Dense(32, 3),
            dtype=dtype,
            random_state=0,
        )
        model.fit(
            X,
            y,
            loss="softmax_cross_entropy",
            optimizer=Adam(lr=0.01),
            epochs=2,
            batch_size=128,
            validation_split=0.2,
        )
        results.append(
            (
                model.flat_params.tobytes(),
                history_without_time(model),
                model.decision_function(X).tobytes(),
            )
        )
    assert results[0] == results[1]
