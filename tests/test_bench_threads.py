"""The threads benchmark's harness (pynn.bench.threads, `pynn bench --only threads`): it runs
end to end on a tiny configuration, reports the expected keys and tables, computes its
ratios as quotients and always kills its neighbour process. No speed or timing bound is
asserted (shared/DESIGN.md): the figures are for benchmarks/ and `pynn bench`."""

import argparse
import io
import json
import os
import signal
import statistics
import subprocess
import sys
import time

import pytest
from helpers import HANG_SECONDS, measured

from pynn.bench import command, processes, threads, threads_summary
from pynn.bench.threads_worker import process_cpu_seconds

TINY = {"quick": True, "repeats": 1, "gaps_ms": [0, 1], "gap_calls": 2, "progress": None}


def tiny_settings(monkeypatch):
    """Shrink the quick sizes so that a whole run takes a few seconds."""
    monkeypatch.setitem(threads.QUICK, "small", {"samples": 64, "epochs": 1})
    monkeypatch.setitem(threads.QUICK, "mlp", {"samples": 256, "epochs": 1})
    monkeypatch.setitem(threads.QUICK, "predict_1_calls", 3)
    monkeypatch.setitem(threads.QUICK, "predict_128_calls", 2)


def gone(pid):
    """True when process `pid` no longer runs (reaped, or a zombie)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


class RecordingNeighbour(threads.Neighbour):
    """A Neighbour that remembers every one started, and sleeps rather than spins (the
    harness is under test, not the machine: the tiny runs stay fast on 2 cores)."""

    started = []

    def __init__(self):
        super().__init__(code="import time; time.sleep(600)")

    def __enter__(self):
        super().__enter__()
        RecordingNeighbour.started.append(self)
        return self


@pytest.fixture
def recording(monkeypatch):
    RecordingNeighbour.started = []
    monkeypatch.setattr(threads, "Neighbour", RecordingNeighbour)
    return RecordingNeighbour.started


def fake_answer(spec, wall, cpu=None, units=1, neighbour=None, latencies=None):
    answer = {
        "case": spec["case"],
        "arm": spec["arm"],
        "num_threads": 1 if spec["arm"] == "1" else 2,
        "wall_seconds": wall,
        "cpu_seconds": wall if cpu is None else cpu,
        "units": units,
        "others_share": 0.0,
        "neighbour_cpu_seconds": neighbour,
    }
    if latencies is not None:
        answer["latencies"] = latencies
    return answer


def test_neighbour_spins_and_is_killed():
    with threads.Neighbour() as neighbour:
        pid = neighbour.pid
        assert not gone(pid)
        assert neighbour.cpu_seconds() is not None
    assert gone(pid)
    assert neighbour.report["pid"] == pid and neighbour.report["alive_until_killed"]
    assert set(neighbour.report) >= {"wall_seconds", "cpu_seconds", "core_share"}


def test_neighbour_is_killed_on_an_exception():
    with pytest.raises(ZeroDivisionError):
        with threads.Neighbour() as neighbour:
            pid = neighbour.pid
            1 / 0
    assert gone(pid)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_neighbour_dies_with_a_killed_benchmark(tmp_path):
    # A benchmark killed by a signal runs no finally: the neighbour gets SIGKILL from the
    # kernel when its parent dies. The parent prints the neighbour's pid, then blocks on
    # its stdin until it is killed: no step waits on a clock but the deadlock guard.
    # (It runs in tmp_path so that it imports the installed pynn, not the source tree.)
    code = (
        "import sys; from pynn.bench import threads\n"
        "n = threads.Neighbour().__enter__()\n"
        "print(n.pid, flush=True)\n"
        "sys.stdin.read()\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", code],
        env=threads.worker_env(),
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = parent.stdout.readline()  # "" if the parent died before printing
        assert line.strip().isdigit(), f"the parent printed {line!r}"
        pid = int(line)
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    deadline = time.monotonic() + HANG_SECONDS  # a deadlock guard only
    while not gone(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert gone(pid)


def test_run_kills_the_neighbour_when_a_measurement_raises(monkeypatch, recording):
    def broken(spec, **_):
        raise RuntimeError("boom")

    monkeypatch.setattr(threads, "run_worker", broken)
    with pytest.raises(RuntimeError, match="boom"):
        threads.run(**TINY, cases=["predict_1"])
    (neighbour,) = recording
    assert gone(neighbour.pid)


def test_ratios_are_quotients_of_the_medians(monkeypatch, recording):
    walls = {"default": iter([4.0, 9.0, 5.0]), "1": iter([2.0, 1.0, 3.0])}
    latencies = {"default": [0.4, 0.1, 0.3, 0.2], "1": [0.1, 0.1, 0.2, 0.3]}

    def fake_worker(spec, **_):
        if spec["case"] == "gap":
            return fake_answer(spec, 1.0, latencies=latencies[spec["arm"]][: spec["calls"]])
        return fake_answer(spec, next(walls[spec["arm"]]), units=2, neighbour=0.5)

    monkeypatch.setattr(threads, "run_worker", fake_worker)
    result = threads.run(
        quick=True, repeats=3, gaps_ms=[7], gap_calls=4, progress=None, cases=["predict_128"]
    )
    (row,) = result["neighbour_rows"]
    assert row["default"] == 5.0 / 2 and row["1"] == 2.0 / 2  # medians per unit
    assert row["ratio"] == pytest.approx((5.0 / 2) / (2.0 / 2))
    assert row["verdict"] == "MISS" and row["default_runs"] == row["1_runs"] == 3
    # neighbour share: its CPU seconds over the window's wall time, median over all runs
    assert row["neighbour_share"] == pytest.approx(
        statistics.median(0.5 / wall for wall in (4.0, 9.0, 5.0, 2.0, 1.0, 3.0))
    )
    (gap,) = result["gap_rows"]  # 4 calls spread over 1 run (quick: 1 gap repeat)
    assert gap["default_calls"] == gap["1_calls"] == 4
    assert gap["default_p50"] == pytest.approx(0.25) and gap["1_p50"] == pytest.approx(0.15)
    assert gap["ratio"] == pytest.approx(0.25 / 0.15)
    assert threads.ratio(1.0, 0) is None and threads.ratio(None, 1.0) is None
    assert threads.ratio(3.0, 4.0) == 0.75
    assert threads.percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert threads.percentile([1.0, 2.0], 90) == pytest.approx(1.9)
    assert threads.percentile([], 50) is None
    # the arms take turns, the order swapped every repeat
    arms = [run["arm"] for run in result["runs"] if run["name"] == "predict_128"]
    assert arms == ["default", "1", "1", "default", "default", "1"]


def test_verdict_against_the_goal():
    assert threads_summary._verdict(threads.GOAL) == "ok"
    assert threads_summary._verdict(threads.GOAL * 1.01) == "MISS"
    assert threads_summary._verdict(None) == "n/a"


def test_failed_measurements_are_reported(monkeypatch, recording):
    def failing(spec, **_):
        raise processes.WorkerError(f"worker {spec['case']} ({spec['arm']}) exited: boom")

    monkeypatch.setattr(threads, "run_worker", failing)
    result = threads.run(**dict(TINY, gaps_ms=[0]), cases=["mlp_train"])
    assert len(result["errors"]) == 4 and gone(recording[0].pid)
    (row,) = result["neighbour_rows"]
    assert row["default"] is None and row["ratio"] is None and row["verdict"] == "n/a"
    printed = io.StringIO()
    threads.print_report(result, printed)
    assert "failed: worker mlp_train (default) exited: boom" in printed.getvalue()


def test_quick_end_to_end_on_a_tiny_configuration(monkeypatch, recording):
    tiny_settings(monkeypatch)
    monkeypatch.setattr(
        threads,
        "run_cli",
        lambda arm, neighbour_pid=None: {
            "case": "cli",
            "arm": arm,
            "wall_seconds": 2.0,
            "cpu_seconds": 1.0,
            "train_seconds": 0.5 if arm == "1" else 1.0,
            "neighbour_cpu_seconds": 1.0,
            "others_share": None,
            "units": 1,
            "num_threads": None,
        },
    )
    result = threads.run(**TINY)
    assert result["errors"] == []
    assert gone(recording[0].pid)
    assert set(result) >= {
        "settings",
        "goal",
        "cpu_count",
        "load_average",
        "environment",
        "neighbour",
        "runs",
        "errors",
        "date",
        "seconds",
        "neighbour_rows",
        "gap_rows",
    }
    assert [row["name"] for row in result["neighbour_rows"]] == [
        "small_train",
        "mlp_train",
        "predict_1",
        "predict_128",
        "cli_train",
        "cli_command",
    ]
    for row in result["neighbour_rows"]:
        assert set(row) >= {
            "default",
            "1",
            "ratio",
            "verdict",
            "default_cpu",
            "1_cpu",
            "neighbour_share",
            "rest_share",
            "default_threads",
            "1_threads",
        }
        assert row["ratio"] == pytest.approx(row["default"] / row["1"])
        assert row["verdict"] in ("ok", "MISS")
    measured = [row for row in result["neighbour_rows"] if not row["name"].startswith("cli")]
    for row in measured:
        assert row["1_threads"] == [1]  # set_num_threads(1) took
        assert len(row["default_threads"]) == 1  # whatever pynn's default is, it is reported
        assert row["neighbour_share"] is not None  # its CPU time was read in the window
    assert result["neighbour_rows"][-2]["ratio"] == 2.0  # the CLI's training seconds 1.0/0.5
    assert [row["gap_ms"] for row in result["gap_rows"]] == [0, 1]
    for row in result["gap_rows"]:
        assert row["default_calls"] == row["1_calls"] == 2
        assert row["ratio"] == pytest.approx(row["default_p50"] / row["1_p50"])
    json.loads(json.dumps(result))  # the --json report

    printed = io.StringIO()
    threads.print_report(result, printed)
    text = printed.getvalue()
    assert "Under one spinning neighbour" in text and "Idle gaps" in text
    assert "| case | unit | default | 1 thread | default/1 | goal |" in text
    assert "| gap ms | calls | default p50 | 1 thread p50 | default/1 p50 | goal |" in text
    assert text.count("<= 1.3x ") == 6 + 2
    assert "load average" in text and "smoke run" in text


def test_the_cli_case_runs_pynn_train(monkeypatch):
    # the real command, without a neighbour: its training seconds parsed from its output
    answer = threads.run_cli("1")
    # (the seconds are printed with two decimals: a fast run may print 0.00)
    assert measured(answer["train_seconds"]) and measured(answer["wall_seconds"])
    assert measured(answer["cpu_seconds"]) and answer["neighbour_cpu_seconds"] is None
    assert threads.TRAINED.search("trained 1 epoch in 0.01 s").group(1) == "0.01"


def test_the_worker_runs_each_case_in_its_arm():
    with threads.Neighbour() as neighbour:
        answer = threads.run_worker(
            dict(
                threads._spec("small_train", "1", threads.settings(quick=True), neighbour.pid),
                samples=64,
                epochs=1,
            )
        )
    assert answer["num_threads"] == 1 and answer["units"] == 2
    assert measured(answer["wall_seconds"]) and answer["neighbour_cpu_seconds"] is not None
    answer = threads.run_worker(threads._spec("gap", "default", {}, gap_ms=0, calls=3))
    assert len(answer["latencies"]) == 3 and answer["neighbour_cpu_seconds"] is None
    with pytest.raises(processes.WorkerError, match="arm must be"):
        threads.run_worker({"case": "gap", "arm": "2", "seed": 0})


def test_process_cpu_seconds_of_a_missing_process():
    assert process_cpu_seconds(os.getpid()) is not None
    assert process_cpu_seconds(2**22 + 1) is None


def parse(*argv):
    return command.add_arguments(argparse.ArgumentParser()).parse_args(list(argv))


def test_bench_command_wires_the_threads_section(monkeypatch, tmp_path, capsys):
    args = parse("--only", "threads", "--quick", "--gaps", "0,100", "--gap-calls", "4")
    assert (args.only, args.gaps, args.gap_calls) == ("threads", [0, 100], 4)
    for bad in (["--gaps", "-1"], ["--gaps", "0,0"], ["--gaps", "x"], ["--gap-calls", "0"]):
        with pytest.raises(SystemExit):
            parse(*bad)
    capsys.readouterr()
    seen = {}

    def fake_run(**kwargs):
        seen.update(kwargs)
        return {"fake": True, "errors": []}

    monkeypatch.setattr(threads, "run", fake_run)
    monkeypatch.setattr(threads, "print_report", lambda result, out: print("THREADS", file=out))
    path = tmp_path / "bench.json"
    args = parse("--only", "threads", "--quick", "--gaps", "0,100", "--json", str(path))
    printed = io.StringIO()
    assert command.run(args, out=printed, progress=io.StringIO()) == 0
    assert seen["quick"] and seen["gaps_ms"] == [0, 100] and seen["gap_calls"] is None
    assert "THREADS" in printed.getvalue()
    report = json.loads(path.read_text())
    assert report["threads"] == {"fake": True, "errors": []} and "training" not in report
    args = parse("--only", "threads")
    args.gaps = [-3]  # built by hand, past argparse
    assert command.run(args) == 2
    assert "--gaps must be" in capsys.readouterr().err
