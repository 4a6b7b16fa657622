"""The threads benchmark's medians and ratios (pynn.bench.threads): from its runs, the rows
of the neighbour table (per case, each arm's median wall time per unit and their quotient
default/1) and of the idle-gap table (each arm's pooled latency percentiles)."""

import os

from pynn.bench.threads_config import ARMS, GOAL, LABELS
from pynn.bench.timing import median_or_none


def ratio(numerator, denominator):
    """numerator / denominator, or None when either is missing or the denominator is 0."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


def percentile(values, q):
    """The q-th percentile (0..100) of values, linear between closest ranks; None if empty."""
    values = sorted(values)
    if not values:
        return None
    position = (len(values) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


def _neighbour_share(answer):
    """The neighbour's CPU seconds over the timed window's wall seconds (its share of a
    core), or None."""
    seconds = answer.get("neighbour_cpu_seconds")
    return None if seconds is None else ratio(seconds, answer["wall_seconds"])


def _rest_share(answer, cpus):
    """The share of the machine's cores used by neither the worker nor the neighbour."""
    others = answer.get("others_share")
    if others is None:
        return None
    neighbour = _neighbour_share(answer) or 0.0
    return max(0.0, others - neighbour / (cpus or 1))


def _verdict(value):
    if value is None:
        return "n/a"
    return "ok" if value <= GOAL else "MISS"


def _row(name, label, unit, per_arm, answers, cpus):
    """A table row: per_arm is {arm: [figure per run]} (seconds per unit)."""
    row = {"name": name, "label": label, "unit": unit}
    for arm in ARMS:
        row[arm] = median_or_none(per_arm[arm])
        row[f"{arm}_runs"] = len(per_arm[arm])
        row[f"{arm}_cpu"] = median_or_none(
            ratio(answer["cpu_seconds"], answer["units"]) for answer in answers[arm]
        )
        row[f"{arm}_threads"] = sorted(
            {
                answer.get("num_threads")
                for answer in answers[arm]
                if answer.get("num_threads") is not None
            }
        )
    row["ratio"] = ratio(row["default"], row["1"])
    row["verdict"] = _verdict(row["ratio"])
    everything = answers["default"] + answers["1"]
    row["neighbour_share"] = median_or_none(_neighbour_share(answer) for answer in everything)
    row["rest_share"] = median_or_none(_rest_share(answer, cpus) for answer in everything)
    return row


def summarize(runs, chosen):
    """The tables' rows from the runs: {"neighbour_rows": [a row per figure of each case
    measured beside the neighbour], "gap_rows": [a row per idle gap]}."""
    cpus = os.cpu_count()
    neighbour_rows = []
    for case in chosen["cases"]:
        neighbour_rows += _case_rows(case, _answers(runs, case), cpus)
    gap_rows = [_gap_row(gap, _answers(runs, f"gap_{gap}"), cpus) for gap in chosen["gaps_ms"]]
    return {"neighbour_rows": neighbour_rows, "gap_rows": gap_rows}


def _answers(runs, name):
    """{arm: the answers of the runs of `name` in that arm that did not fail}."""
    return {
        arm: [
            run["answer"]
            for run in runs
            if run["name"] == name and run["arm"] == arm and "answer" in run
        ]
        for arm in ARMS
    }


def _case_rows(case, found, cpus):
    """A neighbour case's rows: `pynn train`'s training seconds and its whole command's wall
    time; any other case's wall time per unit."""
    if case == "cli":
        return [
            _case_row("cli_train", found, cpus, lambda answer: answer["train_seconds"]),
            _case_row("cli_command", found, cpus, lambda answer: answer["wall_seconds"]),
        ]
    return [
        _case_row(case, found, cpus, lambda answer: ratio(answer["wall_seconds"], answer["units"]))
    ]


def _case_row(name, found, cpus, figure):
    """The row of LABELS[name] whose figure is figure(answer), for each answer in found."""
    label, unit, _ = LABELS[name]
    per_arm = {arm: [figure(answer) for answer in found[arm]] for arm in ARMS}
    return _row(name, label, unit, per_arm, found, cpus)


def _gap_row(gap, found, cpus):
    """An idle gap's row: each arm's calls, p50 and p90 over its pooled latencies."""
    row = {"gap_ms": gap}
    for arm in ARMS:
        latencies = [value for answer in found[arm] for value in answer["latencies"]]
        row[f"{arm}_calls"] = len(latencies)
        row[f"{arm}_p50"] = percentile(latencies, 50)
        row[f"{arm}_p90"] = percentile(latencies, 90)
        row[f"{arm}_threads"] = sorted({answer["num_threads"] for answer in found[arm]})
    row["ratio"] = ratio(row["default_p50"], row["1_p50"])
    row["ratio_p90"] = ratio(row["default_p90"], row["1_p90"])
    row["verdict"] = _verdict(row["ratio"])
    row["rest_share"] = median_or_none(
        _rest_share(answer, cpus) for arm in ARMS for answer in found[arm]
    )
    return row
