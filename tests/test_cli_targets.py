"""`pynn train --standardize-targets` (the default for regression): training on standardized
targets, a saved model whose last layer maps back, and the test R2 and MSE on the targets'
own scale, checked against scikit-learn's metrics on `pynn predict`'s output."""

import csv
import io
import re

import numpy as np
import pytest

import pynn
from pynn.cli import main
from pynn.core import persistence
from pynn.data import train_test_split

r2_score = pytest.importorskip("sklearn.metrics").r2_score
mean_squared_error = pytest.importorskip("sklearn.metrics").mean_squared_error


def diabetes(path):
    """scikit-learn's diabetes data (targets 25 to 346) as an .npz file."""
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    np.savez(path, X=X, y=y)
    return X, y


def two_targets(path):
    """A 2-target regression far from unit scale: y * [1000, 0.01] + [5000, -3]."""
    X, y = pynn.datasets.make_semicircle_to_parabola(400, random_state=0)
    y = y * [1000.0, 0.01] + [5000.0, -3.0]
    np.savez(path, X=X, y=y)
    return X, y


def train(capsys, *argv):
    assert main(["train", "--quiet", *map(str, argv)]) == 0
    return capsys.readouterr().out


def printed_scores(out):
    """(R2, MSE) as `pynn train` printed them."""
    match = re.search(r"^test R2 (\S+)  MSE (\S+) on the targets' own scale  \(", out, re.M)
    assert match, out
    return match.group(1), match.group(2)


def predict(capsys, model, X, tmp_path):
    np.savez(tmp_path / "points.npz", X=X)
    assert main(["predict", str(model), str(tmp_path / "points.npz")]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    return np.array(rows[1:], dtype=np.float64).reshape(len(X), -1)


@pytest.mark.parametrize("make_data", [diabetes, two_targets])
def test_printed_r2_is_scikit_learns_on_the_original_scale(make_data, tmp_path, capsys):
    X, y = make_data(tmp_path / "data.npz")
    saved = tmp_path / "model.npz"
    out = train(capsys, "--data", tmp_path / "data.npz", "--standardize-targets", "--seed", 3,
                "--dtype", "float64", "--save", saved)  # fmt: skip
    _, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=3)
    mean, scale = y_train.mean(axis=0), y_train.std(axis=0)
    targets = next(line for line in out.splitlines() if line.startswith("targets: "))
    for value in np.atleast_1d(mean).tolist() + np.atleast_1d(scale).tolist():
        assert f"{value:.6g}" in targets

    predicted = predict(capsys, saved, X_test, tmp_path).reshape(y_test.shape)
    r2, mse = printed_scores(out)
    assert r2 == f"{r2_score(y_test, predicted):.4f}"
    assert mse == f"{mean_squared_error(y_test, predicted):.6g}"
    assert r2_score(y_test, predicted) > 0.3

    model = pynn.load(saved)  # the last layer: Standardize(-mean / scale, 1 / scale)
    last = model.layers[-1]
    assert type(last).__name__ == "Standardize" and model.n_outputs_ == np.size(mean)
    np.testing.assert_array_equal(last.mean, np.atleast_1d(-mean / scale))
    np.testing.assert_array_equal(last.scale, np.atleast_1d(1.0 / scale))
    network = pynn.Sequential(*model.layers[:-1], dtype="float64")
    network.flat_params[...] = model.flat_params
    outputs = network.decision_function(X_test).reshape(y_test.shape)
    np.testing.assert_allclose(predicted, outputs * scale + mean, rtol=1e-12, atol=1e-9)
    np.testing.assert_array_equal(model.predict(X_test).reshape(y_test.shape), predicted)


def r2_over_seeds(capsys, data, *options):
    values = []
    for seed in range(5):
        out = train(capsys, "--data", data, "--seed", seed, *options)
        values.append(float(re.search(r"^test R2 (\S+)", out, re.M).group(1)))
    return np.mean(values)


def test_standardized_targets_train_better_on_diabetes(tmp_path, capsys):
    # Measured (pynn train's defaults, seeds 0-4): 0.385, 0.178, 0.429, 0.257, 0.395
    # without (mean 0.329); 0.413, 0.445, 0.433, 0.344, 0.514 with (mean 0.430).
    diabetes(tmp_path / "diabetes.npz")
    without = r2_over_seeds(capsys, tmp_path / "diabetes.npz", "--no-standardize-targets")
    default = r2_over_seeds(capsys, tmp_path / "diabetes.npz")
    assert default > without + 0.05
    assert default > 0.38


def test_on_by_default_for_regression_only(tmp_path, capsys):
    out = train(capsys, "--data", "polynomial", "--epochs", 2, "--save", tmp_path / "on.npz")
    assert "targets: standardized with the training split's mean" in out
    assert "test R2" in out and "on the targets' own scale" in out
    assert type(pynn.load(tmp_path / "on.npz").layers[-1]).__name__ == "Standardize"

    out = train(capsys, "--data", "polynomial", "--epochs", 2, "--no-standardize-targets",
                "--save", tmp_path / "off.npz")  # fmt: skip
    assert "targets:" not in out and "own scale" not in out and "test R2" in out
    assert type(pynn.load(tmp_path / "off.npz").layers[-1]).__name__ == "Dense"

    out = train(capsys, "--data", "red_blue", "--samples", 100, "--epochs", 1)
    assert "targets:" not in out and "test accuracy" in out
    out = train(capsys, "--data", "red_blue", "--samples", 100, "--epochs", 1,
                "--no-standardize-targets")  # fmt: skip
    assert "test accuracy" in out


def test_asked_for_with_a_classifier_is_a_one_line_error(capsys):
    code = main(["train", "--data", "red_blue", "--standardize-targets", "--quiet"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1
    assert "pynn: error: --standardize-targets is for regression (--loss mse or l1), " in err
    assert "not softmax_cross_entropy" in err


def test_a_value_after_the_flag_is_a_usage_error(capsys):
    assert main(["train", "--standardize-targets=no"]) == 2
    assert "usage: pynn" in capsys.readouterr().err


def test_saved_file_keeps_format_version_1_and_round_trips(tmp_path, capsys):
    X, y = two_targets(tmp_path / "data.npz")
    saved = tmp_path / "model.npz"
    train(capsys, "--data", tmp_path / "data.npz", "--epochs", 3, "--save", saved)
    arrays = persistence._read_arrays(str(saved))
    assert sorted(arrays) == ["config", "params"]  # no new part: older pynn reads it too
    config = persistence._read_config(str(saved), arrays["config"])
    assert config["version"] == persistence.VERSION == 1
    assert config["layers"][-1]["type"] == "Standardize"
    model = pynn.load(saved)
    again = tmp_path / "again.npz"
    model.save(again)
    np.testing.assert_array_equal(pynn.load(again).predict(X), model.predict(X))
    assert np.abs(model.predict(X).mean(axis=0) - y.mean(axis=0)).max() < 0.2 * y.std(axis=0).max()
