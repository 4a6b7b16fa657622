"""The training benchmark (shared/BENCHMARKS.md "Training"): one epoch of an MLP 784-256-128-10
on 60000 x 784 synthetic float32 samples, pynn against PyTorch and scikit-learn, plus the
small network's cost per step, inference throughput and peak memory while training.

Method: the data are made once and saved; each library then runs in a process of its own
per thread count and repeat (pynn.bench.worker), so thread settings, BLAS thread pools,
allocator caches and peak memory never mix. Within a repeat the libraries take turns, the
order rotated from one repeat to the next, and the tables give the median over repeats and
the ratios of those medians. Every library gets the same thread count: in the environment
before it loads (OMP_NUM_THREADS, OPENBLAS_NUM_THREADS, MKL_NUM_THREADS) and through its own
call (pynn.set_num_threads, torch.set_num_threads, threadpoolctl for NumPy's OpenBLAS).

This module runs the workers (run); the settings, libraries and targets are in
training_config, the medians and ratios in training_summary and the tables in
training_report, and every public name of those is also a name of this module.
"""

import os
import sys
import tempfile
import time

import numpy as np

from pynn.bench import peers, processes
from pynn.bench.data import make_mnist_like
from pynn.bench.timing import rotated, wait_for_quiet_machine
from pynn.bench.training_config import (
    BATCH_SIZES,
    DATA_SHEET_PEAK_GFLOPS,
    EPOCH_SAMPLES,
    EVAL_SAMPLES,
    FLOPS,
    FULL,
    INFERENCE_TARGET,
    LIBRARIES,
    MEMORY_TARGET,
    QUICK,
    SCALING_BATCHES,
    SMALL_TARGET_US,
    TARGETS,
    THREADS,
    WARMUP_STEPS,
    coretype,
    flops_per_sample,
    settings,
)
from pynn.bench.training_report import print_report
from pynn.bench.training_summary import quiet_runs, summarize

__all__ = [
    "BATCH_SIZES",
    "DATA_SHEET_PEAK_GFLOPS",
    "EPOCH_SAMPLES",
    "EVAL_SAMPLES",
    "FLOPS",
    "FULL",
    "INFERENCE_TARGET",
    "LIBRARIES",
    "MEMORY_TARGET",
    "QUICK",
    "SCALING_BATCHES",
    "SMALL_TARGET_US",
    "TARGETS",
    "THREADS",
    "WARMUP_STEPS",
    "flops_per_sample",
    "print_report",
    "run",
    "settings",
    "summarize",
]


def _spec(name, threads, chosen, batch_sizes, data_paths):
    library = LIBRARIES[name][0]
    spec = {
        "task": "training",
        "library": library,
        "threads": threads,
        "data": data_paths[0],
        "labels": data_paths[1],
        "batch_sizes": list(batch_sizes),
        "epoch_samples": EPOCH_SAMPLES,
        "warmup_steps": WARMUP_STEPS,
        "eval_samples": EVAL_SAMPLES,
        "seed": 0,
        "memory": True,
        "timed_samples": chosen["reference_samples"] if library == "reference" else None,
    }
    if library in ("pynn", "torch"):
        spec["small"] = {
            "samples": chosen["small_samples"],
            "batch": 32,
            "epochs": chosen["small_epochs"],
        }
        spec["inference"] = {
            "batch": 128,
            "calls": chosen["inference_calls"],
            "repeats": chosen["inference_repeats"],
        }
    return spec


def run(
    *,
    threads=THREADS,
    batch_sizes=BATCH_SIZES,
    quick=False,
    repeats=None,
    samples=None,
    reference_samples=None,
    busy_retries=None,
    libraries=None,
    progress=sys.stderr,
):
    """Run the benchmark; returns a JSON-ready dict (print it with print_report). `libraries`
    limits the names of LIBRARIES run (default all; peers that are not installed are
    reported as such). The arguments left None take the FULL or QUICK settings."""
    chosen = settings(quick, repeats, samples, reference_samples, busy_retries)
    versions = peers.found()
    status = {}
    for name in libraries or LIBRARIES:
        if name not in LIBRARIES:
            raise ValueError(f"libraries: unknown name {name!r}; choose from {list(LIBRARIES)}")
        peer = LIBRARIES[name][1]
        status[name] = "ok" if peer is None or versions[peer] else "not installed"
    to_run = [name for name, state in status.items() if state == "ok"]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="pynn-bench-data-") as scratch:
        X, y = make_mnist_like(chosen["samples"])
        data_paths = (os.path.join(scratch, "X.npy"), os.path.join(scratch, "y.npy"))
        np.save(data_paths[0], X)
        np.save(data_paths[1], y)
        del X, y
        runs, failures = _run_workers(to_run, threads, batch_sizes, chosen, data_paths, progress)
    for name, errors in failures.items():
        ran = sum(1 for record in runs if record["name"] == name)
        status[name] = (
            f"failed: {errors[0]}"
            if len(errors) == ran
            else f"ok, but {len(errors)} of {ran} workers failed: {errors[0]}"
        )
    result = {
        "settings": chosen,
        "threads": list(threads),
        "batch_sizes": list(batch_sizes),
        "epoch_samples": EPOCH_SAMPLES,
        "peers": versions,
        "status": status,
        "coretypes": {name: coretype(name) for name in status},
        "runs": runs,
        "seconds": time.perf_counter() - started,
    }
    result.update(summarize(runs, list(status), threads, batch_sizes))
    return result


def _run_workers(names, threads, batch_sizes, chosen, data_paths, progress):
    """Every library at every thread count, `repeats` times, taking turns; then the runs
    other work disturbed again, up to `busy_retries` extra rounds, until each library has
    `repeats` quiet runs at each thread count. Returns (runs, {name: [errors]})."""
    runs, failures = [], {}

    def measure(name, n_threads, repeat, label):
        if progress is not None:
            print(
                f"... training: {label}, {n_threads} thread(s): {name}", file=progress, flush=True
            )
        wait_for_quiet_machine()
        record = {"name": name, "threads": n_threads, "repeat": repeat}
        try:
            record["answer"] = processes.run_worker(
                _spec(name, n_threads, chosen, batch_sizes, data_paths),
                threads=n_threads,
                coretype=coretype(name),
            )
        except processes.WorkerError as error:
            record["error"] = str(error)
            failures.setdefault(name, []).append(str(error))
        runs.append(record)

    for repeat in range(chosen["repeats"]):
        for n_threads in threads:
            for name in rotated(names, repeat):
                measure(name, n_threads, repeat, f"repeat {repeat + 1}/{chosen['repeats']}")
    for extra in range(chosen["busy_retries"]):
        for n_threads in threads:
            for name in rotated(names, extra):
                if name not in failures and quiet_runs(runs, name, n_threads) < chosen["repeats"]:
                    measure(
                        name,
                        n_threads,
                        chosen["repeats"] + extra,
                        f"extra round {extra + 1} (the machine was busy)",
                    )
    return runs, failures
