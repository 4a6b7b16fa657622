"""The accuracy benchmark (issue 17): pynn against scikit-learn and PyTorch on small data sets.

    python benchmarks/accuracy.py                       # both parts, 5 seeds: a few minutes
    python benchmarks/accuracy.py --part matched --inits default,he_uniform,glorot_uniform
    python benchmarks/accuracy.py --seeds 2 --datasets iris,wine_raw   # a smoke run

Data sets: scikit-learn's digits, breast_cancer, wine (unscaled: wine_raw; standardised:
wine), iris, diabetes (regression, R²) and make_moons (500 samples, noise 0.3). Per seed, one
stratified (not for diabetes) 75/25 split that every library trains and tests on; the
features are standardised with the training part's mean and deviation, except wine_raw's.

(a) defaults: pynn.sklearn's MLPClassifier / MLPRegressor against scikit-learn's, both at
their defaults (random_state=seed).
(b) matched: two hidden layers of 100 ReLU, Adam lr 1e-3 without weight decay, the same
epochs and batch size, every epoch reshuffled: pynn.Sequential, scikit-learn's MLP
(alpha=0, no early stop) and a plain PyTorch loop, each with its default initialisation
(pynn also with the schemes of --inits). Classifiers are trained on softmax cross-entropy
(scikit-learn: a logistic output for two classes), the regressor on the squared error
of the standardised target (R² is computed on the original scale).

Each cell is mean ± standard deviation over the seeds (ddof 0) of the test accuracy or R².
Every library runs on one thread. Method and figures: benchmarks/README.md, "Accuracy".
"""

import argparse
import os
import sys
import time
import warnings

import numpy as np

# Benchmark the pynn of this source tree (built in place), whichever directory we run from.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sklearn import datasets as skdata  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.metrics import r2_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier, MLPRegressor  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import pynn  # noqa: E402
import pynn.sklearn  # noqa: E402

try:
    import torch
except ImportError:  # the PyTorch column is then left out
    torch = None

DATASETS = ("digits", "breast_cancer", "wine_raw", "wine", "iris", "diabetes", "moons")
HIDDEN = (100, 100)
LR = 1e-3


# ---- data ------------------------------------------------------------------------------------
def load(name):
    """(X float64, y, "classification" or "regression", whether to standardise X)."""
    if name == "moons":
        X, y = skdata.make_moons(n_samples=500, noise=0.3, random_state=0)
        return X, y, "classification", True
    loader = {
        "digits": skdata.load_digits,
        "breast_cancer": skdata.load_breast_cancer,
        "wine_raw": skdata.load_wine,
        "wine": skdata.load_wine,
        "iris": skdata.load_iris,
        "diabetes": skdata.load_diabetes,
    }[name]
    X, y = loader(return_X_y=True)
    task = "regression" if name == "diabetes" else "classification"
    return X.astype(np.float64), y, task, name != "wine_raw"


def split(X, y, task, scale, seed):
    """One seed's 75/25 split (stratified for classes), X standardised on its training part."""
    stratify = y if task == "classification" else None
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=seed, stratify=stratify
    )
    if scale:
        scaler = StandardScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    return X_train, X_test, y_train, y_test


# ---- (a) the estimators' defaults --------------------------------------------------------------
def default_estimators(task, seed):
    """{library: estimator at its defaults}."""
    if task == "classification":
        return {
            "pynn.sklearn": pynn.sklearn.MLPClassifier(random_state=seed),
            "scikit-learn": MLPClassifier(random_state=seed),
        }
    return {
        "pynn.sklearn": pynn.sklearn.MLPRegressor(random_state=seed),
        "scikit-learn": MLPRegressor(random_state=seed),
    }


def run_defaults(data, seed):
    """{library: test score} of the default estimators on one seed's split."""
    X_train, X_test, y_train, y_test, task = data
    scores = {}
    for library, estimator in default_estimators(task, seed).items():
        estimator.fit(X_train, y_train)
        scores[library] = estimator.score(X_test, y_test)
    return scores


# ---- (b) the matched Adam setting ------------------------------------------------------------
def pynn_matched(data, seed, epochs, batch_size, init):
    """pynn.Sequential (init None: its default) trained by Adam; the test score."""
    X_train, X_test, y_train, y_test, task = data
    n_out, loss, y_fit, unscale = _targets(task, y_train)
    widths = (X_train.shape[1],) + HIDDEN
    layers = [pynn.Dense(a, b, "relu", init=init) for a, b in zip(widths, widths[1:])]
    model = pynn.Sequential(*layers, pynn.Dense(widths[-1], n_out, init=init), random_state=seed)
    model.fit(
        X_train.astype(np.float32),
        y_fit,
        loss=loss,
        optimizer=pynn.Adam(lr=LR),
        epochs=epochs,
        batch_size=batch_size,
    )
    if task == "classification":
        return model.score(X_test.astype(np.float32), y_test)
    return r2_score(y_test, unscale(model.predict(X_test.astype(np.float32))))


def sklearn_matched(data, seed, epochs, batch_size):
    """scikit-learn's MLP trained by Adam for exactly `epochs` epochs; the test score."""
    X_train, X_test, y_train, y_test, task = data
    options = dict(
        hidden_layer_sizes=HIDDEN,
        solver="adam",
        alpha=0.0,
        learning_rate_init=LR,
        batch_size=batch_size,
        max_iter=epochs,
        n_iter_no_change=epochs + 1,  # never stops early
        random_state=seed,
    )
    if task == "classification":
        return MLPClassifier(**options).fit(X_train, y_train).score(X_test, y_test)
    _, _, y_fit, unscale = _targets(task, y_train)
    model = MLPRegressor(**options).fit(X_train, y_fit)
    return r2_score(y_test, unscale(model.predict(X_test)))


def torch_matched(data, seed, epochs, batch_size):
    """A plain PyTorch loop: nn.Linear/ReLU (default initialisation), Adam; the test score."""
    X_train, X_test, y_train, y_test, task = data
    n_out, _, y_fit, unscale = _targets(task, y_train)
    torch.manual_seed(seed)
    widths = (X_train.shape[1],) + HIDDEN
    modules = []
    for a, b in zip(widths, widths[1:]):
        modules += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    model = torch.nn.Sequential(*modules, torch.nn.Linear(widths[-1], n_out))
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    classify = task == "classification"
    criterion = torch.nn.CrossEntropyLoss() if classify else torch.nn.MSELoss()
    X = torch.as_tensor(X_train, dtype=torch.float32)
    if classify:
        target = torch.as_tensor(np.searchsorted(np.unique(y_train), y_train))
    else:
        target = torch.as_tensor(y_fit, dtype=torch.float32).reshape(-1, 1)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        order = torch.randperm(X.shape[0], generator=generator)
        for start in range(0, X.shape[0], batch_size):
            rows = order[start : start + batch_size]
            optimizer.zero_grad()
            criterion(model(X[rows]), target[rows]).backward()
            optimizer.step()
    with torch.no_grad():
        out = model(torch.as_tensor(X_test, dtype=torch.float32)).numpy()
    if classify:
        return float(np.mean(np.unique(y_train)[out.argmax(axis=1)] == y_test))
    return r2_score(y_test, unscale(out[:, 0]))


def _targets(task, y_train):
    """(outputs, pynn loss, the target to fit, the map back to y's scale): K logits for K
    classes; one standardised value for the regressor."""
    if task == "classification":
        return len(np.unique(y_train)), "softmax_cross_entropy", y_train, None
    mean, std = float(y_train.mean()), float(y_train.std())
    return 1, "mse", (y_train - mean) / std, lambda p: np.asarray(p) * std + mean


def run_matched(data, seed, args):
    """{library: test score} of the matched setting on one seed's split."""
    scores = {}
    for init in args.inits:
        label = "pynn" if init == "default" else f"pynn[{init}]"
        scores[label] = pynn_matched(
            data, seed, args.epochs, args.batch_size, None if init == "default" else init
        )
    scores["scikit-learn"] = sklearn_matched(data, seed, args.epochs, args.batch_size)
    if torch is not None:
        scores["PyTorch"] = torch_matched(data, seed, args.epochs, args.batch_size)
    return scores


# ---- the report ------------------------------------------------------------------------------
def table(title, results, names):
    """Print one part: a row per library, a column per data set, mean ± std."""
    libraries = list(next(iter(results.values()))[0])
    print(f"\n{title}")
    print("| library | " + " | ".join(names) + " |")
    print("|---" * (len(names) + 1) + "|")
    for library in libraries:
        cells = []
        for name in names:
            values = np.array([scores[library] for scores in results[name]])
            cells.append(f"{values.mean():.3f} ± {values.std():.3f}")
        print(f"| {library} | " + " | ".join(cells) + " |")


def verdicts(defaults, matched, names):
    """The issue's targets: pynn.sklearn's mean at least scikit-learn's (defaults); pynn's
    mean within one standard deviation of the best peer's (matched)."""
    print("\nTargets (issue 17)")
    for name in names:
        parts = []
        if name in defaults:
            ours, theirs = (
                np.array([s[lib] for s in defaults[name]])
                for lib in ("pynn.sklearn", "scikit-learn")
            )
            gap, same = ours.mean() - theirs.mean(), int(np.sum(ours == theirs))
            verdict = "ok" if gap >= 0 else "MISS"
            parts.append(f"defaults {verdict} ({gap:+.1e}; equal on {same}/{len(ours)} seeds)")
        if name in matched:
            peers = [lib for lib in ("scikit-learn", "PyTorch") if lib in matched[name][0]]
            values = {lib: np.array([s[lib] for s in matched[name]]) for lib in peers + ["pynn"]}
            best = max(peers, key=lambda lib: values[lib].mean())
            gap = values["pynn"].mean() - values[best].mean()
            ok = gap >= -values[best].std()
            parts.append(f"matched {'ok' if ok else 'MISS'} ({gap:+.3f} vs {best})")
        print(f"  {name}: " + ", ".join(parts))


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog=__doc__.split("\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 (default 5)")
    parser.add_argument("--datasets", default=",".join(DATASETS), help="comma-separated")
    parser.add_argument("--part", choices=("defaults", "matched", "all"), default="all")
    parser.add_argument("--epochs", type=int, default=200, help="matched: epochs (200)")
    parser.add_argument("--batch-size", type=int, default=32, help="matched: batch size (32)")
    parser.add_argument(
        "--inits",
        default="default",
        help="matched: pynn's schemes, comma-separated: 'default' (Sequential's) or names "
        "of pynn.core.init.INITS, each applied to every layer (default: default)",
    )
    args = parser.parse_args(argv)
    args.inits = args.inits.split(",")
    names = args.datasets.split(",")
    pynn.set_num_threads(1)
    if torch is not None:
        torch.set_num_threads(1)
    from threadpoolctl import threadpool_limits

    defaults, matched = {}, {}
    start = time.perf_counter()
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for name in names:
            X, y, task, scale = load(name)
            for seed in range(args.seeds):
                data = (*split(X, y, task, scale, seed), task)
                if args.part in ("defaults", "all"):
                    defaults.setdefault(name, []).append(run_defaults(data, seed))
                if args.part in ("matched", "all"):
                    matched.setdefault(name, []).append(run_matched(data, seed, args))
            print(f"{name}: done at {time.perf_counter() - start:.0f} s", flush=True)
    print(
        f"\n{args.seeds} seeds; pynn {pynn.__version__}, scikit-learn "
        f"{__import__('sklearn').__version__}, PyTorch {torch.__version__ if torch else '-'}; "
        f"{time.perf_counter() - start:.0f} s; load average {os.getloadavg()[0]:.2f}"
    )
    if defaults:
        table("(a) defaults: test accuracy (diabetes: R²)", defaults, names)
    if matched:
        table(
            f"(b) matched: 2x100 ReLU, Adam lr {LR:g}, {args.epochs} epochs, batch "
            f"{args.batch_size}: test accuracy (diabetes: R²)",
            matched,
            names,
        )
    if "default" in args.inits or not matched:
        verdicts(defaults, matched if "default" in args.inits else {}, names)
    return 0


if __name__ == "__main__":
    sys.exit(main())
