"""The L-BFGS benchmark (issue 18): pynn.sklearn's solver="lbfgs" against scikit-learn's.

    python benchmarks/lbfgs.py                          # 3 data sets, 5 seeds: under a minute
    python benchmarks/lbfgs.py --seeds 2 --datasets wine   # a smoke run

Data sets: scikit-learn's digits, breast_cancer and wine, standardised with the training
part's mean and deviation. Per seed, one stratified 75/25 split that both libraries train
and test on, and the same estimator: scikit-learn's defaults (one hidden layer of 100 ReLU,
alpha 1e-4, max_iter 200, max_fun 15000, tol 1e-4) with solver="lbfgs" and
random_state=seed. pynn runs at its default dtype (float32) and at float64 (where it trains
scikit-learn's network: the same initial parameters, and the same run to rounding for the
first iterations).

Each accuracy cell is the mean ± standard deviation over the seeds (ddof 0) of the test
accuracy; each time cell the median over the seeds of one fit's wall time (per seed the
fastest of --repeats fits from new estimators, the same run each time). Every library
runs on one thread (pynn n_threads=1; scikit-learn's BLAS under threadpool_limits(1)).
Figures and method: benchmarks/README.md, "L-BFGS".
"""

import argparse
import os
import statistics
import sys
import time
import warnings

import numpy as np

# Benchmark the pynn of this source tree (built in place), whichever directory we run from.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sklearn import datasets as skdata  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import pynn  # noqa: E402
import pynn.sklearn  # noqa: E402

DATASETS = ("digits", "breast_cancer", "wine")
LOADERS = {
    "digits": skdata.load_digits,
    "breast_cancer": skdata.load_breast_cancer,
    "wine": skdata.load_wine,
}
LIBRARIES = ("pynn float32", "pynn float64", "scikit-learn")


def split(name, seed):
    """One seed's stratified 75/25 split, X standardised on its training part."""
    X, y = LOADERS[name](return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X.astype(np.float64), y, test_size=0.25, random_state=seed, stratify=y
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def estimator(library, seed):
    if library == "scikit-learn":
        return MLPClassifier(solver="lbfgs", random_state=seed)
    dtype = library.split()[1]
    return pynn.sklearn.MLPClassifier(solver="lbfgs", random_state=seed, dtype=dtype, n_threads=1)


def run(name, seed, repeats):
    """{library: (test accuracy, fit seconds, iterations)} on one seed's split; the
    seconds are the fastest of `repeats` fits (each from a new estimator: the same run),
    which the other jobs on a shared machine disturb least."""
    X_train, X_test, y_train, y_test = split(name, seed)
    results = {}
    for library in LIBRARIES:
        seconds = []
        for _ in range(repeats):
            model = estimator(library, seed)
            started = time.perf_counter()
            model.fit(X_train, y_train)
            seconds.append(time.perf_counter() - started)
        results[library] = (model.score(X_test, y_test), min(seconds), model.n_iter_)
    return results


def table(results, names):
    head = "| data set | " + " | ".join(f"{lib} accuracy | {lib} fit (s)" for lib in LIBRARIES)
    print("\n" + head + " | time pynn float32 / scikit-learn |")
    print("|---" * (2 * len(LIBRARIES) + 2) + "|")
    for name in names:
        cells = []
        times = {}
        for library in LIBRARIES:
            accuracy = [seed[library][0] for seed in results[name]]
            times[library] = statistics.median(seed[library][1] for seed in results[name])
            cells.append(f"{np.mean(accuracy):.4f} ± {np.std(accuracy):.4f}")
            cells.append(f"{times[library]:.3f}")
        ratio = times["pynn float32"] / times["scikit-learn"]
        print(f"| {name} | " + " | ".join(cells) + f" | {ratio:.2f} |")
    print("\niterations (per seed):")
    for name in names:
        for library in LIBRARIES:
            print(f"  {name:14s} {library:13s} {[seed[library][2] for seed in results[name]]}")


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n", 1)[0],
        epilog=__doc__.split("\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 (default 5)")
    parser.add_argument("--datasets", default=",".join(DATASETS), help="comma-separated")
    parser.add_argument("--repeats", type=int, default=5, help="fits timed per seed (5)")
    args = parser.parse_args(argv)
    names = args.datasets.split(",")
    from threadpoolctl import threadpool_limits

    results = {}
    start = time.perf_counter()
    load_before = os.getloadavg()[0]
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for name in names:
            results[name] = [run(name, seed, args.repeats) for seed in range(args.seeds)]
            print(f"{name}: done at {time.perf_counter() - start:.0f} s", flush=True)
    print(
        f"\n{args.seeds} seeds; pynn {pynn.__version__}, scikit-learn "
        f"{__import__('sklearn').__version__}; {time.perf_counter() - start:.0f} s; load "
        f"average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after"
    )
    table(results, names)
    return 0


if __name__ == "__main__":
    sys.exit(main())
