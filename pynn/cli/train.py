"""`pynn train`: load data, split, train an MLP, report, save and plot."""

import os
import sys
import time

import numpy as np

import pynn
from pynn.cli import report, target_scaling
from pynn.cli.data_sources import default_data, load_training_data
from pynn.cli.plots import require_matplotlib, write_plots
from pynn.cli.progress import EpochProgress
from pynn.core.layers import Standardize
from pynn.core.losses import LOSSES
from pynn.data import StandardScaler, train_test_split

CLASSIFICATION_LOSSES = tuple(name for name, loss in LOSSES.items() if loss.classifies)


def _optimizer(args):
    """The optimizer the options describe, with each optimizer's defaults (see --help)."""
    if args.momentum is not None and args.optimizer != "sgd":
        raise ValueError(f"--momentum is for --optimizer sgd, not {args.optimizer}")
    default_lr = 0.01 if args.optimizer == "sgd" else 0.001
    lr = default_lr if args.lr is None else args.lr
    default_decay = 0.01 if args.optimizer == "adamw" else 0.0
    decay = default_decay if args.weight_decay is None else args.weight_decay
    decay_options = dict(weight_decay=decay, weight_decay_scope=args.decay_scope)
    if args.optimizer == "sgd":
        momentum = 0.9 if args.momentum is None else args.momentum
        return pynn.SGD(lr=lr, momentum=momentum, **decay_options)
    if args.optimizer == "adamw":
        return pynn.AdamW(lr=lr, **decay_options)
    return pynn.Adam(lr=lr, **decay_options)


def _optimizer_label(optimizer):
    config = optimizer.config()
    parts = [f"lr {optimizer.lr:g}"]
    for key in ("momentum", "weight_decay"):
        if config.get(key):
            parts.append(f"{key.replace('_', ' ')} {config[key]:g}")
    if config.get("weight_decay") and config["weight_decay_scope"] != "all":
        parts.append(f"on the {config['weight_decay_scope']} only")
    return f"{type(optimizer).__name__} ({', '.join(parts)})"


def _loss(args, y):
    """The loss name: --loss, else by the targets: labels (strings, integers, booleans)
    are classified, floating-point values regressed."""
    if args.loss is not None:
        return args.loss
    return "mse" if y.dtype.kind == "f" else "softmax_cross_entropy"


def _outputs(loss, y):
    """Width of the last layer: one logit per class for softmax over labels, else one
    output per target column."""
    if loss == "softmax_cross_entropy" and y.ndim == 1:
        return len(np.unique(y))
    return 1 if y.ndim == 1 else y.shape[1]


def _check_targets(loss, y):
    if loss in CLASSIFICATION_LOSSES and y.dtype.kind == "f" and y.ndim == 1:
        fractional = y[y != np.round(y)]
        if fractional.size:
            raise ValueError(
                f"--loss {loss} classifies, but the targets are numbers with "
                f"fractions (e.g. {fractional[0].item()!r}): use --loss mse or "
                f"l1 for them"
            )
    if loss not in CLASSIFICATION_LOSSES and y.dtype.kind not in "biuf":
        raise ValueError(
            f"--loss {loss} needs numeric targets, but they are labels (e.g. "
            f"{y.flat[0].item()!r}): use --loss softmax_cross_entropy"
        )


def build_model(X_train, loss, y, hidden, activation, dtype, seed):
    """Standardize (the training split's statistics), the hidden Dense layers, the output."""
    scaler = StandardScaler().fit(X_train)
    widths = [X_train.shape[1], *hidden]
    layers = [Standardize(scaler.mean_, scaler.scale_)]
    layers += [pynn.Dense(a, b, activation=activation) for a, b in zip(widths, widths[1:])]
    layers.append(pynn.Dense(widths[-1], _outputs(loss, y)))
    return pynn.Sequential(*layers, dtype=dtype, random_state=seed)


def _split(X, y, test_size, classifier, seed):
    """(X_train, X_test, y_train, y_test); the test part is None for --test-size 0."""
    if test_size == 0:
        return X, None, y, None
    stratify = y if classifier and y.ndim == 1 else None
    return train_test_split(X, y, test_size=test_size, stratify=stratify, random_state=seed)


def _check_outputs(args):
    """Fail before training when the results could not be written."""
    if args.plot is not None:
        require_matplotlib()
        os.makedirs(args.plot, exist_ok=True)
    if args.save is not None:
        directory = os.path.dirname(os.path.abspath(args.save))
        if not os.path.isdir(directory):
            raise FileNotFoundError(2, "--save: no such directory", directory)


class _EpochReporter:
    """fit's callbacks: the progress bar within an epoch, a line after it."""

    def __init__(self, epochs, quiet):
        self.progress = EpochProgress(epochs, sys.stderr, quiet)
        self.epochs, self.quiet = epochs, quiet

    def batch(self, model, epoch, step, n_steps):
        self.progress.batch(model, epoch, step, n_steps)

    def epoch(self, model, epoch, logs):
        self.progress.end_epoch()
        if not self.quiet:
            print(report.epoch_line(epoch, self.epochs, logs), flush=True)

    def close(self):
        self.progress.end_epoch()


def run(args):
    _check_outputs(args)
    if args.threads is None:
        return _train(args)
    with pynn.threads(args.threads):  # this thread only: callers of pynn.cli.main in-process
        return _train(args)


def _train(args):
    dtype = np.dtype(args.dtype)
    dataset = _load(args)
    X, y = dataset.X, np.asarray(dataset.y)
    loss = _loss(args, y)
    _check_targets(loss, y)
    classifier = loss in CLASSIFICATION_LOSSES
    X_train, X_test, y_train, y_test = _split(X, y, args.test_size, classifier, args.seed)
    standardize = target_scaling.wanted(args.standardize_targets, loss)
    scaler = target_scaling.fit_scaler(y_train) if standardize else None
    model = build_model(X_train, loss, y, args.hidden, args.activation, dtype, args.seed)
    optimizer = _optimizer(args)

    print(
        f"data: {dataset.describe(classifier)}; training on {len(X_train)}"
        + (f", testing on {len(X_test)}" if X_test is not None else ", no test set")
        + (
            f" (validation: {args.validation_split:g} of training)"
            if args.validation_split
            else ""
        )
    )
    print(f"model: {report.model_line(model)}")
    batch = "full batch" if args.batch_size is None else f"batch size {args.batch_size}"
    print(
        f"training: {loss}, {_optimizer_label(optimizer)}, {args.epochs} epochs, {batch}, "
        f"{dtype.name}, seed {args.seed}",
        flush=True,
    )
    if scaler is not None:
        print(
            f"targets: standardized with the training split's {target_scaling.describe(scaler)} "
            f"(the epoch losses are on that scale); a last layer Standardize({model.n_outputs_}) "
            f"maps the outputs back",
            flush=True,
        )
        _fit(args, model, X_train, target_scaling.scaled(scaler, y_train), y, loss, optimizer)
        model = target_scaling.with_output_scaling(model, scaler)
    else:
        _fit(args, model, X_train, y_train, y, loss, optimizer)
    note = "targets' own scale" if scaler is not None else ""
    _report(args, model, X_train, y_train, X_test, y_test, note)
    return 0


def _load(args):
    """The data set of --data (or the default one, with a note when it is not digits)."""
    data = args.data or default_data()
    if args.data is None and data != "digits":
        print(
            f"note: scikit-learn is not installed, so the default data set is {data} "
            f'(digits needs it: pip install "pynn[sklearn]")'
        )
    return load_training_data(
        data,
        labels=args.labels,
        target=args.target,
        samples=args.samples,
        seed=args.seed,
        dtype=np.float64,
    )


def _fit(args, model, X_train, y_train, y, loss, optimizer):
    """Train with the progress bar and per-epoch lines, then print the epochs it took."""
    early_stopping = (
        None if args.early_stopping is None else pynn.EarlyStopping(patience=args.early_stopping)
    )
    reporter = _EpochReporter(args.epochs, args.quiet)
    classes = np.unique(y) if loss == "softmax_cross_entropy" and y.ndim == 1 else None
    started = time.perf_counter()
    try:
        model.fit(
            X_train,
            y_train,
            loss=loss,
            optimizer=optimizer,
            epochs=args.epochs,
            batch_size=args.batch_size,
            validation_split=args.validation_split,
            early_stopping=early_stopping,
            callback=reporter.epoch,
            batch_callback=reporter.batch,
            classes=classes,
            divergence=args.divergence,
            clip_norm=args.clip_norm,
            clip_value=args.clip_value,
        )
    finally:
        reporter.close()
    elapsed = time.perf_counter() - started
    trained = len(model.history_.get("loss", []))
    line = f"trained {trained} epoch{'s' if trained != 1 else ''} in {elapsed:.2f} s"
    if (
        early_stopping is not None
        and early_stopping.best_epoch is not None
        and trained < args.epochs
    ):
        line += (
            f" (early stopping; kept epoch {early_stopping.best_epoch + 1}, the best "
            f"{early_stopping.key})"
        )
    print(line)


def _report(args, model, X_train, y_train, X_test, y_test, scale_note=""):
    """The test scores, then --save and --plot."""
    if X_test is not None:
        for text in report.test_lines(model, X_test, y_test, scale_note):
            print(text)
        if model.targets_.kind == "labels" or model.targets_.kind == "binary":
            for text in report.confusion_lines(y_test, model.predict(X_test), model.classes_):
                print(text)
    if args.save is not None:
        model.save(args.save)
        print(f"saved the model to {args.save}")
    if args.plot is not None:
        paths, notes = write_plots(args.plot, model, X_train, y_train)
        for path in paths:
            print(f"wrote {path}")
        for note in notes:
            print(f"note: {note}")
