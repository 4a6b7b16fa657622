"""The training benchmark's report (pynn.bench.training): the set-up, then the tables of
epoch seconds (with pynn's ratios and the targets), training accuracy, the small network's
step cost, inference throughput and peak memory, as text."""

import os
import sys

from pynn.bench import processes
from pynn.bench.memory import METHODS
from pynn.bench.timing import BUSY_SHARE
from pynn.bench.training_config import (
    DATA_SHEET_PEAK_GFLOPS,
    EPOCH_SAMPLES,
    EVAL_SAMPLES,
    FLOPS,
    INFERENCE_TARGET,
    MEMORY_TARGET,
    SCALING_BATCHES,
    SMALL_TARGET_US,
    TARGETS,
    WARMUP_STEPS,
    coretype,
)
from pynn.bench.worker import MEMORY_BATCH


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
        labels[name] = f"sklearn[{corename or coretype(name) or 'auto'}]"
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
