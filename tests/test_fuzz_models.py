"""Fuzzing the layers through small models (issue 8, robustness).

Random stacks of Standardize, Dense, Maxout, PReLU and activation layers, in float32 or
float64, run on the C backend and on the reference backend with the same parameters:
the outputs, losses and gradients must match. Then fit, predict and evaluate get bad X
and y (wrong types, dtypes, shapes, widths, layouts, NaN and infinity, wrong label
types and values): each call either raises TypeError/ValueError naming X or y, the same
on both backends, or succeeds on both with matching results.

EXAMPLES gives each test's number of examples; tests/test_fuzz.py's EXAMPLES the rest.
"""

import re
import warnings

import numpy as np
import pytest
from helpers import arg, assert_close, fuzz_decorator

import pynn
from pynn import layers as L

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

EXAMPLES = {}  # test name -> examples per run (hypothesis max_examples)
fuzz = fuzz_decorator(EXAMPLES)


LOSSES = ("mse", "l1", "binary_cross_entropy", "softmax_cross_entropy", "hinge")
ACTIVATIONS = (
    ("relu", None),
    ("tanh", None),
    ("sigmoid", None),
    ("leaky_relu", 0.2),
    ("leaky_relu", -0.3),
    ("softplus", None),
    ("elu", 0.5),
    ("identity", None),
)


@st.composite
def architectures(draw):
    """A list of layer configs (layer_from_config) and its input and output widths."""
    width = draw(st.integers(1, 6))
    configs = []
    if draw(st.booleans()):
        mean = draw(st.lists(st.floats(-3, 3), min_size=width, max_size=width))
        scale = draw(st.lists(st.floats(0.1, 4), min_size=width, max_size=width))
        configs.append({"type": "Standardize", "mean": mean, "scale": scale})
    n_in = width
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(("Dense", "Maxout", "PReLU", "Activation")))
        out = draw(st.integers(1, 6))
        name, param = draw(st.sampled_from(ACTIVATIONS))
        if kind == "Dense" or (not configs and kind in ("PReLU", "Activation")):
            configs.append(
                {
                    "type": "Dense",
                    "in_features": width,
                    "out_features": out,
                    "activation": name,
                    "activation_param": param,
                    "bias": draw(st.booleans()),
                    "init": None,
                }
            )
            width = out
        elif kind == "Maxout":
            configs.append(
                {
                    "type": "Maxout",
                    "in_features": width,
                    "out_features": out,
                    "pieces": draw(st.integers(1, 3)),
                    "bias": draw(st.booleans()),
                    "init": "glorot_uniform",
                }
            )
            width = out
        elif kind == "PReLU":
            configs.append(
                {
                    "type": "PReLU",
                    "num_parameters": draw(st.sampled_from((1, width))),
                    "init": draw(st.floats(-0.5, 0.5)),
                }
            )
        else:
            configs.append({"type": "Activation", "activation": name, "param": param})
    n_out = draw(st.integers(1, 4))
    configs.append(
        {
            "type": "Dense",
            "in_features": width,
            "out_features": n_out,
            "activation": None,
            "activation_param": None,
            "bias": True,
            "init": None,
        }
    )
    return configs, n_in, n_out


def model_pair(configs, dtype, seed):
    """The same model on the C and the reference backend, with the same parameters."""
    c = pynn.Sequential(
        *[L.layer_from_config(cfg) for cfg in configs], dtype=dtype, backend="c", random_state=seed
    )
    r = pynn.Sequential(
        *[L.layer_from_config(cfg) for cfg in configs],
        dtype=dtype,
        backend="reference",
        random_state=seed,
    )
    r.load_state_dict(c.state_dict())
    return c, r


def make_y(rng, loss, n, n_out):
    """Valid training targets for the loss and the model's output count."""
    if loss in ("mse", "l1"):
        return (
            rng.normal(size=(n, n_out)) if n_out > 1 or rng.random() < 0.5 else rng.normal(size=n)
        )
    if loss == "softmax_cross_entropy":
        if rng.random() < 0.3:
            return rng.dirichlet(np.ones(n_out), size=n)
        labels = np.arange(n) % n_out  # every class present
        return rng.permutation(labels) if n >= n_out else labels
    if n_out == 1:
        return np.where(np.arange(n) % 2 == 0, "no", "yes")  # two classes
    y = rng.integers(0, 2, (n, n_out))
    return 2 * y - 1 if loss == "hinge" and rng.random() < 0.5 else y


@fuzz(300)
@given(
    arch=architectures(),
    dtype=st.sampled_from((np.float32, np.float64)),
    loss=st.sampled_from(LOSSES),
    n=st.integers(1, 9),
    seed=st.integers(0, 2**31),
)
def test_fuzz_model_forward_and_gradients(arch, dtype, loss, n, seed):
    """Forward, loss and every parameter gradient: C backend == reference backend."""
    configs, n_in, n_out = arch
    rng = np.random.default_rng(seed)
    y = make_y(rng, loss, n, n_out)
    if loss == "softmax_cross_entropy" and y.ndim == 1 and n < n_out:
        return  # not every class in y: fit would need classes=
    if loss in ("binary_cross_entropy", "hinge") and n_out == 1 and n < 2:
        return
    X = rng.uniform(-2, 2, (n, n_in))
    c, r = model_pair(configs, dtype, seed)
    for model in (c, r):
        model.fit(X, y, loss=loss, epochs=0)
    k = max(max(cfg.get("in_features", 1), cfg.get("out_features", 1)) for cfg in configs) * 3
    # Errors are measured against O(1) (floor=1): the data, parameters and intermediate
    # values are O(1), and a gradient that is small because an activation saturates (1 - a²
    # with a rounded near 1) is known only to within the rounding of those O(1) terms.
    assert_close(
        c.decision_function(X), r.decision_function(X), dtype, k=k, floor=1.0, what="forward"
    )
    target = c.targets_.encode(y, dtype)
    loss_c, loss_r = c.loss_and_grad(X, target), r.loss_and_grad(X, target)
    assert_close(loss_c, loss_r, dtype, k=k * n, floor=1.0, what="loss")
    for (name, g_c), (_, g_r) in zip(named_grads(c), named_grads(r)):
        assert_close(g_c, g_r, dtype, k=k * n, floor=1.0, what=f"gradient of {name}")


def named_grads(model):
    for i, layer in enumerate(model.layers):
        for name in sorted(getattr(layer, "grads", {}) or {}):
            yield f"{i}.{name}", layer.grads[name]


# ---- bad X and y -----------------------------------------------------------------------------
def bad_X(draw, rng, X, n_in):
    """X, possibly made wrong (or differently right), and whether it must be refused."""
    kind = draw(
        st.sampled_from(
            (
                "ok",
                "list",
                "int",
                "bool",
                "float16",
                "float32",
                "strings",
                "object",
                "1-D",
                "3-D",
                "width",
                "empty",
                "nan",
                "inf",
                "fortran",
                "strided",
                "readonly",
                "huge",
                "none",
                "dict",
                "ragged",
                "unaligned",
            )
        ),
        label="X kind",
    )
    if kind == "ok":
        return X, False
    if kind == "list":
        return X.tolist(), False
    if kind == "int":
        return np.round(X).astype(np.int32), False
    if kind == "bool":
        return X > 0, False
    if kind in ("float16", "float32"):
        return X.astype(kind), False
    if kind == "strings":
        return X.astype(str), True
    if kind == "object":
        return X.astype(object), True
    if kind == "1-D":
        return X[:, 0].copy(), True
    if kind == "3-D":
        return X[:, :, None].copy(), True
    if kind == "width":
        return np.hstack([X, X[:, :1]]) if draw(st.booleans()) or n_in == 1 else X[:, 1:], True
    if kind == "empty":
        return X[:0], True
    if kind in ("nan", "inf"):
        X = X.copy()
        X[rng.integers(X.shape[0]), rng.integers(X.shape[1])] = (
            np.nan if kind == "nan" else -np.inf
        )
        return X, True
    if kind == "fortran":
        return np.asfortranarray(X), False
    if kind == "strided":
        wide = np.repeat(X, 2, axis=1)
        return wide[:, ::2], False
    if kind == "unaligned":  # a view of a byte buffer at an odd offset: read through NumPy
        buffer = np.zeros(X.nbytes + 1, np.uint8)
        view = buffer[1:].view(X.dtype).reshape(X.shape)
        view[...] = X
        return view, False
    if kind == "readonly":
        X = X.copy()
        X.flags.writeable = False
        return X, False
    if kind == "huge":  # beyond float32's range: refused by a float32 model only
        X = X.copy()
        X[0, 0] = 1e39
        return X, None
    if kind == "ragged":
        rows = X.tolist()
        rows[0] = rows[0] + [1.0]
        return rows, True
    return (None if kind == "none" else {"X": X}), True


def bad_y(draw, rng, y, loss):
    kind = draw(
        st.sampled_from(
            (
                "ok",
                "ok",
                "list",
                "short",
                "long",
                "nan",
                "3-D",
                "strings",
                "float labels",
                "negative",
                "object",
                "none",
                "2-D column",
            )
        ),
        label="y kind",
    )
    if kind == "ok":
        return y
    if kind == "list":
        return y.tolist()
    if kind == "short":
        return y[:-1]
    if kind == "long":
        return np.concatenate([y, y[:1]])
    if kind == "nan":
        y = y.astype(float) if y.dtype.kind in "iuf" else y
        if y.dtype.kind == "f":
            y.flat[0] = np.nan
        return y
    if kind == "3-D":
        return y.reshape(y.shape + (1,) * (3 - y.ndim))
    if kind == "strings":
        return y.astype(str)
    if kind == "float labels":
        return y + 0.5 if y.dtype.kind in "iuf" else y
    if kind == "negative":
        return -y if y.dtype.kind in "iuf" else y
    if kind == "object":
        return np.array([object()] * len(y))
    if kind == "2-D column":
        return y.reshape(len(y), -1)[:, :1]
    return None


def outcome(call):
    """("ok", result), ("error", type, message) for TypeError/ValueError, or ("non-finite",
    message) when training stops on a non-finite loss (a valid but huge X: a float64 model
    fed 1e300), as documented."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ("ok", call())
    except (TypeError, ValueError) as error:
        return ("error", type(error), str(error))
    except pynn.NonFiniteLossError as error:
        return ("non-finite", str(error))


@fuzz(400)
@given(
    arch=architectures(),
    dtype=st.sampled_from((np.float32, np.float64)),
    loss=st.sampled_from(LOSSES),
    n=st.integers(2, 9),
    seed=st.integers(0, 2**31),
    data=st.data(),
)
def test_fuzz_fit_predict_with_bad_X_and_y(arch, dtype, loss, n, seed, data):
    """fit/predict/evaluate on bad X or y: the same TypeError/ValueError naming X or y on
    both backends, or matching results."""
    configs, n_in, n_out = arch
    rng = np.random.default_rng(seed)
    y = np.asarray(make_y(rng, loss, n, n_out))
    if loss == "softmax_cross_entropy" and y.ndim == 1 and n < n_out:
        return
    X = rng.uniform(-2, 2, (n, n_in))
    Xb, x_wrong = bad_X(data.draw, rng, X, n_in)
    if x_wrong is None:
        x_wrong = dtype == np.float32
    yb = bad_y(data.draw, rng, y, loss)
    c, r = model_pair(configs, dtype, seed)
    fit = dict(
        loss=loss,
        epochs=1,
        batch_size=data.draw(st.sampled_from((None, 1, 3))),
        optimizer=None,
        shuffle=False,
    )
    results = []
    for model in (c, r):
        fit["optimizer"] = pynn.SGD(lr=0.01)
        results.append(
            [
                outcome(lambda: model.fit(Xb, yb, **fit).flat_params.copy()),
                outcome(
                    lambda: model.fit(X, y, **dict(fit, epochs=0)) and model.decision_function(Xb)
                ),
                outcome(lambda: model.evaluate(X, yb)["loss"]),
                outcome(lambda: model.predict(Xb)),
            ]
        )
    for what, got_c, got_r in zip(("fit", "decision_function", "evaluate", "predict"), *results):
        assert got_c[0] == got_r[0], f"{what}: C backend {got_c}, reference {got_r}"
        hypothesis.event(f"{what}: {got_c[0]}")
        if got_c[0] == "non-finite":
            # both stop (the step may differ: near overflow, summation orders decide)
            assert what in ("fit", "decision_function") and got_r[0] == "non-finite", (
                got_c,
                got_r,
            )
            assert re.search(r"epoch \d+, step \d+", got_c[1]), got_c[1]
        elif got_c[0] == "error":
            assert got_c[1:] == got_r[1:], f"{what}: {got_c[1:]} != {got_r[1:]}"
            assert re.search(arg("X") + "|" + arg("y"), got_c[2]), f"{what}: {got_c[2]!r}"
        elif what == "predict":
            result_c, result_r = np.asarray(got_c[1]), np.asarray(got_r[1])
            if result_c.dtype.kind == "f":
                assert_close(
                    result_c,
                    result_r,
                    dtype,
                    k=64,
                    rtol=1e-3 if dtype == np.float32 else 1e-9,
                    what=what,
                )
        else:
            assert_close(
                got_c[1],
                got_r[1],
                dtype,
                k=64,
                rtol=1e-3 if dtype == np.float32 else 1e-9,
                what=what,
            )
    x_refused = results[0][1][0] == "error"
    assert x_refused == x_wrong, f"X refused: {x_refused}, expected {x_wrong}: {results[0][1]}"
