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
"""

import os
import sys
import tempfile
import time

import numpy as np

from pynn.bench import peers, processes
from pynn.bench.data import make_mnist_like
from pynn.bench.libraries import MLP_SIZES
from pynn.bench.memory import METHODS
from pynn.bench.timing import BUSY_SHARE, median_or_none, rotated, wait_for_quiet_machine
from pynn.bench.worker import MEMORY_BATCH

EPOCH_SAMPLES = 60000  # the epoch every figure is given for (MNIST's training set)
BATCH_SIZES = (32, 128, 512)
THREADS = (1, 2)
WARMUP_STEPS = 10  # untimed batches on each new model before its timed epoch
EVAL_SAMPLES = 10000  # the training accuracy after the epoch is measured on this many rows
# full: about 3 minutes on the project's 2-core machine (165 s measured, quiet); quick: a
# smoke run (about 20 s).
# busy_retries: extra rounds at most for the runs other work disturbed (see run).
FULL = {
    "samples": 60000,
    "repeats": 3,
    "reference_samples": 12000,
    "small_samples": 3200,
    "small_epochs": 7,
    "inference_calls": 100,
    "inference_repeats": 5,
    "busy_retries": 3,
}
QUICK = {
    "samples": 6000,
    "repeats": 1,
    "reference_samples": 6000,
    "small_samples": 1600,
    "small_epochs": 3,
    "inference_calls": 40,
    "inference_repeats": 3,
    "busy_retries": 1,
}

# name -> (worker library, peer module needed or None, OPENBLAS_CORETYPE: None removes it,
# "env" is the environment's, or Haswell when it sets none)
LIBRARIES = {
    "pynn": ("pynn", None, None),
    "reference": ("reference", None, None),
    "torch": ("torch", "torch", None),
    "sklearn": ("sklearn", "sklearn", None),
    "sklearn_env": ("sklearn", "sklearn", "env"),
}
# Targets at 1 thread, pynn's epoch time over the peer's: (peer, batch) -> at most this.
TARGETS = {("torch", 32): 0.25, ("torch", 128): 0.33, ("torch", 512): 0.4, ("sklearn", 128): 0.6}
SCALING_BATCHES = (128, 512)  # at t > 1 threads pynn must be faster than at 1 there
SMALL_TARGET_US = 20.0  # pynn's small-network step, at most (1 thread)
INFERENCE_TARGET = 2.0  # pynn's samples/s over torch's, at least (1 thread)
MEMORY_TARGET = 1.0  # pynn's peak memory over torch's, at most


def flops_per_sample(sizes):
    """Flops of one training step per sample: forward 2·in·out per layer, backward 2·in·out
    for the weight gradient and 2·in·out for the input gradient (not for the first layer).
    About 1.0 MFLOP for 784-256-128-10, as BENCHMARKS.md says."""
    layers = list(zip(sizes[:-1], sizes[1:]))
    return sum((6 if i > 0 else 4) * n_in * n_out for i, (n_in, n_out) in enumerate(layers))


# An epoch at the data sheet's fp32 peak per core (BENCHMARKS.md: 256 GFLOP/s; on this VM
# kind benchmarks/fma_peak.c measures about 115).
DATA_SHEET_PEAK_GFLOPS = 256.0
FLOPS = flops_per_sample(MLP_SIZES)


def settings(quick, repeats=None, samples=None, reference_samples=None, busy_retries=None):
    chosen = dict(QUICK if quick else FULL)
    if busy_retries is not None:
        chosen["busy_retries"] = busy_retries
    if repeats is not None:
        chosen["repeats"] = repeats
    if samples is not None:
        chosen["samples"] = samples
    if reference_samples is not None:
        chosen["reference_samples"] = reference_samples
    chosen["reference_samples"] = min(chosen["reference_samples"], chosen["samples"])
    chosen["quick"] = quick
    return chosen


def _coretype(name):
    coretype = LIBRARIES[name][2]
    return processes.environment_coretype() if coretype == "env" else coretype


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
        "coretypes": {name: _coretype(name) for name in status},
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
                coretype=_coretype(name),
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
                if name not in failures and _quiet_runs(runs, name, n_threads) < chosen["repeats"]:
                    measure(
                        name,
                        n_threads,
                        chosen["repeats"] + extra,
                        f"extra round {extra + 1} (the machine was busy)",
                    )
    return runs, failures


# ---- medians and ratios ------------------------------------------------------------------


def _quiet_runs(runs, name, threads):
    """How many of the library's workers at `threads` threads measured everything while other
    processes used at most BUSY_SHARE of the machine."""
    count = 0
    for run in runs:
        answer = run.get("answer")
        if answer is None or (run["name"], run["threads"]) != (name, threads):
            continue
        shares = [epoch["others_share"] for epoch in answer["epochs"]]
        shares += [answer.get("small_steps_others_share"), answer.get("inference_others_share")]
        count += all(share is None or share <= BUSY_SHARE for share in shares)
    return count


def _answers(runs, name, threads):
    return [
        run["answer"]
        for run in runs
        if run["name"] == name and run["threads"] == threads and "answer" in run
    ]


def _ratio(numerator, denominator):
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


def _quiet_median(samples):
    """samples: [(value, share of the machine other processes used meanwhile)]. Returns
    (the median over the quiet ones, or over all when none was quiet; [busy, count])."""
    samples = [(value, share) for value, share in samples if value is not None]
    quiet = [value for value, share in samples if share is None or share <= BUSY_SHARE]
    median = median_or_none(quiet or [value for value, _ in samples])
    return median, [len(samples) - len(quiet), len(samples)]


def _merge_busy(counts):
    """[[busy, count], ...] -> [total busy, total count, True when some cell was all busy]."""
    return [
        sum(busy for busy, _ in counts),
        sum(count for _, count in counts),
        any(count and busy == count for busy, count in counts),
    ]


def summarize(runs, names, threads, batch_sizes):
    """Medians over repeats per library, thread count and batch size, and pynn's ratios.
    Measurements during which other processes used more than BUSY_SHARE of the machine are
    left out of a median when it has quiet ones; "busy" counts them."""
    epochs, small, inference, memory = [], [], [], []
    for n_threads in threads:
        answers = {name: _answers(runs, name, n_threads) for name in names}
        for batch in batch_sizes:
            seconds, accuracy, busy = {}, {}, []
            for name in names:
                timed = [
                    epoch
                    for answer in answers[name]
                    for epoch in answer["epochs"]
                    if epoch["batch"] == batch
                ]
                seconds[name], counts = _quiet_median(
                    (epoch["epoch_seconds"], epoch["others_share"]) for epoch in timed
                )
                accuracy[name] = median_or_none(epoch["accuracy"] for epoch in timed)
                busy.append(counts)
            epochs.append(
                {
                    "threads": n_threads,
                    "batch": batch,
                    "seconds": seconds,
                    "accuracy": accuracy,
                    "busy": _merge_busy(busy),
                    "pynn_over": {
                        name: _ratio(seconds.get("pynn"), seconds[name])
                        for name in names
                        if name != "pynn"
                    },
                }
            )
        steps, rates, busy = {}, {}, []
        for name in ("pynn", "torch"):
            if name not in names:
                continue
            steps[name] = {}
            for optimizer in ("sgd", "adam"):
                steps[name][optimizer], counts = _quiet_median(
                    (answer["small_steps_us"][optimizer], answer["small_steps_others_share"])
                    for answer in answers[name]
                )
                busy.append(counts)
        small.append({"threads": n_threads, "us_per_step": steps, "busy": _merge_busy(busy)})
        busy = []
        for name in ("pynn", "torch"):
            if name in names:
                rates[name], counts = _quiet_median(
                    (answer["inference_samples_per_second"], answer["inference_others_share"])
                    for answer in answers[name]
                )
                busy.append(counts)
        inference.append(
            {
                "threads": n_threads,
                "samples_per_second": rates,
                "busy": _merge_busy(busy),
                "pynn_over_torch": _ratio(rates.get("pynn"), rates.get("torch")),
            }
        )
        peak = {
            name: median_or_none(
                answer["memory"]["bytes"] for answer in answers[name] if answer.get("memory")
            )
            for name in names
        }
        methods = sorted(
            {
                answer["memory"]["method"]
                for name in names
                for answer in answers[name]
                if answer.get("memory")
            }
        )
        memory.append(
            {
                "threads": n_threads,
                "batch": MEMORY_BATCH,
                "bytes": peak,
                "methods": methods,
                "pynn_over_torch": _ratio(peak.get("pynn"), peak.get("torch")),
            }
        )
    for row in epochs:  # pynn at t threads over pynn at 1 thread
        one = next(
            (
                other
                for other in epochs
                if other["threads"] == 1 and other["batch"] == row["batch"]
            ),
            None,
        )
        row["pynn_over_1_thread"] = (
            None
            if row["threads"] == 1 or one is None
            else _ratio(row["seconds"].get("pynn"), one["seconds"].get("pynn"))
        )
    return {"epochs": epochs, "small_steps": small, "inference": inference, "memory": memory}


# ---- the report --------------------------------------------------------------------------


def _verdict(value, target, at_most=True):
    if target is None:
        return ""
    if value is None:
        return f"{'<=' if at_most else '>='} {target:.2f} (n/a)"
    ok = value <= target if at_most else value >= target
    return f"{'<=' if at_most else '>='} {target:.2f} {'ok' if ok else 'MISS'}"


def _cell(result, name, value, fmt):
    state = result["status"].get(name, "not run")
    if value is not None:
        return format(value, fmt)
    if state == "not installed":
        return "not inst."
    return "failed" if state.startswith("failed") else "-"


def _labels(result):
    """Column labels: scikit-learn's name the OpenBLAS kernel its process ran."""
    labels = {"pynn": "pynn", "reference": "reference*", "torch": "torch"}
    for name in ("sklearn", "sklearn_env"):
        corenames = {
            run["answer"]["blas"].get("corename")
            for run in result["runs"]
            if run["name"] == name and "answer" in run
        }
        corename = next(iter(corenames)) if len(corenames) == 1 else None
        labels[name] = f"sklearn[{corename or _coretype(name) or 'auto'}]"
    return labels


def _busy_text(busy):
    """ "busy k/n" (and "all busy") for a row with busy measurements, else ""."""
    n_busy, count, all_busy = busy
    if not n_busy:
        return ""
    return f"busy {n_busy}/{count}" + (", all busy" if all_busy else "")


def _ratio_text(value):
    return "-" if value is None else f"{value:.2f}x"


def print_report(result, out=sys.stdout):
    names, labels = list(result["status"]), _labels(result)
    width = {name: max(9, len(labels[name])) for name in names}
    _print_setup(result, out)
    _print_epochs(result, labels, width, out)
    _print_notes(result, labels, out)
    _print_accuracy(result, labels, width, out)
    _print_small(result, out)
    _print_inference(result, out)
    _print_memory(result, labels, width, out)
    print(f"\n(training benchmark: {result['seconds']:.0f} s)", file=out)


def _print_setup(result, out):
    """What was trained, which libraries ran, and how the figures were taken."""
    chosen = result["settings"]
    scale = EPOCH_SAMPLES / chosen["samples"]
    print(
        f"Training: one epoch of {EPOCH_SAMPLES} x 784 synthetic float32 samples, 10 classes "
        "(labels from a random linear map), MLP 784-256-128-10 ReLU, softmax cross-entropy, "
        "SGD lr 0.05 momentum 0.9.",
        file=out,
    )
    for name, state in result["status"].items():
        if state == "not installed":
            print(f"{name}: not installed: skipped", file=out)
        elif state != "ok":
            print(f"{name}: {state}", file=out)
    print(
        f"Median of {chosen['repeats']} repeat(s); each library in its own process per "
        "thread count and repeat, libraries taking turns (order rotated each repeat); every "
        "timed epoch on a new model after "
        f"{WARMUP_STEPS} untimed batches.",
        file=out,
    )
    if chosen["quick"] or chosen["samples"] != EPOCH_SAMPLES:
        print(
            f"Epochs of {chosen['samples']} samples, scaled x{scale:g} to {EPOCH_SAMPLES}"
            + (" (--quick: a smoke run, not figures to quote)" if chosen["quick"] else "")
            + ".",
            file=out,
        )


def _print_epochs(result, labels, width, out):
    """The table of epoch seconds, and pynn's ratios to its peers and to 1 thread."""
    names = list(result["status"])
    print(
        f"\nSeconds per epoch of {EPOCH_SAMPLES} samples, and pynn's epoch time over each "
        "peer's (below 1: pynn is faster); targets at 1 thread",
        file=out,
    )
    columns = " ".join(f"{labels[n]:>{width[n]}}" for n in names)
    header = (
        f"{'threads':>7} {'batch':>5} {columns} {'pynn GF/s':>9} | {'pynn/torch':>10} "
        f"{'target':<12} {'pynn/sklearn':>12} {'target':<12} {'pynn/1 thread':>13} "
        f"{'target':<8} busy"
    )
    print(header, file=out)
    for row in result["epochs"]:
        t = row["threads"]
        line = f"{t:>7} {row['batch']:>5} " + " ".join(
            f"{_cell(result, name, row['seconds'][name], '.3f'):>{width[name]}}" for name in names
        )
        pynn_seconds = row["seconds"].get("pynn")
        line += (
            f" {EPOCH_SAMPLES * FLOPS / pynn_seconds / 1e9:>9.1f}"
            if pynn_seconds
            else f" {'-':>9}"
        )
        print(line + " | " + _ratio_cells(row), file=out)


def _ratio_cells(row):
    """An epoch row's ratios to torch, sklearn and 1 thread, with their verdicts."""
    t, b = row["threads"], row["batch"]
    cells = []
    for peer in ("torch", "sklearn"):
        ratio = row["pynn_over"].get(peer)
        target = TARGETS.get((peer, b)) if t == 1 else None
        width_ratio = 10 if peer == "torch" else 12
        cells.append(f"{_ratio_text(ratio):>{width_ratio}} {_verdict(ratio, target):<12}")
    scaling = row["pynn_over_1_thread"]
    scale_verdict = ""
    if t > 1 and b in SCALING_BATCHES and scaling is not None:
        scale_verdict = f"< 1 {'ok' if scaling < 1 else 'MISS'}"
    cells.append(
        f"{_ratio_text(scaling) if t > 1 else '':>13} {scale_verdict:<8} {_busy_text(row['busy'])}"
    )
    return " ".join(cells)


def _print_notes(result, labels, out):
    """What the epoch table's figures mean: GF/s, the reference, OpenBLAS, busy."""
    chosen = result["settings"]
    print(
        f"pynn GF/s: {FLOPS / 1e6:.3f} MFLOP per sample (forward 2·in·out per layer, "
        "backward 2·in·out for dW and for dx but the first layer's) over pynn's time; an "
        f"epoch at the data sheet's fp32 peak ({DATA_SHEET_PEAK_GFLOPS:g} GFLOP/s per core) "
        f"takes {EPOCH_SAMPLES * FLOPS / DATA_SHEET_PEAK_GFLOPS / 1e9:.3f} s per thread.",
        file=out,
    )
    print(
        f'* reference: pynn with backend="reference" (its NumPy kernels), timed on '
        f"{chosen['reference_samples']} samples and scaled x"
        f"{EPOCH_SAMPLES / chosen['reference_samples']:g} to {EPOCH_SAMPLES}.",
        file=out,
    )
    coretype_env = processes.environment_coretype()
    print(
        f"NumPy's OpenBLAS: {labels['sklearn']} and reference with OPENBLAS_CORETYPE removed "
        f"(OpenBLAS picks its kernel for the CPU); {labels['sklearn_env']} with "
        f"OPENBLAS_CORETYPE={coretype_env} ("
        + (
            "as the environment sets it"
            if os.environ.get("OPENBLAS_CORETYPE")
            else "the environment sets none: AVX2 kernels"
        )
        + "). The sklearn target is against "
        f"{labels['sklearn']}.",
        file=out,
    )
    extra = sum(1 for run in result["runs"] if run["repeat"] >= chosen["repeats"])
    print(
        f"busy k/n: k of the row's n measurements had other processes using more than "
        f"{BUSY_SHARE:.0%} of the machine's cores meanwhile (/proc/stat): left out of the "
        'medians that have quiet measurements; "all busy": some figure of the row comes '
        f"from busy ones only: rerun on a quiet machine. Disturbed runs are made again, up to "
        f"{chosen['busy_retries']} extra round(s): {extra} extra run(s) here.",
        file=out,
    )


def _print_accuracy(result, labels, width, out):
    """Each library's training accuracy after its timed epoch."""
    names = list(result["status"])
    columns = " ".join(f"{labels[n]:>{width[n]}}" for n in names)
    print(
        f"\nTraining accuracy after the timed epoch (first {EVAL_SAMPLES} samples; every "
        "library learns the same task)",
        file=out,
    )
    print(f"{'threads':>7} {'batch':>5} {columns}", file=out)
    for row in result["epochs"]:
        cells = " ".join(
            f"{_cell(result, name, row['accuracy'][name], '.3f'):>{width[name]}}" for name in names
        )
        print(f"{row['threads']:>7} {row['batch']:>5} {cells}", file=out)


def _print_small(result, out):
    chosen = result["settings"]
    print(
        f"\nSmall network {'-'.join(map(str, (64, 32, 10)))}, batch 32: microseconds per "
        f"training step (median epoch of {chosen['small_samples'] // 32} steps over "
        f"{chosen['small_epochs']} epochs; SGD lr 0.05 momentum 0.9, Adam lr 1e-3)",
        file=out,
    )
    print(
        f"{'threads':>7} {'pynn SGD':>9} {'torch SGD':>9} {'pynn Adam':>9} {'torch Adam':>10}"
        f"  target (pynn, 1 thread)",
        file=out,
    )
    for row in result["small_steps"]:
        steps = row["us_per_step"]
        pynn_us = steps.get("pynn", {})
        torch_us = steps.get("torch", {})
        verdict = ""
        if row["threads"] == 1:
            verdict = ", ".join(
                f"{optimizer} {_verdict(pynn_us.get(optimizer), SMALL_TARGET_US)}"
                for optimizer in ("sgd", "adam")
            )
        print(
            f"{row['threads']:>7} {_cell(result, 'pynn', pynn_us.get('sgd'), '.1f'):>9} "
            f"{_cell(result, 'torch', torch_us.get('sgd'), '.1f'):>9} "
            f"{_cell(result, 'pynn', pynn_us.get('adam'), '.1f'):>9} "
            f"{_cell(result, 'torch', torch_us.get('adam'), '.1f'):>10}  {verdict} "
            f"{_busy_text(row['busy'])}",
            file=out,
        )


def _print_inference(result, out):
    chosen = result["settings"]
    print(
        f"\nInference, MLP 784-256-128-10, batch 128, forward only (pynn decision_function, "
        f"torch under torch.no_grad(); {chosen['inference_calls']} calls per pass, median "
        f"of {chosen['inference_repeats']} passes): samples per second",
        file=out,
    )
    print(
        f"{'threads':>7} {'pynn':>10} {'torch':>10} {'pynn/torch':>10}  target (1 thread)",
        file=out,
    )
    for row in result["inference"]:
        rates = row["samples_per_second"]
        target = INFERENCE_TARGET if row["threads"] == 1 else None
        print(
            f"{row['threads']:>7} {_cell(result, 'pynn', rates.get('pynn'), ',.0f'):>10} "
            f"{_cell(result, 'torch', rates.get('torch'), ',.0f'):>10} "
            f"{_ratio_text(row['pynn_over_torch']):>10}  "
            f"{_verdict(row['pynn_over_torch'], target, at_most=False)} "
            f"{_busy_text(row['busy'])}",
            file=out,
        )


def _print_memory(result, labels, width, out):
    names = list(result["status"])
    print(
        f"\nPeak memory while training: MB added by building the model, {WARMUP_STEPS} "
        f"warm-up batches and one epoch at batch {MEMORY_BATCH}",
        file=out,
    )
    print(
        f"{'threads':>7} "
        + " ".join(f"{labels[n]:>{width[n]}}" for n in names)
        + f" | {'pynn/torch':>10}  target",
        file=out,
    )
    methods = set()
    for row in result["memory"]:
        methods.update(row["methods"])
        megabytes = {
            name: None if value is None else value / 2**20 for name, value in row["bytes"].items()
        }
        print(
            f"{row['threads']:>7} "
            + " ".join(
                f"{_cell(result, name, megabytes[name], '.1f'):>{width[name]}}" for name in names
            )
            + f" | {_ratio_text(row['pynn_over_torch']):>10}  "
            f"{_verdict(row['pynn_over_torch'], MEMORY_TARGET)}",
            file=out,
        )
    for method in sorted(methods):
        print(
            f"Method: in each library's process, {METHODS[method]}; the baseline is taken "
            "after the imports and loading the data, so the data set itself is not counted "
            f"(reference*: its shorter epoch).",
            file=out,
        )
