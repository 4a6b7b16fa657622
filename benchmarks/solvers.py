"""The solvers benchmark (issue 18): training objective against data passes and seconds
for minibatch Adam and pynn's full-batch solvers.

    python benchmarks/solvers.py                     # both data sets, 3 seeds: a few minutes
    python benchmarks/solvers.py --seeds 1 --datasets semicircle   # a smoke run

Data sets (all rows are the training set; the figures are of the training objective: the
mean loss over all rows plus 0.5 * weight_decay * ||theta||^2 over every parameter, the
function the full-batch solvers minimise and whose gradient Adam's coupled weight decay
follows; weight_decay is 0 on semicircle, 1e-4 on digits, WEIGHT_DECAY):
- semicircle: the notes' Example #2 (003), pynn.datasets.make_semicircle_to_parabola(200),
  noise-free. The notes' network g(x) = b2 + W2 sigma(W1 x) with a sigmoid hidden layer;
  they give no width, so 10: Dense(2, 10, sigmoid), Dense(10, 2); loss "mse".
- digits: scikit-learn's digits (1797 rows, 64 features), standardised; Dense(64, 64,
  relu), Dense(64, 10); loss "softmax_cross_entropy".
Every network is float64 and starts from pynn's initialisation with random_state=seed.

Methods: Adam (minibatch: batch 20 on semicircle, 32 on digits; its learning rate tuned
once, on a seed outside the measured ones, from LR_GRID: the lowest final objective
after the epoch budget), and the full-batch solvers at their defaults with tol=1e-10 (they
run to the pass budget unless they converge first): pynn.LBFGS, pynn.CG, and pynn.NewtonCG
and pynn.NaturalGradient when the installed pynn has them (tol=1e-10 when they take one).

Data passes: one forward and backward pass over all training rows. Adam: its epochs. A
full-batch solver: its loss-and-gradient evaluations (optimizer n_fun), plus 2 per
curvature product when the optimizer counts them (n_products: a Hessian- or
Fisher-vector product costs about two passes). Every method gets the same pass budget
(2x Adam's epochs). Adam's objective is evaluated over all rows after each epoch
(untimed); a full-batch solver's is its iterate's, which it computes anyway.

Per data set the table gives, as medians over the seeds: the final objective, the
passes and seconds used, and the passes and seconds each method needs to reach Adam's
final objective of the same seed ("not reached" when the median seed does not reach
it; the count of seeds that do is given). 1 thread; the machine's load average is
printed. Figures: benchmarks/README.md, "Solvers".
"""

import argparse
import inspect
import math
import os
import statistics
import sys
import time
import warnings

import numpy as np

# Benchmark the pynn of this source tree (built in place), whichever directory we run from.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import pynn  # noqa: E402

LR_GRID = (1e-3, 3e-3, 1e-2, 3e-2, 1e-1)
TUNING_SEED = 100  # Adam's learning rate is chosen on this seed, not on a measured one
DATASETS = ("semicircle", "digits")
# per data set: Adam's batch size and epochs (the pass budget of the others is twice that)
ADAM_SETTINGS = {"semicircle": (20, 1000), "digits": (32, 100)}
# per data set: the L2 penalty 0.5 * weight_decay * ||theta||^2 of every method's objective;
# without it, digits' cross-entropy has no minimum (the net memorises the rows and the
# loss falls towards 0 as the logits grow), and the race would be to overfit
WEIGHT_DECAY = {"semicircle": 0.0, "digits": 1e-4}
FULL_BATCH_TOL = 1e-10


def load(name):
    """{"name", "X", "y", "loss", "build": seed -> a new Sequential} of a data set."""
    if name == "semicircle":
        X, y = pynn.datasets.make_semicircle_to_parabola(200)
        widths, activation, loss = (2, 10, 2), "sigmoid", "mse"
    else:
        from sklearn.datasets import load_digits
        from sklearn.preprocessing import StandardScaler

        X, y = load_digits(return_X_y=True)
        X = StandardScaler().fit_transform(X.astype(np.float64))
        widths, activation, loss = (64, 64, 10), "relu", "softmax_cross_entropy"

    def build(seed):
        hidden = pynn.Dense(widths[0], widths[1], activation=activation)
        return pynn.Sequential(
            hidden, pynn.Dense(widths[1], widths[2]), dtype="float64", random_state=seed
        )

    return {"name": name, "X": X, "y": y, "loss": loss, "build": build}


def solvers():
    """{name: factory of a fresh full-batch optimizer}, the curvature solvers when present."""
    found = {
        "LBFGS": lambda decay: pynn.LBFGS(tol=FULL_BATCH_TOL, max_fun=10**9, weight_decay=decay),
        "CG": lambda decay: pynn.CG(tol=FULL_BATCH_TOL, weight_decay=decay),
    }
    for name in ("NewtonCG", "NaturalGradient"):
        solver_class = getattr(pynn, name, None)
        if solver_class is not None:
            found[name] = curvature_solver(solver_class)
    return found


def curvature_solver(solver_class):
    """A factory of solver_class at its defaults, with the benchmark's weight decay (the
    objective must be the others'), and tol=FULL_BATCH_TOL when it takes a tol."""
    takes_tol = "tol" in inspect.signature(solver_class).parameters

    def make(decay):
        options = {"tol": FULL_BATCH_TOL} if takes_tol else {}
        return solver_class(weight_decay=decay, **options)

    return make


def objective(model, data):
    """The mean training loss over all rows plus the L2 penalty."""
    params = model.flat_params
    penalty = 0.5 * WEIGHT_DECAY[data["name"]] * float(np.dot(params, params))
    return model.evaluate(data["X"], data["y"])["loss"] + penalty


def run_adam(data, seed, lr):
    """Adam's curve: [(passes, seconds, training objective)], one point per epoch (and the
    start)."""
    X, y, loss = data["X"], data["y"], data["loss"]
    batch, epochs = ADAM_SETTINGS[data["name"]]
    model = data["build"](seed)
    model.fit(X, y, loss=loss, epochs=0, random_state=seed)  # the initial parameters
    curve = [(0, 0.0, objective(model, data))]
    clock = {"start": time.perf_counter(), "untimed": 0.0}

    def record(model, epoch, logs):
        now = time.perf_counter()
        loss_now = objective(model, data)  # over all rows, not timed
        clock["untimed"] += time.perf_counter() - now
        curve.append((epoch + 1, now - clock["start"] - clock["untimed"], loss_now))
        return False

    adam = pynn.Adam(lr=lr, weight_decay=WEIGHT_DECAY[data["name"]])
    model.fit(
        X, y, loss=loss, optimizer=adam, epochs=epochs, batch_size=batch, random_state=seed,
        callback=record,
    )  # fmt: skip
    return curve


def run_full_batch(data, seed, make_optimizer, budget):
    """A full-batch solver's curve: [(passes, seconds, training objective)], one point per
    iteration (and the start), and why it stopped ("budget", or scipy's message); it
    stops at the pass budget."""
    X, y, loss = data["X"], data["y"], data["loss"]
    model = data["build"](seed)
    model.fit(X, y, loss=loss, epochs=0, random_state=seed)
    curve = [(0, 0.0, objective(model, data))]
    elapsed = [0.0]

    def record(model, iteration, logs):
        optimizer = model.optimizer_
        passes = optimizer.n_fun + 2 * getattr(optimizer, "n_products", 0)
        elapsed[0] += logs["time"]
        curve.append((passes, elapsed[0], logs["objective"]))
        return passes >= budget

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pynn.ConvergenceWarning)
        optimizer = make_optimizer(WEIGHT_DECAY[data["name"]])
        model.fit(
            X, y, loss=loss, optimizer=optimizer, epochs=budget, random_state=seed,
            callback=record,
        )  # fmt: skip
    message = model.optimizer_.message
    return curve, "budget" if message is None else message


def reach(curve, target):
    """(passes, seconds) of the first point at or below target, or (inf, inf)."""
    for passes, seconds, value in curve:
        if value <= target:
            return passes, seconds
    return math.inf, math.inf


def tune_adam(data):
    """The learning rate of LR_GRID with the lowest final objective on TUNING_SEED."""
    finals = {lr: run_adam(data, TUNING_SEED, lr)[-1][2] for lr in LR_GRID}
    for lr, final in finals.items():
        print(f"  Adam lr {lr:g}: final objective {final:.4g}")
    return min(finals, key=lambda lr: finals[lr] if math.isfinite(finals[lr]) else math.inf)


def measure(name, seeds):
    """{method: [per seed (final objective, passes, seconds, passes to Adam's, seconds to
    it)]}."""
    data = load(name)
    lr = tune_adam(data)
    print(f"{name}: Adam's learning rate {lr:g} (of {LR_GRID})", flush=True)
    budget = 2 * ADAM_SETTINGS[name][1]
    results = {}
    for seed in range(seeds):
        adam = run_adam(data, seed, lr)
        target = adam[-1][2]
        curves = {f"Adam (lr {lr:g})": adam}
        for method, make in solvers().items():
            curves[method], stop = run_full_batch(data, seed, make, budget)
            print(f"  seed {seed} {method}: stopped on {stop}", flush=True)
        for method, curve in curves.items():
            passes, seconds, final = curve[-1]
            row = (final, passes, seconds) + reach(curve, target)
            print(f"  seed {seed} {method}: {row}", flush=True)
            results.setdefault(method, []).append(row)
    return results


def fmt_reached(values, digits):
    reached = sum(math.isfinite(v) for v in values)
    median = statistics.median(values)
    cell = "not reached" if not math.isfinite(median) else f"{median:.{digits}f}"
    return f"{cell} ({reached}/{len(values)})"


def table(name, results):
    print(f"\n{name}: medians over the seeds")
    print(
        "| method | final objective | passes | seconds | passes to Adam's final objective "
        "| seconds to it |"
    )
    print("|---|---|---|---|---|---|")
    for method, rows in results.items():
        final, passes, seconds, to_passes, to_seconds = zip(*rows, strict=True)
        print(
            f"| {method} | {statistics.median(final):.4g} | {statistics.median(passes):.0f} "
            f"| {statistics.median(seconds):.2f} | {fmt_reached(to_passes, 0)} "
            f"| {fmt_reached(to_seconds, 2)} |"
        )


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n", 1)[0],
        epilog=__doc__.split("\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 (default 3)")
    parser.add_argument("--datasets", default=",".join(DATASETS), help="comma-separated")
    args = parser.parse_args(argv)
    names = args.datasets.split(",")
    pynn.set_num_threads(1)
    import scipy.optimize  # noqa: F401  (loaded before any timing: the solvers load it late)

    start = time.perf_counter()
    load_before = os.getloadavg()
    print(f"solvers: {', '.join(['Adam', *solvers()])}; load average before {load_before}")
    results = {name: measure(name, args.seeds) for name in names}
    print(
        f"\n{args.seeds} seeds; pynn {pynn.__version__}; 1 thread; "
        f"{time.perf_counter() - start:.0f} s; load average (1, 5, 15 min) "
        f"{load_before} before, {os.getloadavg()} after"
    )
    for name in names:
        table(name, results[name])
    return 0


if __name__ == "__main__":
    sys.exit(main())
