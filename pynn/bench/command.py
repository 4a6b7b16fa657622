"""`pynn bench`: pynn's kernels and training against NumPy, PyTorch and scikit-learn.

    python -m pynn.bench.command [--quick] [--only kernels|training|threads|all]
                                 [--threads 1,2] [--batch-sizes 32,128,512] [--repeats N]
                                 [--gaps 0,5,100,1000] [--gap-calls N] [--json PATH]

The `pynn` command's `bench` subcommand is this (add_arguments and run). It prints which
peers it found (a peer that is not installed is skipped and reported so), then:
- kernels: pynn's gemm, dense_forward and dense_backward against NumPy at the shapes of the
  MLP 784-256-128-10, float32, 1 thread, pynn and NumPy interleaved in one worker process
  (the full comparison, with 2 threads in separate processes: python benchmarks/gemm.py
  from a source checkout);
- training: one epoch's seconds at each batch size and thread count for pynn, its NumPy
  reference backend, PyTorch and scikit-learn, each in its own processes, interleaved, with
  pynn's ratios and the targets; the small network's cost per step; inference throughput;
  peak memory while training (pynn.bench.training);
- threads (only with --only threads: it starts a spinning neighbour process for minutes):
  pynn at its default thread count against 1 thread under a busy neighbour and after idle
  gaps, as ratios (pynn.bench.threads).
The full run takes about 3 minutes on a 2-core machine; --quick (6000-sample epochs scaled to
60000, 1 repeat, two small shapes per kernel) about half a minute.
"""

import argparse
import json
import os
import sys
import time

from pynn.bench import kernels, peers, threads, training
from pynn.cli.parser import positive_int

PARTS = ("kernels", "training", "threads", "all")  # all: kernels and training
KERNEL_REPEATS = {False: 7, True: 3}  # full, quick


def _positive_int_list(text):
    """ "1,2" -> [1, 2]: a comma-separated list of integers >= 1, without repeats."""
    try:
        values = [int(item) for item in text.split(",") if item.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers >= 1, got {text!r}"
        ) from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers >= 1, got {text!r}")
    if len(set(values)) != len(values):
        raise argparse.ArgumentTypeError(f"a value appears twice in {text!r}")
    return values


def add_training_arguments(parser):
    """The options the training benchmark and benchmarks/training.py share."""
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: epochs of 6000 samples scaled to 60000, 1 repeat, "
        "two small shapes per kernel; threads: 1 repeat, few calls",
    )
    parser.add_argument(
        "--threads",
        type=_positive_int_list,
        default=list(training.THREADS),
        metavar="1,2",
        help="thread counts, comma-separated (default 1,2)",
    )
    parser.add_argument(
        "--batch-sizes",
        type=_positive_int_list,
        default=list(training.BATCH_SIZES),
        metavar="32,128,512",
        help="training batch sizes, comma-separated (default 32,128,512)",
    )
    parser.add_argument(
        "--repeats",
        type=positive_int,
        default=None,
        metavar="N",
        help=f"repeats; the medians are over them (default "
        f"{training.FULL['repeats']}, --quick {training.QUICK['repeats']}; "
        f"kernels {KERNEL_REPEATS[False]}, --quick {KERNEL_REPEATS[True]}; "
        f"threads {threads.FULL['repeats']}, --quick "
        f"{threads.QUICK['repeats']})",
    )
    parser.add_argument(
        "--json",
        metavar="PATH",
        default=None,
        help="also write every figure, and the configuration, to PATH as JSON",
    )


def _gap_list(text):
    """ "0,5,100" -> [0, 5, 100]: comma-separated integers >= 0 (milliseconds), no repeats."""
    try:
        values = [int(item) for item in text.split(",") if item.strip()]
    except ValueError:
        values = None
    if not values or min(values) < 0 or len(set(values)) != len(values):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated distinct integers >= 0, got {text!r}"
        )
    return values


def add_threads_arguments(parser):
    """The options of the threads benchmark beyond --quick, --repeats and --json."""
    parser.add_argument(
        "--gaps",
        type=_gap_list,
        default=None,
        metavar="0,5,100,1000",
        help="threads: idle milliseconds between predict calls, "
        "comma-separated (default 0,5,100,1000)",
    )
    parser.add_argument(
        "--gap-calls",
        type=positive_int,
        default=None,
        metavar="N",
        help="threads: calls per arm at every gap (default: 150, 90, 60, 30 "
        "at 0, 5, 100, 1000 ms; --quick 20, 20, 10, 3)",
    )


def add_arguments(parser):
    """The `bench` options, added to an argparse parser (or the `pynn` command's subparser)."""
    parser.add_argument(
        "--only",
        choices=PARTS,
        default="all",
        help="run the kernel comparison, the training benchmark, the "
        "busy-machine threads benchmark, or all (kernels and training; "
        "default)",
    )
    add_training_arguments(parser)
    add_threads_arguments(parser)
    return parser


def _check(args):
    """Arguments built by hand (not through argparse) get the same checks; returns an error
    message or None."""
    if args.only not in PARTS:
        return f"--only must be one of {', '.join(PARTS)}, got {args.only!r}"
    for option, values in (("--threads", args.threads), ("--batch-sizes", args.batch_sizes)):
        if (
            not isinstance(values, (list, tuple))
            or not values
            or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in values)
        ):
            return f"{option} must be a non-empty list of integers >= 1, got {values!r}"
    if args.repeats is not None and (
        isinstance(args.repeats, bool) or not isinstance(args.repeats, int) or args.repeats < 1
    ):
        return f"--repeats must be an integer >= 1, got {args.repeats!r}"
    gaps = getattr(args, "gaps", None)
    if gaps is not None and (
        not isinstance(gaps, (list, tuple))
        or not gaps
        or any(isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in gaps)
    ):
        return f"--gaps must be a non-empty list of integers >= 0, got {gaps!r}"
    gap_calls = getattr(args, "gap_calls", None)
    if gap_calls is not None and (
        isinstance(gap_calls, bool) or not isinstance(gap_calls, int) or gap_calls < 1
    ):
        return f"--gap-calls must be an integer >= 1, got {gap_calls!r}"
    if args.json is not None:
        folder = os.path.dirname(os.path.abspath(args.json))
        if not os.path.isdir(folder):
            return f"--json: the folder {folder} does not exist"
    return None


def run(args, out=None, progress=None):
    """Run what args ask for (see add_arguments); print the tables. Returns the exit status:
    0, 1 when a library's worker failed, 2 for bad arguments."""
    out = sys.stdout if out is None else out
    progress = sys.stderr if progress is None else progress
    error = _check(args)
    if error is not None:
        print(f"pynn bench: error: {error}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    report = _print_setup(out)
    status = 0
    if args.only in ("kernels", "all"):
        _run_kernels(args, report, out, progress)
    if args.only in ("training", "all"):
        status = max(status, _run_training(args, report, out, progress))
    if args.only == "threads":
        status = max(status, _run_threads(args, report, out, progress))
    print(f"\n(pynn bench: {time.perf_counter() - started:.0f} s)", file=out)
    if args.json is not None:
        with open(args.json, "w") as dump:
            json.dump(report, dump, indent=1)
        print(f"wrote {args.json}", file=out)
    return status


def _print_setup(out):
    """Print pynn's configuration and the peers found; returns the report to fill."""
    import pynn

    config = {str(key): str(value) for key, value in pynn.show_config(mode="dicts").items()}
    found = peers.found()
    print(
        f"pynn {config['pynn']}: "
        + ", ".join(
            f"{key} {value}"
            for key, value in config.items()
            if key not in ("pynn", "num_threads", "OMP_NUM_THREADS")
        ),
        file=out,
    )
    print(f"Peers: {peers.describe(found)}", file=out)
    return {"pynn": config, "peers": found, "argv": sys.argv[1:]}


def _run_kernels(args, report, out, progress):
    """The kernel comparison: into report["kernels"], and its table."""
    repeats = args.repeats or KERNEL_REPEATS[args.quick]
    print(
        "... kernels: NumPy with OPENBLAS_CORETYPE, then pynn and NumPy interleaved",
        file=progress,
        flush=True,
    )
    print("", file=out)
    report["kernels"] = kernels.compare(args.quick, repeats)
    kernels.print_comparison(report["kernels"], out)


def _run_training(args, report, out, progress):
    """The training benchmark: into report["training"], and its tables; returns 1 when a
    worker failed, else 0."""
    print("", file=out)
    report["training"] = training.run(
        threads=args.threads,
        batch_sizes=args.batch_sizes,
        quick=args.quick,
        repeats=args.repeats,
        progress=progress,
    )
    training.print_report(report["training"], out)
    return 1 if any(run.get("error") for run in report["training"]["runs"]) else 0


def _run_threads(args, report, out, progress):
    """The threads benchmark: into report["threads"], and its tables; returns 1 when a
    measurement failed, else 0."""
    print("", file=out)
    report["threads"] = threads.run(
        quick=args.quick,
        repeats=args.repeats,
        gaps_ms=getattr(args, "gaps", None),
        gap_calls=getattr(args, "gap_calls", None),
        progress=progress,
    )
    threads.print_report(report["threads"], out)
    return 1 if report["threads"]["errors"] else 0


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="pynn bench",
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n", 2)[2],
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
