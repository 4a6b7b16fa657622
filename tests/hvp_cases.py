"""Networks for the Hessian-vector tests (tests/test_hvp_reference.py): random records of
every layer kind with all their buffers (so reference_network.network_step runs on them
too) and targets of every loss; the same network written in torch is in hvp_torch_twin.py
(torch is optional: the tests that need it skip without it)."""

import numpy as np
from helpers import DIFF_ACT_CASES
from network_cases import make_targets

import pynn.reference as R
import pynn.reference_hvp as RH
import pynn.reference_network as RN

# loss case -> loss name
LOSS_CASES = {
    "softmax_labels": "softmax_cross_entropy",
    "softmax_probs": "softmax_cross_entropy",
    "bce": "sigmoid_binary_cross_entropy",
    "mse": "mse",
    "l1": "l1",
    "hinge": "hinge",
    "poisson": "poisson",
}
CONVEX = ("softmax_labels", "softmax_probs", "bce", "mse", "poisson")

IDENTITY = ("identity", None)
# (batch n, input width, layer specs of hvp_cases.make_records)
MIXES = [
    (1, 1, [("dense", 1, ("tanh", None), True)]),
    (5, 3, [("prelu", False), ("dense", 3, IDENTITY, True)]),
    (
        7,
        5,
        [
            ("standardize",),
            ("maxout", 4, 3, True),
            ("prelu", False),
            ("dense", 3, ("tanh", None), True),
        ],
    ),
    (
        6,
        4,
        [
            ("dense", 6, IDENTITY, True),
            ("dropout", 0.3),
            ("activation", ("elu", 0.5)),
            ("prelu", True),
            ("maxout", 3, 2, False),
        ],
    ),
    (
        9,
        3,
        [
            ("dropout", 0.5),
            ("dense", 4, ("softplus", None), True),
            ("dense", 2, ("sigmoid", None), True),
        ],
    ),
]
# every differentiable activation inside a Dense layer and as its own layer
ACTIVATION_NETS = [
    (4, 3, [("dense", 5, act, True), ("activation", act), ("dense", 3, IDENTITY, False)])
    for act in DIFF_ACT_CASES
]
NETS = MIXES + ACTIVATION_NETS
NET_IDS = [
    f"n{n}-" + "-".join(str(s[0]) for s in specs) + (f"-{specs[0][2][0]}" if i >= 5 else "")
    for i, (n, _, specs) in enumerate(NETS)
]


def random_net(rng):
    """(n, input width, specs) of a random small network: 1 to 4 layers of any kind, at
    least one with parameters."""
    kinds = ("dense", "maxout", "activation", "prelu", "standardize", "dropout")
    specs = []
    for _ in range(int(rng.integers(1, 5))):
        kind = kinds[int(rng.integers(len(kinds)))]
        act = DIFF_ACT_CASES[int(rng.integers(len(DIFF_ACT_CASES)))]
        width, bias = int(rng.integers(1, 6)), bool(rng.integers(2))
        specs.append(
            {
                "dense": ("dense", width, act, bias),
                "maxout": ("maxout", width, int(rng.integers(1, 4)), bias),
                "activation": ("activation", act),
                "prelu": ("prelu", bool(rng.integers(2))),
                "standardize": ("standardize",),
                "dropout": ("dropout", float(rng.uniform(0, 0.7))),
            }[kind]
        )
    if not any(s[0] in ("dense", "maxout", "prelu") for s in specs):
        specs.append(("dense", int(rng.integers(1, 5)), IDENTITY, True))
    return int(rng.integers(1, 9)), int(rng.integers(1, 6)), specs


def make_records(rng, dtype, n, in_f, specs):
    """Training records of specs: ("dense", out, (activation, param), bias), ("maxout",
    out, pieces, bias), ("activation", (activation, param)), ("prelu", shared),
    ("standardize",), ("dropout", p); returns (records, output width)."""
    records, width, needs_dx = [], in_f, False
    empty = lambda *shape: np.full(shape, np.nan, dtype)
    for index, spec in enumerate(specs):
        kind, r = spec[0], {"kind": spec[0]}
        out_f = width
        if kind in ("dense", "maxout"):
            out_f = spec[1]
            rows = out_f * (spec[2] if kind == "maxout" else 1)
            r["weight"] = rng.uniform(-0.8, 0.8, (rows, width)).astype(dtype)
            r["bias"] = rng.uniform(-0.5, 0.5, rows).astype(dtype) if spec[3] else None
            r["dweight"] = empty(*r["weight"].shape)
            r["dbias"] = None if r["bias"] is None else empty(rows)
            r["z"] = empty(n, rows)
        if kind == "dense":
            r["activation"], r["param"] = spec[2]
            # z only where f' reads it, as the C network asks (step and sign: none)
            if spec[2][0] in ("step", "sign") or R.activation_saves(*spec[2]) != "input":
                r["z"] = None
        elif kind == "maxout":
            r["pieces"] = spec[2]
            r["dz"] = empty(n, out_f * spec[2])
            r["argmax"] = np.full((n, out_f), -1, np.int64)
        elif kind == "activation":
            r["activation"], r["param"] = spec[1]
        elif kind == "prelu":
            r["weight"] = rng.uniform(-0.5, 0.5, 1 if spec[1] else width).astype(dtype)
            r["dweight"] = empty(*r["weight"].shape)
        elif kind == "standardize":
            r["mean"] = rng.standard_normal(width).astype(dtype)
            r["scale"] = rng.uniform(0.5, 2, width).astype(dtype)
        elif kind == "dropout":
            r["p"], r["stream"] = spec[1], np.array([rng.integers(2**32), 3 + index], np.uint64)
            r["mask"] = empty(n, width)
        r["out"] = empty(n, out_f)
        r["dx"] = empty(n, width) if needs_dx else None  # down to the first parameters
        records.append(r)
        width, needs_dx = out_f, needs_dx or kind in ("dense", "maxout", "prelu")
    return records, width


def problem(seed, net, case, weighted, dtype=np.float64):
    """(layers, x, loss name, target, weights, v) of one random problem."""
    rng = np.random.default_rng(seed)
    n, in_f, specs = net
    layers, k = make_records(rng, dtype, n, in_f, specs)
    x = rng.standard_normal((n, in_f)).astype(dtype)
    target = make_targets(rng, case, n, k, dtype)
    weights = rng.uniform(0.2, 3.0, n).astype(dtype) if weighted else None
    v = rng.standard_normal(RH.parameter_vector(layers).size)
    return layers, x, LOSS_CASES[case], target, weights, v


def set_parameters(layers, flat):
    """Write the flat vector (parameters() order) into the records' parameters."""
    offset = 0
    for i, name in RH.parameters(layers):
        array = layers[i][name]
        array[...] = flat[offset : offset + array.size].reshape(array.shape)
        offset += array.size


def gradient(layers, x, loss, target, weights):
    """(loss, flat gradient) from reference_network.network_step (the existing oracle)."""
    n, k = layers[-1]["out"].shape
    dout, sample_loss = np.empty((n, k), x.dtype), np.empty(n, x.dtype)
    value, _ = RN.network_step(layers, x, loss, target, dout, sample_loss, weights)
    grads = [layers[i]["d" + name].ravel() for i, name in RH.parameters(layers)]
    return value, np.concatenate(grads)


# the tolerance of float64 products against torch's, the explicit J^T H J and differences
RTOL = 1e-9


def assert_close(actual, expected, rtol):
    """Elementwise within rtol of expected, or within rtol of expected's largest entry."""
    scale = max(float(np.max(np.abs(expected), initial=0.0)), 1e-300)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale)
