"""One measurement in a process of its own: `python -m pynn.bench.worker SPEC_JSON ANSWER_PATH`.

Started by pynn.bench.processes.run_worker with every library's thread count already in
the environment (OMP_NUM_THREADS, OPENBLAS_NUM_THREADS, MKL_NUM_THREADS) and OPENBLAS_CORETYPE
chosen. It sets the thread count through each library's own call too, runs the task of the
spec ("training" or "kernels") and writes its answer as JSON to ANSWER_PATH.
"""

import json
import statistics
import sys
import time

import numpy as np

import pynn
from pynn.bench import kernels, libraries
from pynn.bench.blas import numpy_config
from pynn.bench.data import make_classification
from pynn.bench.memory import PeakMemory
from pynn.bench.peers import installed
from pynn.bench.timing import OtherLoad

MEMORY_BATCH = 128  # the batch size whose epoch the peak memory is measured at


def set_threads(library, threads):
    """Each library's own thread setting; returns what this process runs with."""
    pynn.set_num_threads(threads)
    settings = {"pynn": pynn.get_num_threads()}
    if library == "torch":
        import torch

        torch.set_num_threads(threads)
        settings["torch"] = torch.get_num_threads()
    if installed("threadpoolctl"):  # NumPy's BLAS (scikit-learn, the reference backend)
        import threadpoolctl

        set_threads.limits = threadpoolctl.threadpool_limits(limits=threads)  # kept alive
        settings["threadpools"] = [
            {
                key: pool.get(key)
                for key in ("internal_api", "architecture", "num_threads", "version", "filepath")
            }
            for pool in threadpoolctl.threadpool_info()
        ]
    return settings


def library_versions(library):
    versions = {"pynn": pynn.__version__, "numpy": np.__version__}
    if library == "torch":
        import torch

        versions["torch"] = torch.__version__
    if library == "sklearn":
        import sklearn

        versions["sklearn"] = sklearn.__version__
    return versions


def train_epochs(spec, X, y):
    """One timed epoch per batch size (MEMORY_BATCH first, its peak memory measured from a
    baseline taken before its model is built), each on a new model after `warmup_steps`
    untimed batches."""
    library = spec["library"]
    timed = min(len(X), spec.get("timed_samples") or len(X))
    X_timed, y_timed = X[:timed], y[:timed]
    n_eval = min(len(X), spec["eval_samples"])
    batches = sorted(spec["batch_sizes"], key=lambda batch: batch != MEMORY_BATCH)
    epochs, memory = [], None
    for batch in batches:
        meter = PeakMemory().start() if spec["memory"] and memory is None else None
        trainer = libraries.trainer(library, libraries.MLP_SIZES, batch, seed=spec["seed"])
        trainer.start(X, y, spec["warmup_steps"])
        load = OtherLoad().start()
        started = time.perf_counter()
        trainer.epoch(X_timed, y_timed)
        seconds = time.perf_counter() - started
        others = load.stop()
        if meter is not None:
            memory = {
                "batch": batch,
                "bytes": meter.stop(),
                "method": meter.method,
                "samples": timed,
            }
        epochs.append(
            {
                "batch": batch,
                "seconds": seconds,
                "timed_samples": timed,
                "epoch_seconds": seconds * spec["epoch_samples"] / timed,
                "others_share": others,
                "accuracy": trainer.accuracy(X[:n_eval], y[:n_eval]),
            }
        )
        del trainer
    return sorted(epochs, key=lambda epoch: epoch["batch"]), memory


def small_steps(spec):
    """Microseconds per training step of the small network (SMALL_SIZES, batch 32), SGD and
    Adam: the median epoch over `epochs` epochs, divided by the steps per epoch; and the
    share of the machine other processes used meanwhile."""
    settings = spec["small"]
    X, y = make_classification(
        settings["samples"], libraries.SMALL_SIZES[0], libraries.SMALL_SIZES[-1], seed=spec["seed"]
    )
    batch = settings["batch"]
    steps = -(-len(X) // batch)
    result, load = {}, OtherLoad().start()
    for optimizer in ("sgd", "adam"):
        if spec["library"] == "pynn":
            trainer = libraries.PynnTrainer(
                libraries.SMALL_SIZES, batch, spec["seed"], optimizer=optimizer
            )
        else:
            trainer = libraries.TorchTrainer(
                libraries.SMALL_SIZES, batch, spec["seed"], optimizer=optimizer
            )
        seconds = trainer.epoch_seconds(X, y, settings["epochs"])
        result[optimizer] = 1e6 * statistics.median(seconds) / steps
    return result, load.stop()


def inference(spec, X):
    """Samples per second of the forward pass at batch `batch`: the median of `repeats`
    timed passes over `calls` batches, after one untimed pass; and the share of the machine
    other processes used meanwhile."""
    settings = spec["inference"]
    batch = settings["batch"]
    rows = X[: min(len(X), settings["calls"] * batch)]
    run = libraries.forward_pass(
        spec["library"], libraries.MLP_SIZES, rows, batch, seed=spec["seed"]
    )
    run()
    seconds, load = [], OtherLoad().start()
    for _ in range(settings["repeats"]):
        started = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - started)
    return (len(rows) // batch) * batch / statistics.median(seconds), load.stop()


def training_task(spec):
    threads = set_threads(spec["library"], spec["threads"])
    answer = {
        "library": spec["library"],
        "threads": spec["threads"],
        "settings": threads,
        "versions": library_versions(spec["library"]),
        "blas": numpy_config(),
    }
    X, y = np.load(spec["data"]), np.load(spec["labels"])
    answer["epochs"], answer["memory"] = train_epochs(spec, X, y)
    if spec["library"] in ("pynn", "torch"):
        if spec.get("small"):
            answer["small_steps_us"], answer["small_steps_others_share"] = small_steps(spec)
        if spec.get("inference"):
            answer["inference_samples_per_second"], answer["inference_others_share"] = inference(
                spec, X
            )
    return answer


def kernels_task(spec):
    pynn.set_num_threads(1)
    cases = [(kind, tuple(shape)) for kind, shape in spec["cases"]]
    return {
        "blas": numpy_config(),
        "pynn": {str(k): str(v) for k, v in pynn.show_config(mode="dicts").items()},
        "results": kernels.time_cases(cases, spec["libraries"], spec["repeats"]),
    }


def main(argv):
    spec, answer_path = json.loads(argv[1]), argv[2]
    answer = kernels_task(spec) if spec["task"] == "kernels" else training_task(spec)
    with open(answer_path, "w") as out:
        json.dump(answer, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
