"""The command line (`python -m pynn`, pynn.cli.main): train, predict, summary, the bench
wiring, progress output and one-line errors.

A few cases run in subprocesses (the real entry point, real pipes and a pseudo-terminal),
the rest in-process through pynn.cli.main with pytest's capsys.
"""

import csv
import gzip
import io
import os
import subprocess
import sys
import threading
import types
from pathlib import Path

import numpy as np
import pytest
from helpers import HANG_SECONDS, without_leak_check

import pynn
from pynn.cli import main
from pynn.cli.progress import EpochProgress, TextBar

# The directory holding the pynn that pytest imported (the source tree built in place, or
# site-packages): subprocesses run that same pynn, whatever their working directory.
HOME = str(Path(pynn.__file__).resolve().parent.parent)


def cli_env():
    return dict(os.environ, PYTHONPATH=os.pathsep.join([HOME, os.environ.get("PYTHONPATH", "")]))


def run_cli(*args, cwd):
    """`python -m pynn ARGS` in a new process."""
    return subprocess.run(
        [sys.executable, "-m", "pynn", *map(str, args)],
        cwd=cwd,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=HANG_SECONDS,
    )


def assert_one_line_error(code, err, *fragments):
    assert code not in (0, None)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("pynn: error: "), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def read_prediction_csv(text):
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], rows[1:]


def write_idx(path, array):
    """An IDX file of unsigned bytes (type 0x08), gzip-compressed."""
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    with gzip.open(path, "wb") as file:
        file.write(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def red_blue_csv(tmp_path):
    """A labelled CSV file (header x1,x2,colour) and a features-only one of other points."""
    X, y = pynn.datasets.make_red_blue(240, random_state=1)
    path = tmp_path / "red_blue.csv"
    with open(path, "w") as file:
        file.write("x1,x2,colour\n")
        file.writelines(f"{float(a)!r},{float(b)!r},{c}\n" for (a, b), c in zip(X, y))
    X_new, _ = pynn.datasets.make_red_blue(7, random_state=2)
    features = tmp_path / "new.csv"
    np.savetxt(features, X_new, delimiter=",", header="x1,x2", comments="", fmt="%.17g")
    return path, features, X_new


# ---- train, save, predict, plot: the real entry point ------------------------------------
def test_train_save_plot_then_predict_agrees_with_the_saved_model(tmp_path, red_blue_csv):
    pytest.importorskip("matplotlib")
    data, features, X_new = red_blue_csv
    result = run_cli(
        "train",
        "--data",
        data,
        "--target",
        "colour",
        "--epochs",
        "4",
        "--hidden",
        "16",
        "--save",
        "model.npz",
        "--plot",
        "plots",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert result.stderr == ""  # a pipe: no progress bar
    assert "\r" not in out
    assert (
        "data: red_blue.csv (240 samples, 2 features, 2 classes); training on 180, "
        "testing on 60" in out
    )
    assert "model: Standardize(2) -> Dense(2 -> 16, relu) -> Dense(16 -> 2)" in out
    assert [line.split()[1] for line in out.splitlines() if line.startswith("epoch")] == [
        "1/4",
        "2/4",
        "3/4",
        "4/4",
    ]
    assert "test accuracy" in out and "confusion matrix" in out
    matrix = out[out.index("confusion matrix") :].splitlines()
    assert matrix[1].split() == ["blue", "red"]
    counts = [int(v) for line in matrix[2:4] for v in line.split()[1:]]
    assert sum(counts) == 60  # the test set, stratified: 25% of 240
    assert "saved the model to model.npz" in out

    import matplotlib.image

    for name in ("loss.png", "accuracy.png", "decision_regions.png"):
        assert f"wrote {os.path.join('plots', name)}" in out
        image = matplotlib.image.imread(tmp_path / "plots" / name)
        assert image.shape[:2] == (480, 640) and image.std() > 0.01, name

    model = pynn.load(tmp_path / "model.npz")
    assert isinstance(model.layers[0], pynn.layers.Standardize)
    result = run_cli("predict", "model.npz", features, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    header, rows = read_prediction_csv(result.stdout)
    assert header == ["label", "p_blue", "p_red"]
    assert [row[0] for row in rows] == model.predict(X_new).tolist()
    probabilities = np.array([[float(p) for p in row[1:]] for row in rows], np.float32)
    np.testing.assert_array_equal(probabilities, model.predict_proba(X_new))  # exact digits


def test_default_run_is_digits_above_95_percent(tmp_path):
    pytest.importorskip("sklearn")
    result = run_cli("train", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("data: digits (1797 samples, 64 features, 10 classes)")
    accuracy = float(
        next(line for line in out.splitlines() if line.startswith("test accuracy")).split()[2]
    )
    assert accuracy > 0.95, out  # its time is measured outside the tests (docs/cli.md)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pty with a window size")
@pytest.mark.parametrize("quiet", [False, True])
def test_progress_bar_only_on_a_terminal(tmp_path, quiet):
    """stderr on a pseudo-terminal shows a bar (carriage returns) unless --quiet; stdout,
    a pipe, gets plain lines either way."""
    import fcntl
    import pty
    import select
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    env = cli_env()
    args = ["train", "--data", "blobs", "--samples", "400", "--epochs", "2"]
    process = subprocess.Popen(
        [sys.executable, "-m", "pynn", *args] + (["--quiet"] if quiet else []),
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=slave,
    )
    os.close(slave)
    terminal = b""
    while select.select([master], [], [], HANG_SECONDS)[0]:  # until EOF; a hang fails
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the process closed the terminal
            break
        if not chunk:
            break
        terminal += chunk
    os.close(master)
    out = process.communicate(timeout=HANG_SECONDS)[0].decode()
    assert process.returncode == 0
    assert "\r" not in out and "test accuracy" in out
    if quiet:
        assert terminal == b"" and "epoch 1/2" not in out
    else:
        assert b"\r" in terminal and b"epoch 1/2" in terminal and b"epoch 2/2" in terminal
        assert "epoch 1/2" in out and "epoch 2/2" in out


def test_real_process_errors_have_no_traceback(tmp_path):
    (tmp_path / "damaged.npz").write_bytes(b"PK\x03\x04 not really a zip archive")
    (tmp_path / "x.csv").write_text("1,2\n")
    result = run_cli("predict", "damaged.npz", "x.csv", cwd=tmp_path)
    assert_one_line_error(
        result.returncode, result.stderr, "'damaged.npz' is not a valid pynn model file"
    )
    result = run_cli("train", "--data", "no_such_set", cwd=tmp_path)
    assert_one_line_error(result.returncode, result.stderr, "unknown data set 'no_such_set'")


# ---- in-process: data sources and options ------------------------------------------------
def test_csv_names_target_and_early_stopping_with_validation(tmp_path, capsys, red_blue_csv):
    data, _, _ = red_blue_csv
    code = main(
        [
            "train",
            "--data",
            str(data),
            "--target",
            "colour",
            "--epochs",
            "60",
            "--validation-split",
            "0.2",
            "--early-stopping",
            "2",
            "--lr",
            "0.05",
            "--quiet",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "(validation: 0.2 of training)" in out
    assert not [line for line in out.splitlines() if line.startswith("epoch")]  # --quiet
    line = next(line for line in out.splitlines() if line.startswith("trained"))
    trained, kept = int(line.split()[1]), int(line.split("kept epoch ")[1].split(",")[0])
    assert trained < 60 and kept == trained - 2, line  # patience 2: two epochs past the best
    assert line.endswith("the best val_loss)")


def test_epoch_lines_show_validation_metrics(capsys):
    assert (
        main(
            [
                "train",
                "--data",
                "blobs",
                "--samples",
                "200",
                "--epochs",
                "2",
                "--validation-split",
                "0.25",
            ]
        )
        == 0
    )
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("epoch")]
    assert len(lines) == 2
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert f"  {key} " in lines[0]
    assert lines[0].endswith(" ms") or lines[0].endswith(" s")


def test_regression_reports_r2_and_mse_and_draws_the_curve(tmp_path, capsys, restore_threads):
    pytest.importorskip("matplotlib")
    pynn.set_num_threads(2)
    threads = pynn.get_num_threads()
    assert (
        main(
            [
                "train",
                "--data",
                "polynomial",
                "--samples",
                "300",
                "--epochs",
                "3",
                "--plot",
                str(tmp_path),
                "--save",
                str(tmp_path / "poly.npz"),
                "--dtype",
                "float64",
                "--optimizer",
                "sgd",
                "--threads",
                "1",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "training: mse, SGD (lr 0.01, momentum 0.9)" in out and "float64" in out
    test = next(line for line in out.splitlines() if line.startswith("test"))
    assert test.startswith("test R2 ") and " MSE " in test and "(75 samples)" in test
    assert "confusion" not in out
    assert sorted(p.name for p in tmp_path.glob("*.png")) == ["fit.png", "loss.png", "r2.png"]
    model = pynn.load(tmp_path / "poly.npz")
    assert model.dtype == np.float64 and model.loss_.name == "mse"
    assert pynn.get_num_threads() == threads  # --threads 1 held for the run only

    X = np.linspace(-1, 1, 5).reshape(-1, 1)
    np.savez(tmp_path / "points.npz", X=X)
    assert (
        main(
            [
                "predict",
                str(tmp_path / "poly.npz"),
                str(tmp_path / "points.npz"),
                "--output",
                str(tmp_path / "out.csv"),
            ]
        )
        == 0
    )
    captured = capsys.readouterr()
    assert captured.out == "" and "wrote 5 predictions" in captured.err
    header, rows = read_prediction_csv((tmp_path / "out.csv").read_text())
    assert header == ["prediction"]
    np.testing.assert_array_equal([float(row[0]) for row in rows], model.predict(X))


def test_two_dimensional_regression_skips_the_prediction_picture(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    assert (
        main(
            [
                "train",
                "--data",
                "semicircle",
                "--samples",
                "100",
                "--epochs",
                "1",
                "--plot",
                str(tmp_path),
                "--quiet",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "2 targets" in out and "note: no picture of the model's predictions" in out
    assert sorted(p.name for p in tmp_path.glob("*.png")) == ["loss.png", "r2.png"]


def test_npz_data_no_hidden_layer_full_batch_no_test_set(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    np.savez(tmp_path / "d.npz", X=X, y=(X[:, 0] > 0).astype(int))
    assert (
        main(
            [
                "train",
                "--data",
                str(tmp_path / "d.npz"),
                "--hidden",
                "none",
                "--batch-size",
                "full",
                "--test-size",
                "0",
                "--epochs",
                "2",
                "--optimizer",
                "adamw",
                "--save",
                str(tmp_path / "m.npz"),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "training on 60, no test set" in out and "full batch" in out
    assert "AdamW (lr 0.001, weight decay 0.01)" in out and "test accuracy" not in out
    model = pynn.load(tmp_path / "m.npz")
    assert [type(layer).__name__ for layer in model.layers] == ["Standardize", "Dense"]


def test_clipping_and_the_decay_scope_reach_fit(tmp_path, capsys, monkeypatch):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 3))
    np.savez(tmp_path / "d.npz", X=X, y=(X[:, 0] > 0).astype(int))
    seen = {}
    fit = pynn.Sequential.fit

    def recording_fit(self, *args, **kwargs):
        seen.update(kwargs)
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(pynn.Sequential, "fit", recording_fit)
    common = ["train", "--data", str(tmp_path / "d.npz"), "--epochs", "2", "--quiet"]
    options = ["--optimizer", "sgd", "--weight-decay", "0.1", "--decay-scope", "weights"]
    options += ["--clip-norm", "0.5", "--clip-value", "0.01"]
    assert main(common + options) == 0
    optimizer = seen["optimizer"]
    assert (seen["clip_norm"], seen["clip_value"]) == (0.5, 0.01)
    assert (type(optimizer).__name__, optimizer.weight_decay) == ("SGD", 0.1)
    assert optimizer.weight_decay_scope == "weights"
    assert "SGD (lr 0.01, momentum 0.9, weight decay 0.1, on the weights only)" in (
        capsys.readouterr().out
    )
    assert main(common) == 0  # the defaults: no clipping, every parameter decayed
    assert (seen["clip_norm"], seen["clip_value"]) == (None, None)
    assert seen["optimizer"].weight_decay_scope == "all"
    for bad in (["--clip-norm", "0"], ["--clip-value", "-1"], ["--decay-scope", "biases"]):
        assert main(common + bad) == 2
        assert bad[0] in capsys.readouterr().err


def test_idx_images_with_labels(tmp_path, capsys):
    rng = np.random.default_rng(0)
    labels = np.repeat([3, 7], 20)
    images = rng.integers(0, 60, size=(40, 4, 4)) + 150 * (labels == 7)[:, None, None]
    write_idx(tmp_path / "images-idx3-ubyte.gz", images)
    write_idx(tmp_path / "labels-idx1-ubyte.gz", labels)
    assert (
        main(
            [
                "train",
                "--data",
                str(tmp_path / "images-idx3-ubyte.gz"),
                "--labels",
                str(tmp_path / "labels-idx1-ubyte.gz"),
                # 30 rows at batch 32: one Adam step per epoch. 5 steps left the test
                # accuracy to the initial draw (0.5-1.0 over seeds 0-4); 20 reach 1.0 for
                # every seed, so the check is on the files' reading, not on luck.
                "--epochs",
                "20",
                "--quiet",
                "--save",
                str(tmp_path / "m.npz"),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "(40 samples, 16 features, 2 classes)" in out and "test accuracy 1.0000" in out
    assert main(["predict", str(tmp_path / "m.npz"), str(tmp_path / "images-idx3-ubyte.gz")]) == 0
    header, rows = read_prediction_csv(capsys.readouterr().out)
    assert header == ["label", "p_3", "p_7"]
    assert [int(row[0]) for row in rows] == labels.tolist()


def test_predict_csv_with_target_column_left_out(tmp_path, capsys, red_blue_csv):
    data, _, _ = red_blue_csv
    assert (
        main(
            [
                "train",
                "--data",
                str(data),
                "--epochs",
                "1",
                "--quiet",
                "--save",
                str(tmp_path / "m.npz"),
            ]
        )
        == 0
    )
    capsys.readouterr()
    X, _ = pynn.datasets.load_csv(data)
    assert main(["predict", str(tmp_path / "m.npz"), str(data), "--target", "colour"]) == 0
    header, rows = read_prediction_csv(capsys.readouterr().out)
    assert (
        len(rows) == 240
        and [row[0] for row in rows] == pynn.load(tmp_path / "m.npz").predict(X).tolist()
    )


def test_summary_of_a_model_without_standardize(tmp_path, capsys):
    model = pynn.Sequential(pynn.Dense(3, 4, activation="tanh"), pynn.Dense(4, 2))
    model.fit(np.eye(3), ["a", "b", "a"], loss="softmax_cross_entropy", epochs=1)
    model.save(tmp_path / "m.npz")
    assert main(["summary", str(tmp_path / "m.npz"), "--batch-size", "64"]) == 0
    out = capsys.readouterr().out
    assert "Total parameters: 26" in out
    assert "batch_size=64 (Adam, state 2 x parameters)" in out and "classes: a, b" in out
    assert main(["summary", str(tmp_path / "m.npz"), "--optimizer", "sgd", "--momentum", "0"]) == 0
    assert "(SGD, state 0 x parameters)" in capsys.readouterr().out


def test_summary_of_a_trained_cli_model(tmp_path, capsys):
    assert (
        main(
            [
                "train",
                "--data",
                "blobs",
                "--samples",
                "100",
                "--epochs",
                "1",
                "--quiet",
                "--save",
                str(tmp_path / "m.npz"),
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["summary", str(tmp_path / "m.npz")]) == 0
    out = capsys.readouterr().out
    assert "Standardize" in out and "Training memory for batch_size=32" in out


def test_default_without_scikit_learn_is_red_blue(monkeypatch, capsys):
    for name in ("sklearn", "sklearn.datasets"):  # importing them now fails, even when
        monkeypatch.setitem(sys.modules, name, None)  # an earlier test imported them
    assert main(["train", "--epochs", "1", "--quiet"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(
        "note: scikit-learn is not installed, so the default data set is red_blue"
    )
    assert lines[1].startswith("data: red_blue (1000 samples, 2 features, 2 classes)")
    assert main(["train", "--data", "digits"]) == 1
    assert_one_line_error(1, capsys.readouterr().err, "needs scikit-learn")


def test_version_help_and_argv_none(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["pynn", "--version"])
    assert main() == 0
    assert capsys.readouterr().out.strip() == f"pynn {pynn.__version__}"
    assert main(["train", "--help"]) == 0
    help_text = capsys.readouterr().out
    for option in (
        "--data",
        "--labels",
        "--hidden",
        "--early-stopping",
        "--plot",
        "arrays X and y",
    ):
        assert option in help_text
    assert main([]) == 2  # a command is required
    assert "required" in capsys.readouterr().err


# ---- errors -------------------------------------------------------------------------------
@pytest.fixture
def files(tmp_path):
    (tmp_path / "table.txt").write_text("1,2,3\n")
    (tmp_path / "bad.csv").write_text("a,b,y\n1,2,0\n3,oops,1\n")
    np.savez(tmp_path / "only_x.npz", X=np.zeros((4, 2)))
    (tmp_path / "damaged.npz").write_bytes(b"not a zip file at all")
    (tmp_path / "three.csv").write_text("1,2,3\n4,5,6\n")
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", np.zeros((2, 2, 2)))
    model = pynn.Sequential(pynn.Dense(2, 2))
    model.fit(np.eye(2), [0, 1], loss="softmax_cross_entropy", epochs=1)
    model.save(tmp_path / "two.npz")
    pynn.Sequential(pynn.Dense(2, 2)).save(tmp_path / "untrained.npz")
    return tmp_path


ERRORS = [
    (["train", "--data", "no_such_set"], "unknown data set 'no_such_set': choose one of digits"),
    (["train", "--data", "{dir}/missing.csv"], "data file not found: {dir}/missing.csv"),
    (["train", "--data", "{dir}/table.txt"], "cannot tell the format of"),
    (["train", "--data", "{dir}/bad.csv"], "line 3, column 2 ('b'): 'oops' is not a number"),
    (["train", "--data", "{dir}/only_x.npz"], "has no array 'y' (it has X)"),
    (["train", "--data", "{dir}/train-images-idx3-ubyte.gz"], "need their labels: add --labels"),
    (["train", "--data", "red_blue", "--target", "2"], "--target is for data files"),
    (["train", "--data", "red_blue", "--momentum", "0.5"], "--momentum is for --optimizer sgd"),
    (["train", "--data", "red_blue", "--loss", "mse"], "needs numeric targets"),
    (["train", "--data", "polynomial", "--loss", "hinge"], "use --loss mse or l1"),
    (["train", "--data", "red_blue", "--save", "{dir}/nowhere/m.npz"], "no such directory"),
    (
        [
            "train",
            "--data",
            "red_blue",
            "--samples",
            "50",
            "--optimizer",
            "sgd",
            "--lr",
            "1e30",
            "--quiet",
        ],
        "the loss became",
    ),
    (["predict", "{dir}/missing.npz", "{dir}/three.csv"], "model file not found"),
    (["predict", "{dir}/damaged.npz", "{dir}/three.csv"], "is not a valid pynn model file"),
    (
        ["predict", "{dir}/two.npz", "{dir}/three.csv"],
        "has 3 features per sample, but the model expects 2: if one column is the target, name "
        "it with --target",
    ),
    (
        ["predict", "{dir}/untrained.npz", "{dir}/three.csv", "--target", "0"],
        "the model was never trained",
    ),
    (["summary", "{dir}/damaged.npz"], "is not a valid pynn model file"),
]


@pytest.mark.parametrize("argv,message", ERRORS, ids=[" ".join(a[:3]) for a, _ in ERRORS])
def test_expected_errors_are_one_line(argv, message, files, capsys):
    argv = [arg.replace("{dir}", str(files)) for arg in argv]
    code = main(argv)
    err = capsys.readouterr().err
    assert_one_line_error(code, err, message.replace("{dir}", str(files)))
    assert code == 1


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "--hidden", "64,x"],
        ["train", "--epochs", "-1"],
        ["train", "--test-size", "1.5"],
        ["train", "--lr", "0"],
        ["predict", "only_model.npz"],
        ["train", "--bogus"],
    ],
)
def test_usage_errors_exit_2(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "usage: pynn" in err and "Traceback" not in err


def test_missing_matplotlib_stops_before_training(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now fails
    code = main(["train", "--data", "red_blue", "--plot", str(tmp_path / "plots")])
    captured = capsys.readouterr()
    assert_one_line_error(code, captured.err, '--plot needs matplotlib: pip install "pynn[plot]"')
    assert captured.out == "" and not (tmp_path / "plots").exists()


def test_interrupt_is_one_line_and_130(monkeypatch, capsys):
    def interrupted_fit(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pynn.Sequential, "fit", interrupted_fit)
    assert main(["train", "--data", "red_blue", "--samples", "50"]) == 130
    assert capsys.readouterr().err == "pynn: interrupted\n"


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT")
def test_ctrl_c_in_a_real_process(tmp_path):
    import signal

    env = without_leak_check(cli_env())  # (helpers.without_leak_check says why)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pynn",
            "train",
            "--data",
            "blobs",
            "--samples",
            "200",
            "--epochs",
            "1000000",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    guard = threading.Timer(HANG_SECONDS, process.kill)  # a deadlock guard for the read
    guard.start()
    try:
        for line in process.stdout:  # training has started when the first epoch ends
            if line.startswith("epoch"):
                break
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=HANG_SECONDS)
    finally:
        guard.cancel()
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130
    assert err == "pynn: interrupted\n"


def test_a_bug_keeps_its_traceback(monkeypatch):
    """Only the expected kinds of error become one line: others propagate."""

    def broken_fit(self, *args, **kwargs):
        raise KeyError("a bug")

    monkeypatch.setattr(pynn.Sequential, "fit", broken_fit)
    with pytest.raises(KeyError, match="a bug"):
        main(["train", "--data", "red_blue", "--samples", "50", "--quiet"])


# ---- bench wiring -------------------------------------------------------------------------
def test_bench_runs_the_bench_module(monkeypatch):
    calls = []
    command = types.ModuleType("pynn.bench.command")
    command.add_arguments = lambda parser: parser.add_argument("--repeat", type=int, default=1)
    command.run = lambda args: calls.append(args.repeat) or 7
    package = types.ModuleType("pynn.bench")
    package.command = command
    monkeypatch.setitem(sys.modules, "pynn.bench", package)
    monkeypatch.setitem(sys.modules, "pynn.bench.command", command)
    assert main(["bench", "--repeat", "3"]) == 7
    assert calls == [3]


def test_bench_without_its_module_is_one_line_exit_2(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "pynn.bench", None)
    assert main(["bench"]) == 2
    assert_one_line_error(2, capsys.readouterr().err, "the bench command is not available")
    # train does not need it
    assert main(["train", "--data", "blobs", "--samples", "60", "--epochs", "1", "--quiet"]) == 0


# ---- the progress bar ---------------------------------------------------------------------
class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def drive(progress, epochs=2, steps=5):
    for epoch in range(epochs):
        for step in range(steps):
            progress.batch(None, epoch, step, steps)
        progress.end_epoch()


def test_tqdm_bar_on_a_terminal():
    pytest.importorskip("tqdm")
    stream = FakeTerminal()
    progress = EpochProgress(2, stream)
    assert progress.tqdm is not None
    drive(progress)
    assert "epoch 1/2" in stream.getvalue() and "epoch 2/2" in stream.getvalue()
    assert "\r" in stream.getvalue()


def test_built_in_bar_without_tqdm(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm now fails
    stream = FakeTerminal()
    progress = EpochProgress(2, stream)
    assert progress.tqdm is None
    drive(progress)
    text = stream.getvalue()
    assert "\repoch 1/2 [" in text and "] 5/5 batches" in text and "\repoch 2/2 [" in text
    assert text.endswith("\r")  # the line is erased before the epoch's summary


def test_text_bar_draws_the_share_done():
    stream = io.StringIO()
    bar = TextBar(stream, "epoch 1/1", 4)
    bar.update(2)
    assert stream.getvalue() == "\repoch 1/1 [" + "#" * 15 + "-" * 15 + "] 2/4 batches"
    bar.update(3)  # within MIN_INTERVAL of the last draw, not the end: skipped
    bar.update(4)
    assert stream.getvalue().endswith("[" + "#" * 30 + "] 4/4 batches")
    bar.close()
    assert stream.getvalue().endswith(
        "\r" + " " * len("epoch 1/1 [] 4/4 batches") + " " * 30 + "\r"
    )


@pytest.mark.parametrize("stream,quiet", [(FakeTerminal(), True), (io.StringIO(), False)])
def test_no_bar_when_quiet_or_not_a_terminal(stream, quiet):
    progress = EpochProgress(2, stream, quiet=quiet)
    drive(progress)
    assert stream.getvalue() == ""
