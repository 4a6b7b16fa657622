"""Every error path of docs/kernels.md: pynn._kernels raises TypeError / ValueError naming the
argument, and no input, however wrong, crashes the interpreter."""

import types

import numpy as np
import pytest
from helpers import K, R, arg, assert_bitwise_equal, assert_close, workspace_size

f64, f32 = np.float64, np.float32
LOSSES = ["softmax_cross_entropy", "sigmoid_binary_cross_entropy", "mse", "l1", "hinge"]
GRAD_NAME = {
    "softmax_cross_entropy": "dlogits",
    "sigmoid_binary_cross_entropy": "dlogits",
    "mse": "dpred",
    "l1": "dpred",
    "hinge": "dpred",
}


def data():
    """Fresh, valid float64 arguments for every kernel (n=4, in=3, out=5)."""
    rng = np.random.default_rng(0)
    d = types.SimpleNamespace()
    d.x = rng.uniform(-1, 1, (4, 3))
    d.w = rng.uniform(-1, 1, (5, 3))
    d.b = rng.uniform(-1, 1, 5)
    d.z = rng.uniform(-1, 1, (4, 5))
    d.a = np.tanh(d.z)
    d.dout = rng.uniform(-1, 1, (4, 5))
    d.A = rng.uniform(-1, 1, (4, 3))
    d.B = rng.uniform(-1, 1, (3, 6))
    d.C = rng.uniform(-1, 1, (4, 6))
    d.S = rng.uniform(-1, 1, (4, 4))
    d.T = rng.uniform(-1, 1, (4, 4))
    d.logits = rng.uniform(-1, 1, (4, 3))
    d.labels = np.array([0, 2, 1, 2])
    d.probs = rng.dirichlet(np.ones(3), size=4)
    d.bits = rng.integers(0, 2, (4, 3)).astype(f64)
    d.pm1 = 2 * d.bits - 1
    d.sw = np.array([1.0, 0.5, 2.0, 0.0])
    d.slope = np.array([0.1, 0.2, -0.3])
    d.p = rng.uniform(-1, 1, 10)
    d.g = rng.uniform(-1, 1, 10)
    d.buf = np.zeros(10)
    d.m = np.zeros(10)
    d.v = np.zeros(10)
    return d


def target_for(d, name):
    return {
        "softmax_cross_entropy": d.labels,
        "sigmoid_binary_cross_entropy": d.probs,
        "mse": d.probs,
        "l1": d.probs,
        "hinge": d.pm1,
    }[name]


def readonly(a):
    a = a.copy()
    a.flags.writeable = False
    return a


def fortran(a):
    return np.asfortranarray(a)


def col_strided(a):
    """Same shape as a, but every other column of a wider array (not C-contiguous)."""
    wide = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)
    wide[..., ::2] = a
    return wide[..., ::2]


def E(id, fn, exc, name):
    """A case: fn(d) must raise exc with a message naming `name` (a regex alternative)."""
    return pytest.param(fn, exc, name, id=id)


def run_case(fn, exc, name):
    d = data()
    if name is None:
        with pytest.raises(exc):
            fn(d)
    else:
        pattern = "|".join(arg(n) for n in name.split("|"))
        with pytest.raises(exc, match=pattern):
            fn(d)


TE, VE = TypeError, ValueError
TVE = (TypeError, ValueError)

# ---------------------------------------------------------------------------------------
DTYPE_CASES = [
    E("act-int", lambda d: K.activation_forward(d.x.astype(np.int32), "relu"), TE, "x"),
    E("act-float16", lambda d: K.activation_forward(d.x.astype(np.float16), "relu"), TE, "x"),
    E("act-complex", lambda d: K.activation_forward(d.x.astype(complex), "relu"), TE, "x"),
    E("act-bool", lambda d: K.activation_forward(d.x > 0, "relu"), TE, "x"),
    E(
        "act-out-mixed",
        lambda d: K.activation_forward(d.x, "relu", out=np.empty((4, 3), f32)),
        TE,
        "out",
    ),
    E(
        "act-out-int",
        lambda d: K.activation_forward(d.x, "relu", out=np.empty((4, 3), int)),
        TE,
        "out",
    ),
    E("deriv-mixed", lambda d: K.activation_backward(d.dout, "tanh", a=d.a.astype(f32)), TE, "a"),
    E("gemm-b-mixed", lambda d: K.gemm(d.A, d.B.astype(f32)), TE, "b"),
    E("gemm-b-mixed32", lambda d: K.gemm(d.A.astype(f32), d.B), TE, "b"),
    E("gemm-c-mixed", lambda d: K.gemm(d.A, d.B, d.C.astype(f32), beta=1.0), TE, "c"),
    E("gemm-int", lambda d: K.gemm(d.A.astype(np.int64), d.B), TE, "a"),
    E(
        "gemm-ws-mixed",
        lambda d: K.gemm(d.A, d.B, workspace=np.empty(10**6, f32)),
        TE,
        "workspace",
    ),
    E("dense-weight-mixed", lambda d: K.dense_forward(d.x, d.w.astype(f32)), TE, "weight"),
    E("dense-bias-mixed", lambda d: K.dense_forward(d.x, d.w, d.b.astype(f32)), TE, "bias"),
    E("dense-z-mixed", lambda d: K.dense_forward(d.x, d.w, z=d.z.astype(f32)), TE, "z"),
    E("dense-out-mixed", lambda d: K.dense_forward(d.x, d.w, out=d.z.astype(f32)), TE, "out"),
    E("dense-x-int", lambda d: K.dense_forward(d.x.astype(int), d.w), TE, "x"),
    E("dback-dout-mixed", lambda d: K.dense_backward(d.dout.astype(f32), d.x, d.w), TE, "dout"),
    E(
        "dback-a-mixed",
        lambda d: K.dense_backward(d.dout, d.x, d.w, "tanh", a=d.a.astype(f32)),
        TE,
        "a",
    ),
    E(
        "dback-dweight-mixed",
        lambda d: K.dense_backward(d.dout, d.x, d.w, dweight=np.zeros((5, 3), f32)),
        TE,
        "dweight",
    ),
    E(
        "dback-dx-mixed",
        lambda d: K.dense_backward(d.dout, d.x, d.w, dx=np.zeros((4, 3), f32)),
        TE,
        "dx",
    ),
    E("softmax-int", lambda d: K.softmax(d.logits.astype(int)), TE, "x"),
    E(
        "logsoftmax-out-mixed",
        lambda d: K.log_softmax(d.logits, out=d.logits.astype(f32)),
        TE,
        "out",
    ),
    E(
        "ce-probs-mixed",
        lambda d: K.softmax_cross_entropy(d.logits, d.probs.astype(f32)),
        TE,
        "target",
    ),
    E(
        "ce-weight-mixed",
        lambda d: K.softmax_cross_entropy(d.logits, d.labels, d.sw.astype(f32)),
        TE,
        "sample_weight",
    ),
    E(
        "ce-float-labels",
        lambda d: K.softmax_cross_entropy(d.logits, d.labels.astype(f64)),
        TVE,
        "target",
    ),
    E(
        "ce-logits-int",
        lambda d: K.softmax_cross_entropy(d.logits.astype(int), d.labels),
        TE,
        "logits",
    ),
    E(
        "bce-int-target",
        lambda d: K.sigmoid_binary_cross_entropy(d.logits, d.bits.astype(int)),
        TE,
        "target",
    ),
    E("mse-target-mixed", lambda d: K.mse(d.logits, d.probs.astype(f32)), TE, "target"),
    E(
        "mse-dpred-mixed",
        lambda d: K.mse(d.logits, d.probs, dpred=d.probs.astype(f32)),
        TE,
        "dpred",
    ),
    E(
        "hinge-sample-loss-mixed",
        lambda d: K.hinge(d.logits, d.pm1, sample_loss=np.zeros(4, f32)),
        TE,
        "sample_loss",
    ),
    E("prelu-slope-mixed", lambda d: K.prelu_forward(d.x, d.slope.astype(f32)), TE, "slope"),
    E(
        "prelu-dslope-mixed",
        lambda d: K.prelu_backward(d.x, d.x, d.slope, dslope=np.zeros(3, f32)),
        TE,
        "dslope",
    ),
    E("sgd-grad-mixed", lambda d: K.sgd_update(d.p, d.g.astype(f32), step=1, lr=0.1), TE, "grad"),
    E(
        "sgd-buf-mixed",
        lambda d: K.sgd_update(d.p, d.g, d.buf.astype(f32), step=1, lr=0.1, momentum=0.9),
        TE,
        "momentum_buffer",
    ),
    E("sgd-param-int", lambda d: K.sgd_update(d.p.astype(int), d.g, step=1, lr=0.1), TE, "param"),
    E(
        "adam-m-mixed",
        lambda d: K.adam_update(d.p, d.g, d.m.astype(f32), d.v, step=1),
        TE,
        "exp_avg",
    ),
    E(
        "adam-v-mixed",
        lambda d: K.adam_update(d.p, d.g, d.m, d.v.astype(f32), step=1),
        TE,
        "exp_avg_sq",
    ),
]

LAYOUT_CASES = [
    E("act-x-colstride", lambda d: K.activation_forward(col_strided(d.x), "relu"), VE, "x"),
    E("act-x-fortran", lambda d: K.activation_forward(fortran(d.x), "relu"), VE, "x"),
    E("act-x-transposed", lambda d: K.activation_forward(d.x.T, "relu"), VE, "x"),
    E(
        "act-out-colstride",
        lambda d: K.activation_forward(d.x, "relu", out=col_strided(np.zeros((4, 3)))),
        VE,
        "out",
    ),
    E("deriv-a-fortran", lambda d: K.activation_derivative("tanh", a=fortran(d.a)), VE, "a"),
    E("gemm-a-colstride", lambda d: K.gemm(col_strided(d.A), d.B), VE, "a"),
    E("gemm-b-colstride", lambda d: K.gemm(d.A, col_strided(d.B)), VE, "b"),
    E("gemm-a-fortran", lambda d: K.gemm(fortran(d.A), d.B), VE, "a"),
    E("gemm-c-fortran", lambda d: K.gemm(d.A, d.B, fortran(d.C), beta=1.0), VE, "c"),
    E("gemm-c-colstride", lambda d: K.gemm(d.A, d.B, col_strided(d.C), beta=1.0), VE, "c"),
    E("dense-x-slice", lambda d: K.dense_forward(np.zeros((4, 6))[:, :3], d.w), VE, "x"),
    E("dense-x-fortran", lambda d: K.dense_forward(fortran(d.x), d.w), VE, "x"),
    E("dense-weight-fortran", lambda d: K.dense_forward(d.x, fortran(d.w)), VE, "weight"),
    E("dense-bias-strided", lambda d: K.dense_forward(d.x, d.w, np.zeros(10)[::2]), VE, "bias"),
    E(
        "dense-out-strided",
        lambda d: K.dense_forward(d.x, d.w, out=np.zeros((8, 5))[::2]),
        VE,
        "out",
    ),
    E("dback-dout-strided", lambda d: K.dense_backward(col_strided(d.dout), d.x, d.w), VE, "dout"),
    E(
        "dback-z-strided",
        lambda d: K.dense_backward(d.dout, d.x, d.w, "elu", z=col_strided(d.z)),
        VE,
        "z",
    ),
    E(
        "dback-dx-fortran",
        lambda d: K.dense_backward(d.dout, d.x, d.w, dx=fortran(np.zeros((4, 3)))),
        VE,
        "dx",
    ),
    E("softmax-rowstride", lambda d: K.softmax(np.zeros((8, 3))[::2]), VE, "x"),
    E("mse-pred-fortran", lambda d: K.mse(fortran(d.logits), d.probs), VE, "pred"),
    E("mse-target-strided", lambda d: K.mse(d.logits, col_strided(d.probs)), VE, "target"),
    E(
        "ce-weight-strided",
        lambda d: K.softmax_cross_entropy(d.logits, d.labels, np.ones(8)[::2]),
        VE,
        "sample_weight",
    ),
    E("prelu-slope-strided", lambda d: K.prelu_forward(d.x, np.ones(6)[::2]), VE, "slope"),
    E(
        "sgd-param-strided",
        lambda d: K.sgd_update(np.zeros(20)[::2], d.g, step=1, lr=0.1),
        VE,
        "param",
    ),
    E(
        "adam-v-strided",
        lambda d: K.adam_update(d.p, d.g, d.m, np.zeros(20)[::2], step=1),
        VE,
        "exp_avg_sq",
    ),
]

SHAPE_CASES = [
    E("gemm-inner", lambda d: K.gemm(d.A, np.zeros((4, 6))), VE, "b"),
    E("gemm-inner-trans", lambda d: K.gemm(d.A, d.B, trans_a=True), VE, "b|a"),
    E("gemm-c-shape", lambda d: K.gemm(d.A, d.B, np.zeros((4, 5)), beta=1.0), VE, "c"),
    E("gemm-c-transposed-shape", lambda d: K.gemm(d.A, d.B, np.zeros((6, 4))), VE, "c"),
    E("gemm-a-1d", lambda d: K.gemm(np.zeros(3), d.B), VE, "a"),
    E("gemm-b-3d", lambda d: K.gemm(d.A, np.zeros((3, 6, 1))), VE, "b"),
    E("gemm-c-1d", lambda d: K.gemm(d.A, d.B, np.zeros(24)), VE, "c"),
    E("dense-weight", lambda d: K.dense_forward(d.x, np.zeros((5, 4))), VE, "weight"),
    E("dense-weight-1d", lambda d: K.dense_forward(d.x, np.zeros(3)), VE, "weight"),
    E("dense-bias", lambda d: K.dense_forward(d.x, d.w, np.zeros(4)), VE, "bias"),
    E("dense-bias-2d", lambda d: K.dense_forward(d.x, d.w, np.zeros((1, 5))), VE, "bias"),
    E("dense-out", lambda d: K.dense_forward(d.x, d.w, out=np.zeros((4, 4))), VE, "out"),
    E("dense-z", lambda d: K.dense_forward(d.x, d.w, z=np.zeros((5, 4))), VE, "z"),
    E("dense-x-1d", lambda d: K.dense_forward(np.zeros(3), d.w), VE, "x"),
    E("dense-x-3d", lambda d: K.dense_forward(np.zeros((2, 4, 3)), d.w), VE, "x"),
    E("dback-dout", lambda d: K.dense_backward(np.zeros((4, 4)), d.x, d.w), VE, "dout"),
    E("dback-dout-rows", lambda d: K.dense_backward(np.zeros((3, 5)), d.x, d.w), VE, "dout"),
    E(
        "dback-a",
        lambda d: K.dense_backward(d.dout, d.x, d.w, "tanh", a=np.zeros((4, 4))),
        VE,
        "a",
    ),
    E("dback-z", lambda d: K.dense_backward(d.dout, d.x, d.w, "elu", z=np.zeros((3, 5))), VE, "z"),
    E(
        "dback-dweight",
        lambda d: K.dense_backward(d.dout, d.x, d.w, dweight=np.zeros((3, 5))),
        VE,
        "dweight",
    ),
    E("dback-dbias", lambda d: K.dense_backward(d.dout, d.x, d.w, dbias=np.zeros(3)), VE, "dbias"),
    E("dback-dx", lambda d: K.dense_backward(d.dout, d.x, d.w, dx=np.zeros((4, 5))), VE, "dx"),
    E("dback-weight", lambda d: K.dense_backward(d.dout, d.x, np.zeros((5, 2))), VE, "weight"),
    E("act-out", lambda d: K.activation_forward(d.x, "relu", out=np.zeros((3, 4))), VE, "out"),
    E("act-out-flat", lambda d: K.activation_forward(d.x, "relu", out=np.zeros(12)), VE, "out"),
    E("backward-a", lambda d: K.activation_backward(d.dout, "tanh", a=np.zeros((5, 4))), VE, "a"),
    E("backward-z", lambda d: K.activation_backward(d.dout, "elu", z=np.zeros(20)), VE, "z"),
    E(
        "derivative-out",
        lambda d: K.activation_derivative("tanh", a=d.a, out=np.zeros((4, 4))),
        VE,
        "out",
    ),
    E("prelu-slope", lambda d: K.prelu_forward(d.x, np.zeros(2)), VE, "slope"),
    E("prelu-slope-2d", lambda d: K.prelu_forward(d.x, np.zeros((1, 3))), VE, "slope"),
    E("prelu-x-1d", lambda d: K.prelu_forward(np.zeros(3), d.slope), VE, "x"),
    E("prelu-out", lambda d: K.prelu_forward(d.x, d.slope, out=np.zeros((3, 4))), VE, "out"),
    E("prelu-back-dout", lambda d: K.prelu_backward(np.zeros((4, 4)), d.x, d.slope), VE, "dout"),
    E(
        "prelu-back-dslope",
        lambda d: K.prelu_backward(d.x.copy(), d.x, d.slope, dslope=np.zeros(1)),
        VE,
        "dslope",
    ),
    E(
        "prelu-back-dx",
        lambda d: K.prelu_backward(d.x.copy(), d.x, d.slope, dx=np.zeros((4, 4))),
        VE,
        "dx",
    ),
    E("softmax-1d", lambda d: K.softmax(np.zeros(3)), VE, "x"),
    E("softmax-3d", lambda d: K.softmax(np.zeros((2, 2, 2))), VE, "x"),
    E("softmax-k0", lambda d: K.softmax(np.zeros((3, 0))), VE, "x"),
    E("log-softmax-k0", lambda d: K.log_softmax(np.zeros((3, 0))), VE, "x"),
    E("softmax-out", lambda d: K.softmax(d.logits, out=np.zeros((3, 4))), VE, "out"),
    E(
        "ce-labels-len",
        lambda d: K.softmax_cross_entropy(d.logits, d.labels[:3].copy()),
        VE,
        "target",
    ),
    E(
        "ce-labels-2d",
        lambda d: K.softmax_cross_entropy(d.logits, d.labels.reshape(4, 1)),
        TVE,
        "target",
    ),
    E(
        "ce-probs-shape",
        lambda d: K.softmax_cross_entropy(d.logits, np.zeros((4, 2))),
        VE,
        "target",
    ),
    E("ce-logits-1d", lambda d: K.softmax_cross_entropy(np.zeros(4), d.labels), VE, "logits"),
    E(
        "ce-n0",
        lambda d: K.softmax_cross_entropy(np.zeros((0, 3)), np.zeros(0, np.int64)),
        VE,
        "logits",
    ),
    E(
        "ce-k0",
        lambda d: K.softmax_cross_entropy(np.zeros((4, 0)), np.zeros((4, 0))),
        VE,
        "logits",
    ),
    E(
        "ce-dlogits",
        lambda d: K.softmax_cross_entropy(d.logits, d.labels, dlogits=np.zeros((3, 3))),
        VE,
        "dlogits",
    ),
    E(
        "ce-sample-loss",
        lambda d: K.softmax_cross_entropy(d.logits, d.labels, sample_loss=np.zeros(3)),
        VE,
        "sample_loss",
    ),
    E(
        "ce-sample-loss-2d",
        lambda d: K.softmax_cross_entropy(d.logits, d.labels, sample_loss=np.zeros((4, 1))),
        VE,
        "sample_loss",
    ),
    E(
        "bce-target",
        lambda d: K.sigmoid_binary_cross_entropy(d.logits, np.zeros((4, 2))),
        VE,
        "target",
    ),
    E(
        "bce-target-transposed",
        lambda d: K.sigmoid_binary_cross_entropy(d.logits, np.zeros((3, 4))),
        VE,
        "target",
    ),
    E("mse-pred-3d", lambda d: K.mse(np.zeros((4, 3, 1)), np.zeros((4, 3, 1))), VE, "pred"),
    E("mse-pred-1d", lambda d: K.mse(np.zeros(4), np.zeros(4)), VE, "pred"),
    E("mse-n0", lambda d: K.mse(np.zeros((0, 3)), np.zeros((0, 3))), VE, "pred"),
    E("l1-target", lambda d: K.l1(d.logits, np.zeros(4)), VE, "target"),
    E("l1-dpred", lambda d: K.l1(d.logits, d.probs, dpred=np.zeros((4, 4))), VE, "dpred"),
    E("hinge-weight-2d", lambda d: K.hinge(d.logits, d.pm1, np.ones((4, 1))), VE, "sample_weight"),
    E("sgd-grad", lambda d: K.sgd_update(d.p, np.zeros(9), step=1, lr=0.1), VE, "grad"),
    E("sgd-grad-2d", lambda d: K.sgd_update(d.p, np.zeros((2, 5)), step=1, lr=0.1), VE, "grad"),
    E(
        "sgd-buf",
        lambda d: K.sgd_update(d.p, d.g, np.zeros(9), step=1, lr=0.1, momentum=0.9),
        VE,
        "momentum_buffer",
    ),
    E("adam-m", lambda d: K.adam_update(d.p, d.g, np.zeros(9), d.v, step=1), VE, "exp_avg"),
    E(
        "adam-v",
        lambda d: K.adam_update(d.p, d.g, d.m, np.zeros((2, 5)), step=1),
        VE,
        "exp_avg_sq",
    ),
    E("adam-grad", lambda d: K.adam_update(d.p, np.zeros(11), d.m, d.v, step=1), VE, "grad"),
]

ACTIVATION_CASES = [
    E("unknown", lambda d: K.activation_forward(d.x, "swish"), VE, "activation|swish"),
    E("unknown-case", lambda d: K.activation_forward(d.x, "ReLU"), VE, "activation|ReLU"),
    E("unknown-dense", lambda d: K.dense_forward(d.x, d.w, None, "gelu"), VE, "activation|gelu"),
    E(
        "unknown-dense-back",
        lambda d: K.dense_backward(d.dout, d.x, d.w, "softmax"),
        VE,
        "activation|softmax",
    ),
    E("unknown-saves", lambda d: K.activation_saves("nope"), VE, "activation|nope"),
    E("name-not-str", lambda d: K.activation_forward(d.x, 3), TVE, None),
    E("name-none", lambda d: K.activation_forward(d.x, None), TVE, None),
    E("param-relu", lambda d: K.activation_forward(d.x, "relu", 0.1), VE, "param"),
    E("param-sigmoid", lambda d: K.activation_forward(d.x, "sigmoid", 1.0), VE, "param"),
    E("param-identity-saves", lambda d: K.activation_saves("identity", 0.0), VE, "param"),
    E("param-dense-tanh", lambda d: K.dense_forward(d.x, d.w, None, "tanh", 0.5), VE, "param"),
    E(
        "param-dense-back-relu",
        lambda d: K.dense_backward(d.dout, d.x, d.w, "relu", 0.1, a=d.a),
        VE,
        "param",
    ),
    E("param-step", lambda d: K.activation_forward(d.x, "step", 0.0), VE, "param"),
    E(
        "param-derivative-softplus",
        lambda d: K.activation_derivative("softplus", 1.0, z=d.z),
        VE,
        "param",
    ),
    E("param-not-number", lambda d: K.activation_forward(d.x, "elu", "1"), TVE, "param"),
    E("missing-a-sigmoid", lambda d: K.activation_derivative("sigmoid", z=d.z), VE, "a"),
    E("missing-a-relu", lambda d: K.activation_backward(d.dout, "relu", z=d.z), VE, "a"),
    E("missing-a-tanh", lambda d: K.activation_backward(d.dout, "tanh"), VE, "a"),
    E("missing-a-leaky", lambda d: K.activation_derivative("leaky_relu", z=d.z), VE, "a"),
    E(
        "missing-z-leaky-neg",
        lambda d: K.activation_derivative("leaky_relu", -0.1, a=d.a),
        VE,
        "z",
    ),
    E("missing-z-softplus", lambda d: K.activation_derivative("softplus", a=d.a), VE, "z"),
    E("missing-z-elu", lambda d: K.activation_backward(d.dout, "elu", 0.5, a=d.a), VE, "z"),
    E("missing-a-dense", lambda d: K.dense_backward(d.dout, d.x, d.w, "relu", z=d.z), VE, "a"),
    E("missing-z-dense", lambda d: K.dense_backward(d.dout, d.x, d.w, "elu", a=d.a), VE, "z"),
    E(
        "missing-both-dense-sigmoid",
        lambda d: K.dense_backward(d.dout, d.x, d.w, "sigmoid"),
        VE,
        "a",
    ),
    E(
        "step-derivative",
        lambda d: K.activation_derivative("step", a=d.a, z=d.z),
        VE,
        "step|differentiable|inference",
    ),
    E(
        "sign-derivative",
        lambda d: K.activation_derivative("sign", a=d.a, z=d.z),
        VE,
        "sign|differentiable|inference",
    ),
    E(
        "step-backward",
        lambda d: K.activation_backward(d.dout, "step", a=d.a, z=d.z),
        VE,
        "step|differentiable|inference",
    ),
    E(
        "sign-dense-backward",
        lambda d: K.dense_backward(d.dout, d.x, d.w, "sign", a=d.a, z=d.z),
        VE,
        "sign|differentiable|inference",
    ),
    E("step-saves", lambda d: K.activation_saves("step"), VE, "step|differentiable|inference"),
    E("sign-saves", lambda d: K.activation_saves("sign"), VE, "sign|differentiable|inference"),
    E("param-nan", lambda d: K.activation_forward(d.x, "leaky_relu", float("nan")), VE, "param"),
]

TARGET_CASES = [
    E(
        "label-k",
        lambda d: K.softmax_cross_entropy(d.logits, np.array([0, 1, 3, 2])),
        VE,
        "target|label|labels",
    ),
    E(
        "label-negative",
        lambda d: K.softmax_cross_entropy(d.logits, np.array([0, -1, 2, 2])),
        VE,
        "target|label|labels",
    ),
    E(
        "label-huge",
        lambda d: K.softmax_cross_entropy(d.logits, np.array([0, 1, 2**40, 2])),
        VE,
        "target|label|labels",
    ),
    E(
        "label-uint64-huge",
        lambda d: K.softmax_cross_entropy(d.logits, np.array([0, 1, 2**63, 2], np.uint64)),
        VE,
        "target|label|labels",
    ),
    E(
        "label-int8-negative",
        lambda d: K.softmax_cross_entropy(d.logits, np.array([0, 1, -128, 2], np.int8)),
        VE,
        "target|label|labels",
    ),
    E(
        "label-float32",
        lambda d: K.softmax_cross_entropy(d.logits, np.array([0, 1, 2, 0], f32)),
        TVE,
        "target",
    ),
    E(
        "ce-probs-negative",
        lambda d: K.softmax_cross_entropy(d.logits, d.probs - 0.5),
        VE,
        "target",
    ),
    E(
        "ce-probs-nan",
        lambda d: K.softmax_cross_entropy(d.logits, np.where(d.probs > 0.3, np.nan, d.probs)),
        VE,
        "target",
    ),
    E("hinge-zero", lambda d: K.hinge(d.logits, np.zeros((4, 3))), VE, "target"),
    E("hinge-half", lambda d: K.hinge(d.logits, np.full((4, 3), 0.5)), VE, "target"),
    E("hinge-two", lambda d: K.hinge(d.logits, np.full((4, 3), 2.0)), VE, "target"),
    E("hinge-01", lambda d: K.hinge(d.logits, d.bits), VE, "target"),
    E("hinge-nan", lambda d: K.hinge(d.logits, np.full((4, 3), np.nan)), VE, "target"),
    E(
        "bce-negative",
        lambda d: K.sigmoid_binary_cross_entropy(d.logits, d.probs - 0.5),
        VE,
        "target",
    ),
    E(
        "bce-above-one",
        lambda d: K.sigmoid_binary_cross_entropy(d.logits, d.probs + 1.0),
        VE,
        "target",
    ),
    E("bce-pm1", lambda d: K.sigmoid_binary_cross_entropy(d.logits, d.pm1), VE, "target"),
    E(
        "bce-nan",
        lambda d: K.sigmoid_binary_cross_entropy(d.logits, np.full((4, 3), np.nan)),
        VE,
        "target",
    ),
]


def _weights_case(name, weights):
    def fn(d):
        return getattr(K, name)(d.logits, target_for(d, name), np.asarray(weights, f64))

    return fn


WEIGHT_CASES = [
    E(f"{name}-{wid}", _weights_case(name, w), VE, "sample_weight")
    for name in LOSSES
    for wid, w in [
        ("negative", [1.0, -0.5, 1.0, 1.0]),
        ("nan", [1.0, np.nan, 1.0, 1.0]),
        ("inf", [1.0, np.inf, 1.0, 1.0]),
        ("zero-sum", [0.0, 0.0, 0.0, 0.0]),
        ("short", [1.0, 1.0, 1.0]),
        ("long", [1.0] * 5),
    ]
]

OVERLAP_CASES = [
    E("act-out-is-x", lambda d: K.activation_forward(d.x, "relu", out=d.x), VE, "out"),
    E(
        "act-out-partial",
        lambda d: (
            lambda base: K.activation_forward(
                base[:12].reshape(4, 3), "relu", out=base[6:18].reshape(4, 3)
            )
        )(np.zeros(18)),
        VE,
        "out",
    ),
    E("act-out-view", lambda d: K.activation_forward(d.x, "tanh", out=d.x.view()), VE, "out"),
    E(
        "backward-out-is-dout",
        lambda d: K.activation_backward(d.dout, "tanh", a=d.a, out=d.dout),
        VE,
        "out",
    ),
    E(
        "backward-out-is-a",
        lambda d: K.activation_backward(d.dout, "tanh", a=d.a, out=d.a),
        VE,
        "out",
    ),
    E("derivative-out-is-z", lambda d: K.activation_derivative("elu", z=d.z, out=d.z), VE, "out"),
    E("softmax-out-is-x", lambda d: K.softmax(d.logits, out=d.logits), VE, "out"),
    E("log-softmax-out-is-x", lambda d: K.log_softmax(d.logits, out=d.logits), VE, "out"),
    E("gemm-c-is-a", lambda d: K.gemm(d.S, d.T, d.S, beta=1.0), VE, "c"),
    E("gemm-c-is-b", lambda d: K.gemm(d.S, d.T, d.T), VE, "c"),
    E(
        "gemm-c-view-of-a",
        lambda d: (lambda big: K.gemm(big[:, :3], d.B, big[:, 2:8]))(np.zeros((4, 8))),
        VE,
        "c",
    ),
    E(
        "gemm-workspace-holds-c",
        lambda d: (lambda buf: K.gemm(d.A, d.B, buf[-24:].reshape(4, 6), workspace=buf))(
            np.zeros(100_000)
        ),
        VE,
        "workspace|c",
    ),
    E(
        "dense-out-is-z",
        lambda d: (lambda o: K.dense_forward(d.x, d.w, out=o, z=o))(np.zeros((4, 5))),
        VE,
        "out|z",
    ),
    E(
        "dense-out-over-x",
        lambda d: (
            lambda base: K.dense_forward(
                base[:12].reshape(4, 3), d.w, out=base[10:30].reshape(4, 5)
            )
        )(np.zeros(30)),
        VE,
        "out",
    ),
    E(
        "dense-z-over-weight",
        lambda d: (
            lambda base: K.dense_forward(d.x, base[:15].reshape(5, 3), z=base[5:25].reshape(4, 5))
        )(np.zeros(25)),
        VE,
        "z",
    ),
    E("dback-dx-is-x", lambda d: K.dense_backward(d.dout, d.x, d.w, dx=d.x), VE, "dx"),
    E(
        "dback-dweight-is-weight",
        lambda d: K.dense_backward(d.dout, d.x, d.w, dweight=d.w),
        VE,
        "dweight",
    ),
    E(
        "dback-dbias-in-dweight",
        lambda d: (
            lambda base: K.dense_backward(
                d.dout, d.x, d.w, dweight=base[:15].reshape(5, 3), dbias=base[14:19]
            )
        )(np.zeros(19)),
        VE,
        "dbias|dweight",
    ),
    E(
        "dback-dweight-is-dout",
        lambda d: (
            lambda base: K.dense_backward(
                base[:20].reshape(4, 5), d.x, d.w, dweight=base[5:20].reshape(5, 3)
            )
        )(np.ones(20)),
        VE,
        "dweight|dout",
    ),
    E(
        "dback-dx-is-a",
        lambda d: (
            lambda base: K.dense_backward(
                d.dout, d.x, d.w, "tanh", a=base[:20].reshape(4, 5), dx=base[:12].reshape(4, 3)
            )
        )(np.zeros(20)),
        VE,
        "dx|a",
    ),
    E("prelu-out-is-x", lambda d: K.prelu_forward(d.x, d.slope, out=d.x), VE, "out"),
    E(
        "prelu-dx-is-dout",
        lambda d: (lambda g: K.prelu_backward(g, d.x, d.slope, dx=g))(d.x.copy()),
        VE,
        "dx",
    ),
    E(
        "prelu-dslope-is-slope",
        lambda d: K.prelu_backward(d.x.copy(), d.x, d.slope, dslope=d.slope),
        VE,
        "dslope",
    ),
    E(
        "ce-dlogits-is-logits",
        lambda d: K.softmax_cross_entropy(d.logits, d.labels, dlogits=d.logits),
        VE,
        "dlogits",
    ),
    E(
        "bce-dlogits-is-target",
        lambda d: K.sigmoid_binary_cross_entropy(d.logits, d.probs, dlogits=d.probs),
        VE,
        "dlogits",
    ),
    E("mse-dpred-is-pred", lambda d: K.mse(d.logits, d.probs, dpred=d.logits), VE, "dpred"),
    E(
        "l1-sample-loss-is-weight",
        lambda d: K.l1(d.logits, d.probs, d.sw, sample_loss=d.sw),
        VE,
        "sample_loss",
    ),
    E(
        "hinge-sample-loss-in-dpred",
        lambda d: (lambda g: K.hinge(d.logits, d.pm1, dpred=g, sample_loss=g.reshape(-1)[:4]))(
            np.zeros((4, 3))
        ),
        VE,
        "sample_loss|dpred",
    ),
    E("sgd-grad-is-param", lambda d: K.sgd_update(d.p, d.p, step=1, lr=0.1), VE, "grad|param"),
    E(
        "sgd-buf-is-grad",
        lambda d: K.sgd_update(d.p, d.g, d.g, step=1, lr=0.1, momentum=0.9),
        VE,
        "momentum_buffer|grad",
    ),
    E(
        "sgd-buf-is-param",
        lambda d: K.sgd_update(d.p, d.g, d.p, step=1, lr=0.1, momentum=0.9),
        VE,
        "momentum_buffer|param",
    ),
    E(
        "adam-m-is-v",
        lambda d: K.adam_update(d.p, d.g, d.m, d.m, step=1),
        VE,
        "exp_avg|exp_avg_sq",
    ),
    E("adam-m-is-grad", lambda d: K.adam_update(d.p, d.g, d.g, d.v, step=1), VE, "exp_avg|grad"),
    E(
        "adam-v-is-param",
        lambda d: K.adam_update(d.p, d.g, d.m, d.p, step=1),
        VE,
        "exp_avg_sq|param",
    ),
]

HYPER_CASES = [
    E("sgd-lr-negative", lambda d: K.sgd_update(d.p, d.g, step=1, lr=-0.1), VE, "lr"),
    E("sgd-lr-nan", lambda d: K.sgd_update(d.p, d.g, step=1, lr=float("nan")), VE, "lr"),
    E(
        "sgd-momentum-negative",
        lambda d: K.sgd_update(d.p, d.g, d.buf, step=1, lr=0.1, momentum=-0.5),
        VE,
        "momentum",
    ),
    E(
        "sgd-dampening-negative",
        lambda d: K.sgd_update(d.p, d.g, d.buf, step=1, lr=0.1, momentum=0.9, dampening=-0.1),
        VE,
        "dampening",
    ),
    E(
        "sgd-wd-negative",
        lambda d: K.sgd_update(d.p, d.g, step=1, lr=0.1, weight_decay=-1.0),
        VE,
        "weight_decay",
    ),
    E(
        "sgd-nesterov-dampening",
        lambda d: K.sgd_update(
            d.p, d.g, d.buf, step=1, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True
        ),
        VE,
        "nesterov|dampening",
    ),
    E(
        "sgd-nesterov-no-momentum",
        lambda d: K.sgd_update(d.p, d.g, d.buf, step=1, lr=0.1, nesterov=True),
        VE,
        "nesterov|momentum",
    ),
    E("sgd-step-0", lambda d: K.sgd_update(d.p, d.g, step=0, lr=0.1), VE, "step"),
    E("sgd-step-negative", lambda d: K.sgd_update(d.p, d.g, step=-3, lr=0.1), VE, "step"),
    E(
        "sgd-no-buffer",
        lambda d: K.sgd_update(d.p, d.g, step=1, lr=0.1, momentum=0.9),
        VE,
        "momentum_buffer",
    ),
    E("sgd-step-missing", lambda d: K.sgd_update(d.p, d.g, lr=0.1), TE, None),
    E("sgd-lr-missing", lambda d: K.sgd_update(d.p, d.g, step=1), TE, None),
    E("sgd-lr-str", lambda d: K.sgd_update(d.p, d.g, step=1, lr="0.1"), TVE, "lr"),
    E("adam-lr-negative", lambda d: K.adam_update(d.p, d.g, d.m, d.v, step=1, lr=-1e-3), VE, "lr"),
    E(
        "adam-beta1-one",
        lambda d: K.adam_update(d.p, d.g, d.m, d.v, step=1, beta1=1.0),
        VE,
        "beta1",
    ),
    E(
        "adam-beta1-negative",
        lambda d: K.adam_update(d.p, d.g, d.m, d.v, step=1, beta1=-0.1),
        VE,
        "beta1",
    ),
    E(
        "adam-beta1-nan",
        lambda d: K.adam_update(d.p, d.g, d.m, d.v, step=1, beta1=float("nan")),
        VE,
        "beta1",
    ),
    E(
        "adam-beta2-one",
        lambda d: K.adam_update(d.p, d.g, d.m, d.v, step=1, beta2=1.0),
        VE,
        "beta2",
    ),
    E(
        "adam-beta2-above",
        lambda d: K.adam_update(d.p, d.g, d.m, d.v, step=1, beta2=1.5),
        VE,
        "beta2",
    ),
    E(
        "adam-eps-negative",
        lambda d: K.adam_update(d.p, d.g, d.m, d.v, step=1, eps=-1e-8),
        VE,
        "eps",
    ),
    E(
        "adam-wd-negative",
        lambda d: K.adam_update(d.p, d.g, d.m, d.v, step=1, weight_decay=-0.01),
        VE,
        "weight_decay",
    ),
    E(
        "adamw-wd-negative",
        lambda d: K.adam_update(
            d.p, d.g, d.m, d.v, step=1, weight_decay=-0.01, decoupled_weight_decay=True
        ),
        VE,
        "weight_decay",
    ),
    E("adam-step-0", lambda d: K.adam_update(d.p, d.g, d.m, d.v, step=0), VE, "step"),
    E("adam-step-negative", lambda d: K.adam_update(d.p, d.g, d.m, d.v, step=-1), VE, "step"),
    E("adam-step-float", lambda d: K.adam_update(d.p, d.g, d.m, d.v, step=1.5), TVE, "step"),
    E("adam-missing-moment", lambda d: K.adam_update(d.p, d.g, None, d.v, step=1), TVE, "exp_avg"),
    E("gemm-c-none-beta", lambda d: K.gemm(d.A, d.B, beta=1.0), VE, "c|beta"),
    E("gemm-c-none-beta-small", lambda d: K.gemm(d.A, d.B, beta=-1e-300), VE, "c|beta"),
    E("gemm-alpha-str", lambda d: K.gemm(d.A, d.B, alpha="2"), TVE, "alpha"),
    E("gemm-alpha-none", lambda d: K.gemm(d.A, d.B, alpha=None), TVE, "alpha"),
]

READONLY_CASES = [
    E("act-out", lambda d: K.activation_forward(d.x, "relu", out=readonly(d.x)), VE, "out"),
    E(
        "derivative-out",
        lambda d: K.activation_derivative("tanh", a=d.a, out=readonly(d.z)),
        VE,
        "out",
    ),
    E("softmax-out", lambda d: K.softmax(d.logits, out=readonly(d.logits)), VE, "out"),
    E("gemm-c", lambda d: K.gemm(d.A, d.B, readonly(d.C), beta=1.0), VE, "c"),
    E("gemm-c-beta0", lambda d: K.gemm(d.A, d.B, readonly(d.C)), VE, "c"),
    E("dense-out", lambda d: K.dense_forward(d.x, d.w, out=readonly(d.z)), VE, "out"),
    E("dense-z", lambda d: K.dense_forward(d.x, d.w, z=readonly(d.z)), VE, "z"),
    E(
        "dback-dweight",
        lambda d: K.dense_backward(d.dout, d.x, d.w, dweight=readonly(d.w)),
        VE,
        "dweight",
    ),
    E(
        "dback-dbias",
        lambda d: K.dense_backward(d.dout, d.x, d.w, dbias=readonly(d.b)),
        VE,
        "dbias",
    ),
    E("dback-dx", lambda d: K.dense_backward(d.dout, d.x, d.w, dx=readonly(d.x)), VE, "dx"),
    E(
        "prelu-dslope",
        lambda d: K.prelu_backward(d.x.copy(), d.x, d.slope, dslope=readonly(d.slope)),
        VE,
        "dslope",
    ),
    E(
        "ce-dlogits",
        lambda d: K.softmax_cross_entropy(d.logits, d.labels, dlogits=readonly(d.logits)),
        VE,
        "dlogits",
    ),
    E(
        "mse-sample-loss",
        lambda d: K.mse(d.logits, d.probs, sample_loss=readonly(np.zeros(4))),
        VE,
        "sample_loss",
    ),
    E("sgd-param", lambda d: K.sgd_update(readonly(d.p), d.g, step=1, lr=0.1), VE, "param"),
    E(
        "sgd-buffer",
        lambda d: K.sgd_update(d.p, d.g, readonly(d.buf), step=1, lr=0.1, momentum=0.9),
        VE,
        "momentum_buffer",
    ),
    E("adam-param", lambda d: K.adam_update(readonly(d.p), d.g, d.m, d.v, step=1), VE, "param"),
    E(
        "adam-exp-avg",
        lambda d: K.adam_update(d.p, d.g, readonly(d.m), d.v, step=1),
        VE,
        "exp_avg",
    ),
    E(
        "adam-exp-avg-sq",
        lambda d: K.adam_update(d.p, d.g, d.m, readonly(d.v), step=1),
        VE,
        "exp_avg_sq",
    ),
]

THREAD_CASES = [
    E("zero", lambda d: K.set_num_threads(0), VE, "n|threads|num_threads"),
    E("negative", lambda d: K.set_num_threads(-2), VE, "n|threads|num_threads"),
    E("str", lambda d: K.set_num_threads("2"), TE, None),
    E("float", lambda d: K.set_num_threads(1.5), TVE, None),
    E("none", lambda d: K.set_num_threads(None), TVE, None),
]

ODD_OBJECTS = [
    ("list", [[1.0, 2.0], [3.0, 4.0]]),
    ("none", None),
    ("str", "abc"),
    ("bytes", b"\x00" * 16),
    ("int", 3),
    ("float", 2.5),
    ("0d", np.array(1.0)),
    ("scalar", np.float64(1.0)),
    ("3d", np.zeros((2, 2, 2))),
    ("object", np.array([[1.0, None]], dtype=object)),
    ("structured", np.zeros((2, 2), dtype=[("a", f64)])),
    ("empty-1d", np.zeros(0)),
]


def _odd_calls(d, odd):
    """(id, callable) calls that receive `odd` in place of an array argument."""
    return [
        ("activation_forward", lambda: K.activation_forward(odd, "relu")),
        ("activation_derivative-a", lambda: K.activation_derivative("tanh", a=odd)),
        ("activation_backward-dout", lambda: K.activation_backward(odd, "tanh", a=d.a)),
        ("softmax", lambda: K.softmax(odd)),
        ("log_softmax", lambda: K.log_softmax(odd)),
        ("gemm-a", lambda: K.gemm(odd, d.B)),
        ("gemm-b", lambda: K.gemm(d.A, odd)),
        ("dense_forward-x", lambda: K.dense_forward(odd, d.w)),
        ("dense_forward-weight", lambda: K.dense_forward(d.x, odd)),
        ("dense_forward-bias", lambda: K.dense_forward(d.x, d.w, odd)),
        ("dense_backward-dout", lambda: K.dense_backward(odd, d.x, d.w)),
        ("dense_backward-x", lambda: K.dense_backward(d.dout, odd, d.w)),
        ("prelu_forward-slope", lambda: K.prelu_forward(d.x, odd)),
        ("prelu_backward-x", lambda: K.prelu_backward(d.x.copy(), odd, d.slope)),
        ("ce-logits", lambda: K.softmax_cross_entropy(odd, d.labels)),
        ("ce-target", lambda: K.softmax_cross_entropy(d.logits, odd)),
        ("bce-target", lambda: K.sigmoid_binary_cross_entropy(d.logits, odd)),
        ("mse-pred", lambda: K.mse(odd, d.probs)),
        ("l1-weight", lambda: K.l1(d.logits, d.probs, odd)),
        ("hinge-target", lambda: K.hinge(d.logits, odd)),
        ("sgd-param", lambda: K.sgd_update(odd, d.g, step=1, lr=0.1)),
        ("sgd-grad", lambda: K.sgd_update(d.p, odd, step=1, lr=0.1)),
        ("adam-exp_avg_sq", lambda: K.adam_update(d.p, d.g, d.m, odd, step=1)),
    ]


# Calls for which an odd object is in fact valid input (any-shape element-wise kernels).
ODD_VALID = {
    ("activation_forward", "0d"),
    ("activation_forward", "scalar"),
    ("activation_forward", "3d"),
    ("activation_forward", "empty-1d"),
    ("activation_derivative-a", "0d"),
    ("activation_derivative-a", "3d"),
    ("activation_derivative-a", "empty-1d"),
    ("activation_derivative-a", "scalar"),
    ("dense_forward-bias", "none"),
    ("l1-weight", "none"),
}


# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("fn,exc,name", DTYPE_CASES)
def test_dtype_errors(fn, exc, name):
    run_case(fn, exc, name)


@pytest.mark.parametrize("fn,exc,name", LAYOUT_CASES)
def test_layout_errors(fn, exc, name):
    run_case(fn, exc, name)


@pytest.mark.parametrize("fn,exc,name", SHAPE_CASES)
def test_shape_errors(fn, exc, name):
    run_case(fn, exc, name)


@pytest.mark.parametrize("fn,exc,name", ACTIVATION_CASES)
def test_activation_errors(fn, exc, name):
    run_case(fn, exc, name)


@pytest.mark.parametrize("fn,exc,name", TARGET_CASES)
def test_target_errors(fn, exc, name):
    run_case(fn, exc, name)


@pytest.mark.parametrize("fn,exc,name", WEIGHT_CASES)
def test_sample_weight_errors(fn, exc, name):
    run_case(fn, exc, name)


@pytest.mark.parametrize("fn,exc,name", OVERLAP_CASES)
def test_overlap_errors(fn, exc, name):
    run_case(fn, exc, name)


@pytest.mark.parametrize("module", [K, R], ids=["kernels", "reference"])
def test_accumulate_removed(module):
    """The backward kernels overwrite their outputs: accumulate= (unused by the library)
    was removed in issue 16."""
    d = data()
    with pytest.raises(TypeError, match="accumulate"):
        module.dense_backward(d.dout, d.x, d.w, accumulate=True)
    with pytest.raises(TypeError, match="accumulate"):
        module.prelu_backward(d.x.copy(), d.x, d.slope, accumulate=True)


@pytest.mark.parametrize("fn,exc,name", HYPER_CASES)
def test_hyperparameter_errors(fn, exc, name):
    run_case(fn, exc, name)


@pytest.mark.parametrize("fn,exc,name", READONLY_CASES)
def test_readonly_output_errors(fn, exc, name):
    run_case(fn, exc, name)


@pytest.mark.parametrize("fn,exc,name", THREAD_CASES)
def test_set_num_threads_errors(fn, exc, name, restore_threads):
    run_case(fn, exc, name)


def test_shape_messages_say_expected_shape():
    d = data()
    with pytest.raises(ValueError, match=r"\bout\b") as info:
        K.dense_forward(d.x, d.w, out=np.zeros((4, 4)))
    assert "(4, 5)" in str(info.value)
    with pytest.raises(ValueError, match=r"\bc\b") as info:
        K.gemm(d.A, d.B, np.zeros((4, 5)), beta=1.0)
    assert "(4, 6)" in str(info.value)
    with pytest.raises(ValueError, match=r"\btarget\b") as info:
        K.mse(d.logits, np.zeros((4, 2)))
    assert "(4, 3)" in str(info.value)
    with pytest.raises(ValueError, match=r"\bgrad\b") as info:
        K.sgd_update(d.p, np.zeros(9), step=1, lr=0.1)
    assert "(10,)" in str(info.value)


def test_failed_calls_leave_outputs_untouched():
    """A call rejected by validation writes nothing."""
    d = data()
    out = np.full((4, 5), 7.0)
    with pytest.raises(TypeError):
        K.dense_forward(d.x, d.w.astype(f32), out=out)
    assert np.all(out == 7.0)
    p = d.p.copy()
    with pytest.raises(ValueError):
        K.adam_update(p, d.g, d.m, d.v, step=1, beta1=1.0)
    np.testing.assert_array_equal(p, d.p)
    np.testing.assert_array_equal(d.m, 0)


@pytest.mark.parametrize("which", ["gemm", "dense_forward", "dense_backward"])
@pytest.mark.parametrize("dtype", [f32, f64])
def test_workspace_too_small(which, dtype):
    rng = np.random.default_rng(1)
    n, fin, fout = 200, 150, 300
    x = rng.uniform(-1, 1, (n, fin)).astype(dtype)
    w = rng.uniform(-1, 1, (fout, fin)).astype(dtype)
    dout = rng.uniform(-1, 1, (n, fout)).astype(dtype)

    def size_of(fn, *args):
        return workspace_size(fn, *args, dtype=dtype)

    if which == "gemm":
        sizes = (K.gemm_workspace_size, n, fout, fin)
        call = lambda ws: K.gemm(x, w, trans_b=True, workspace=ws)  # noqa: E731
    elif which == "dense_forward":
        sizes = (K.dense_forward_workspace_size, n, fin, fout)
        call = lambda ws: K.dense_forward(x, w, None, "relu", workspace=ws)  # noqa: E731
    else:
        sizes = (K.dense_backward_workspace_size, n, fin, fout)
        call = lambda ws: K.dense_backward(dout, x, w, workspace=ws)  # noqa: E731
    size = size_of(*sizes)
    assert size >= 0
    if size == 0:
        pytest.skip(f"{which} needs no workspace for this shape")
    with K.threads(1):  # the size grows with the threads; one thread's is the least
        least = size_of(*sizes)
    with pytest.raises(ValueError, match=arg("workspace")):
        call(np.empty(least - 1, dtype))
    # a workspace sized for fewer threads runs on as many as it fits, same bits
    few, full = call(np.empty(least, dtype)), call(np.empty(size, dtype))
    for one, other in zip(few, full) if isinstance(few, tuple) else [(few, full)]:
        assert_bitwise_equal(one, other, which)
    with pytest.raises(ValueError, match=arg("workspace")):
        call(readonly(np.empty(size, dtype)))
    with pytest.raises(TypeError, match=arg("workspace")):
        call(np.empty(size, f64 if dtype == f32 else f32))
    call(np.empty(size, dtype))  # exactly enough is fine


@pytest.mark.parametrize("odd_id,odd", ODD_OBJECTS, ids=[o[0] for o in ODD_OBJECTS])
def test_odd_objects_raise(odd_id, odd):
    d = data()
    for call_id, call in _odd_calls(d, odd):
        if (call_id, odd_id) in ODD_VALID:
            continue
        try:
            call()
        except (TypeError, ValueError):
            pass
        else:
            raise AssertionError(f"{call_id} accepted {odd_id} ({odd!r:.40})")


def _unaligned(a):
    raw = np.zeros(a.size * a.itemsize + 1, np.uint8)[1:].view(a.dtype).reshape(a.shape)
    raw[...] = a
    assert not raw.flags.aligned
    return raw


# (id, call, expected) for unusual but meaningful inputs: either a TypeError/ValueError or
# the right answer, never a wrong one.
UNUSUAL_CASES = [
    ("gemm-a-negative-row-stride", lambda d: K.gemm(d.A[::-1], d.B), lambda d: d.A[::-1] @ d.B),
    ("gemm-b-negative-row-stride", lambda d: K.gemm(d.A, d.B[::-1]), lambda d: d.A @ d.B[::-1]),
    (
        "gemm-a-broadcast",
        lambda d: K.gemm(np.broadcast_to(d.A[0], (4, 3)), d.B),
        lambda d: np.broadcast_to(d.A[0], (4, 3)) @ d.B,
    ),
    (
        "act-broadcast",
        lambda d: K.activation_forward(np.broadcast_to(d.x[0], (4, 3)), "relu"),
        lambda d: np.maximum(np.broadcast_to(d.x[0], (4, 3)), 0),
    ),
    (
        "act-big-endian",
        lambda d: K.activation_forward(d.x.astype(">f8"), "tanh"),
        lambda d: np.tanh(d.x),
    ),
    (
        "act-big-endian-f32",
        lambda d: K.activation_forward(d.x.astype(">f4"), "identity"),
        lambda d: d.x.astype(f32),
    ),
    ("gemm-big-endian", lambda d: K.gemm(d.A.astype(">f8"), d.B), lambda d: d.A @ d.B),
    (
        "softmax-big-endian",
        lambda d: K.softmax(d.logits.astype(">f8")),
        lambda d: R.softmax(d.logits),
    ),
    (
        "mse-big-endian-target",
        lambda d: K.mse(d.logits, d.probs.astype(">f8"))[1],
        lambda d: R.mse(d.logits, d.probs)[1],
    ),
    (
        "sgd-big-endian-grad",
        lambda d: (K.sgd_update(d.p, d.g.astype(">f8"), step=1, lr=0.5), d.p)[1],
        lambda d: d.p - 0.5 * d.g,
    ),
    (
        "act-unaligned",
        lambda d: K.activation_forward(_unaligned(d.x), "sigmoid"),
        lambda d: R.activation_forward(d.x, "sigmoid"),
    ),
    ("gemm-unaligned", lambda d: K.gemm(_unaligned(d.A), d.B), lambda d: d.A @ d.B),
    (
        "gemm-matrix-subclass",
        lambda d: np.asarray(K.gemm(np.asmatrix(d.A), d.B)),
        lambda d: d.A @ d.B,
    ),
    (
        "ce-labels-strided",
        lambda d: K.softmax_cross_entropy(d.logits, np.repeat(d.labels, 2)[::2])[1],
        lambda d: R.softmax_cross_entropy(d.logits, d.labels)[1],
    ),
]


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # np.matrix
@pytest.mark.parametrize("call,expected", [pytest.param(c, e, id=i) for i, c, e in UNUSUAL_CASES])
def test_unusual_inputs_correct_or_rejected(call, expected):
    d = data()
    want = expected(data())
    try:
        result = call(d)
    except (TypeError, ValueError):
        return
    assert_close(
        np.asarray(result),
        want,
        f64 if want.dtype == f64 else f32,
        k=3,
        what="accepted, so the result must be right",
    )


def test_reference_validates_the_documented_basics():
    """pynn.reference's light validation agrees on the most common errors."""
    d = data()
    with pytest.raises(ValueError):
        R.activation_forward(d.x, "swish")
    with pytest.raises(ValueError, match=arg("param")):
        R.activation_forward(d.x, "relu", 0.1)
    with pytest.raises(ValueError):
        R.activation_derivative("step", a=d.a, z=d.z)
    with pytest.raises(ValueError, match=arg("a")):
        R.activation_derivative("tanh", z=d.z)
    with pytest.raises(ValueError):
        R.softmax_cross_entropy(d.logits, np.array([0, 1, 3, 2]))
    with pytest.raises(ValueError):
        R.sgd_update(d.p, d.g, d.buf, step=1, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True)
    with pytest.raises(ValueError):
        R.gemm(d.A, d.B, beta=1.0)
    with pytest.raises(TypeError):
        R.gemm(d.A, d.B.astype(f32))


@pytest.mark.parametrize("loss", ["mse", "l1", "sigmoid_binary_cross_entropy"])
def test_sample_weight_whose_sum_overflows_is_rejected(loss):
    # Each weight is finite but their float64 sum is inf: c_i = w_i / inf would be 0.
    pred = np.full((2, 1), 0.5)
    target = np.zeros((2, 1))
    for kernels in (K, R):
        with pytest.raises(ValueError, match="sample_weight"):
            getattr(kernels, loss)(pred, target, np.array([1e308, 1e308]))


@pytest.mark.parametrize(
    "size_fn",
    ["gemm_workspace_size", "dense_forward_workspace_size", "dense_backward_workspace_size"],
)
def test_workspace_size_functions_check_their_sizes(size_fn):
    fn = getattr(K, size_fn)
    with pytest.raises(ValueError, match=">= 0"):
        fn(-5, 10, 10)
    with pytest.raises(ValueError, match="too large"):
        fn(2**62, 1, 4)
    with pytest.raises(TypeError):
        fn(2.5, 1, 4)
    with pytest.raises(TypeError, match="dtype"):
        fn(2, 3, 4, dtype=np.int32)
