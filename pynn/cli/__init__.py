"""The command line: `python -m pynn` or `pynn` (train, predict, summary, bench).

`main(argv=None)` returns the exit status: 0 on success, 1 for an expected error (a
missing file, a bad value, a damaged model, a missing optional package, memory that runs
out: one line `pynn: error: ...` on stderr, no traceback), 2 for a usage error
(argparse's), 130 when interrupted. Anything else is a bug and keeps its traceback.
"""

import argparse
import os
import sys

from pynn.cli import predict, summary, train
from pynn.cli.parser import build_parser
from pynn.core.errors import NonFiniteLossError

PROG = "pynn"
# What bad input, files or settings raise (pynn's checks name the culprit in the message).
EXPECTED_ERRORS = (ValueError, TypeError, OSError, ImportError, NonFiniteLossError, MemoryError)


def _message(error):
    """One line for an expected error."""
    if isinstance(error, MemoryError):  # NumPy's says what it could not allocate
        detail = " ".join(str(error).split())
        return (
            "out of memory"
            + (f": {detail}" if detail else "")
            + " (the data or the model needs more memory than this process may use)"
        )
    if isinstance(error, OSError) and error.filename is not None:
        reason = error.strerror or str(error)
        return f"{reason}: {error.filename}"
    text = str(error) or type(error).__name__
    return " ".join(text.split())  # one line, whatever the message holds


def _run_bench(extra):
    """`pynn bench ...`: the options and the work are pynn.bench.command's."""
    try:
        from pynn.bench import command
    except ImportError as error:
        print(
            f"{PROG}: error: the bench command is not available: pynn.bench.command "
            f"does not import ({error})",
            file=sys.stderr,
        )
        return 2
    summary = " ".join(
        (command.__doc__ or "Measure pynn's speed.").strip().split("\n\n")[0].split()
    )  # the docstring's first paragraph
    parser = argparse.ArgumentParser(prog=f"{PROG} bench", description=summary)
    command.add_arguments(parser)
    return command.run(parser.parse_args(extra))


def _dispatch(args, extra, parser):
    if args.command == "bench":
        return _run_bench(extra)
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    command = {"train": train, "predict": predict, "summary": summary}[args.command]
    return command.run(args)


def main(argv=None):
    """Run the command line with `argv` (default sys.argv[1:]); returns the exit status."""
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        return _dispatch(args, extra, parser)
    except SystemExit as exit:  # argparse: --help, --version and usage errors
        if exit.code is None:
            return 0
        return exit.code if isinstance(exit.code, int) else 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`pynn predict ... | head`)
        # Point stdout at nothing, so that Python's final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except EXPECTED_ERRORS as error:
        sys.stdout.flush()
        print(f"{PROG}: error: {_message(error)}", file=sys.stderr)
        return 1
