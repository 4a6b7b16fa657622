"""pytest-benchmark suite: training and inference of pynn, PyTorch and scikit-learn.

    OMP_NUM_THREADS=1 pytest benchmarks/test_bench_training.py --benchmark-only

Not part of the test suite (pyproject's testpaths is tests/). The same trainers as
`pynn bench` and benchmarks/training.py (pynn.bench.libraries), all in this one process: the
thread count reaches every library only through the environment, set before the run
(OMP_NUM_THREADS is read by pynn's OpenMP, PyTorch and OpenBLAS at import; prefix
`env -u OPENBLAS_CORETYPE` for NumPy's AVX-512 kernels). Each group holds the libraries on
the same data, so the parenthesised figures are the ratios within the group; extra_info
records the library, thread counts and the rate. benchmarks/training.py is the full
comparison (a process per library, interleaved repeats, medians, targets, peak memory).
PyTorch and scikit-learn are skipped when not installed.
"""

import os
import sys

import pytest

pytest.importorskip("pytest_benchmark")

# Benchmark the pynn of this source tree (built in place), whichever directory we run from.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import pynn  # noqa: E402
from pynn.bench import libraries  # noqa: E402
from pynn.bench.data import make_classification, make_mnist_like  # noqa: E402
from pynn.bench.training import EPOCH_SAMPLES, FLOPS, WARMUP_STEPS  # noqa: E402

PEERS = {"pynn": None, "torch": "torch", "sklearn": "sklearn"}
ROUNDS = 3


@pytest.fixture(scope="module")
def mnist_like():
    return make_mnist_like(EPOCH_SAMPLES)


def needs(library):
    if PEERS[library] is not None:
        pytest.importorskip(PEERS[library])


def record(benchmark, library, **info):
    benchmark.extra_info.update(
        {
            "library": library,
            "pynn_threads": pynn.get_num_threads(),
            "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
            "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
            **info,
        }
    )


@pytest.mark.parametrize("batch", [32, 128, 512])
@pytest.mark.parametrize("library", list(PEERS))
def test_epoch(benchmark, mnist_like, library, batch):
    """One epoch of 60000 samples, MLP 784-256-128-10, SGD lr 0.05 momentum 0.9; each round on
    a new model after WARMUP_STEPS untimed batches."""
    needs(library)
    X, y = mnist_like

    def new_trainer():
        trainer = libraries.trainer(library, libraries.MLP_SIZES, batch)
        trainer.start(X, y, WARMUP_STEPS)
        return (trainer,), {}

    benchmark.group = f"epoch batch {batch}"
    record(benchmark, library, batch=batch, samples=len(X))
    benchmark.pedantic(
        lambda trainer: trainer.epoch(X, y), setup=new_trainer, rounds=ROUNDS, iterations=1
    )
    if benchmark.stats is not None:  # None under --benchmark-disable (a smoke run)
        benchmark.extra_info["gflops"] = len(X) * FLOPS / benchmark.stats.stats.median / 1e9


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("library", ["pynn", "torch"])
def test_small_network_epoch(benchmark, library, optimizer):
    """100 steps of the 64-32-10 MLP at batch 32: the per-step overhead."""
    needs(library)
    X, y = make_classification(3200, 64, 10)
    trainer_class = libraries.PynnTrainer if library == "pynn" else libraries.TorchTrainer
    trainer = trainer_class(libraries.SMALL_SIZES, 32, optimizer=optimizer)
    trainer.start(X, y, WARMUP_STEPS)
    benchmark.group = f"small network 64-32-10 batch 32 {optimizer}"
    record(benchmark, library, steps=100)
    benchmark(trainer.epoch, X, y)
    if benchmark.stats is not None:
        benchmark.extra_info["us_per_step"] = 1e6 * benchmark.stats.stats.median / 100


@pytest.mark.parametrize("library", ["pynn", "torch"])
def test_inference(benchmark, mnist_like, library):
    """Forward passes of the 784-256-128-10 MLP over 100 batches of 128 rows."""
    needs(library)
    rows = mnist_like[0][: 100 * 128]
    run = libraries.forward_pass(library, libraries.MLP_SIZES, rows, 128)
    benchmark.group = "inference batch 128"
    record(benchmark, library, samples=len(rows))
    benchmark(run)
    if benchmark.stats is not None:
        benchmark.extra_info["samples_per_second"] = len(rows) / benchmark.stats.stats.median
