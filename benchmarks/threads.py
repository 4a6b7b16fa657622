"""The busy-machine threads benchmark (issue 14): pynn at its default thread count against 1
thread under a spinning neighbour process, and after idle gaps between predict calls.

    python benchmarks/threads.py                  # the full run: about 3-5 minutes on 2 cores
    python benchmarks/threads.py --quick          # a smoke run, well under a minute
    python benchmarks/threads.py --repeats 7 --gaps 0,100 --gap-calls 40 --json out.json

A front end for pynn.bench.threads (the same as `pynn bench --only threads`), running the
pynn of this source tree (built in place). Method and columns: benchmarks/README.md.
"""

import argparse
import os
import sys

# Benchmark the pynn of this source tree (built in place), whichever directory we run from.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from pynn.bench import command  # noqa: E402
from pynn.cli.parser import positive_int  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog=__doc__.split("\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: 1 repeat, few calls (well under a minute)",
    )
    parser.add_argument(
        "--repeats",
        type=positive_int,
        default=None,
        metavar="N",
        help="runs per arm and case under the neighbour (default 5, --quick "
        "1); the idle-gap calls are spread over min(N, 3) runs",
    )
    command.add_threads_arguments(parser)
    parser.add_argument(
        "--json",
        metavar="PATH",
        default=None,
        help="also write every figure, each run's answer and the configuration to PATH as JSON",
    )
    args = parser.parse_args(argv)
    args.only, args.threads, args.batch_sizes = "threads", [1], [1]  # unused by threads
    return command.run(args)


if __name__ == "__main__":
    sys.exit(main())
