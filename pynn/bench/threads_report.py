"""The threads benchmark's report (pynn.bench.threads): the set-up, the table of the cases
measured beside the spinning neighbour and the table of the idle gaps, as text."""

import sys

from pynn.bench.threads_config import GOAL, LABELS, NEIGHBOUR_CODE, NEIGHBOUR_MIN_SHARE


def _figure(value, scale):
    if value is None:
        return "-"
    value *= scale
    return f"{value:.3g}" if value < 100 else f"{value:,.0f}"


def _ratio_text(value):
    return "-" if value is None else f"{value:.2f}x"


def _share_text(value):
    return "-" if value is None else f"{value:.0%}"


def _threads_text(values):
    return "/".join(str(value) for value in values) if values else "n/a"


def _load_text(load):
    return "n/a" if load is None else " ".join(f"{value:.2f}" for value in load)


def print_report(result, out=sys.stdout):
    _print_setup(result, out)
    if result["neighbour_rows"]:
        _print_neighbour_rows(result, out)
    if result["gap_rows"]:
        _print_gap_rows(result, out)
    print(f"\n(threads benchmark: {result['seconds']:.0f} s)", file=out)


def _print_setup(result, out):
    """The comparison, the machine's load, the environment and the failures."""
    chosen = result["settings"]
    loads = result["load_average"]
    print(
        f"Threads on a busy machine: pynn at its default thread count (no set_num_threads "
        f"call) against set_num_threads(1), each measurement a fresh process, the arms "
        f"taking turns; goal default/1 <= {GOAL:g}x. {result['date']}, {result['cpu_count']} "
        f"cores; load average (1, 5, 15 min) before {_load_text(loads['before'])}, after "
        f"the neighbour cases {_load_text(loads['after_neighbour_cases'])}, at the end "
        f"{_load_text(loads['after'])}."
        + (" --quick: a smoke run, not figures to quote." if chosen["quick"] else ""),
        file=out,
    )
    environment = ", ".join(
        f"{key}={value}" for key, value in result["environment"].items() if value is not None
    )
    print(
        f"Environment: {environment or 'no OMP_* or OPENBLAS_CORETYPE set'} (workers run "
        "without OMP_NUM_THREADS and with OPENBLAS_NUM_THREADS=1, in both arms).",
        file=out,
    )
    for error in result["errors"]:
        print(f"failed: {error}", file=out)


def _print_neighbour_rows(result, out):
    """The table of the cases measured beside a spinning neighbour."""
    chosen = result["settings"]
    neighbour = result["neighbour"] or {}
    print(
        f'\nUnder one spinning neighbour (`python -c "{NEIGHBOUR_CODE}"`, pinned to '
        f"nothing; it used {_share_text(neighbour.get('core_share'))} of a core over "
        f"the whole section, alive until killed: "
        f"{neighbour.get('alive_until_killed', '?')}); wall time per unit, median of "
        f"{chosen['repeats']} run(s) per arm",
        file=out,
    )
    print(
        "| case | unit | default | 1 thread | default/1 | goal | CPU default | "
        "CPU 1 thread | threads | neighbour | rest of machine |",
        file=out,
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|", file=out)
    for row in result["neighbour_rows"]:
        scale = LABELS[row["name"]][2]
        print(
            f"| {row['label']} | {row['unit']} | {_figure(row['default'], scale)} | "
            f"{_figure(row['1'], scale)} | {_ratio_text(row['ratio'])} | "
            f"<= {GOAL:g}x {row['verdict']} | {_figure(row['default_cpu'], scale)} | "
            f"{_figure(row['1_cpu'], scale)} | "
            f"{_threads_text(row['default_threads'])} vs {_threads_text(row['1_threads'])}"
            f" | {_share_text(row['neighbour_share'])} | "
            f"{_share_text(row['rest_share'])} |",
            file=out,
        )
    print(
        f"CPU: the process CPU time per unit (for `pynn train`, the whole command's). "
        f"neighbour: its CPU time over the timed windows' wall time (median; 100% = a "
        f"whole core; below {NEIGHBOUR_MIN_SHARE:.0%} it barely ran). rest of machine: "
        "the share of all cores used by neither the measured process nor the "
        "neighbour (/proc/stat; other users' work).",
        file=out,
    )
    low = [
        row["label"]
        for row in result["neighbour_rows"]
        if row["neighbour_share"] is not None and row["neighbour_share"] < NEIGHBOUR_MIN_SHARE
    ]
    if low:
        print(f"warning: the neighbour barely ran during: {'; '.join(low)}", file=out)


def _print_gap_rows(result, out):
    """The table of predict latencies after idle gaps."""
    chosen = result["settings"]
    print(
        f"\nIdle gaps (no neighbour): predict 784-256-128-10 at batch 128 with "
        f"time.sleep(gap) before each call; per-call latency in µs over all calls of "
        f"{chosen['gap_repeats']} run(s) per arm",
        file=out,
    )
    print(
        "| gap ms | calls | default p50 | 1 thread p50 | default/1 p50 | goal | "
        "default p90 | 1 thread p90 | default/1 p90 | threads | rest of machine |",
        file=out,
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|", file=out)
    for row in result["gap_rows"]:
        print(
            f"| {row['gap_ms']} | {row['default_calls']}+{row['1_calls']} | "
            f"{_figure(row['default_p50'], 1e6)} | {_figure(row['1_p50'], 1e6)} | "
            f"{_ratio_text(row['ratio'])} | <= {GOAL:g}x {row['verdict']} | "
            f"{_figure(row['default_p90'], 1e6)} | {_figure(row['1_p90'], 1e6)} | "
            f"{_ratio_text(row['ratio_p90'])} | {_threads_text(row['default_threads'])}"
            f" vs {_threads_text(row['1_threads'])} | {_share_text(row['rest_share'])} |",
            file=out,
        )
