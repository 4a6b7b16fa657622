"""Per-step training time of a Dense-only model in two builds (issue 17's target: unchanged
by Dropout), and the cost of Dropout layers, interleaved runs, medians.

    python benchmarks/dropout.py --tree /path/to/main --tree . --dense-only  # before, after
    python benchmarks/dropout.py --tree . --rounds 9 --threads 2

Each round runs one process per tree, in turn (two builds cannot share a process: both
are `pynn`); a process times, interleaved over `--repeats` repeats, a Dense-only model
"a" (Dense(relu), Dense(relu), Dense) and, when its pynn has Dropout, "p": a with
Dropout(0.5) after each hidden layer, at 784-128-64-10 batch 128 and 20-32-32-3 batch 32
(float32, softmax cross-entropy, SGD with momentum). A step is one `partial_fit` step
(the network's step and the update): an epoch's time over its steps, on a model warmed
up by one epoch. Reported: the median over rounds of each process's median, and for two
trees the median over rounds of the ratio tree 2 / tree 1 (each round's two processes
run back to back). Results: benchmarks/README.md, "Dropout".
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

SIZES = (((784, 128, 64, 10), 128, 4096), ((20, 32, 32, 3), 32, 2048))


def layers(pynn, sizes, dropout):
    """Dense(relu), Dense(relu), Dense for widths `sizes`, with Dropout(0.5) after each
    hidden layer when `dropout`."""
    i, h1, h2, o = sizes

    def drop():  # a new layer object each time
        return [pynn.Dropout(0.5)] if dropout else []

    return [pynn.Dense(i, h1, "relu"), *drop(), pynn.Dense(h1, h2, "relu"), *drop(),
            pynn.Dense(h2, o)]  # fmt: skip


def measure(repeats, threads, dropout=True):
    """{model@size: median seconds per step} for the pynn on sys.path (model "p" too when
    `dropout` and that pynn has Dropout)."""
    import numpy as np

    import pynn

    names = ("a", "p") if dropout and hasattr(pynn, "Dropout") else ("a",)
    result = {}
    for sizes, batch, n in SIZES:
        rng = np.random.default_rng(1)
        X = rng.standard_normal((n, sizes[0])).astype(np.float32)
        y = rng.integers(0, sizes[-1], n)
        times = {name: [] for name in names}
        with pynn.threads(threads):
            built = {
                name: pynn.Sequential(*layers(pynn, sizes, name == "p"), random_state=0)
                for name in names
            }
            for model in built.values():
                model.fit(X, y, loss="softmax_cross_entropy", epochs=1, batch_size=batch,
                          optimizer=pynn.optim.SGD(lr=0.01, momentum=0.9))  # fmt: skip
            for _ in range(repeats):  # interleaved
                for name, model in built.items():
                    start = time.perf_counter()
                    model.partial_fit(X, y, batch_size=batch)
                    times[name].append((time.perf_counter() - start) / -(-n // batch))
        for name, t in times.items():
            result[f"{name}@{'-'.join(map(str, sizes))}"] = statistics.median(t)
    return result


def run_tree(tree, repeats, threads, dropout):
    """measure() in a new process whose pynn is the one built in `tree`."""
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); import pynn; "
        "assert pynn.__file__.startswith(sys.argv[1]), pynn.__file__; "
        "from dropout import measure; "
        "print(json.dumps(measure(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == '1')))"
    )
    here = os.path.dirname(os.path.abspath(__file__))
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            os.path.abspath(tree),
            str(repeats),
            str(threads),
            str(int(dropout)),
        ],  # fmt: skip
        env=dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.abspath(tree), here])),
        check=True,
        capture_output=True,
        text=True,
        cwd=here,
    )
    return json.loads(out.stdout.splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", action="append", help="a source tree built in place")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--dense-only",
        action="store_true",
        help="time model a alone (the same work in every tree's process)",
    )
    args = parser.parse_args(argv)
    trees = args.tree or [os.path.dirname(os.path.dirname(os.path.abspath(__file__)))]
    print(f"threads {args.threads}, load {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)")
    runs = {tree: [] for tree in trees}
    for _ in range(args.rounds):
        for tree in trees:
            runs[tree].append(run_tree(tree, args.repeats, args.threads, not args.dense_only))
    for tree in trees:
        for key in runs[tree][0]:
            median = statistics.median(r[key] for r in runs[tree])
            print(f"{tree}  {key}: median {median * 1e6:8.1f} us/step")
        first = runs[tree][0]
        for size in sorted({key.split("@")[1] for key in first}):
            if f"p@{size}" in first:
                ratio = statistics.median(r[f"p@{size}"] / r[f"a@{size}"] for r in runs[tree])
                print(f"{tree}  p/a @{size}: paired median {ratio:.3f}")
    if len(trees) == 2:
        for key in runs[trees[0]][0]:
            if key in runs[trees[1]][0]:
                paired = [b[key] / a[key] for a, b in zip(runs[trees[0]], runs[trees[1]])]
                print(f"{key}: tree 2 / tree 1, paired median {statistics.median(paired):.3f}"
                      f" (range {min(paired):.3f}-{max(paired):.3f})")  # fmt: skip
    print(f"load {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
