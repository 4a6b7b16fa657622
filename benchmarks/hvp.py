"""The time of one Hessian-vector product (and one Gauss-Newton product) of the C network
against the time of one gradient (issue 18's target: H v at most 2.5x), interleaved
repeats, medians.

    python benchmarks/hvp.py                    # 1 thread, float64
    python benchmarks/hvp.py --repeats 15 --threads 2 --dtype float32

Networks, each on one batch (softmax cross-entropy on labels):
  mlp      784-128-64-10 at batch 128: Dense(tanh), Dense(tanh), Dense
  small    20-32-32-3 at batch 32: the same kinds
  kinds    784-128-64-10 at batch 128: Standardize, Dense, PReLU, Maxout(2), Dropout(0.2),
           Dense(softplus), Dense
A gradient is Network.step(None, None, None) (forward, loss, backward); a product is
Network.hvp(v, product) (the same plus the R-forward and R-backward passes), with its
workspace given. Each repeat times `calls` calls of each, in turn.
"""

import argparse
import os
import statistics
import sys
import time

import numpy as np

# this source tree's pynn (its built extension), not an installed one
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import pynn._kernels as K  # noqa: E402

import pynn  # noqa: E402


def records(rng, dtype, n, width, specs):
    """Training records of specs ((kind, ...) as tests/hvp_cases.py's) and the output width."""
    layers, needs_dx = [], False
    for index, spec in enumerate(specs):
        kind, out_f = spec[0], width
        r = {"kind": kind, "dx": np.empty((n, width), dtype) if needs_dx else None}
        if kind in ("dense", "maxout"):
            out_f = spec[1]
            rows = out_f * (spec[2] if kind == "maxout" else 1)
            r["weight"] = (rng.uniform(-1, 1, (rows, width)) / np.sqrt(width)).astype(dtype)
            r["bias"] = rng.uniform(-0.1, 0.1, rows).astype(dtype)
            r["dweight"], r["dbias"] = np.empty_like(r["weight"]), np.empty_like(r["bias"])
        if kind == "dense":
            r["activation"], r["param"] = spec[2], None
            r["z"] = np.empty((n, out_f), dtype) if spec[2] == "softplus" else None
        elif kind == "maxout":
            r["pieces"], r["z"] = spec[2], np.empty((n, rows), dtype)
            r["dz"], r["argmax"] = np.empty((n, rows), dtype), np.empty((n, out_f), np.int64)
        elif kind == "prelu":
            r["weight"] = np.full(width, 0.25, dtype)
            r["dweight"] = np.empty_like(r["weight"])
        elif kind == "standardize":
            r["mean"], r["scale"] = np.zeros(width, dtype), np.ones(width, dtype)
        elif kind == "dropout":
            r["p"], r["stream"] = spec[1], np.array([7, index], np.uint64)
            r["mask"] = np.empty((n, width), dtype)
        r["out"] = np.empty((n, out_f), dtype)
        layers.append(r)
        width, needs_dx = out_f, needs_dx or kind in ("dense", "maxout", "prelu")
    return layers, width


NETS = {
    "mlp": (128, 784, [("dense", 128, "tanh"), ("dense", 64, "tanh"), ("dense", 10, "identity")]),
    "small": (32, 20, [("dense", 32, "tanh"), ("dense", 32, "tanh"), ("dense", 3, "identity")]),
    "kinds": (
        128,
        784,
        [
            ("standardize",),
            ("dense", 128, "identity"),
            ("prelu",),
            ("maxout", 64, 2),
            ("dropout", 0.2),
            ("dense", 64, "softplus"),
            ("dense", 10, "identity"),
        ],
    ),
}


def seconds(call, calls):
    start = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - start) / calls


def medians(net, v, args):
    """{"grad", "hv", "gv": the median seconds of one call} over interleaved repeats."""
    product = np.empty(net.n_parameters, v.dtype)
    work = np.empty(net.hvp_workspace_size, v.dtype)
    calls = {
        "grad": lambda: net.step(None, None, None),
        "hv": lambda: net.hvp(v, product, workspace=work),
        "gv": lambda: net.hvp(v, product, True, workspace=work),
    }
    for call in calls.values():  # warm up
        seconds(call, args.calls)
    times = {key: [] for key in calls}
    for _ in range(args.repeats):
        for key, call in calls.items():
            times[key].append(seconds(call, args.calls))
    return {key: statistics.median(t) for key, t in times.items()}


def run(args):
    dtype = np.dtype(args.dtype)
    rng = np.random.default_rng(0)
    print(f"threads {args.threads}, {args.dtype}, {args.repeats} repeats of {args.calls} calls")
    print(
        f"{'net':6} {'gradient':>10} {'H v':>10} {'G v':>10} {'H v / grad':>11} {'G v / grad':>11}"
    )
    for name, (n, width, specs) in NETS.items():
        layers, k = records(rng, dtype, n, width, specs)
        x = rng.standard_normal((n, width)).astype(dtype)
        labels = rng.integers(0, k, n).astype(np.int64)
        with pynn.threads(args.threads):
            net = K.Network(
                layers,
                "softmax_cross_entropy",
                x,
                labels,
                np.empty((n, k), dtype),
                np.empty(n, dtype),
                None,
            )
        med = medians(net, rng.standard_normal(net.n_parameters).astype(dtype), args)
        print(
            f"{name:6} {med['grad'] * 1e6:8.1f}us {med['hv'] * 1e6:8.1f}us "
            f"{med['gv'] * 1e6:8.1f}us {med['hv'] / med['grad']:10.2f}x "
            f"{med['gv'] / med['grad']:10.2f}x"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float64")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
