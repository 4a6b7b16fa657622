"""The training benchmark's medians and ratios (pynn.bench.training): from its runs, per
thread count the rows of epoch seconds and accuracy (per batch size), of the small
network's step cost, of inference throughput and of peak memory, with pynn's ratios to its
peers. Measurements during which other processes used more than BUSY_SHARE of the machine
are left out of a median when it has quiet ones."""

from pynn.bench.timing import BUSY_SHARE, median_or_none
from pynn.bench.worker import MEMORY_BATCH


def quiet_runs(runs, name, threads):
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
        epochs += [_epoch_row(answers, names, n_threads, batch) for batch in batch_sizes]
        small.append(_small_steps_row(answers, names, n_threads))
        inference.append(_inference_row(answers, names, n_threads))
        memory.append(_memory_row(answers, names, n_threads))
    _add_scaling(epochs)
    return {"epochs": epochs, "small_steps": small, "inference": inference, "memory": memory}


def _epoch_row(answers, names, n_threads, batch):
    """Each library's epoch seconds and accuracy at batch `batch`, and pynn's ratios."""
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
    return {
        "threads": n_threads,
        "batch": batch,
        "seconds": seconds,
        "accuracy": accuracy,
        "busy": _merge_busy(busy),
        "pynn_over": {
            name: _ratio(seconds.get("pynn"), seconds[name]) for name in names if name != "pynn"
        },
    }


def _small_steps_row(answers, names, n_threads):
    """pynn's and torch's microseconds per step of the small network, SGD and Adam."""
    steps, busy = {}, []
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
    return {"threads": n_threads, "us_per_step": steps, "busy": _merge_busy(busy)}


def _inference_row(answers, names, n_threads):
    """pynn's and torch's inference samples per second, and their quotient."""
    rates, busy = {}, []
    for name in ("pynn", "torch"):
        if name in names:
            rates[name], counts = _quiet_median(
                (answer["inference_samples_per_second"], answer["inference_others_share"])
                for answer in answers[name]
            )
            busy.append(counts)
    return {
        "threads": n_threads,
        "samples_per_second": rates,
        "busy": _merge_busy(busy),
        "pynn_over_torch": _ratio(rates.get("pynn"), rates.get("torch")),
    }


def _memory_row(answers, names, n_threads):
    """Each library's median peak memory while training, and pynn's over torch's."""
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
    return {
        "threads": n_threads,
        "batch": MEMORY_BATCH,
        "bytes": peak,
        "methods": methods,
        "pynn_over_torch": _ratio(peak.get("pynn"), peak.get("torch")),
    }


def _add_scaling(epochs):
    """Each epoch row's pynn_over_1_thread: pynn at t threads over pynn at 1 thread."""
    for row in epochs:
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
