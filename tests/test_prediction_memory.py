"""predict, predict_proba, evaluate and `pynn predict` within a memory budget (issue 15).

A forward pass keeps no layer's output once the next layer has read it, so the buffers of
an InferencePlan are those of the widest layer whatever the depth, and the rows one pass
takes are chosen so that they fit the budget (pynn.core.plans). Checked here: the bytes the plan
allocates are the bytes the budget counts; the rows chosen are the most that fit; results
do not depend on the budget (bit for bit); the issue's wide-and-deep model predicts under an
address-space cap far below what its old buffers took; the CLI reports running out of
memory in one line.
"""

import warnings

import numpy as np
import pytest
from helpers import ADDRESS_CAP, assert_bitwise_equal, needs_address_cap, run_python

import pynn
from pynn.core.plans import EVAL_BATCH, PREDICT_MEMORY, InferencePlan, block_rows, inference_bytes

DTYPES = (np.float32, np.float64)


def _models(dtype, backend="c"):
    """One model of each layer kind a forward pass meets, and their losses."""
    return {
        "dense": (
            pynn.Sequential(
                pynn.Dense(7, 40, "relu"),
                pynn.Dense(40, 3),
                dtype=dtype,
                backend=backend,
                random_state=0,
            ),
            "softmax_cross_entropy",
        ),
        "mixed": (
            pynn.Sequential(
                pynn.Standardize(np.linspace(-1, 1, 7), np.linspace(0.5, 2, 7)),
                pynn.Dense(7, 30, "elu"),
                pynn.PReLU(30),
                pynn.Maxout(30, 12, 3),
                pynn.Tanh(),
                pynn.Dense(12, 2),
                dtype=dtype,
                backend=backend,
                random_state=0,
            ),
            "mse",
        ),
        "binary": (
            pynn.Sequential(
                pynn.Dense(7, 9, "tanh"),
                pynn.ReLU(),
                pynn.Dense(9, 1),
                dtype=dtype,
                backend=backend,
                random_state=0,
            ),
            "binary_cross_entropy",
        ),
    }


def _fitted(kind, dtype, rng, backend="c", n=300):
    model, loss = _models(dtype, backend)[kind]
    X = rng.standard_normal((n, 7))
    y = (
        rng.standard_normal((n, 2))
        if loss == "mse"
        else rng.integers(0, model.n_outputs_ if model.n_outputs_ > 1 else 2, n)
    )
    model.fit(X, y, loss=loss, epochs=1, batch_size=50)
    return model, X, y


def plan_bytes(plan):
    """Bytes of every array an InferencePlan made (its flat buffers and workspace)."""
    arrays = list(plan._flat.values()) + ([plan.workspace] if plan.workspace is not None else [])
    return sum(array.nbytes for array in arrays)


# ---- the budget counts what the plan allocates -----------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("backend", ["c", "reference"])
@pytest.mark.parametrize("kind", ["dense", "mixed", "binary"])
@pytest.mark.parametrize("mode", ["predict", "eval"])
def test_plan_allocates_the_bytes_counted(kind, dtype, backend, mode, rng):
    model, _, _ = _fitted(kind, dtype, rng, backend)
    for n in (1, 17, EVAL_BATCH):
        plan = InferencePlan(model, n, mode)
        assert plan_bytes(plan) == inference_bytes(model, n, mode) == plan.nbytes, n


def test_depth_costs_nothing():
    """200 parameter-free layers take the memory 2 do: outputs alternate between two
    buffers."""

    def model(depth):
        return pynn.Sequential(
            pynn.Dense(3, 500), *[pynn.ReLU() for _ in range(depth)], pynn.Dense(500, 3)
        )

    assert inference_bytes(model(200), 100) == inference_bytes(model(1), 100)
    # without a ReLU, the second buffer holds only the last layer's 3 columns
    assert inference_bytes(model(0), 100) < inference_bytes(model(1), 100)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["dense", "mixed"])
def test_block_rows_are_the_most_that_fit(kind, dtype, rng):
    model, _, _ = _fitted(kind, dtype, rng)
    one_row = inference_bytes(model, 1)
    for budget in (one_row, 2 * one_row + 1, 40_000, 123_457, 10**6, 10**9):
        rows = block_rows(model, 5000, "predict", budget)
        assert 1 <= rows <= EVAL_BATCH
        assert inference_bytes(model, rows) <= budget
        assert rows == EVAL_BATCH or inference_bytes(model, rows + 1) > budget, budget
    assert block_rows(model, 10, "predict", 10**9) == 10  # never more rows than asked


def test_a_row_over_the_budget_goes_alone_with_a_warning(rng):
    model, X, _ = _fitted("dense", np.float64, rng)
    expected = model.predict_proba(X)
    with pytest.warns(ResourceWarning, match="more than the memory budget of 100"):
        got = model.predict_proba(X, memory=100)
    assert_bitwise_equal(got, expected, "one row at a time")


# ---- results do not depend on the budget -----------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["dense", "mixed", "binary"])
def test_results_do_not_depend_on_the_budget(kind, dtype, rng):
    """Each row's outputs do not depend on the rows beside it (pynn's GEMM; NumPy's, which
    the reference backend uses, does not promise that), and evaluate sums row after row."""
    model, X, y = _fitted(kind, dtype, rng, n=2 * EVAL_BATCH + 31)
    expected = (
        model.decision_function(X),
        model.predict(X),
        model.predict_proba(X) if model.loss_.proba else None,
        model.evaluate(X, y),
    )
    one_row = inference_bytes(model, 1, "eval")
    for budget in (one_row, 3 * one_row + 5, 50_000, PREDICT_MEMORY):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # every budget here holds a row
            got = (
                model.decision_function(X, memory=budget),
                model.predict(X, memory=budget),
                model.predict_proba(X, memory=budget) if model.loss_.proba else None,
                model.evaluate(X, y, memory=budget),
            )
        assert_bitwise_equal(got[0], expected[0], f"decision_function at {budget}")
        assert np.array_equal(got[1], expected[1])
        if expected[2] is not None:
            assert_bitwise_equal(got[2], expected[2], f"predict_proba at {budget}")
        assert got[3] == expected[3], budget


def test_a_model_keeps_one_prediction_plan(rng):
    model, X, _ = _fitted("mixed", np.float32, rng)
    for rows, budget in ((1, None), (300, None), (7, 10**9), (300, 20_000), (2, None)):
        model.predict(X[:rows], memory=budget)
    plans = [plan for plan in model._plans.values() if isinstance(plan, InferencePlan)]
    assert len(plans) == 1
    assert plans[0].capacity == 300  # the largest pass asked for (300 rows within 64 MiB)


def test_float64_X_for_a_float32_model_in_validation(rng):
    """Validation rows gathered from X of another dtype go through a staging view."""
    model, X, y = _fitted("dense", np.float32, rng)
    model.fit(X, y, loss="softmax_cross_entropy", epochs=2, validation_split=0.3, random_state=1)
    again, _, _ = _fitted("dense", np.float32, rng)
    again.fit(
        X.astype(np.float32),
        y,
        loss="softmax_cross_entropy",
        epochs=2,
        validation_split=0.3,
        random_state=1,
    )
    assert model.history_["val_loss"] == again.history_["val_loss"]


@pytest.mark.parametrize(
    "memory, error",
    [(0, ValueError), (-5, ValueError), (1.5, TypeError), ("64M", TypeError), (True, TypeError)],
)
def test_bad_memory_is_refused(memory, error, rng):
    model, X, y = _fitted("dense", np.float32, rng, n=20)
    for call in (
        lambda: model.predict(X, memory=memory),
        lambda: model.predict_proba(X, memory=memory),
        lambda: model.evaluate(X, y, memory=memory),
        lambda: model.summary(memory=memory),
    ):
        with pytest.raises(error, match="memory"):
            call()


def test_summary_reports_the_prediction_memory(rng):
    model, _, _ = _fitted("dense", np.float32, rng)
    summary = model.summary()
    assert summary.prediction == {
        "budget": PREDICT_MEMORY,
        "rows": EVAL_BATCH,
        "bytes": inference_bytes(model, EVAL_BATCH),
    }
    assert "Prediction memory" in str(summary) and "1024 rows per pass" in str(summary)
    small = model.summary(memory=20_000).prediction
    assert small["rows"] == block_rows(model, EVAL_BATCH, "predict", 20_000) < EVAL_BATCH
    assert small["bytes"] <= 20_000


# ---- the wide-and-deep model under an address-space cap --------------------------
# Dense(3, 20000), 200 ReLU layers, Dense(20000, 3): 0.5 MB of parameters, whose buffers of
# 1024 rows per layer took 16.5 GB. With the address space capped 400 MB above what the
# process maps, predict, predict_proba, evaluate and `pynn predict` on 1024 rows must run
# (the plan takes the 64 MiB budget; fit is not run: its buffers would not fit).
WIDE_AND_DEEP = (
    ADDRESS_CAP
    + r"""
import sys
import numpy as np
import pynn
from pynn.cli import main

folder = sys.argv[1]
model = pynn.Sequential(pynn.Dense(3, 20000), *[pynn.ReLU() for _ in range(200)],
                        pynn.Dense(20000, 3), random_state=0)
rng = np.random.default_rng(0)
X = rng.standard_normal((1024, 3))
y = rng.integers(0, 3, 1024)
model.fit(X[:4], y[:4], loss="softmax_cross_entropy", epochs=0, classes=[0, 1, 2])
model.save(folder + "/wide.npz")
np.savez(folder + "/X.npz", X=X)
lift = cap_address_space(400 << 20)
try:
    labels = model.predict(X)
    p = model.predict_proba(X)
    scores = model.evaluate(X, y)
    status = main(["predict", folder + "/wide.npz", folder + "/X.npz",
                   "-o", folder + "/out.csv"])
finally:
    lift()
assert status == 0, status
assert labels.shape == (1024,) and p.shape == (1024, 3)
assert np.array_equal(labels, p.argmax(axis=1))
# the same as a plain NumPy forward pass (ReLU applied 200 times is ReLU once)
w0, b0, w1, b1 = (param.astype(np.float64) for param in model.parameters())
h = np.maximum(X @ w0.T + b0, 0)
logits = h @ w1.T + b1
assert np.allclose(model.decision_function(X), logits, rtol=1e-4, atol=1e-4)
assert abs(scores["accuracy"] - (labels == y).mean()) < 1e-12
rows = open(folder + "/out.csv").read().splitlines()
assert len(rows) == 1025 and rows[0] == "label,p_0,p_1,p_2", rows[:2]
assert [int(row.split(",")[0]) for row in rows[1:]] == labels.tolist()
print("done", flush=True)
"""
)


@needs_address_cap
def test_wide_and_deep_model_predicts_under_a_memory_cap(tmp_path):
    run = run_python(WIDE_AND_DEEP, tmp_path, tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.split() == ["done"], run.stdout


# ---- the command line ----------------------------------------------------------------
@pytest.fixture
def saved(tmp_path, rng):
    model, X, _ = _fitted("dense", np.float32, rng)
    model.save(tmp_path / "m.npz")
    np.savez(tmp_path / "X.npz", X=X)
    return model, X, str(tmp_path / "m.npz"), str(tmp_path / "X.npz")


def test_cli_predict_takes_a_memory_budget(saved, capsys):
    from pynn.cli import main

    model, X, model_path, data_path = saved
    outputs = []
    for memory in (None, "20000", "64M", "1GiB", "0.5kb"):
        argv = ["predict", model_path, data_path] + (
            [] if memory is None else ["--memory", memory]
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)  # 0.5 KiB holds no row
            assert main(argv) == 0
        outputs.append(capsys.readouterr().out)
    assert all(out == outputs[0] for out in outputs)
    assert len(outputs[0].splitlines()) == len(X) + 1


@pytest.mark.parametrize("memory", ["0", "-1", "lots", "1.5X", "inf", "nan", ""])
def test_cli_refuses_a_bad_memory_size(saved, memory, capsys):
    from pynn.cli import main

    _, _, model_path, data_path = saved
    assert main(["predict", model_path, data_path, "--memory", memory]) == 2
    assert "--memory" in capsys.readouterr().err


def test_cli_summary_reports_prediction_memory(saved, capsys):
    from pynn.cli import main

    _, _, model_path, _ = saved
    assert main(["summary", model_path, "--memory", "20000"]) == 0
    assert "Prediction memory" in capsys.readouterr().out


def test_cli_reports_running_out_of_memory_in_one_line(saved, capsys, monkeypatch):
    from pynn.cli import main, predict

    _, _, model_path, data_path = saved

    def out_of_memory(*args, **kwargs):
        raise MemoryError(
            "Unable to allocate 8.00 GiB for an array with shape "
            "(1073741824,) and data type float64"
        )

    monkeypatch.setattr(predict, "load_features", out_of_memory)
    assert main(["predict", model_path, data_path]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(
        "pynn: error: out of memory: Unable to allocate 8.00 GiB"
    ), err
    monkeypatch.setattr(
        predict, "load_features", lambda *a, **k: (_ for _ in ()).throw(MemoryError())
    )
    assert main(["predict", model_path, data_path]) == 1
    assert capsys.readouterr().err.startswith("pynn: error: out of memory (")
