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

This module runs the measurements (the neighbour, the workers, run); the settings are in
threads_config, the medians and ratios in threads_summary and the tables in threads_report,
and every public name of those is also a name of this module.
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
from pynn.bench.threads_config import (
    ARMS,
    CASES,
    DEFAULT_GAP_CALLS,
    FULL,
    GAPS_MS,
    GOAL,
    LABELS,
    NEIGHBOUR_CODE,
    NEIGHBOUR_MIN_SHARE,
    QUICK,
    settings,
)
from pynn.bench.threads_report import print_report
from pynn.bench.threads_summary import percentile, ratio, summarize
from pynn.bench.threads_worker import process_cpu_seconds
from pynn.bench.timing import rotated

__all__ = [
    "ARMS",
    "CASES",
    "DEFAULT_GAP_CALLS",
    "FULL",
    "GAPS_MS",
    "GOAL",
    "LABELS",
    "NEIGHBOUR_CODE",
    "NEIGHBOUR_MIN_SHARE",
    "QUICK",
    "TRAINED",
    "Neighbour",
    "percentile",
    "print_report",
    "ratio",
    "run",
    "run_cli",
    "run_worker",
    "settings",
    "summarize",
    "worker_env",
]


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
        what = f"worker {spec['case']} ({spec['arm']})"
        done = processes.run_in(scratch, command, worker_env(), what, timeout)
        return processes.read_answer(done, answer_path, what)


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
        done = processes.run_in(scratch, command, worker_env(), f"pynn train ({arm})", timeout)
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


class _Measurements:
    """The runs measured so far (each a record with its answer or its error) and the
    errors; measure() runs one and says so on `progress` (None: silent)."""

    def __init__(self, progress):
        self.progress, self.runs, self.errors = progress, [], []

    def measure(self, name, arm, repeat, fn, **record):
        """Record fn()'s answer, or the WorkerError it raised, as run `repeat` of `name` in
        `arm` (with the fields of `record`)."""
        if self.progress is not None:
            print(
                f"... threads: {name} ({arm}), repeat {repeat + 1}", file=self.progress, flush=True
            )
        entry = dict(record, name=name, arm=arm, repeat=repeat)
        try:
            entry["answer"] = fn()
        except processes.WorkerError as error:
            entry["error"] = str(error)
            self.errors.append(str(error))
        self.runs.append(entry)


def _measure_beside_neighbour(measurements, chosen):
    """Every case in both arms, `repeats` times, beside one spinning neighbour (killed on
    leaving, whatever happens); returns the neighbour's report."""
    with Neighbour() as neighbour:
        time.sleep(0.1)  # let it reach its loop
        for repeat in range(chosen["repeats"]):
            for case in chosen["cases"]:
                for arm in rotated(ARMS, repeat):
                    if case == "cli":
                        measurements.measure(
                            case, arm, repeat, lambda arm=arm: run_cli(arm, neighbour.pid)
                        )
                    else:
                        spec = _spec(case, arm, chosen, neighbour.pid)
                        measurements.measure(case, arm, repeat, lambda spec=spec: run_worker(spec))
    return neighbour.report


def _measure_gaps(measurements, chosen):
    """Predict after each idle gap in both arms, without a neighbour: each gap's calls
    spread over `gap_repeats` runs."""
    for repeat in range(chosen["gap_repeats"]):
        for gap in chosen["gaps_ms"]:
            total = chosen["gap_calls"][str(gap)]
            calls = total // chosen["gap_repeats"] + (repeat < total % chosen["gap_repeats"])
            if calls < 1:
                continue
            for arm in rotated(ARMS, repeat):
                spec = _spec("gap", arm, chosen, gap_ms=gap, calls=calls)
                measurements.measure(
                    f"gap_{gap}", arm, repeat, lambda spec=spec: run_worker(spec), gap_ms=gap
                )


def _environment():
    """The thread and OpenBLAS variables of the environment ({name: value or None})."""
    return {
        key: os.environ.get(key)
        for key in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OPENBLAS_CORETYPE")
    }


def run(
    *, quick=False, repeats=None, gaps_ms=None, gap_calls=None, cases=None, progress=sys.stderr
):
    """Run the benchmark; a JSON-ready dict (print it with print_report)."""
    chosen = settings(quick, repeats, gaps_ms, gap_calls, cases)
    started = time.perf_counter()
    measurements = _Measurements(progress)
    load_before = _load()
    neighbour_report = None
    if chosen["cases"]:
        neighbour_report = _measure_beside_neighbour(measurements, chosen)
    load_between = _load()
    _measure_gaps(measurements, chosen)
    result = {
        "settings": chosen,
        "goal": GOAL,
        "cpu_count": os.cpu_count(),
        "load_average": {
            "before": load_before,
            "after_neighbour_cases": load_between,
            "after": _load(),
        },
        "environment": _environment(),
        "neighbour": neighbour_report,
        "runs": measurements.runs,
        "errors": measurements.errors,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "seconds": time.perf_counter() - started,
    }
    result.update(summarize(measurements.runs, chosen))
    return result
