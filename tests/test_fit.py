"""Behaviour of Sequential.fit and partial_fit on small problems: history, printing,
validation, early stopping, callbacks, schedules, warm starts, batch sizes, on-disk and
non-float inputs, non-finite losses, and what predict returns for each kind of y."""

import re
import tracemalloc

import numpy as np
import pytest

import pynn
from pynn import SGD, Adam, Dense, EarlyStopping, Sequential

SCE, BCE = "softmax_cross_entropy", "binary_cross_entropy"


def separable(n=80, seed=0):
    """Two features, two classes split by a line (the easy problem)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2))
    return X, (X[:, 0] + 0.5 * X[:, 1] > 0).astype(np.int64)


def linear_regression(n=64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3))
    return X, X @ np.array([1.0, -2.0, 0.5]) + 0.3


def classifier(n_classes=2, hidden=8, dtype=np.float32, seed=0):
    return Sequential(
        Dense(2, hidden, activation="tanh"),
        Dense(hidden, n_classes),
        dtype=dtype,
        random_state=seed,
    )


class RecordedRows(np.ndarray):
    """An array that records the rows each gather reads from it: np.take (which calls this
    method) or indexing with an array of row numbers. Slices are not recorded."""

    def take(self, indices, axis=None, out=None, mode="raise"):
        self.reads.append(np.array(indices, copy=True))
        return np.asarray(self).take(indices, axis=axis, out=out, mode=mode)

    def __getitem__(self, key):
        if isinstance(key, np.ndarray) and key.dtype.kind in "iu":
            self.reads.append(key.copy())
        return super().__getitem__(key)


def recorded(X):
    X = X.view(RecordedRows)
    X.reads = []
    return X


# ---- history and printing ----------------------------------------------------------------
def test_history_has_one_entry_per_epoch_without_validation():
    X, y = separable()
    model = classifier().fit(X, y, loss=SCE, epochs=4)
    assert set(model.history_) == {"loss", "accuracy", "lr", "time"}
    assert all(len(values) == 4 for values in model.history_.values())

    Xr, yr = linear_regression()
    reg = Sequential(Dense(3, 1), random_state=0).fit(Xr, yr, loss="mse", epochs=3)
    assert set(reg.history_) == {"loss", "r2", "lr", "time"}
    assert all(len(values) == 3 for values in reg.history_.values())


def test_history_with_validation_data_matches_evaluate():
    X, y = separable()
    Xv, yv = separable(30, seed=1)
    model = classifier().fit(X, y, loss=SCE, epochs=3, validation_data=(Xv, yv))
    assert set(model.history_) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr", "time"}
    assert all(len(values) == 3 for values in model.history_.values())
    # the last epoch's validation scores are those of the final model
    assert model.evaluate(Xv, yv) == {
        "loss": model.history_["val_loss"][-1],
        "accuracy": model.history_["val_accuracy"][-1],
    }


def test_training_loss_falls_on_an_easy_problem():
    X, y = separable(200)
    model = classifier().fit(X, y, loss=SCE, optimizer=Adam(lr=0.05), epochs=15)
    loss = model.history_["loss"]
    assert loss[-1] < 0.5 * loss[0]
    assert model.history_["accuracy"][-1] >= 0.95
    assert model.score(X, y) >= 0.95


def test_epoch_loss_is_the_mean_over_samples_whatever_the_batches():
    # with lr=0 the parameters stay put, so every epoch's loss is the full-data loss, also
    # when the last batch is short (a mean of batch means would weigh it too much)
    X, y = separable(50)
    model = classifier(dtype=np.float64)
    for batch_size in (1, 7, 16, None):
        model.fit(X, y, loss=SCE, optimizer=SGD(lr=0.0), epochs=2, batch_size=batch_size)
        expected = model.evaluate(X, y)
        assert model.history_["loss"] == pytest.approx([expected["loss"]] * 2, rel=1e-12)
        assert model.history_["accuracy"] == [expected["accuracy"]] * 2


@pytest.mark.parametrize("with_validation", [False, True])
def test_verbose_prints_one_line_per_epoch(capsys, with_validation):
    X, y = separable()
    extra = {"validation_split": 0.25} if with_validation else {}
    classifier().fit(X, y, loss=SCE, epochs=3, verbose=1, **extra)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3
    for epoch, line in enumerate(lines, 1):
        assert line.startswith(f"epoch {epoch}/3")
        assert re.search(r"\bloss \d", line) and re.search(r"\baccuracy \d", line)
        assert re.search(r"\d\.\d\ds$", line)  # ends with the epoch wall time, as in "0.01s"
        assert ("val_loss" in line and "val_accuracy" in line) == with_validation

    classifier().fit(X, y, loss=SCE, epochs=3, verbose=0)
    assert capsys.readouterr().out == ""


# ---- validation ----------------------------------------------------------------------------
def test_validation_split_holds_out_disjoint_seeded_rows():
    X, y = separable(40)

    def split(random_state):
        Xr = recorded(X)
        classifier().fit(
            Xr,
            y,
            loss=SCE,
            epochs=1,
            batch_size=None,
            validation_split=0.25,
            random_state=random_state,
        )
        train, val = Xr.reads  # one full batch, then one evaluation pass
        return train, val

    train, val = split(0)
    assert len(val) == 10 and len(train) == 30
    assert np.all(np.diff(val) > 0)  # the held-out rows are read in order
    assert set(train.tolist()).isdisjoint(val.tolist())
    assert sorted(train.tolist() + val.tolist()) == list(range(40))
    assert np.array_equal(split(0)[1], val)
    assert not np.array_equal(split(1)[1], val)


def test_validation_split_scores_the_held_out_rows():
    X, y = separable(40)
    Xr = recorded(X)
    model = classifier(dtype=np.float64).fit(
        Xr, y, loss=SCE, epochs=1, batch_size=None, validation_split=0.25, random_state=3
    )
    val = Xr.reads[1]
    assert model.history_["val_loss"][0] == pytest.approx(
        model.evaluate(X[val], y[val])["loss"], rel=1e-12
    )


def test_partial_fit_validates_on_the_same_rows_each_call():
    X, y = separable(40)
    model = classifier()
    held_out = []
    for _ in range(3):
        Xr = recorded(X)
        model.partial_fit(Xr, y, loss=SCE, batch_size=None, validation_split=0.25)
        held_out.append(Xr.reads[1])
    assert all(np.array_equal(rows, held_out[0]) for rows in held_out)


def test_validation_split_too_small_for_the_data():
    X, y = separable(10)
    with pytest.raises(ValueError, match=r"validation_split=0.05 leaves 0 of 10 samples"):
        classifier().fit(X, y, loss=SCE, validation_split=0.05)


# ---- early stopping ------------------------------------------------------------------------
@pytest.mark.parametrize("patience", [0, 1, 3])
def test_early_stopping_stops_after_patience_epochs_without_improvement(patience):
    # lr=0: the loss never improves after the first epoch
    X, y = separable()
    model = classifier().fit(
        X,
        y,
        loss=SCE,
        optimizer=SGD(lr=0.0),
        epochs=20,
        early_stopping=EarlyStopping(patience=patience),
    )
    # the first epoch always improves on nothing; patience 0 stops at the first that does not
    assert len(model.history_["loss"]) == 1 + max(patience, 1)


def test_early_stopping_true_uses_the_defaults():
    X, y = separable()
    model = classifier().fit(X, y, loss=SCE, optimizer=SGD(lr=0.0), epochs=30, early_stopping=True)
    assert len(model.history_["loss"]) == 11  # patience 10


def test_early_stopping_min_delta_ignores_small_improvements():
    X, y = separable()
    common = dict(loss=SCE, optimizer=SGD(lr=0.01), epochs=8, batch_size=None)
    free = classifier().fit(X, y, **common, early_stopping=EarlyStopping(patience=2))
    assert len(free.history_["loss"]) == 8  # gradient descent improves the loss a little
    assert all(b < a for a, b in zip(free.history_["loss"], free.history_["loss"][1:]))
    strict = classifier().fit(
        X, y, **common, early_stopping=EarlyStopping(patience=2, min_delta=1.0)
    )
    assert len(strict.history_["loss"]) == 3


def _fit_with_snapshots(early_stopping, monitor_data):
    """Train on an easy problem while validating on `monitor_data`; returns the model and
    the parameters after each epoch (taken by the callback)."""
    X, y = separable(200)
    snapshots = []
    model = classifier().fit(
        X,
        y,
        loss=SCE,
        optimizer=Adam(lr=0.05),
        epochs=40,
        validation_data=monitor_data,
        early_stopping=early_stopping,
        callback=lambda m, epoch, logs: snapshots.append(m.flat_params.copy()),
    )
    return model, snapshots


def test_early_stopping_restores_the_best_weights():
    # validating on flipped labels: the better the model, the worse the validation loss
    X, y = separable(200)
    model, snapshots = _fit_with_snapshots(EarlyStopping(patience=3), (X, 1 - y))
    val_loss = model.history_["val_loss"]
    best = int(np.argmin(val_loss))
    assert len(val_loss) == best + 3 + 1 < 40  # stopped 3 epochs after the best
    assert best != len(val_loss) - 1
    np.testing.assert_array_equal(model.flat_params, snapshots[best])
    assert model.evaluate(X, 1 - y)["loss"] == val_loss[best]


def test_early_stopping_without_restore_keeps_the_last_weights():
    X, y = separable(200)
    model, snapshots = _fit_with_snapshots(
        EarlyStopping(patience=3, restore_best_weights=False), (X, 1 - y)
    )
    assert len(snapshots) < 40
    np.testing.assert_array_equal(model.flat_params, snapshots[-1])


def test_early_stopping_on_accuracy_keeps_the_highest():
    # accuracy must rise to count as an improvement
    X, y = separable(200)
    model, snapshots = _fit_with_snapshots(
        EarlyStopping(patience=3, monitor="val_accuracy"), separable(100, seed=5)
    )
    accuracy = model.history_["val_accuracy"]
    best = int(np.argmax(accuracy))  # the first epoch with the highest accuracy
    assert accuracy[best] > accuracy[0]
    assert len(accuracy) == best + 4 < 40
    np.testing.assert_array_equal(model.flat_params, snapshots[best])


# ---- callbacks and schedules -----------------------------------------------------------------
def test_callback_is_called_once_per_epoch_with_the_logs():
    X, y = separable()
    calls = []
    model = classifier()
    model.fit(
        X,
        y,
        loss=SCE,
        epochs=4,
        validation_split=0.25,
        callback=lambda m, epoch, logs: calls.append((m, epoch, dict(logs))),
    )
    assert [epoch for _, epoch, _ in calls] == [0, 1, 2, 3]
    assert all(m is model for m, _, _ in calls)
    for key, values in model.history_.items():
        assert [logs[key] for _, _, logs in calls] == values


def test_callback_returning_true_stops_training():
    X, y = separable()
    opt = SGD(lr=0.1)
    model = classifier().fit(
        X,
        y,
        loss=SCE,
        optimizer=opt,
        epochs=10,
        batch_size=None,
        callback=lambda m, epoch, logs: epoch == 2,
    )
    assert len(model.history_["loss"]) == 3
    assert opt.step_count == 3


def test_step_and_inverse_scaling_schedules_change_the_lr_per_epoch():
    X, y = separable()
    opt = SGD(lr=0.1)
    fitted = classifier().fit(
        X, y, loss=SCE, optimizer=opt, epochs=5, lr_scheduler=pynn.StepLR(step_size=2, gamma=0.5)
    )
    assert fitted.history_["lr"] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])
    assert opt.lr == pytest.approx(0.025)  # the 5th step (odd) did not decay
    fitted = classifier().fit(
        X,
        y,
        loss=SCE,
        optimizer=SGD(lr=0.1),
        epochs=4,
        lr_scheduler=pynn.InverseScalingLR(power=1.0),
    )
    assert fitted.history_["lr"] == pytest.approx([0.1, 0.1 / 2, 0.1 / 3, 0.1 / 4])


def test_reduce_on_plateau_lowers_the_lr_when_the_loss_stalls():
    X, y = separable()
    fitted = classifier().fit(
        X,
        y,
        loss=SCE,
        optimizer=SGD(lr=1e-12),
        epochs=6,
        lr_scheduler=pynn.ReduceLROnPlateau(factor=0.5, patience=1),
    )
    assert fitted.history_["lr"] == pytest.approx([1e-12] * 3 + [5e-13] * 3, rel=1e-12)


@pytest.mark.parametrize(
    "accuracies, reduced", [([0.5, 0.6, 0.7, 0.8], False), ([0.8, 0.7, 0.6, 0.5], True)]
)
def test_reduce_on_plateau_wants_accuracy_to_rise(accuracies, reduced):
    opt = SGD(lr=0.1)
    opt.bind(np.zeros(3), np.zeros(3), None)
    schedule = pynn.ReduceLROnPlateau(factor=0.5, patience=1, monitor="accuracy")
    schedule.bind(opt, ["loss", "accuracy"])
    for accuracy in accuracies:
        schedule.step({"loss": 1.0, "accuracy": accuracy})
    assert (opt.lr < 0.1) == reduced


# ---- warm starts and re-initialisation ---------------------------------------------------------
def test_fit_reinitialises_so_one_seed_gives_one_model():
    X, y = separable()
    a = classifier().fit(X, y, loss=SCE, epochs=3, random_state=7)
    b = classifier(seed=99).fit(X, y, loss=SCE, epochs=3, random_state=7)
    np.testing.assert_array_equal(a.flat_params, b.flat_params)
    a.partial_fit(X, y)  # moves a on ...
    a.fit(X, y, loss=SCE, epochs=3, random_state=7)  # ... and fit starts again
    np.testing.assert_array_equal(a.flat_params, b.flat_params)
    assert len(a.history_["loss"]) == 3


def test_partial_fit_continues_where_fit_stopped():
    # the parameters, the optimizer state and the row order all continue: one epoch of fit
    # and one of partial_fit are two epochs of fit, bit for bit
    X, y = separable(50)
    whole = classifier().fit(X, y, loss=SCE, optimizer=Adam(lr=0.01), epochs=2, batch_size=8)
    opt = Adam(lr=0.01)
    split = classifier().fit(X, y, loss=SCE, optimizer=opt, epochs=1, batch_size=8)
    first = split.flat_params.copy()
    split.partial_fit(X, y, batch_size=8)
    assert split.optimizer_ is opt and opt.step_count == 2 * 7
    assert not np.array_equal(split.flat_params, first)
    np.testing.assert_array_equal(split.flat_params, whole.flat_params)
    for key in ("loss", "accuracy", "lr"):
        assert split.history_[key] == whole.history_[key]
    assert len(split.history_["time"]) == 2


def test_partial_fit_with_a_new_optimizer_starts_its_state_afresh():
    X, y = separable(40)
    kept, renewed = classifier(), classifier()
    for model in (kept, renewed):
        model.partial_fit(X, y, loss=SCE, optimizer=Adam(lr=0.01), batch_size=None)
    np.testing.assert_array_equal(kept.flat_params, renewed.flat_params)
    kept.partial_fit(X, y, batch_size=None)
    fresh = Adam(lr=0.01)
    renewed.partial_fit(X, y, optimizer=fresh, batch_size=None)
    assert kept.optimizer_.step_count == 2 and fresh.step_count == 1
    # Adam's first step moves every weight by about lr; with the kept moments it does not
    assert not np.array_equal(kept.flat_params, renewed.flat_params)


def test_first_partial_fit_with_classes_missing_from_the_batch():
    X, y = separable(60)
    y3 = np.where(X[:, 1] > 1, 2, y)
    first = y3 != 2
    assert 0 < np.sum(~first) < 60
    model = classifier(n_classes=3)
    model.partial_fit(X[first], y3[first], loss=SCE, classes=[0, 1, 2])
    assert model.classes_.tolist() == [0, 1, 2]
    model.partial_fit(X, y3)  # now with label 2
    assert set(model.predict(X).tolist()) <= {0, 1, 2}
    with pytest.raises(ValueError, match=r"y has 2 classes but the model gives 3 outputs"):
        classifier(n_classes=3).partial_fit(X[first], y3[first], loss=SCE)


# ---- batch sizes --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "batch_size, steps, sizes",
    [(1, 50, [1] * 50), (16, 4, [16, 16, 16, 2]), (None, 1, [50]), (500, 1, [50])],
)
def test_batch_size_sets_the_steps_per_epoch(batch_size, steps, sizes):
    X, y = separable(50)
    Xr = recorded(X)
    opt = SGD(lr=0.01)
    classifier().fit(Xr, y, loss=SCE, optimizer=opt, epochs=2, batch_size=batch_size)
    assert opt.step_count == 2 * steps
    assert [len(rows) for rows in Xr.reads] == sizes * 2
    for epoch in (Xr.reads[:steps], Xr.reads[steps:]):  # each epoch reads every row once
        assert sorted(np.concatenate(epoch).tolist()) == list(range(50))


def test_shuffle_false_reads_rows_in_order():
    X, y = separable(20)
    Xr = recorded(X)
    classifier().fit(Xr, y, loss=SCE, epochs=1, batch_size=8, shuffle=False)
    assert np.concatenate(Xr.reads).tolist() == list(range(20))


# ---- inputs: on disk, integers, float64 into float32 ------------------------------------------
def test_memmap_input_gives_the_in_memory_results_without_copying(tmp_path):
    rng = np.random.default_rng(0)
    n, width, batch = 40000, 25, 500
    X = rng.standard_normal((n, width))  # 8 MB of float64, for a float32 model
    x_bytes = X.nbytes
    y = (X[:, 0] - X[:, 1] > 0).astype(np.int64)
    np.save(tmp_path / "X.npy", X)
    on_disk = np.load(tmp_path / "X.npy", mmap_mode="r")
    assert isinstance(on_disk, np.memmap)

    def train(data, validation_split=0.1):
        model = Sequential(Dense(width, 2), random_state=0)
        return model.fit(
            data, y, loss=SCE, epochs=1, batch_size=batch, validation_split=validation_split
        )

    in_memory, model = train(X), train(on_disk)
    np.testing.assert_array_equal(model.flat_params, in_memory.flat_params)
    assert model.history_["loss"] == in_memory.history_["loss"]
    assert model.history_["val_loss"] == in_memory.history_["val_loss"]
    np.testing.assert_array_equal(model.predict(on_disk), in_memory.predict(X))
    np.testing.assert_array_equal(model.decision_function(on_disk), in_memory.decision_function(X))

    # No copy of X, not even a float32 one (4 MB), is made or kept: what fit allocates is
    # a few arrays of one number per row (320 KB each here) and the batch buffers.
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        model = train(on_disk, validation_split=0.0)
        kept, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak - before < x_bytes / 4
    assert kept - before < x_bytes / 16

    # the rows are read batch by batch
    recorded_disk = recorded(np.load(tmp_path / "X.npy", mmap_mode="r"))
    train(recorded_disk)
    sizes = [len(rows) for rows in recorded_disk.reads]
    assert max(sizes) <= 1024 and sizes[:72] == [batch] * 72
    assert sum(sizes) == n  # 36000 training rows and 4000 validation rows, each read once


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("x_dtype", [np.int64, np.uint8, np.float64, np.float32, np.bool_])
def test_any_numeric_x_trains_as_the_converted_array(dtype, x_dtype):
    rng = np.random.default_rng(1)
    if x_dtype == np.bool_:
        X = rng.random((60, 2)) > 0.5
    elif np.issubdtype(x_dtype, np.integer):
        X = rng.integers(0, 256, (60, 2)).astype(x_dtype)  # pixel values
    else:
        X = (rng.standard_normal((60, 2)) * 3).astype(x_dtype)
    y = (X[:, 0] > X[:, 1]).astype(np.int64)
    converted = X.astype(dtype)

    def train(data):
        return classifier(dtype=dtype).fit(
            data, y, loss=SCE, epochs=2, batch_size=16, validation_data=(data[:20], y[:20])
        )

    a, b = train(X), train(converted)
    np.testing.assert_array_equal(a.flat_params, b.flat_params)
    assert a.history_["val_loss"] == b.history_["val_loss"]
    np.testing.assert_array_equal(a.decision_function(X), b.decision_function(converted))


def test_list_input_works_like_an_array():
    X, y = separable(30)
    a = classifier().fit(X.tolist(), y.tolist(), loss=SCE, epochs=2)
    b = classifier().fit(X, y, loss=SCE, epochs=2)
    np.testing.assert_array_equal(a.flat_params, b.flat_params)
    np.testing.assert_array_equal(a.predict(X.tolist()), b.predict(X))


# ---- non-finite losses -------------------------------------------------------------------------
def _step_of(message):
    match = re.search(r"epoch (\d+), step (\d+)", message)
    assert match, message
    return int(match.group(1)), int(match.group(2))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("hidden", [False, True])
def test_non_finite_loss_stops_before_its_update(dtype, hidden):
    X, y = linear_regression(64)
    layers = [Dense(3, 8, activation="relu"), Dense(8, 1)] if hidden else [Dense(3, 1)]
    model = Sequential(*layers, dtype=dtype, random_state=0)
    opt = SGD(lr=1e4)
    with pytest.raises(pynn.NonFiniteLossError, match=r"loss became (nan|inf)") as info:
        model.fit(X, y, loss="mse", optimizer=opt, epochs=100, batch_size=16)
    assert isinstance(info.value, FloatingPointError)
    epoch, step = _step_of(str(info.value))
    assert opt.step_count == (epoch - 1) * 4 + step - 1  # the bad step made no update
    assert np.all(np.isfinite(model.flat_params))
    assert "lower the learning rate" in str(info.value)


def test_an_overflowing_update_is_undone():
    # lr * gradient overflows float32 in the first update while its loss was finite: the
    # next loss is infinite and the model goes back to the start of the epoch
    X, y = linear_regression(64)
    X, y = 10 * X, 10 * y  # gradients of about 100
    model = Sequential(Dense(3, 1), random_state=0)
    initial = model.fit(X, y, loss="mse", epochs=0).flat_params.copy()
    with pytest.raises(pynn.NonFiniteLossError, match=r"epoch 1, step 2 .*start of epoch 1"):
        model.fit(X, y, loss="mse", optimizer=SGD(lr=1e38), epochs=3, batch_size=16)
    np.testing.assert_array_equal(model.flat_params, initial)


def test_an_overflowing_last_update_of_an_epoch_is_undone():
    X, y = linear_regression(64)
    X, y = 10 * X, 10 * y
    model = Sequential(Dense(3, 1), random_state=0)
    initial = model.fit(X, y, loss="mse", epochs=0).flat_params.copy()
    model.partial_fit(X, y, optimizer=SGD(lr=1e-3), batch_size=None)
    after_one = model.flat_params.copy()
    assert not np.array_equal(after_one, initial)
    with pytest.raises(pynn.NonFiniteLossError, match=r"update of epoch 1 made the parameters"):
        model.partial_fit(X, y, optimizer=SGD(lr=1e38), batch_size=None)  # one step
    np.testing.assert_array_equal(model.flat_params, after_one)
    assert len(model.history_["loss"]) == 1  # the failed epoch is not logged


# ---- targets and predictions ------------------------------------------------------------
def test_string_labels_are_sorted_and_predicted_back():
    X, y = separable()
    labels = np.where(y == 1, "yes", "no")
    model = classifier().fit(X, labels, loss=SCE, optimizer=Adam(lr=0.05), epochs=10)
    assert model.classes_.tolist() == ["no", "yes"]
    predicted = model.predict(X)
    assert predicted.dtype.kind == "U" and set(predicted.tolist()) <= {"no", "yes"}
    assert np.mean(predicted == labels) >= 0.9
    assert model.score(X, labels) == np.mean(predicted == labels)


@pytest.mark.parametrize("loss, outputs", [(SCE, 2), (BCE, 1), ("hinge", 1)])
def test_integer_labels_not_starting_at_zero(loss, outputs):
    X, y = separable()
    labels = np.where(y == 1, 10, 3)
    model = Sequential(Dense(2, 8, activation="tanh"), Dense(8, outputs), random_state=0)
    model.fit(X, labels, loss=loss, optimizer=Adam(lr=0.05), epochs=10)
    assert model.classes_.tolist() == [3, 10]
    predicted = model.predict(X)
    assert set(predicted.tolist()) <= {3, 10}
    assert np.mean(predicted == labels) >= 0.9


def test_unsorted_labels_give_sorted_classes_and_matching_probabilities():
    X, y = separable(90)
    labels = np.array([7, 2, 5])[y + (X[:, 1] > 1)]
    model = classifier(n_classes=3).fit(X, labels, loss=SCE, epochs=2)
    assert model.classes_.tolist() == [2, 5, 7]
    proba = model.predict_proba(X)
    np.testing.assert_array_equal(model.predict(X), model.classes_[np.argmax(proba, axis=1)])


@pytest.mark.parametrize(
    "y_shape, predict_shape", [((64,), (64,)), ((64, 1), (64, 1)), ((64, 2), (64, 2))]
)
def test_regression_predicts_the_shape_of_y(y_shape, predict_shape):
    X, y = linear_regression()
    Y = y if len(y_shape) == 1 else np.column_stack([y, -y][: y_shape[1]])
    outputs = 1 if len(y_shape) == 1 else y_shape[1]
    model = Sequential(Dense(3, outputs), random_state=0)
    model.fit(X, Y, loss="mse", optimizer=Adam(lr=0.1), epochs=30, batch_size=16)
    assert model.predict(X).shape == predict_shape
    assert model.score(X, Y) > 0.9


def test_zero_epochs_trains_nothing():
    X, y = separable()
    model = classifier()
    initial = model.flat_params.copy()  # the constructor's parameters, from the same seed
    opt = SGD(lr=0.1)
    model.fit(X, y, loss=SCE, optimizer=opt, epochs=0)
    np.testing.assert_array_equal(model.flat_params, initial)
    assert opt.step_count == 0
    assert all(len(values) == 0 for values in model.history_.values())
    assert model.classes_.tolist() == [0, 1]  # but the model is ready to predict
    assert model.predict(X).shape == (80,)


# ---- labels in object arrays (a pandas column of strings or numbers) -----------------------
@pytest.mark.parametrize("labels", [["no", "yes"], [3, 7]], ids=["strings", "numbers"])
def test_object_arrays_of_labels_train_as_their_plain_arrays(labels):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((60, 3))
    plain = np.array(labels)[(X[:, 0] > 0).astype(int)]
    as_objects = plain.astype(object)
    models = []
    for y in (plain, as_objects):
        model = Sequential(Dense(3, 4, "tanh"), Dense(4, 2), random_state=0)
        model.fit(
            X, y, loss="softmax_cross_entropy", epochs=2, classes=np.array(labels, dtype=object)
        )
        models.append(model)
    np.testing.assert_array_equal(models[1].flat_params, models[0].flat_params)
    np.testing.assert_array_equal(models[1].classes_, models[0].classes_)
    assert models[1].classes_.dtype == plain.dtype
    assert models[1].score(X, as_objects) == models[0].score(X, plain)


def test_a_pandas_string_column_trains():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(4)
    X = rng.standard_normal((40, 2))
    y = pd.Series(np.where(X[:, 1] > 0, "up", "down"), dtype=object)
    model = Sequential(Dense(2, 2), random_state=0)
    model.fit(X, y, loss="softmax_cross_entropy", epochs=1)
    assert model.classes_.tolist() == ["down", "up"]


def test_batch_callback_sees_every_step():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((50, 3))
    y = rng.integers(0, 2, 50)
    seen = []
    model = Sequential(Dense(3, 2), random_state=0)
    model.fit(
        X,
        y,
        loss="softmax_cross_entropy",
        epochs=2,
        batch_size=16,
        batch_callback=lambda m, epoch, step, n_steps: seen.append((epoch, step, n_steps)),
    )
    assert seen == [(e, s, 4) for e in range(2) for s in range(4)]
    with pytest.raises(TypeError, match="batch_callback must be callable"):
        model.fit(X, y, batch_callback=3)
