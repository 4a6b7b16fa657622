"""DenseStackStep (the whole training step of a stack of Dense layers in one call) against
the same kernels called one by one (bitwise) and against pynn.reference's DenseStackStep;
fit's fast path against fit's step by layer, on both backends; and its argument checks."""

import copy

import numpy as np
import pytest

import pynn
import pynn.plans
from helpers import DIFF_ACT_CASES, DIFF_ACT_IDS, DTYPES, K, R, assert_bitwise_equal, \
    assert_close
from pynn import Dense, Sequential

# loss case -> (loss name for DenseStackStep, kernel of the per-layer run, its gradient keyword)
LOSS_CASES = {
    "softmax_labels": ("softmax_cross_entropy", "softmax_cross_entropy", "dlogits"),
    "softmax_probs": ("softmax_cross_entropy", "softmax_cross_entropy", "dlogits"),
    "bce": ("sigmoid_binary_cross_entropy", "sigmoid_binary_cross_entropy", "dlogits"),
    "mse": ("mse", "mse", "dpred"),
    "l1": ("l1", "l1", "dpred"),
    "hinge": ("hinge", "hinge", "dpred"),
}
# (batch n, rows of X, layer widths): 1, primes, tile edges, and one past the thread threshold
SHAPES = [(1, 3, (1, 1)), (7, 20, (13, 5, 3)), (32, 100, (64, 32, 10)),
          (131, 300, (97, 65, 17, 2)), (64, 64, (300, 200, 3))]


def make_targets(rng, case, rows, k, dtype):
    if case == "softmax_labels":
        return rng.integers(0, k, rows).astype(np.int64)
    if case == "softmax_probs":
        p = rng.random((rows, k))
        return (p / p.sum(1, keepdims=True)).astype(dtype)
    if case == "bce":
        return rng.random((rows, k)).astype(dtype)
    if case == "hinge":
        return rng.choice([-1.0, 1.0], (rows, k)).astype(dtype)
    return rng.standard_normal((rows, k)).astype(dtype)


class Stack:
    """The parameters and every buffer of one step, with one activation for the hidden
    layers and the identity on the last (the logits)."""

    def __init__(self, rng, dtype, n, widths, act, bias, case):
        self.dtype, self.n, self.case, self.act = dtype, n, case, act
        self.layers = []
        for i, (fin, fout) in enumerate(zip(widths[:-1], widths[1:])):
            name, param = act if i < len(widths) - 2 else ("identity", None)
            saves = R.activation_saves(name, param)
            self.layers.append({
                "weight": rng.uniform(-0.5, 0.5, (fout, fin)).astype(dtype),
                "bias": rng.uniform(-0.5, 0.5, fout).astype(dtype) if bias else None,
                "dweight": np.full((fout, fin), np.nan, dtype),
                "dbias": np.full(fout, np.nan, dtype) if bias else None,
                "activation": name, "param": param,
                "out": np.empty((n, fout), dtype),
                "z": np.empty((n, fout), dtype) if saves == "input" else None,
                "dx": np.empty((n, fin), dtype) if i > 0 else None})
        k = widths[-1]
        self.x = np.empty((n, widths[0]), dtype)
        self.target = np.empty(n, np.int64) if case == "softmax_labels" else \
            np.empty((n, k), dtype)
        self.dout = np.empty((n, k), dtype)
        self.sample_loss = np.empty(n, dtype)
        self.workspace = None

    def step(self, kernels=K):
        size = max(max(K.dense_forward_workspace_size(self.n, l["weight"].shape[1],
                                                      l["weight"].shape[0], self.dtype),
                       K.dense_backward_workspace_size(self.n, l["weight"].shape[1],
                                                       l["weight"].shape[0], self.dtype))
                   for l in self.layers)
        self.workspace = np.empty(size, self.dtype)
        return kernels.DenseStackStep(self.layers, LOSS_CASES[self.case][0], self.x,
                                      self.target, self.dout, self.sample_loss, self.workspace)


def by_layer(kernels, stack, X, rows, targets):
    """The step with one kernel call per stage: (loss, {name: gradient}, hits)."""
    x = X[rows]
    target = targets[rows]
    outs, zs = [], []
    h = x
    for layer in stack.layers:
        z = np.empty_like(layer["out"])
        h = kernels.dense_forward(h, layer["weight"], layer["bias"], layer["activation"],
                                  layer["param"], z=z)
        outs.append(h)
        zs.append(z)
    _, kernel, grad_name = LOSS_CASES[stack.case]
    loss, dout = getattr(kernels, kernel)(outs[-1], target, None, grad=True)
    grads = {}
    for i in range(len(stack.layers) - 1, -1, -1):
        layer = stack.layers[i]
        saves = R.activation_saves(layer["activation"], layer["param"])
        dw, db, dx = kernels.dense_backward(
            dout, x if i == 0 else outs[i - 1], layer["weight"], layer["activation"],
            layer["param"], a=outs[i] if saves == "output" else None,
            z=zs[i] if saves == "input" else None, bias=layer["bias"] is not None,
            input_grad=i > 0)
        grads[f"{i}.dweight"], grads[f"{i}.dbias"] = dw, db
        dout = dx
    hits = kernels.count_argmax_hits(outs[-1], target) if stack.case == "softmax_labels" \
        else None
    return loss, grads, hits


def step_grads(stack):
    grads = {}
    for i, layer in enumerate(stack.layers):
        grads[f"{i}.dweight"], grads[f"{i}.dbias"] = layer["dweight"], layer["dbias"]
    return grads


def assert_grads_equal(stack, expected):
    """The step's gradients are bitwise those expected (None where there is no bias)."""
    for name, grad in step_grads(stack).items():
        if grad is None:
            assert expected[name] is None
        else:
            assert_bitwise_equal(grad, expected[name])


def saved_grads(stack):
    return {k: None if v is None else v.copy() for k, v in step_grads(stack).items()}


# ---- the step against the kernels one by one ------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", LOSS_CASES)
@pytest.mark.parametrize("n, rows, widths", SHAPES)
def test_step_is_the_kernels_one_by_one(dtype, case, n, rows, widths):
    rng = np.random.default_rng(n * 31 + len(widths))
    stack = Stack(rng, dtype, n, widths, ("relu", None), True, case)
    X = rng.standard_normal((rows, widths[0])).astype(dtype)
    targets = make_targets(rng, case, rows, widths[-1], dtype)
    picked = rng.choice(rows, n, replace=n > rows).astype(np.int64)
    loss, hits = stack.step().run(X, picked, targets)
    expected_loss, expected, expected_hits = by_layer(K, stack, X, picked, targets)
    assert loss == expected_loss
    assert hits == expected_hits
    np.testing.assert_array_equal(stack.x, X[picked])
    assert_grads_equal(stack, expected)

    # and against the NumPy reference's step
    ref = copy.deepcopy(stack)
    ref_loss, ref_hits = ref.step(R).run(X, picked, targets)
    assert_close(loss, ref_loss, dtype, k=max(widths), what="loss")
    assert hits == ref_hits
    for name, grad in step_grads(stack).items():
        if grad is not None:
            assert_close(grad, step_grads(ref)[name], dtype, k=max(widths) * n, what=name)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("act", DIFF_ACT_CASES, ids=DIFF_ACT_IDS)
@pytest.mark.parametrize("bias", [True, False])
def test_every_activation_with_and_without_bias(dtype, act, bias):
    rng = np.random.default_rng(3)
    n, widths = 17, (13, 31, 7, 5)
    stack = Stack(rng, dtype, n, widths, act, bias, "softmax_labels")
    X = rng.standard_normal((40, widths[0])).astype(dtype)
    targets = make_targets(rng, "softmax_labels", 40, widths[-1], dtype)
    picked = rng.permutation(40)[:n].astype(np.int64)
    loss, hits = stack.step().run(X, picked, targets)
    expected_loss, expected, expected_hits = by_layer(K, stack, X, picked, targets)
    assert (loss, hits) == (expected_loss, expected_hits)
    assert_grads_equal(stack, expected)


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_gathered_batch_runs_as_the_same_batch_read_by_rows(dtype):
    rng = np.random.default_rng(5)
    stack = Stack(rng, dtype, 9, (6, 8, 4), ("tanh", None), True, "softmax_labels")
    X = rng.standard_normal((30, 6)).astype(dtype)
    targets = make_targets(rng, "softmax_labels", 30, 4, dtype)
    picked = rng.permutation(30)[:9].astype(np.int64)
    step = stack.step()
    by_rows = step.run(X, picked, targets)
    grads = saved_grads(stack)
    stack.x[...] = X[picked]
    stack.target[...] = targets[picked]
    assert step.run(None, None, None) == by_rows
    assert_grads_equal(stack, grads)


@pytest.mark.parametrize("dtype", DTYPES)
def test_results_do_not_depend_on_the_thread_count(dtype):
    rng = np.random.default_rng(7)
    n, widths = 129, (257, 130, 67, 10)
    X = rng.standard_normal((300, widths[0])).astype(dtype)
    targets = make_targets(rng, "softmax_labels", 300, widths[-1], dtype)
    picked = rng.permutation(300)[:n].astype(np.int64)
    results = []
    before = pynn.get_num_threads()
    try:
        for threads in (1, 2, 3):
            pynn.set_num_threads(threads)
            stack = Stack(np.random.default_rng(8), dtype, n, widths, ("relu", None), True,
                          "softmax_labels")
            value = stack.step().run(X, picked, targets)
            results.append((value, saved_grads(stack), stack))
    finally:
        pynn.set_num_threads(before)
    for value, _, stack in results[1:]:
        assert value == results[0][0]
        assert_grads_equal(stack, results[0][1])


def test_a_non_finite_loss_writes_no_gradient():
    rng = np.random.default_rng(9)
    stack = Stack(rng, np.float32, 4, (3, 5, 2), ("relu", None), True, "mse")
    X = rng.standard_normal((8, 3)).astype(np.float32)
    X[2, 1] = np.nan
    targets = make_targets(rng, "mse", 8, 2, np.float32)
    loss, hits = stack.step().run(X, np.array([0, 2, 4, 6]), targets)
    assert np.isnan(loss) and hits is None
    for grad in step_grads(stack).values():
        if grad is not None:
            assert np.isnan(grad).all()  # still the NaN the test filled them with


# ---- fit: the fast path against the step by layer --------------------------------------------
def fitted(X, y, dtype, loss, by_layer_only, monkeypatch, backend="c", **fit_args):
    with monkeypatch.context() as patch:
        if by_layer_only:
            patch.setattr(pynn.plans, "dense_stack_step", lambda model, plan: None)
        model = Sequential(Dense(X.shape[1], 16, activation="elu"), Dense(16, 9, "tanh"),
                           Dense(9, 3), dtype=dtype, backend=backend, random_state=0)
        model.fit(X, y, loss=loss, epochs=3, batch_size=13, validation_split=0.2, **fit_args)
        if not by_layer_only:
            assert model._plan(13).step is not None
    return model


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("x_dtype", [np.float32, np.float64, np.uint8])
@pytest.mark.parametrize("loss", ["softmax_cross_entropy", "binary_cross_entropy", "mse"])
def test_fit_trains_bitwise_as_the_step_by_layer(dtype, x_dtype, loss, monkeypatch):
    rng = np.random.default_rng(11)
    X = (rng.random((100, 6)) * 200).astype(x_dtype)
    if loss == "softmax_cross_entropy":
        y = rng.choice(["a", "b", "c"], 100)
    elif loss == "binary_cross_entropy":
        y = (rng.random((100, 3)) > 0.5).astype(int)
    else:
        y = rng.standard_normal((100, 3))
    X = X / 200 if x_dtype != np.uint8 else X
    fast = fitted(X, y, dtype, loss, False, monkeypatch)
    slow = fitted(X, y, dtype, loss, True, monkeypatch)
    assert_bitwise_equal(fast.flat_params, slow.flat_params)
    for key in ("loss", "val_loss", "accuracy" if loss != "mse" else "r2"):
        assert fast.history_[key] == slow.history_[key]


# ---- argument checks -------------------------------------------------------------------------
def good_stack(dtype=np.float32, case="softmax_labels"):
    return Stack(np.random.default_rng(0), dtype, 4, (3, 5, 2), ("softplus", None), True, case)


def test_construction_errors_name_the_argument():
    stack = good_stack()
    stack.step()
    args = lambda **change: {**dict(layers=stack.layers, loss="softmax_cross_entropy",  # noqa
                                    x=stack.x, target=stack.target, dout=stack.dout,
                                    sample_loss=stack.sample_loss,
                                    workspace=stack.workspace), **change}
    make = lambda **change: K.DenseStackStep(**args(**change))  # noqa: E731
    with pytest.raises(TypeError, match="layers must be a non-empty list"):
        make(layers=[])
    with pytest.raises(ValueError, match="loss must be one of"):
        make(loss="softmax")
    with pytest.raises(TypeError, match="x must have dtype float32 or float64"):
        make(x=np.zeros((4, 3), np.int32))
    with pytest.raises(TypeError, match=r"layers\[0\]\['weight'\] has dtype float64"):
        make(layers=[dict(stack.layers[0], weight=stack.layers[0]["weight"].astype(float)),
                     stack.layers[1]])
    with pytest.raises(ValueError, match=r"layers\[1\]\['weight'\] must have 5 columns"):
        make(layers=[stack.layers[0], dict(stack.layers[1], weight=np.zeros((2, 4),
                                                                             np.float32))])
    with pytest.raises(ValueError, match=r"layers\[0\]\['z'\] must be given exactly"):
        make(layers=[dict(stack.layers[0], z=None), stack.layers[1]])
    with pytest.raises(ValueError, match=r"layers\[0\]\['dx'\] must be None"):
        make(layers=[dict(stack.layers[0], dx=np.empty((4, 3), np.float32)), stack.layers[1]])
    with pytest.raises(ValueError, match=r"layers\[1\]: give both bias and dbias"):
        make(layers=[stack.layers[0], dict(stack.layers[1], dbias=None)])
    with pytest.raises(ValueError, match="is not differentiable"):
        make(layers=[stack.layers[0], dict(stack.layers[1], activation="step")])
    with pytest.raises(TypeError, match=r"layers\[0\] must be a dict with the keys"):
        make(layers=[{"weight": stack.layers[0]["weight"]}, stack.layers[1]])
    with pytest.raises(ValueError, match="dout must have shape"):
        make(dout=np.empty((4, 3), np.float32))
    with pytest.raises(ValueError, match="workspace must have at least"):
        make(workspace=np.empty(1, np.float32))
    with pytest.raises(TypeError, match="target must be int64 labels"):
        make(target=np.empty(4, np.int32))
    with pytest.raises(ValueError, match="target must have shape"):
        make(loss="mse", target=np.empty(4, np.float32))
    with pytest.raises(ValueError, match=r"layers\[1\]\['out'\] overlaps"):
        make(layers=[stack.layers[0], dict(stack.layers[1], out=stack.dout)])
    with pytest.raises(ValueError, match=r"overlaps layers\[0\]\['weight'\]"):
        make(dout=stack.layers[0]["weight"].reshape(-1)[:8].reshape(4, 2))
    read_only = stack.x.copy()
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match="x must be writeable"):
        make(x=read_only)


def test_run_errors_name_the_argument_and_write_nothing():
    stack = good_stack()
    step = stack.step()
    rng = np.random.default_rng(1)
    X = rng.standard_normal((10, 3)).astype(np.float32)
    labels = rng.integers(0, 2, 10)
    rows = np.arange(4)
    step.run(X, rows, labels)
    params = [stack.layers[i][name].copy() for i in (0, 1) for name in ("dweight", "dbias")]
    cases = [
        (dict(X=X.astype(np.float64)), TypeError, "X has dtype float64"),
        (dict(X=np.asfortranarray(X)), ValueError, "X must be C-contiguous"),
        (dict(X=X[:, :2].copy()), ValueError, "X must have 3 columns"),
        (dict(X=X.ravel()), ValueError, "X must be a 2-D array"),
        (dict(rows=rows.astype(np.int32)), TypeError, "rows must be a C-contiguous int64"),
        (dict(rows=np.arange(5)), ValueError, "rows must have shape"),
        (dict(rows=np.array([0, 1, 10, 2])), ValueError, r"rows must be in \[0, 10\), got 10"),
        (dict(rows=np.array([0, -1, 2, 3])), ValueError, r"rows must be in \[0, 10\), got -1"),
        (dict(targets=labels[:9]), ValueError, "targets must have shape"),
        (dict(targets=labels.astype(np.float32)), TypeError, "targets must be int64 labels"),
        (dict(targets=np.where(labels == 1, 2, labels)), ValueError,
         r"labels must be in \[0, 2\) for 2 classes, got 2 in row \d of targets"),
        (dict(X=None), ValueError, "give X, rows and targets together"),
        (dict(X=stack.x.reshape(-1)[:9].reshape(3, 3)), ValueError,
         "X overlaps a buffer the step writes"),
        (dict(targets=stack.target), ValueError, "targets must have shape"),
    ]
    for change, error, message in cases:
        call = {"X": X, "rows": rows, "targets": labels, **change}
        with pytest.raises(error, match=message):
            step.run(**call)
    for before, (i, name) in zip(params, [(i, n) for i in (0, 1) for n in ("dweight", "dbias")]):
        assert_bitwise_equal(stack.layers[i][name], before)


@pytest.mark.parametrize("case, bad, message", [
    ("bce", 1.5, r"targets must be in \[0, 1\], got 1.5 in row 7 of targets"),
    ("hinge", 0.0, "targets must be -1 or \\+1 for the hinge loss, got 0.0 in row 7 of targets"),
    ("softmax_probs", -0.5, "targets must be finite and non-negative, got -0.5 in row 7 of targets"),
])
def test_targets_outside_the_loss_domain_are_refused(case, bad, message):
    stack = good_stack(np.float64, case)
    step = stack.step()
    rng = np.random.default_rng(2)
    targets = make_targets(rng, case, 10, 2, np.float64)
    targets[7, 1] = bad
    X = rng.standard_normal((10, 3))
    with pytest.raises(ValueError, match=message):
        step.run(X, np.array([0, 1, 7, 3]), targets)


def test_a_bad_label_already_in_the_batch_names_its_sample():
    stack = good_stack()
    step = stack.step()
    stack.x[...] = 0
    stack.target[...] = [0, 5, 1, 0]
    with pytest.raises(ValueError, match=r"got 5 in sample 1"):
        step.run(None, None, None)


@pytest.mark.parametrize("dtype", DTYPES)
def test_the_reference_backend_takes_its_own_whole_step(dtype, monkeypatch):
    rng = np.random.default_rng(12)
    X = rng.random((60, 6)).astype(dtype)
    y = rng.integers(0, 3, 60)
    fast = fitted(X, y, dtype, "softmax_cross_entropy", False, monkeypatch, "reference")
    slow = fitted(X, y, dtype, "softmax_cross_entropy", True, monkeypatch, "reference")
    assert_bitwise_equal(fast.flat_params, slow.flat_params)
    assert fast.history_ == {**slow.history_, "time": fast.history_["time"]}
