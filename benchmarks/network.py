"""Per-step training time of models with every layer kind against a Dense-only model of the
same sizes (issue 16's target: at most 1.15x), interleaved repeats, medians.

    python benchmarks/network.py                    # this source tree, 1 thread
    python benchmarks/network.py --repeats 9 --threads 2
    python benchmarks/network.py --tree /path/to/other/checkout   # e.g. before the network

Models, for each size (784-128-64-10 at batch 128, 20-32-32-3 at batch 32):
  a  Dense-only:        Dense(relu), Dense(relu), Dense
  b  Standardize+Dense: Standardize, then a (what `pynn train` builds)
  c  PReLU:             Dense, PReLU, Dense, PReLU, Dense (the activations as PReLU layers)
  d  Maxout:            Dense(relu), Maxout(pieces=2), Dense (Maxout's affine map has twice
                        the rows of the Dense it replaces: more arithmetic, not only a kind)
  e  d's affine maps:   Dense(relu), Dense(h1, 2*h2, relu), Dense(2*h2, out): Dense-only, with
                        d's first two maps; its last layer has twice the inputs of d's, so e
                        does slightly more arithmetic than d (d/e is a like-for-like ratio)
A step is one `partial_fit` step (the network's step and the SGD update): the time of one
epoch over the data divided by its steps, on a model warmed up by one epoch. Each repeat
times every model once, in turn; the ratios x/a, and d/e, are given as the ratio of the
medians and as the median of each repeat's ratio. Method and results: benchmarks/README.md,
"Network".
"""

import argparse
import os
import statistics
import sys
import time


def models(pynn, np, sizes):
    """{name: model factory} for layer widths `sizes` (in, h1, h2, out)."""
    i, h1, h2, o = sizes
    rng = np.random.default_rng(0)
    mean, scale = rng.standard_normal(i), rng.uniform(0.5, 2, i)
    L = pynn  # the layer classes are exported by pynn
    return {
        "a": lambda: [L.Dense(i, h1, "relu"), L.Dense(h1, h2, "relu"), L.Dense(h2, o)],
        "b": lambda: [
            L.Standardize(mean, scale),
            L.Dense(i, h1, "relu"),
            L.Dense(h1, h2, "relu"),
            L.Dense(h2, o),
        ],
        "c": lambda: [L.Dense(i, h1), L.PReLU(h1), L.Dense(h1, h2), L.PReLU(), L.Dense(h2, o)],
        "d": lambda: [L.Dense(i, h1, "relu"), L.Maxout(h1, h2, 2), L.Dense(h2, o)],
        "e": lambda: [L.Dense(i, h1, "relu"), L.Dense(h1, 2 * h2, "relu"), L.Dense(2 * h2, o)],
    }


def step_seconds(pynn, model, X, y, batch):
    start = time.perf_counter()
    model.partial_fit(X, y, batch_size=batch, shuffle=True)
    return (time.perf_counter() - start) / -(-len(X) // batch)


def run(args):
    sys.path.insert(0, args.tree)
    import numpy as np

    import pynn

    print(
        f"pynn from {os.path.dirname(pynn.__file__)}, threads {args.threads}, "
        f"load {os.getloadavg()[0]:.2f} (1-min average, {os.cpu_count()} CPUs)"
    )
    for sizes, batch, n in (((784, 128, 64, 10), 128, 4096), ((20, 32, 32, 3), 32, 2048)):
        rng = np.random.default_rng(1)
        X = rng.standard_normal((n, sizes[0])).astype(np.float32)
        y = rng.integers(0, sizes[-1], n)
        built = {}
        with pynn.threads(args.threads):
            for name, layers in models(pynn, np, sizes).items():
                built[name] = pynn.Sequential(*layers(), random_state=0)
                built[name].fit(
                    X,
                    y,
                    loss="softmax_cross_entropy",
                    epochs=1,
                    batch_size=batch,
                    optimizer=pynn.optim.SGD(lr=0.01, momentum=0.9),
                )
            times = {name: [] for name in built}
            for _ in range(args.repeats):  # interleaved: each repeat times every model
                for name, model in built.items():
                    times[name].append(step_seconds(pynn, model, X, y, batch))
        median = {name: statistics.median(t) for name, t in times.items()}
        label = "-".join(map(str, sizes))
        for name, peer in [(name, "a") for name in built] + [("d", "e")]:
            # the ratio within each repeat (the peer and the model timed back to back), then
            # its median: steadier than a ratio of medians on a loaded machine
            paired = statistics.median(t / p for t, p in zip(times[name], times[peer]))
            print(
                f"{label} batch {batch}  {name}: median {median[name] * 1e6:8.1f} us/step"
                f"  {name}/{peer}: of medians {median[name] / median[peer]:.3f}, "
                f"paired {paired:.3f}"
            )
    print(f"load {os.getloadavg()[0]:.2f} at the end")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--tree",
        default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        help="the source tree whose pynn to run (built in place)",
    )
    run(parser.parse_args(argv))


if __name__ == "__main__":
    main()
