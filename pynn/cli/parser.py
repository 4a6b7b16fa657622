"""The argument parser of `python -m pynn` / `pynn`: subcommands and option types.

Option values that can be checked alone (a positive integer, a fraction) are checked
here, so argparse reports them with the usage line and exit status 2.
"""

import argparse

from pynn._version import __version__
from pynn.cli.data_sources import BUILTIN, DEFAULT_SAMPLES
from pynn.core.activations import TRAINABLE
from pynn.core.losses import LOSSES
from pynn.core.optim.base import WEIGHT_DECAY_SCOPES

OPTIMIZERS = ("adam", "adamw", "sgd")


def int_at_least(low):
    """An argparse type: an integer >= low."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < low:
            raise argparse.ArgumentTypeError(f"expected an integer >= {low}, got {text!r}")
        return value

    parse.__name__ = f"integer >= {low}"  # argparse names the type in some messages
    return parse


positive_int = int_at_least(1)
non_negative_int = int_at_least(0)

SIZE_UNITS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}


def byte_size(text):
    """A number of bytes: 1000000, 512K, 64M, 1.5G (binary units; a trailing B or iB is
    allowed: 64MiB, 64MB)."""
    spec = text.strip().lower().removesuffix("ib").removesuffix("b")
    unit = spec[-1:] if spec[-1:] in SIZE_UNITS else ""
    try:
        value = float(spec[: len(spec) - len(unit)]) * SIZE_UNITS[unit]
    except ValueError:
        value = None
    if value is None or not 1 <= value < 2**63:
        raise argparse.ArgumentTypeError(
            f"expected a size in bytes such as 64M, 1G or 1000000, got {text!r}"
        )
    return int(value)


byte_size.__name__ = "size"

MEMORY_HELP = (
    "memory budget of the prediction's buffers: rows go through the model in "
    "blocks that fit it (default 64M; units K, M, G)"
)


def non_negative_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text!r}")
    return value


def positive_float(text):
    value = non_negative_float(text)
    if value == 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


def fraction(text):
    """A number in [0, 1)."""
    value = non_negative_float(text)
    if value >= 1:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1), got {text!r}")
    return value


def test_size(text):
    """A fraction in [0, 1) (0: no test set) or a whole number of samples."""
    try:
        return non_negative_int(text)
    except argparse.ArgumentTypeError:
        pass
    try:
        return fraction(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"expected a fraction in [0, 1) or a number of samples, got {text!r}"
        ) from None


def hidden_sizes(text):
    """'64' -> (64,), '128,64' -> (128, 64), 'none' -> () (no hidden layer)."""
    if text.strip().lower() == "none":
        return ()
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(
            f"expected layer widths like 64 or 128,64 (or none), got {text!r}"
        )
    return sizes


def divergence(text):
    """A factor > 1, or 0, 'none' or 'off' to turn the divergence check off (None)."""
    if text.strip().lower() in ("none", "off"):
        return None
    try:
        value = float(text)
    except ValueError:
        value = None
    if value == 0:
        return None
    if value is None or not 1 < value < float("inf"):
        raise argparse.ArgumentTypeError(
            f"expected a factor > 1, or 0 or none to turn the check off, got {text!r}"
        )
    return value


DEFAULT_DIVERGENCE = 1e4  # as the scikit-learn estimators'


def batch_size(text):
    """A positive integer, or 'full' for full-batch gradient descent (None)."""
    if text.strip().lower() == "full":
        return None
    try:
        return positive_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer or 'full', got {text!r}"
        ) from None


def _add_train(subparsers):
    parser = subparsers.add_parser(
        "train",
        help="train an MLP on a data set and report its test scores",
        description="Train a multilayer perceptron and report it. The features are "
        "standardized with the training split's statistics, and the scaling is "
        "the model's first layer (Standardize), so a saved model takes raw "
        "features.",
    )
    _add_data_options(parser.add_argument_group("data"))
    _add_model_options(parser.add_argument_group("model"))
    _add_training_options(parser.add_argument_group("training"))
    _add_output_options(parser.add_argument_group("output"))
    return parser


def _add_data_options(data):
    """train's options of the data set, its test split and validation split."""
    data.add_argument(
        "--data",
        metavar="DATA",
        help=f"a built-in set ({', '.join(BUILTIN)}; default: digits when "
        f"scikit-learn is installed, else red_blue), a CSV file (the last "
        f"column is the target unless --target), an NPZ file with arrays X "
        f"and y, or IDX images (with --labels)",
    )
    data.add_argument(
        "--labels", metavar="FILE", help="the IDX labels file of --data IDX images (.gz is fine)"
    )
    data.add_argument(
        "--target",
        metavar="COLUMN",
        help="the CSV target column: a name from the header or an index "
        "(0 first, -1 last; default -1)",
    )
    data.add_argument(
        "--samples",
        type=positive_int,
        metavar="N",
        help=f"size of a generated data set (default {DEFAULT_SAMPLES})",
    )
    data.add_argument(
        "--test-size",
        type=test_size,
        default=0.25,
        metavar="SIZE",
        help="held-out test share (a fraction) or count; stratified for "
        "classification; 0 for no test set (default 0.25)",
    )
    data.add_argument(
        "--validation-split",
        type=fraction,
        default=0.0,
        metavar="FRACTION",
        help="share of the training split held out to validate each epoch (default 0)",
    )


def _add_model_options(model):
    """train's options of the network."""
    model.add_argument(
        "--hidden",
        type=hidden_sizes,
        default=(64, 64),
        metavar="SIZES",
        help="hidden layer widths, e.g. 64 or 128,64; none for no hidden layer (default 64,64)",
    )
    model.add_argument(
        "--activation",
        choices=TRAINABLE,
        default="relu",
        help="activation of the hidden layers (default relu)",
    )
    model.add_argument(
        "--loss",
        choices=tuple(LOSSES),
        help="default: softmax_cross_entropy for class labels, mse for numeric targets "
        "(poisson: counts >= 0, the model predicts exp of its output)",
    )
    _add_target_options(model)
    model.add_argument(
        "--dtype", choices=("float32", "float64"), default="float32", help="default float32"
    )


def _add_training_options(training):
    """train's options of the optimizer, the epochs and their checks, seeds and threads."""
    _add_optimizer_options(training)
    _add_epoch_options(training)
    training.add_argument(
        "--seed",
        type=non_negative_int,
        default=0,
        metavar="N",
        help="seeds the split, the initial weights, the batch order and "
        "generated data (default 0)",
    )
    training.add_argument(
        "--threads",
        type=positive_int,
        metavar="N",
        help="threads of the C kernels (default: all cores)",
    )


def _add_optimizer_options(training):
    """train's optimizer and its settings: learning rate, momentum, weight decay."""
    training.add_argument("--optimizer", choices=OPTIMIZERS, default="adam", help="default adam")
    training.add_argument(
        "--lr",
        type=positive_float,
        metavar="RATE",
        help="learning rate (default 0.001 for adam and adamw, 0.01 for sgd)",
    )
    training.add_argument(
        "--momentum", type=non_negative_float, metavar="M", help="sgd's momentum (default 0.9)"
    )
    training.add_argument(
        "--weight-decay",
        type=non_negative_float,
        metavar="DECAY",
        help="L2 weight decay (default 0; 0.01 for adamw)",
    )
    training.add_argument(
        "--decay-scope",
        choices=WEIGHT_DECAY_SCOPES,
        default="all",
        help="what --weight-decay decays: every parameter (default, PyTorch's) or the "
        "weight matrices only, not the biases (scikit-learn's alpha)",
    )
    training.add_argument(
        "--clip-norm",
        type=positive_float,
        metavar="MAX",
        help="scale each step's gradient down to a global L2 norm of at most MAX",
    )
    training.add_argument(
        "--clip-value",
        type=positive_float,
        metavar="MAX",
        help="clip each gradient element to [-MAX, MAX] (after --clip-norm)",
    )


def _add_epoch_options(training):
    """train's epochs and batches, and the checks that stop it: early stopping and
    divergence."""
    training.add_argument(
        "--epochs", type=non_negative_int, default=30, metavar="N", help="default 30"
    )
    training.add_argument(
        "--batch-size",
        type=batch_size,
        default=32,
        metavar="N",
        help="default 32; 'full' for full-batch gradient descent",
    )
    training.add_argument(
        "--early-stopping",
        type=non_negative_int,
        nargs="?",
        const=10,
        metavar="PATIENCE",
        help="stop when the validation loss (the training loss without "
        "--validation-split) has not improved for PATIENCE epochs "
        "(default 10) and keep the best epoch's parameters",
    )
    training.add_argument(
        "--divergence",
        type=divergence,
        default=DEFAULT_DIVERGENCE,
        metavar="FACTOR",
        help="stop with an error when an epoch's mean loss is more than "
        "FACTOR times the best so far and above the loss before "
        "training; the model keeps the last good epoch (default "
        "1e4; 0 or none: no check)",
    )


def _add_target_options(training):
    """train's scaling of regression targets."""
    training.add_argument(
        "--standardize-targets",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="train a regressor on (y - mean) / std of the training targets, each column "
        "apart; the saved model's last layer scales its outputs back, so predictions, "
        "the test R2 and MSE are on the targets' own scale (default: on for --loss mse "
        "and l1, off for poisson, which refuses it: its targets are counts >= 0; "
        "--no-standardize-targets trains on y as it is)",
    )


def _add_output_options(output):
    """train's options of what it prints and writes."""
    output.add_argument(
        "--quiet", action="store_true", help="no progress bar and no per-epoch lines"
    )
    output.add_argument("--save", metavar="PATH", help="write the trained model (.npz)")
    output.add_argument(
        "--plot",
        metavar="DIR",
        help="write PNG plots into DIR (needs matplotlib): loss and metric "
        "curves, decision regions of 2-D data",
    )


def _add_predict(subparsers):
    parser = subparsers.add_parser(
        "predict",
        help="predict with a saved model, as CSV",
        description="Predict with a model saved by `pynn train --save` (or model.save). "
        "Writes CSV with a header, one row per sample: for classifiers the "
        "column label and one column p_<class> per class (the probabilities); "
        "for regressors the column prediction (prediction_0, ... for several "
        "targets).",
    )
    parser.add_argument("model", metavar="MODEL", help="the saved model (.npz)")
    parser.add_argument(
        "data",
        metavar="DATA",
        help="the samples: a CSV file of features (with a header row or "
        "not), an NPZ file with an array X, or IDX images",
    )
    parser.add_argument(
        "--target",
        metavar="COLUMN",
        help="a CSV column to leave out (the target of a labelled file): a name or an index",
    )
    parser.add_argument(
        "--output", "-o", metavar="PATH", help="write the CSV here instead of to standard output"
    )
    parser.add_argument("--memory", type=byte_size, metavar="SIZE", help=MEMORY_HELP)
    return parser


def _add_summary(subparsers):
    parser = subparsers.add_parser(
        "summary",
        help="show a saved model's layers and training memory",
        description="Print a saved model's layers, parameter counts, the memory training "
        "it needs and the memory prediction uses.",
    )
    parser.add_argument("model", metavar="MODEL", help="the saved model (.npz)")
    parser.add_argument(
        "--batch-size",
        type=positive_int,
        default=32,
        metavar="N",
        help="batch size of the memory estimate (default 32)",
    )
    parser.add_argument(
        "--optimizer",
        choices=OPTIMIZERS,
        default="adam",
        help="optimizer of the memory estimate (default adam)",
    )
    parser.add_argument(
        "--momentum",
        type=non_negative_float,
        default=0.9,
        metavar="M",
        help="sgd's momentum (0 keeps no state; default 0.9)",
    )
    parser.add_argument("--memory", type=byte_size, metavar="SIZE", help=MEMORY_HELP)
    return parser


def build_parser():
    parser = argparse.ArgumentParser(
        prog="pynn", description="Train, run and inspect pynn multilayer perceptrons."
    )
    parser.add_argument("--version", action="version", version=f"pynn {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_train(subparsers)
    _add_predict(subparsers)
    _add_summary(subparsers)
    # The bench command's options are its own module's (pynn.bench.command), added when
    # bench runs, so that train, predict and summary never import it.
    subparsers.add_parser("bench", add_help=False, help="measure pynn's speed (pynn bench --help)")
    return parser
