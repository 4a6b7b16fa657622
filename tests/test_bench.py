"""Smoke tests of pynn.bench (`pynn bench`): tiny sizes, the tables printed, a missing peer
reported as skipped, a failing worker reported, the arguments checked. No speed is asserted
(shared/DESIGN.md): the benchmarks themselves are for benchmarks/ and `pynn bench`."""

import argparse
import io
import json

import numpy as np
import pytest
from helpers import measured

from pynn.bench import command, kernels, memory, peers, processes, timing, training

TINY = {
    "threads": [1],
    "batch_sizes": [32],
    "quick": True,
    "repeats": 1,
    "samples": 320,
    "busy_retries": 0,
    "progress": None,
}


def no_peers(monkeypatch):
    """Make the benchmark see neither PyTorch nor scikit-learn."""
    monkeypatch.setattr(
        peers, "found", lambda: {"torch": None, "sklearn": None, "threadpoolctl": None}
    )


def test_timing_interleaves_and_takes_medians():
    calls = []
    seconds, repeats = timing.measure(
        {"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, repeats=3
    )
    assert set(seconds) == {"a", "b"} and repeats == 3
    assert all(measured(value) for value in seconds.values())
    # after the warm-up and sizing calls, whole batches of a then b, three times
    assert calls[-1] == "b" and "a" in calls[calls.index("b") :]
    assert timing.median_or_none([3.0, None, 1.0, 2.0]) == 2.0
    assert timing.median_or_none([None]) is None
    assert timing.rotated(["x", "y", "z"], 4) == ["y", "z", "x"]


def test_peak_memory_sees_an_allocation():
    meter = memory.PeakMemory().start()
    block = np.ones(40 * 2**20 // 8)  # 40 MB, touched
    added = meter.stop()
    del block
    assert meter.method in memory.METHODS
    if meter.method == "vmhwm":  # exact on Linux; elsewhere a lower bound
        assert 35 * 2**20 < added < 200 * 2**20


def test_flops_per_sample_of_the_benchmark_mlp():
    # forward 2·MACs, dW 2·MACs, dx 2·MACs of the two upper layers: ~1.0 MFLOP (BENCHMARKS.md)
    macs = 784 * 256 + 256 * 128 + 128 * 10
    assert training.flops_per_sample((784, 256, 128, 10)) == 4 * macs + 2 * (256 * 128 + 128 * 10)


def test_worker_env_sets_every_thread_count_and_the_core_type(monkeypatch):
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Zen")
    env = processes.worker_env(2, None)
    assert env["OMP_NUM_THREADS"] == env["OPENBLAS_NUM_THREADS"] == env["MKL_NUM_THREADS"] == "2"
    assert "OPENBLAS_CORETYPE" not in env
    assert processes.worker_env(1, "Haswell")["OPENBLAS_CORETYPE"] == "Haswell"
    assert processes.environment_coretype() == "Zen"
    monkeypatch.delenv("OPENBLAS_CORETYPE")
    assert processes.environment_coretype() == processes.AVX2_CORETYPE


def test_a_failing_worker_raises_with_its_error():
    spec = {
        "task": "training",
        "library": "pynn",
        "threads": 1,
        "data": "/nonexistent/X.npy",
        "labels": "/nonexistent/y.npy",
    }
    with pytest.raises(processes.WorkerError, match="FileNotFoundError"):
        processes.run_worker(spec, threads=1, coretype=None)


def test_training_without_peers_reports_them_skipped(monkeypatch):
    no_peers(monkeypatch)
    result = training.run(**TINY)
    assert result["status"] == {
        "pynn": "ok",
        "reference": "ok",
        "torch": "not installed",
        "sklearn": "not installed",
        "sklearn_env": "not installed",
    }
    (row,) = result["epochs"]
    assert (row["threads"], row["batch"]) == (1, 32)
    for name in ("pynn", "reference"):
        assert measured(row["seconds"][name])
        assert 0 <= row["accuracy"][name] <= 1
    assert row["seconds"]["torch"] is None and row["pynn_over"]["torch"] is None
    assert row["pynn_over"]["reference"] == pytest.approx(
        row["seconds"]["pynn"] / row["seconds"]["reference"]
    )
    (small,) = result["small_steps"]
    assert measured(small["us_per_step"]["pynn"]["sgd"])
    assert measured(small["us_per_step"]["pynn"]["adam"])
    assert measured(result["inference"][0]["samples_per_second"]["pynn"])
    assert result["memory"][0]["bytes"]["pynn"] >= 0
    json.dumps(result)  # the --json report

    printed = io.StringIO()
    training.print_report(result, printed)
    text = printed.getvalue()
    assert "torch: not installed: skipped" in text and "sklearn: not installed: skipped" in text
    assert "Seconds per epoch of 60000 samples" in text
    assert "scaled x187.5 to 60000" in text  # 320-sample epochs
    assert "not inst." in text  # the peers' cells
    for title in (
        "Small network 64-32-10",
        "Inference, MLP 784-256-128-10",
        "Peak memory while training",
    ):
        assert title in text


def test_training_with_the_installed_peers(monkeypatch):
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    result = training.run(libraries=["pynn", "torch", "sklearn"], **TINY)
    assert result["status"] == {"pynn": "ok", "torch": "ok", "sklearn": "ok"}
    (row,) = result["epochs"]
    for name in ("pynn", "torch", "sklearn"):
        assert measured(row["seconds"][name]) and 0 <= row["accuracy"][name] <= 1
        assert result["memory"][0]["bytes"][name] >= 0
    assert row["pynn_over"]["torch"] == pytest.approx(
        row["seconds"]["pynn"] / row["seconds"]["torch"]
    )
    assert measured(result["small_steps"][0]["us_per_step"]["torch"]["adam"])
    assert measured(result["inference"][0]["pynn_over_torch"])
    # each worker ran with the thread count asked for
    for run in result["runs"]:
        assert run["answer"]["settings"]["pynn"] == 1
        if run["name"] == "torch":
            assert run["answer"]["settings"]["torch"] == 1
    printed = io.StringIO()
    training.print_report(result, printed)
    text = printed.getvalue()
    assert "<= 0.25 ok" in text or "<= 0.25 MISS" in text  # batch 32's target against torch


def test_failed_workers_are_reported(monkeypatch):
    def failing_worker(spec, **_):
        raise processes.WorkerError(f"worker training {spec['library']} exited with code 1: boom")

    monkeypatch.setattr(processes, "run_worker", failing_worker)
    result = training.run(libraries=["pynn", "reference"], **TINY)
    assert result["status"]["pynn"] == "failed: worker training pynn exited with code 1: boom"
    assert result["epochs"][0]["seconds"] == {"pynn": None, "reference": None}
    printed = io.StringIO()
    training.print_report(result, printed)
    text = printed.getvalue()
    assert "pynn: failed: worker training pynn exited with code 1: boom" in text
    assert "failed" in text.split("Seconds per epoch")[1].splitlines()[2]  # the cells


def test_runs_disturbed_by_other_work_are_made_again(monkeypatch):
    answers = iter([(10.0, 0.5), (2.0, 0.0), (3.0, 0.0)])  # (epoch seconds, others' share)

    def fake_worker(spec, **_):
        seconds, share = next(answers)
        return {
            "blas": {"corename": None},
            "memory": {"bytes": 1, "method": "vmhwm"},
            "epochs": [
                {"batch": 32, "epoch_seconds": seconds, "others_share": share, "accuracy": 0.5}
            ],
        }

    monkeypatch.setattr(processes, "run_worker", fake_worker)
    result = training.run(libraries=["reference"], **dict(TINY, busy_retries=2))
    assert [run["repeat"] for run in result["runs"]] == [0, 1]  # one extra round was enough
    (row,) = result["epochs"]
    assert row["seconds"]["reference"] == 2.0  # the busy 10 s is left out
    assert row["busy"] == [1, 2, False]
    printed = io.StringIO()
    training.print_report(result, printed)
    assert "busy 1/2" in printed.getvalue() and "1 extra run(s) here" in printed.getvalue()


def parse(*argv):
    return command.add_arguments(argparse.ArgumentParser()).parse_args(list(argv))


def test_arguments_defaults_and_validation(tmp_path, capsys):
    args = parse()
    assert (args.only, args.threads, args.batch_sizes, args.quick, args.repeats, args.json) == (
        "all",
        [1, 2],
        [32, 128, 512],
        False,
        None,
        None,
    )
    assert parse("--threads", "2", "--batch-sizes", "64,16").batch_sizes == [64, 16]
    for bad in (
        ["--threads", "0"],
        ["--threads", "1,1"],
        ["--batch-sizes", "a"],
        ["--batch-sizes", ""],
        ["--only", "gemm"],
        ["--repeats", "0"],
    ):
        with pytest.raises(SystemExit):
            parse(*bad)
    capsys.readouterr()
    args = parse("--json", str(tmp_path / "missing" / "out.json"))
    assert command.run(args) == 2
    assert "--json: the folder" in capsys.readouterr().err
    args = parse()
    args.threads = [0]  # built by hand, past argparse
    assert command.run(args) == 2
    assert "--threads must be" in capsys.readouterr().err


def test_command_quick_kernels_prints_the_table_and_writes_json(tmp_path):
    path = tmp_path / "bench.json"
    args = parse("--quick", "--only", "kernels", "--json", str(path))
    printed = io.StringIO()
    assert command.run(args, out=printed, progress=io.StringIO()) == 0
    text = printed.getvalue()
    assert "Peers:" in text and "python benchmarks/gemm.py" in text
    assert "1 thread" in text
    rows = [kind for kind, _ in kernels.mlp_cases(quick=True)]
    for kind in set(rows):
        assert sum(line.startswith(kind + " ") for line in text.splitlines()) == rows.count(kind)
    report = json.loads(path.read_text())
    assert "training" not in report
    assert len(report["kernels"]["rows"]) == len(rows)
    assert all(measured(row["speed_ratio"]) for row in report["kernels"]["rows"])
