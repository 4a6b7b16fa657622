"""Learning-rate schedules: hand-computed sequences, the sequences fit records in
history_["lr"], and (when torch is installed) torch.optim.lr_scheduler's sequences.

A schedule is stepped once at the end of each epoch; "the lr of epoch e" is the learning
rate the optimizer used during epoch e (from 0), which is what fit logs.
"""

import numpy as np
import pytest

from pynn import SGD, Dense, InverseScalingLR, ReduceLROnPlateau, Sequential, StepLR


def lrs_of(scheduler, lr, metrics):
    """Drive `scheduler` directly: the lr after each end-of-epoch step, one per metric."""
    optimizer = SGD(lr=lr)
    scheduler.bind(optimizer)
    after = []
    for value in metrics:
        scheduler.step({"loss": value})
        after.append(optimizer.lr)
    return after


def small_regression(n=20, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2))
    return X, X @ np.array([1.0, -2.0]) + 0.1 * rng.standard_normal(n)


def fit_lrs(scheduler, lr, epochs, **fit_args):
    X, y = small_regression()
    model = Sequential(Dense(2, 1), dtype=np.float64, random_state=0)
    model.fit(
        X,
        y,
        loss="mse",
        optimizer=SGD(lr=lr),
        epochs=epochs,
        batch_size=5,
        lr_scheduler=scheduler,
        **fit_args,
    )
    return model


# ---------------------------------------------------------------------------------------
# StepLR


def test_step_lr_in_fit_hand_computed():
    model = fit_lrs(StepLR(step_size=3, gamma=0.5), lr=1.0, epochs=8)
    assert model.history_["lr"] == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25]
    assert model.optimizer_.lr == 0.25  # stepped after epoch 8: 8 is no multiple of 3


def test_step_lr_chains_its_products():
    """As torch does, each decay multiplies the current lr (0.1·0.1 = 0.010000000000000002),
    rather than computing base·gamma^k afresh."""
    after = lrs_of(StepLR(step_size=1, gamma=0.1), 0.1, [1.0] * 3)
    assert after == [0.1 * 0.1, 0.1 * 0.1 * 0.1, 0.1 * 0.1 * 0.1 * 0.1]
    np.testing.assert_allclose(after, [1e-2, 1e-3, 1e-4], rtol=1e-15)


def test_step_lr_step_size_one_and_gamma_one():
    assert lrs_of(StepLR(1, gamma=0.5), 2.0, [0.0] * 4) == [1.0, 0.5, 0.25, 0.125]
    assert lrs_of(StepLR(2, gamma=1.0), 0.3, [0.0] * 5) == [0.3] * 5


# ---------------------------------------------------------------------------------------
# InverseScalingLR: lr = base / (epoch + 1) ** power during epoch `epoch`.


@pytest.mark.parametrize("power", [0.5, 1.0, 0.25, 0.0])
def test_inverse_scaling_in_fit_hand_computed(power):
    base, epochs = 0.5, 7
    model = fit_lrs(InverseScalingLR(power=power), lr=base, epochs=epochs)
    expected = [base / (epoch + 1) ** power for epoch in range(epochs)]
    np.testing.assert_allclose(model.history_["lr"], expected, rtol=1e-15, atol=0)
    if power == 1.0:
        assert model.history_["lr"][:4] == [0.5, 0.25, 0.5 / 3, 0.125]
    assert model.optimizer_.lr == pytest.approx(base / (epochs + 1) ** power, rel=1e-15)


# ---------------------------------------------------------------------------------------
# ReduceLROnPlateau: hand-worked sequences (mode 'min', as torch's).


def test_plateau_patience_threshold_and_cooldown():
    """factor 0.5, patience 2, rel threshold 0.1 (an improvement must beat best·0.9),
    cooldown 1. Epoch by epoch:
      0: 10   best=10
      1: 9.5  not < 9: bad 1          2: 9.2  bad 2
      3: 9.1  bad 3 > 2: lr 0.5, cooldown 1, bad 0
      4: 9.0  not < 9 (strict): bad 1, but cooling down: bad 0, cooldown 0
      5: 8.0  < 9: best=8             6, 7: 8.0  bad 1, 2
      8: 8.0  bad 3: lr 0.25, cooldown 1      9: 8.0 cooling down, bad 0
     10, 11: bad 1, 2                  12: bad 3: lr 0.125"""
    metrics = [10, 9.5, 9.2, 9.1, 9.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0]
    scheduler = ReduceLROnPlateau(factor=0.5, patience=2, threshold=0.1, cooldown=1)
    assert lrs_of(scheduler, 1.0, metrics) == [
        1,
        1,
        1,
        0.5,
        0.5,
        0.5,
        0.5,
        0.5,
        0.25,
        0.25,
        0.25,
        0.25,
        0.125,
    ]


def test_plateau_abs_threshold_is_strict():
    """abs threshold 0.5, patience 1: 4.75 and 4.5 do not beat 5 - 0.5 = 4.5 (strict), so
    the second of them reduces the lr; 4.0 and 3.25 are improvements, 4.0 again is not."""
    scheduler = ReduceLROnPlateau(factor=0.5, patience=1, threshold=0.5, threshold_mode="abs")
    assert lrs_of(scheduler, 1.0, [5.0, 4.75, 4.5, 4.0, 4.0, 3.25, 3.25]) == [
        1,
        1,
        0.5,
        0.5,
        0.5,
        0.5,
        0.5,
    ]


def test_plateau_min_lr():
    scheduler = ReduceLROnPlateau(factor=0.1, patience=0, min_lr=0.05)
    assert lrs_of(scheduler, 1.0, [3.0] * 5) == [1.0, 0.1, 0.05, 0.05, 0.05]


def test_plateau_eps_ignores_tiny_reductions():
    """A reduction by no more than eps (1e-8) is skipped: 1.25e-8 -> 6.25e-9 is one."""
    scheduler = ReduceLROnPlateau(factor=0.5, patience=0)
    assert lrs_of(scheduler, 1e-7, [3.0] * 6) == [1e-7, 5e-8, 2.5e-8, 1.25e-8, 1.25e-8, 1.25e-8]


def test_plateau_patience_zero_reduces_at_every_bad_epoch():
    scheduler = ReduceLROnPlateau(factor=0.5, patience=0, threshold=0.0)
    # 2 < 3 improves; 2 is not < 2; 1 < 2 improves; then two bad epochs.
    assert lrs_of(scheduler, 1.0, [3.0, 2.0, 2.0, 1.0, 1.0, 1.5]) == [
        1.0,
        1.0,
        0.5,
        0.5,
        0.25,
        0.125,
    ]


def test_plateau_in_fit_monitors_val_loss_by_default():
    """Validation targets that are the negated training targets: as training improves, the
    validation loss gets worse, so ReduceLROnPlateau (watching val_loss by default when
    there is validation data) reduces the lr, while watching the training loss it does
    not. history_["lr"] must be what the schedule gives for the logged metric."""
    X, y = small_regression()
    epochs = 12

    def run(**scheduler_args):
        model = Sequential(Dense(2, 1), dtype=np.float64, random_state=0)
        scheduler = ReduceLROnPlateau(factor=0.5, patience=1, **scheduler_args)
        model.fit(
            X,
            y,
            loss="mse",
            optimizer=SGD(lr=0.05),
            epochs=epochs,
            batch_size=5,
            validation_data=(X, -y),
            lr_scheduler=scheduler,
        )
        return model

    on_val = run()
    val_loss = on_val.history_["val_loss"]
    assert val_loss[-1] > val_loss[0]
    replay = [0.05] + lrs_of(ReduceLROnPlateau(factor=0.5, patience=1), 0.05, val_loss)
    assert on_val.history_["lr"] == replay[:epochs]
    assert on_val.history_["lr"][-1] < 0.05

    on_train = run(monitor="loss")
    loss = on_train.history_["loss"]
    assert all(b < a * (1 - 1e-4) for a, b in zip(loss, loss[1:]))  # improves every epoch
    assert on_train.history_["lr"] == [0.05] * epochs


def test_plateau_monitoring_a_missing_key_names_it():
    X, y = small_regression()
    model = Sequential(Dense(2, 1), random_state=0)
    with pytest.raises(ValueError, match="val_loss"):
        model.fit(
            X,
            y,
            loss="mse",
            optimizer=SGD(lr=0.01),
            epochs=2,
            lr_scheduler=ReduceLROnPlateau(monitor="val_loss"),
        )


# ---------------------------------------------------------------------------------------
# Schedules and repeated training.


def test_fit_twice_with_the_same_optimizer_and_scheduler_repeats_the_schedule():
    X, y = small_regression()
    model = Sequential(Dense(2, 1), dtype=np.float64, random_state=0)
    optimizer, scheduler = SGD(lr=0.1), StepLR(step_size=2, gamma=0.5)
    model.fit(X, y, loss="mse", optimizer=optimizer, epochs=4, lr_scheduler=scheduler)
    first, params = list(model.history_["lr"]), model.flat_params.copy()
    assert first == [0.1, 0.1, 0.05, 0.05]
    model.fit(X, y, loss="mse", optimizer=optimizer, epochs=4, lr_scheduler=scheduler)
    assert model.history_["lr"] == first
    np.testing.assert_array_equal(model.flat_params, params)


@pytest.mark.parametrize(
    "make_scheduler",
    [lambda: StepLR(step_size=2, gamma=0.5), lambda: InverseScalingLR(power=0.5)],
    ids=["StepLR", "InverseScalingLR"],
)
def test_partial_fit_continues_the_schedule(make_scheduler):
    """Four partial_fit calls of one epoch use the lrs of one fit of four epochs."""
    X, y = small_regression()
    whole = fit_lrs(make_scheduler(), lr=0.1, epochs=4).history_["lr"]
    model = Sequential(Dense(2, 1), dtype=np.float64, random_state=0)
    optimizer, scheduler = SGD(lr=0.1), make_scheduler()
    for _ in range(4):
        model.partial_fit(X, y, loss="mse", optimizer=optimizer, lr_scheduler=scheduler)
    np.testing.assert_allclose(model.history_["lr"], whole, rtol=1e-15)


# ---------------------------------------------------------------------------------------
# Against torch.optim.lr_scheduler (skipped without torch).


def torch_lrs(make_scheduler, lr, metrics=None, epochs=None):
    """The lr torch's scheduler gives during each epoch, stepped once per epoch."""
    torch = pytest.importorskip("torch")
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    scheduler = make_scheduler(torch.optim.lr_scheduler, optimizer)
    during = []
    for epoch in range(len(metrics) if metrics is not None else epochs):
        during.append(optimizer.param_groups[0]["lr"])
        optimizer.step()  # no gradients: nothing moves, but torch expects the call order
        if metrics is None:
            scheduler.step()
        else:
            scheduler.step(metrics[epoch])
    return during


@pytest.mark.parametrize("step_size, gamma", [(3, 0.5), (1, 0.1), (4, 0.7), (2, 1.0)])
def test_step_lr_matches_torch(step_size, gamma):
    epochs, lr = 13, 0.3
    theirs = torch_lrs(
        lambda s, opt: s.StepLR(opt, step_size=step_size, gamma=gamma), lr, epochs=epochs
    )
    ours = fit_lrs(StepLR(step_size, gamma), lr=lr, epochs=epochs).history_["lr"]
    assert ours == theirs


@pytest.mark.parametrize("power", [0.5, 1.0, 0.3])
def test_inverse_scaling_matches_torch_lambda_lr(power):
    theirs = torch_lrs(
        lambda s, opt: s.LambdaLR(opt, lambda e: 1.0 / (e + 1) ** power), 0.2, epochs=9
    )
    ours = fit_lrs(InverseScalingLR(power), lr=0.2, epochs=9).history_["lr"]
    np.testing.assert_allclose(ours, theirs, rtol=1e-15, atol=0)


PLATEAU_CASES = [
    dict(),
    dict(factor=0.5, patience=2),
    dict(factor=0.5, patience=0, threshold=0.0),
    dict(factor=0.3, patience=1, cooldown=2),
    dict(factor=0.5, patience=1, threshold=0.05, threshold_mode="abs"),
    dict(factor=0.1, patience=1, min_lr=1e-3),
    dict(factor=0.5, patience=0, eps=1e-3),
    dict(factor=0.7, patience=3, threshold=0.02, cooldown=1, min_lr=1e-4),
]


def plateau_metrics(seed, n=60):
    """A noisy decreasing curve with flat stretches and repeats, positive or negative."""
    rng = np.random.default_rng(seed)
    steps = rng.choice([0.0, 0.0, -0.01, -0.05, 0.02], size=n)
    values = 1.0 + np.cumsum(steps) + 0.01 * rng.standard_normal(n) * (rng.random(n) < 0.5)
    return (values - (2.0 if seed % 2 else 0.0)).tolist()  # odd seeds: negative values


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("args", PLATEAU_CASES, ids=lambda a: ",".join(map(str, a.values())))
def test_plateau_matches_torch(args, seed):
    metrics = plateau_metrics(seed)
    theirs = torch_lrs(
        lambda s, opt: s.ReduceLROnPlateau(opt, mode="min", **args), 0.1, metrics=metrics
    )
    ours = [0.1] + lrs_of(ReduceLROnPlateau(**args), 0.1, metrics)[:-1]
    assert ours == theirs
    if args.get("patience", 10) <= 2:
        assert theirs[-1] < 0.1  # the case exercises reductions


def test_plateau_in_fit_matches_torch_replay():
    """The val_loss fit logs, replayed into torch's scheduler, gives fit's lr sequence."""
    X, y = small_regression()
    model = Sequential(Dense(2, 1), dtype=np.float64, random_state=0)
    model.fit(
        X,
        y,
        loss="mse",
        optimizer=SGD(lr=0.05),
        epochs=12,
        batch_size=5,
        validation_data=(X, -y),
        lr_scheduler=ReduceLROnPlateau(factor=0.5, patience=1, cooldown=1),
    )
    theirs = torch_lrs(
        lambda s, opt: s.ReduceLROnPlateau(opt, factor=0.5, patience=1, cooldown=1),
        0.05,
        metrics=model.history_["val_loss"],
    )
    assert model.history_["lr"] == theirs
    assert min(theirs) < 0.05
