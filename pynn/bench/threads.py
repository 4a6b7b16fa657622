"""The busy-machine threads benchmark (issue 14, "Threads that never hurt"): pynn at its
default thread count against 1 thread, under a spinning neighbour and after idle gaps.

    python benchmarks/threads.py [--quick] [--repeats N] [--gaps 0,5,100,1000] [--json PATH]
    pynn bench --only threads [--quick] ...

1. Under a neighbour: one busy-loop process (`python -c "while True: pass"`, pinned to
   nothing) runs throughout; each measurement is a fresh worker process
   (pynn.bench.threads_worker) in one of two arms, "default" (no set_num_threads call at
   all) and "1" (set_num_threads(1)), the arms taking turns (A B, then B A, ...). Cases:
   training 64-32-10 at batch 32 (µs per step), 784-256-128-10 at batch 128 (ms per step),
   predict at batch 1 and 128 (µs per call) and the `pynn train` command (its default job,
   run with and without `--threads 1`: the training seconds it prints, and the whole
   command's wall time). Figures: the median over repeats of the wall time per unit in each
   arm, and their quotient default/1 (goal: at most GOAL).
2. Idle gaps (no neighbour): predict at batch 128 on 784-256-128-10 with 0, 5, 100, 1000 ms
   of time.sleep between calls; each arm's per-call latencies pooled over its runs (fresh
   processes, arms taking turns); p50 and p90, and the quotient of the p50s (goal: GOAL).
Each measurement also records the process CPU time, the neighbour's CPU time over the timed
window (its share of a core: it really ran) and the share of the machine's cores that the
rest of the machine (neither the worker nor the neighbour) used meanwhile.
"""

import json
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time

from pynn.bench import processes
from pynn.bench.threads_worker import process_cpu_seconds
from pynn.bench.timing import median_or_none, rotated

GOAL = 1.3  # default / 1 thread, at most (issue 14)
ARMS = ("default", "1")
NEIGHBOUR_CODE = "while True: pass"
NEIGHBOUR_MIN_SHARE = 0.2  # below this share of a core the neighbour barely ran: say so
CASES = ("small_train", "mlp_train", "predict_1", "predict_128", "cli")
GAPS_MS = (0, 5, 100, 1000)

# name -> (label, unit, scale from seconds to the unit)
LABELS = {
    "small_train": ("train 64-32-10, batch 32, SGD", "µs/step", 1e6),
    "mlp_train": ("train 784-256-128-10, batch 128, SGD", "ms/step", 1e3),
    "predict_1": ("predict 784-256-128-10, batch 1", "µs/call", 1e6),
    "predict_128": ("predict 784-256-128-10, batch 128", "µs/call", 1e6),
    "cli_train": ("`pynn train` (digits), training part", "s", 1.0),
    "cli_command": ("`pynn train` (digits), whole command", "s", 1.0),
}

# Sizes: a 1-thread run lasts a fraction of a second to a few seconds; the default arm may
# be 10-60x slower under the neighbour today, so the counts stay small.
FULL = {
    "repeats": 5,
    "gap_repeats": 3,
    "small": {"samples": 3200, "epochs": 3},  # 300 steps
    "mlp": {"samples": 2560, "epochs": 1},  # 20 steps
    "predict_1_calls": 500,
    "predict_128_calls": 50,
    "gaps_ms": list(GAPS_MS),
    "gap_calls": {"0": 150, "5": 90, "100": 60, "1000": 30},
}  # per arm, over gap_repeats
QUICK = {
    "repeats": 1,
    "gap_repeats": 1,
    "small": {"samples": 640, "epochs": 2},
    "mlp": {"samples": 768, "epochs": 1},
    "predict_1_calls": 100,
    "predict_128_calls": 10,
    "gaps_ms": list(GAPS_MS),
    "gap_calls": {"0": 20, "5": 20, "100": 10, "1000": 3},
}
DEFAULT_GAP_CALLS = 30  # a gap the tables do not name


def settings(quick, repeats=None, gaps_ms=None, gap_calls=None, cases=None):
    chosen = json.loads(json.dumps(QUICK if quick else FULL))  # a deep copy
    if repeats is not None:
        chosen["repeats"] = repeats
        chosen["gap_repeats"] = min(chosen["gap_repeats"], repeats)  # full 3, quick 1
    if gaps_ms is not None:
        chosen["gaps_ms"] = list(gaps_ms)
    for gap in chosen["gaps_ms"]:
        chosen["gap_calls"].setdefault(str(gap), DEFAULT_GAP_CALLS)
    if gap_calls is not None:
        chosen["gap_calls"] = {str(gap): gap_calls for gap in chosen["gaps_ms"]}
    chosen["cases"] = list(CASES if cases is None else cases)
    chosen["quick"] = quick
    return chosen


# ---- the neighbour -----------------------------------------------------------------------


def _die_with_parent():
    """In the neighbour, before exec: get SIGKILL when the benchmark dies (Linux), so that
    even a benchmark killed by a signal leaves no spinning process behind."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Neighbour:
    """A spinning process for the duration of a `with` block; always killed on leaving it,
    whatever happened inside. `cpu_seconds()` reads its CPU time so far."""

    def __init__(self, code=NEIGHBOUR_CODE):
        self.code, self.process, self.report = code, None, {}

    @property
    def pid(self):
        return None if self.process is None else self.process.pid

    def cpu_seconds(self):
        return None if self.process is None else process_cpu_seconds(self.process.pid)

    def __enter__(self):
        self.process = subprocess.Popen(
            [sys.executable, "-c", self.code],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        if self.process is None or self.process.returncode is not None:
            return
        wall = time.perf_counter() - self.started
        cpu = self.cpu_seconds()
        alive = self.process.poll() is None
        self.process.kill()
        self.process.wait()  # SIGKILL cannot be caught: the wait ends
        self.report = {
            "pid": self.process.pid,
            "alive_until_killed": alive,
            "wall_seconds": wall,
            "cpu_seconds": cpu,
            "core_share": None if cpu is None or wall <= 0 else cpu / wall,
        }


# ---- workers -----------------------------------------------------------------------------


def worker_env():
    """The environment of every measured process, the same in both arms: OMP_NUM_THREADS
    removed (the default arm is pynn's own default), NumPy's BLAS single-threaded (only
    pynn's threads differ between the arms), OPENBLAS_CORETYPE as the environment has it,
    and the imported pynn first on the path when it is a source tree."""
    env = processes.worker_env(1, os.environ.get("OPENBLAS_CORETYPE"))
    env.pop("OMP_NUM_THREADS", None)
    return env


def run_worker(spec, timeout=600):
    """`python -m pynn.bench.threads_worker` on spec in a fresh process; its answer."""
    with tempfile.TemporaryDirectory(prefix="pynn-bench-threads-") as scratch:
        answer_path = os.path.join(scratch, "answer.json")
        command = [
            sys.executable,
            "-m",
            "pynn.bench.threads_worker",
            json.dumps(spec),
            answer_path,
        ]
        try:
            done = subprocess.run(
                command,
                env=worker_env(),
                cwd=scratch,
                timeout=timeout,
                capture_output=True,
                text=True,
            )
        except subprocess.TimeoutExpired:
            raise processes.WorkerError(
                f"worker {spec['case']} ({spec['arm']}) did not finish in {timeout} s"
            ) from None
        if done.returncode != 0 or not os.path.exists(answer_path):
            tail = "\n".join(done.stderr.strip().splitlines()[-6:])
            raise processes.WorkerError(
                f"worker {spec['case']} ({spec['arm']}) exited with code {done.returncode}: {tail}"
            )
        with open(answer_path) as answer:
            return json.load(answer)


TRAINED = re.compile(r"trained \d+ epochs? in ([0-9.]+) s")


def run_cli(arm, neighbour_pid=None, timeout=600):
    """`python -m pynn train --quiet` (+ `--threads 1` in arm "1"), its default job; returns
    the whole command's wall and CPU seconds (its rusage), the training seconds it prints,
    and the neighbour's CPU seconds meanwhile."""
    command = [sys.executable, "-m", "pynn", "train", "--quiet"]
    if arm == "1":
        command += ["--threads", "1"]
    with tempfile.TemporaryDirectory(prefix="pynn-bench-threads-") as scratch:
        before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
        neighbour_before = process_cpu_seconds(neighbour_pid) if neighbour_pid else None
        started = time.perf_counter()
        try:
            done = subprocess.run(
                command,
                env=worker_env(),
                cwd=scratch,
                timeout=timeout,
                capture_output=True,
                text=True,
            )
        except subprocess.TimeoutExpired:
            raise processes.WorkerError(
                f"pynn train ({arm}) did not finish in {timeout} s"
            ) from None
        wall = time.perf_counter() - started
        neighbour_after = process_cpu_seconds(neighbour_pid) if neighbour_pid else None
        after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    match = TRAINED.search(done.stdout)
    if done.returncode != 0 or match is None:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-6:])
        raise processes.WorkerError(
            f"pynn train ({arm}) exited with code {done.returncode}"
            f"{'' if match else ' (no trained line)'}: {tail}"
        )
    cpu = (after_children.ru_utime - before_children.ru_utime) + (
        after_children.ru_stime - before_children.ru_stime
    )
    neighbour = (
        None
        if neighbour_before is None or neighbour_after is None
        else neighbour_after - neighbour_before
    )
    return {
        "case": "cli",
        "arm": arm,
        "wall_seconds": wall,
        "cpu_seconds": cpu,
        "train_seconds": float(match.group(1)),
        "neighbour_cpu_seconds": neighbour,
        "others_share": None,
        "units": 1,
        "num_threads": 1 if arm == "1" else None,
    }


def _spec(case, arm, chosen, neighbour_pid=None, gap_ms=None, calls=None):
    spec = {"case": case, "arm": arm, "seed": 0, "neighbour_pid": neighbour_pid}
    if case == "small_train":
        spec.update(batch=32, **chosen["small"])
    elif case == "mlp_train":
        spec.update(batch=128, **chosen["mlp"])
    elif case in ("predict_1", "predict_128"):
        batch = 1 if case == "predict_1" else 128
        spec.update(case="predict", batch=batch, calls=chosen[f"predict_{batch}_calls"])
    elif case == "gap":
        spec.update(batch=128, gap_ms=gap_ms, calls=calls)
    return spec


def _load():
    try:
        return list(os.getloadavg())
    except OSError:
        return None


def run(
    *, quick=False, repeats=None, gaps_ms=None, gap_calls=None, cases=None, progress=sys.stderr
):
    """Run the benchmark; a JSON-ready dict (print it with print_report)."""
    chosen = settings(quick, repeats, gaps_ms, gap_calls, cases)
    started = time.perf_counter()
    runs, errors = [], []
    load_before = _load()

    def measure(name, arm, repeat, fn, **record):
        if progress is not None:
            print(f"... threads: {name} ({arm}), repeat {repeat + 1}", file=progress, flush=True)
        entry = dict(record, name=name, arm=arm, repeat=repeat)
        try:
            entry["answer"] = fn()
        except processes.WorkerError as error:
            entry["error"] = str(error)
            errors.append(str(error))
        runs.append(entry)

    neighbour_report = None
    if chosen["cases"]:
        with Neighbour() as neighbour:
            time.sleep(0.1)  # let it reach its loop
            for repeat in range(chosen["repeats"]):
                for case in chosen["cases"]:
                    for arm in rotated(ARMS, repeat):
                        if case == "cli":
                            measure(case, arm, repeat, lambda arm=arm: run_cli(arm, neighbour.pid))
                        else:
                            spec = _spec(case, arm, chosen, neighbour.pid)
                            measure(case, arm, repeat, lambda spec=spec: run_worker(spec))
        neighbour_report = neighbour.report
    load_between = _load()
    for repeat in range(chosen["gap_repeats"]):
        for gap in chosen["gaps_ms"]:
            total = chosen["gap_calls"][str(gap)]
            calls = total // chosen["gap_repeats"] + (repeat < total % chosen["gap_repeats"])
            if calls < 1:
                continue
            for arm in rotated(ARMS, repeat):
                spec = _spec("gap", arm, chosen, gap_ms=gap, calls=calls)
                measure(f"gap_{gap}", arm, repeat, lambda spec=spec: run_worker(spec), gap_ms=gap)
    result = {
        "settings": chosen,
        "goal": GOAL,
        "cpu_count": os.cpu_count(),
        "load_average": {
            "before": load_before,
            "after_neighbour_cases": load_between,
            "after": _load(),
        },
        "environment": {
            key: os.environ.get(key)
            for key in (
                "OMP_NUM_THREADS",
                "OMP_WAIT_POLICY",
                "GOMP_SPINCOUNT",
                "OPENBLAS_CORETYPE",
            )
        },
        "neighbour": neighbour_report,
        "runs": runs,
        "errors": errors,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "seconds": time.perf_counter() - started,
    }
    result.update(summarize(runs, chosen))
    return result


# ---- medians and ratios ------------------------------------------------------------------


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
    cpus = os.cpu_count()

    def answers(name, arm):
        return [
            run["answer"]
            for run in runs
            if run["name"] == name and run["arm"] == arm and "answer" in run
        ]

    neighbour_rows = []
    for case in chosen["cases"]:
        found = {arm: answers(case, arm) for arm in ARMS}
        if case == "cli":
            label, unit, _ = LABELS["cli_train"]
            neighbour_rows.append(
                _row(
                    "cli_train",
                    label,
                    unit,
                    {arm: [answer["train_seconds"] for answer in found[arm]] for arm in ARMS},
                    found,
                    cpus,
                )
            )
            label, unit, _ = LABELS["cli_command"]
            neighbour_rows.append(
                _row(
                    "cli_command",
                    label,
                    unit,
                    {arm: [answer["wall_seconds"] for answer in found[arm]] for arm in ARMS},
                    found,
                    cpus,
                )
            )
            continue
        label, unit, _ = LABELS[case]
        neighbour_rows.append(
            _row(
                case,
                label,
                unit,
                {
                    arm: [ratio(answer["wall_seconds"], answer["units"]) for answer in found[arm]]
                    for arm in ARMS
                },
                found,
                cpus,
            )
        )
    gap_rows = []
    for gap in chosen["gaps_ms"]:
        found = {arm: answers(f"gap_{gap}", arm) for arm in ARMS}
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
        gap_rows.append(row)
    return {"neighbour_rows": neighbour_rows, "gap_rows": gap_rows}


# ---- the report --------------------------------------------------------------------------


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
