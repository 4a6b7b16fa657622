"""The training benchmark: one epoch of an MLP 784-256-128-10, pynn against PyTorch and
scikit-learn (shared/BENCHMARKS.md "Training"), with the small network's cost per step,
inference throughput and peak memory while training.

    python benchmarks/training.py                 # the full run, about 3 minutes on 2 cores
    python benchmarks/training.py --quick         # 6000-sample epochs scaled to 60000, 1 repeat
    python benchmarks/training.py --threads 1 --batch-sizes 128 --repeats 5 --json out.json

A front end for pynn.bench.training (the same as `pynn bench --only training`), running the
pynn of this source tree (built in place). Method and columns: benchmarks/README.md.
"""

import argparse
import os
import sys

# Benchmark the pynn of this source tree (built in place), whichever directory we run from.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from pynn.bench import command  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog=__doc__.split("\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    command.add_training_arguments(parser)
    args = parser.parse_args(argv)
    args.only = "training"
    return command.run(args)


if __name__ == "__main__":
    sys.exit(main())
