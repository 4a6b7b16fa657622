"""Bad input to the model API gives a clear error: the right type (TypeError for a wrong
kind of value, ValueError for a wrong value) and a message that names the problem.

Each case builds what it needs from scratch, so a failed call cannot leak into the next."""

import numpy as np
import pytest

import pynn
from pynn import (
    SGD,
    Adam,
    AdamW,
    Dense,
    EarlyStopping,
    InverseScalingLR,
    ReduceLROnPlateau,
    Sequential,
    StepLR,
)

SCE, BCE = "softmax_cross_entropy", "binary_cross_entropy"
TE, VE = TypeError, ValueError


def data(n=20, features=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, features))
    return X, (X[:, 0] > 0).astype(np.int64)


def net(*layers, **kwargs):
    """Dense(3, 2) by default."""
    return Sequential(*(layers or (Dense(3, 2),)), random_state=0, **kwargs)


def fit(model=None, X=None, y=None, **kwargs):
    """fit with working defaults; the keyword arguments replace them."""
    X_, y_ = data()
    kwargs.setdefault("loss", SCE)
    kwargs.setdefault("epochs", 1)
    return (model or net()).fit(X_ if X is None else X, y_ if y is None else y, **kwargs)


def fitted(loss=SCE, outputs=2, y=None):
    X, labels = data()
    model = net(Dense(3, outputs))
    return model.fit(X, labels if y is None else y, loss=loss, epochs=1)


def with_value(X, row, col, value):
    X = X.copy()
    X[row, col] = value
    return X


X0, Y0 = data()
Y_REG = X0[:, 0].copy()

CASES = [
    # ---- X: shape and width
    ("fit-width", lambda: fit(X=X0[:, :2]), VE, r"X has 2 features, but the model expects 3"),
    (
        "predict-width",
        lambda: fitted().predict(X0[:, :2]),
        VE,
        r"X has 2 features, but the model expects 3",
    ),
    (
        "evaluate-width",
        lambda: fitted().evaluate(np.ones((20, 4)), Y0),
        VE,
        r"X has 4 features, but the model expects 3",
    ),
    (
        "validation-width",
        lambda: fit(validation_data=(X0[:, :2], Y0)),
        VE,
        r"validation_data X has 2 features",
    ),
    (
        "fit-1d",
        lambda: fit(net(Dense(1, 2)), X=X0[:, 0]),
        VE,
        r"X must be 2-D .*got shape \(20,\).*reshape\(-1, 1\)",
    ),
    ("predict-1d", lambda: fitted().predict(X0[0]), VE, r"X must be 2-D.*reshape"),
    ("fit-3d", lambda: fit(X=X0[:, :, None]), VE, r"X must be 2-D .*\(20, 3, 1\)"),
    (
        "fit-empty",
        lambda: fit(X=np.empty((0, 3)), y=np.empty(0)),
        VE,
        r"X is empty: it has 0 samples",
    ),
    ("predict-empty", lambda: fitted().predict(np.empty((0, 3))), VE, r"X is empty"),
    (
        "fit-ragged",
        lambda: fit(X=[[1, 2, 3], [4, 5]], y=[0, 1]),
        VE,
        r"X must be a 2-D array-like.*rows have different lengths",
    ),
    ("predict-none", lambda: fitted().predict(None), TE, r"X must be a 2-D array-like"),
    # ---- X: values and dtype
    (
        "fit-nan",
        lambda: fit(X=with_value(X0, 4, 1, np.nan)),
        VE,
        r"X contains NaN or infinity \(in sample 4\)",
    ),
    (
        "fit-inf",
        lambda: fit(X=with_value(X0, 7, 0, -np.inf)),
        VE,
        r"X contains NaN or infinity \(in sample 7\)",
    ),
    (
        "predict-nan",
        lambda: fitted().predict(with_value(X0, 2, 2, np.nan)),
        VE,
        r"X contains NaN or infinity \(in sample 2\)",
    ),
    (
        "predict-inf",
        lambda: fitted().predict(with_value(X0, 9, 2, np.inf)),
        VE,
        r"X contains NaN or infinity \(in sample 9\)",
    ),
    (
        "validation-nan",
        lambda: fit(validation_data=(with_value(X0, 1, 1, np.nan), Y0)),
        VE,
        r"validation_data X contains NaN or infinity",
    ),
    (
        "fit-too-large-for-float32",
        lambda: fit(X=with_value(X0, 3, 0, 1e300)),
        VE,
        r"X has values beyond float32's range .* in sample 3.*float64 model",
    ),
    (
        "fit-strings",
        lambda: fit(X=np.full((20, 3), "1.5")),
        TE,
        r"X must hold numbers .* got dtype <U3",
    ),
    ("fit-object", lambda: fit(X=X0.astype(object)), TE, r"X must hold numbers .* object"),
    ("fit-complex", lambda: fit(X=X0.astype(complex)), TE, r"X must hold numbers .*complex128"),
    ("predict-complex", lambda: fitted().predict(X0 + 1j), TE, r"X must hold numbers"),
    # ---- y
    ("y-length", lambda: fit(y=Y0[:-1]), VE, r"y must have one row per sample of X \(20\)"),
    ("y-missing", lambda: net().fit(X0, None, loss=SCE), VE, r"y is required"),
    (
        "evaluate-y-length",
        lambda: fitted().evaluate(X0, Y0[:5]),
        VE,
        r"y must have one row per sample of X \(20\)",
    ),
    ("y-3d", lambda: fit(y=np.zeros((20, 1, 1))), VE, r"y must be 1-D .* or 2-D"),
    (
        "y-nan-regression",
        lambda: fit(
            net(Dense(3, 1)), y=with_value(Y_REG[:, None], 5, 0, np.nan)[:, 0], loss="mse"
        ),
        VE,
        r"y contains NaN or infinity",
    ),
    (
        "y-inf-regression",
        lambda: fit(net(Dense(3, 1)), y=np.where(Y0 > 0, np.inf, 0.0), loss="l1"),
        VE,
        r"y contains NaN or infinity",
    ),
    (
        "evaluate-y-nan-regression",
        lambda: fitted("mse", 1, Y_REG).evaluate(X0, np.full(20, np.nan)),
        VE,
        r"y contains NaN or infinity",
    ),
    (
        "y-strings-regression",
        lambda: fit(net(Dense(3, 1)), y=np.full(20, "a"), loss="mse"),
        TE,
        r"y must be numeric",
    ),
    (
        "y-object",
        lambda: fit(y=np.array([0, "a"] * 10, dtype=object)),
        TE,
        r"y has dtype object with values that are not all strings or all numbers",
    ),
    (
        "y-nan-labels",
        lambda: fit(y=np.where(Y0 > 0, np.nan, 0.0)),
        VE,
        r"y contains NaN or infinity",
    ),
    (
        "evaluate-unknown-label",
        lambda: fitted().evaluate(X0, Y0 + 5),
        VE,
        r"y has labels the model was not trained on: \[5, 6\]",
    ),
    (
        "score-unknown-label",
        lambda: fitted().score(X0, np.where(Y0 > 0, "b", "a")),
        VE,
        r"y has labels the model was not trained on: \['a', 'b'\]",
    ),
    (
        "validation-unknown-label",
        lambda: fit(validation_data=(X0, Y0 + 2)),
        VE,
        r"y has labels the model was not trained on",
    ),
    (
        "partial-fit-unknown-label",
        lambda: fitted().partial_fit(X0, Y0 * 2),
        VE,
        r"y has labels the model was not trained on: \[2\]",
    ),
    (
        "regression-wrong-columns",
        lambda: fit(net(Dense(3, 1)), y=np.c_[Y_REG, Y_REG], loss="mse"),
        VE,
        r"y has 2 output\(s\) per sample but the model gives 1",
    ),
    # ---- losses and targets
    (
        "unknown-loss",
        lambda: fit(loss="cross_entropy"),
        VE,
        r"loss must be one of .*'softmax_cross_entropy'.*got 'cross_entropy'",
    ),
    ("no-loss", lambda: fit(loss=None), VE, r"fit needs loss="),
    (
        "softmax-too-many-classes",
        lambda: fit(y=np.arange(20) % 3),
        VE,
        r"y has 3 classes but the model gives 2 outputs",
    ),
    (
        "softmax-too-few-classes",
        lambda: fit(y=np.zeros(20, int)),
        VE,
        r"y has 1 classes but the model gives 2 outputs.*classes=",
    ),
    (
        "bce-three-classes",
        lambda: fit(net(Dense(3, 1)), y=np.arange(20) % 3, loss=BCE),
        VE,
        r"binary_cross_entropy with 1-D y needs two classes .* got 3 classes",
    ),
    (
        "bce-labels-on-two-outputs",
        lambda: fit(y=Y0, loss=BCE),
        VE,
        r"needs two classes and a model with 1 output, .* 2 outputs",
    ),
    (
        "bce-2d-out-of-range",
        lambda: fit(y=np.full((20, 2), 2.0), loss=BCE),
        VE,
        r"y for binary_cross_entropy must be in \[0, 1\], got \[2.0\]",
    ),
    (
        "softmax-2d-negative",
        lambda: fit(y=np.full((20, 2), -0.5), loss=SCE),
        VE,
        r"y for softmax_cross_entropy must be non-negative",
    ),
    (
        "softmax-2d-wrong-columns",
        lambda: fit(y=np.ones((20, 3)) / 3),
        VE,
        r"y has 3 columns but the model gives 2 outputs",
    ),
    (
        "hinge-2d-values",
        lambda: fit(y=np.full((20, 2), 2.0), loss="hinge"),
        VE,
        r"hinge with a 2-D y needs values -1/\+1 \(or 0/1\).*got \[2.0\]",
    ),
    (
        "hinge-2d-mixed",
        lambda: fit(y=np.tile([-1, 0], (20, 1)), loss="hinge"),
        VE,
        r"hinge with a 2-D y needs values -1/\+1 \(or 0/1\).*got \[-1, 0\]",
    ),
    (
        "hinge-2d-evaluate",
        lambda: fitted("hinge", 2, np.tile([0, 1], (20, 1))).evaluate(
            X0, np.tile([-1, 1], (20, 1))
        ),
        VE,
        r"y for hinge must hold only 0 and 1",
    ),
    (
        "bce-sigmoid-dense",
        lambda: fit(net(Dense(3, 1, activation="sigmoid")), loss=BCE),
        VE,
        r"binary_cross_entropy applies the sigmoid itself.*logits",
    ),
    (
        "bce-sigmoid-layer",
        lambda: fit(net(Dense(3, 1), pynn.Sigmoid()), loss=BCE),
        VE,
        r"binary_cross_entropy applies the sigmoid itself",
    ),
    (
        "classes-for-regression",
        lambda: fit(net(Dense(3, 1)), y=Y_REG, loss="mse", classes=[0, 1]),
        VE,
        r"classes is for the classification losses, not 'mse'",
    ),
    (
        "classes-missing-label",
        lambda: fit(classes=[0, 5]),
        VE,
        r"y has labels \[1\] not in classes",
    ),
    ("classes-2d", lambda: fit(classes=[[0, 1]]), VE, r"classes must be a non-empty 1-D"),
    (
        "classes-with-2d-y",
        lambda: fit(y=np.eye(2)[Y0], classes=[0, 1]),
        VE,
        r"classes is for 1-D labels",
    ),
    (
        "partial-fit-other-classes",
        lambda: fitted().partial_fit(X0, Y0, classes=[0, 1, 2]),
        VE,
        r"classes \[0, 1, 2\] differ from the classes the model was trained on, \[0, 1\]",
    ),
    # ---- needs a trained model
    (
        "predict-before-fit",
        lambda: net().predict(X0),
        VE,
        r"predict needs a trained model: call fit first",
    ),
    ("proba-before-fit", lambda: net().predict_proba(X0), VE, r"predict_proba needs a trained"),
    ("evaluate-before-fit", lambda: net().evaluate(X0, Y0), VE, r"evaluate needs a trained"),
    ("score-before-fit", lambda: net().score(X0, Y0), VE, r"needs a trained model"),
    (
        "proba-regression",
        lambda: fitted("mse", 1, Y_REG).predict_proba(X0),
        VE,
        r"loss 'mse' gives no probabilities",
    ),
    # ---- optimizers
    ("sgd-negative-lr", lambda: SGD(lr=-0.1), VE, r"lr must be a finite number >= 0, got -0.1"),
    ("sgd-nan-lr", lambda: SGD(lr=float("nan")), VE, r"lr must be a finite number"),
    ("sgd-inf-lr", lambda: SGD(lr=float("inf")), VE, r"lr must be a finite number"),
    ("sgd-string-lr", lambda: SGD(lr="0.1"), TE, r"lr must be a number, got '0.1'"),
    ("sgd-negative-momentum", lambda: SGD(momentum=-0.5), VE, r"momentum must be .* \[0, 1\]"),
    ("sgd-momentum-above-one", lambda: SGD(momentum=1.5), VE, r"momentum must be .* \[0, 1\]"),
    ("sgd-dampening", lambda: SGD(momentum=0.9, dampening=2), VE, r"dampening must be .*\[0, 1\]"),
    (
        "sgd-nesterov-without-momentum",
        lambda: SGD(lr=0.1, nesterov=True),
        VE,
        r"nesterov momentum needs momentum > 0",
    ),
    (
        "sgd-nesterov-with-dampening",
        lambda: SGD(momentum=0.9, dampening=0.1, nesterov=True),
        VE,
        r"nesterov momentum needs .* dampening = 0",
    ),
    (
        "sgd-nesterov-not-bool",
        lambda: SGD(momentum=0.9, nesterov="yes"),
        TE,
        r"nesterov must be True or False",
    ),
    ("sgd-negative-weight-decay", lambda: SGD(weight_decay=-1e-4), VE, r"weight_decay must be"),
    ("adam-negative-lr", lambda: Adam(lr=-1e-3), VE, r"lr must be a finite number >= 0"),
    ("adam-beta1-one", lambda: Adam(betas=(1.0, 0.999)), VE, r"betas\[0\] must be .*\[0, 1\)"),
    ("adam-beta2-negative", lambda: Adam(betas=(0.9, -0.1)), VE, r"betas\[1\] must be"),
    ("adam-beta2-above-one", lambda: AdamW(betas=(0.9, 1.5)), VE, r"betas\[1\] must be"),
    ("adam-betas-not-pair", lambda: Adam(betas=0.9), TE, r"betas must be a pair"),
    ("adam-betas-three", lambda: Adam(betas=(0.9, 0.99, 0.999)), TE, r"betas must be a pair"),
    ("adam-eps-negative", lambda: Adam(eps=-1e-8), VE, r"eps must be"),
    (
        "adamw-weight-decay-inf",
        lambda: AdamW(weight_decay=float("inf")),
        VE,
        r"weight_decay must be a finite number",
    ),
    # ---- schedules
    ("steplr-zero", lambda: StepLR(0), VE, r"step_size must be an integer >= 1, got 0"),
    ("steplr-float", lambda: StepLR(2.0), TE, r"step_size must be an integer, got 2.0"),
    ("steplr-negative-gamma", lambda: StepLR(2, gamma=-0.5), VE, r"gamma must be"),
    ("invscaling-negative", lambda: InverseScalingLR(power=-1), VE, r"power must be"),
    (
        "plateau-factor-one",
        lambda: ReduceLROnPlateau(factor=1.0),
        VE,
        r"factor must be .*\[0, 1\)",
    ),
    (
        "plateau-patience",
        lambda: ReduceLROnPlateau(patience=-1),
        VE,
        r"patience must be an integer >= 0",
    ),
    (
        "plateau-cooldown-float",
        lambda: ReduceLROnPlateau(cooldown=1.5),
        TE,
        r"cooldown must be an integer",
    ),
    (
        "plateau-mode",
        lambda: ReduceLROnPlateau(threshold_mode="relative"),
        VE,
        r"threshold_mode must be 'rel' or 'abs'",
    ),
    (
        "plateau-monitor-type",
        lambda: ReduceLROnPlateau(monitor=1),
        TE,
        r"monitor must be None or the name",
    ),
    (
        "plateau-monitor-unlogged",
        lambda: fit(lr_scheduler=ReduceLROnPlateau(monitor="val_loss")),
        VE,
        r"ReduceLROnPlateau monitors 'val_loss', which fit does not log",
    ),
    # ---- early stopping
    (
        "es-negative-patience",
        lambda: EarlyStopping(patience=-1),
        VE,
        r"patience must be an integer >= 0, got -1",
    ),
    ("es-float-patience", lambda: EarlyStopping(patience=2.5), TE, r"patience must be an integer"),
    (
        "es-negative-min-delta",
        lambda: EarlyStopping(min_delta=-0.1),
        VE,
        r"min_delta must be a finite number >= 0",
    ),
    ("es-nan-min-delta", lambda: EarlyStopping(min_delta=float("nan")), VE, r"min_delta must be"),
    (
        "es-string-min-delta",
        lambda: EarlyStopping(min_delta="0"),
        TE,
        r"min_delta must be a number",
    ),
    (
        "es-restore-not-bool",
        lambda: EarlyStopping(restore_best_weights="no"),
        TE,
        r"restore_best_weights must be True or False",
    ),
    ("es-monitor-type", lambda: EarlyStopping(monitor=3), TE, r"monitor must be None"),
    (
        "es-monitor-val-without-validation",
        lambda: fit(epochs=5, early_stopping=EarlyStopping(monitor="val_loss")),
        VE,
        r"early stopping monitors 'val_loss', which fit does not log here "
        r".*\['accuracy', 'loss'\]",
    ),
    (
        "es-monitor-unknown",
        lambda: fit(early_stopping=EarlyStopping(monitor="val_r2"), validation_split=0.25),
        VE,
        r"early stopping monitors 'val_r2'",
    ),
    (
        "es-wrong-type",
        lambda: fit(early_stopping="yes"),
        TE,
        r"early_stopping must be True/False or a pynn.EarlyStopping",
    ),
    (
        "es-class",
        lambda: fit(early_stopping=EarlyStopping),
        TE,
        r"pass an instance, EarlyStopping\(...\), not the class",
    ),
    # ---- fit options
    ("epochs-negative", lambda: fit(epochs=-1), VE, r"epochs must be an integer >= 0, got -1"),
    ("epochs-float", lambda: fit(epochs=2.0), TE, r"epochs must be an integer, got 2.0"),
    ("batch-size-zero", lambda: fit(batch_size=0), VE, r"batch_size .* must be an integer >= 1"),
    ("batch-size-float", lambda: fit(batch_size=8.5), TE, r"batch_size .*must be an integer"),
    (
        "validation-split-one",
        lambda: fit(validation_split=1.0),
        VE,
        r"validation_split must be in \[0, 1\), got 1.0",
    ),
    (
        "validation-split-negative",
        lambda: fit(validation_split=-0.1),
        VE,
        r"validation_split must be in \[0, 1\)",
    ),
    (
        "validation-split-nan",
        lambda: fit(validation_split=float("nan")),
        VE,
        r"validation_split must be in \[0, 1\)",
    ),
    (
        "validation-split-string",
        lambda: fit(validation_split="0.2"),
        TE,
        r"validation_split must be a number",
    ),
    (
        "validation-both",
        lambda: fit(validation_data=(X0, Y0), validation_split=0.2),
        VE,
        r"give validation_data or validation_split, not both",
    ),
    (
        "validation-data-not-pair",
        lambda: fit(validation_data=X0),
        TE,
        r"validation_data must be a pair \(X_val, y_val\)",
    ),
    ("shuffle-not-bool", lambda: fit(shuffle="no"), TE, r"shuffle must be True or False"),
    ("verbose", lambda: fit(verbose=3), VE, r"verbose must be 0, 1 or 2"),
    (
        "callback-not-callable",
        lambda: fit(callback="print"),
        TE,
        r"callback must be callable: callback\(model, epoch, logs\)",
    ),
    (
        "optimizer-string",
        lambda: fit(optimizer="adam"),
        TE,
        r"optimizer must be a pynn optimizer .*got 'adam'",
    ),
    (
        "optimizer-class",
        lambda: fit(optimizer=Adam),
        TE,
        r"pass an instance, Adam\(...\), not the class",
    ),
    (
        "scheduler-wrong-type",
        lambda: fit(lr_scheduler="step"),
        TE,
        r"lr_scheduler must be a pynn.optim scheduler",
    ),
    (
        "fit-random-state-string",
        lambda: fit(random_state="abc"),
        TE,
        r"random_state must be None, an int or a numpy Generator, got 'abc'",
    ),
    (
        "inference-only-step-layer",
        lambda: fit(net(Dense(3, 2), pynn.Step())),
        VE,
        r"layer 1 \(Step\(\)\) is for inference only and cannot be trained",
    ),
    (
        "inference-only-sign-dense",
        lambda: fit(net(Dense(3, 2, activation="sign"))),
        VE,
        r"layer 0 .* is for inference only",
    ),
    # ---- layers and models
    ("dense-zero", lambda: Dense(0, 3), VE, r"in_features must be at least 1, got 0"),
    ("dense-float", lambda: Dense(2.5, 3), TE, r"in_features must be an integer, got 2.5"),
    ("dense-out-zero", lambda: Dense(3, 0), VE, r"out_features must be at least 1"),
    (
        "dense-softmax",
        lambda: Dense(2, 3, activation="softmax"),
        VE,
        r"activation must be .*got 'softmax'.*loss='softmax_cross_entropy'",
    ),
    (
        "dense-unknown-activation",
        lambda: Dense(2, 3, activation="swish"),
        VE,
        r"activation must be None or one of .*got 'swish'",
    ),
    (
        "dense-relu-param",
        lambda: Dense(2, 3, activation="relu", activation_param=0.1),
        VE,
        r"activation_param is only for 'leaky_relu' and 'elu', not 'relu'",
    ),
    ("dense-bias-not-bool", lambda: Dense(2, 3, bias="yes"), TE, r"bias must be True or False"),
    ("dense-unknown-init", lambda: Dense(2, 3, init="xavier"), VE, r"init must be one of"),
    ("activation-unknown", lambda: pynn.Activation("softmax"), VE, r"got 'softmax'"),
    (
        "sequential-mismatch",
        lambda: Sequential(Dense(3, 4), Dense(5, 2)),
        VE,
        r"layer 1: Dense\(in_features=5.*expects 5 input features, "
        r"but the layer before it gives 4",
    ),
    ("sequential-empty", lambda: Sequential(), VE, r"Sequential needs at least one layer"),
    (
        "sequential-not-layer",
        lambda: Sequential(Dense(3, 4), "relu"),
        TE,
        r"layer 1 must be a pynn layer, got str",
    ),
    (
        "sequential-same-layer",
        lambda: (lambda d: Sequential(d, d))(Dense(3, 3)),
        VE,
        r"the same layer object appears twice",
    ),
    (
        "sequential-float16",
        lambda: net(dtype="float16"),
        TE,
        r"dtype must be float32 or float64, got float16",
    ),
    ("sequential-int-dtype", lambda: net(dtype=np.int32), TE, r"dtype must be float32 or float64"),
    (
        "sequential-gpu",
        lambda: net(backend="gpu"),
        VE,
        r"backend must be one of \('c', 'reference'\), got 'gpu'",
    ),
    (
        "sequential-random-state-negative",
        lambda: Sequential(Dense(3, 2), random_state=-1),
        VE,
        r"random_state must be non-negative, got -1",
    ),
    (
        "sequential-random-state-string",
        lambda: Sequential(Dense(3, 2), random_state="abc"),
        TE,
        r"random_state must be None, an int or a numpy Generator",
    ),
    (
        "sequential-dtype-none",
        lambda: net(dtype=None),
        TE,
        r"dtype must be float32 or float64, got None",
    ),
    (
        "predict-beyond-float32",
        lambda: fitted().predict(with_value(data()[0], 2, 1, 1e300)),
        VE,
        r"X has values beyond float32's range .* in sample 2",
    ),
    (
        "evaluate-beyond-float32",
        lambda: fitted().evaluate(with_value(data()[0], 4, 0, -1e300), data()[1]),
        VE,
        r"X has values beyond float32's range .* in sample 4",
    ),
    (
        "load-state-dict-nan",
        lambda: net().load_state_dict(
            {"0.weight": np.full((2, 3), np.nan), "0.bias": np.zeros(2)}
        ),
        VE,
        r"state_dict\['0.weight'\] holds NaN or infinity",
    ),
    (
        "load-state-dict-overflow",
        lambda: net().load_state_dict({"0.weight": np.full((2, 3), 1e300), "0.bias": np.zeros(2)}),
        VE,
        r"state_dict\['0.weight'\] holds NaN or infinity \(in the model's float32\)",
    ),
    (
        "load-state-dict-strings",
        lambda: net().load_state_dict({"0.weight": np.full((2, 3), "a"), "0.bias": np.zeros(2)}),
        TE,
        r"state_dict\['0.weight'\] must hold numbers",
    ),
    ("leaky-relu-nan", lambda: pynn.LeakyReLU(float("nan")), VE, r"param must be finite"),
    ("leaky-relu-string", lambda: pynn.LeakyReLU("a"), TE, r"param must be a number"),
    (
        "dense-elu-param-string",
        lambda: Dense(2, 2, activation="elu", activation_param="x"),
        TE,
        r"activation_param must be a number",
    ),
    ("prelu-init-string", lambda: pynn.PReLU(init="a"), TE, r"init must be a number"),
]


@pytest.mark.parametrize(
    "call, error, message", [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_bad_input_gives_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_case_names_are_unique():
    names = [case[0] for case in CASES]
    assert len(names) == len(set(names))


# ---- a failed call leaves a trained model as it was ----------------------------------------
@pytest.mark.parametrize(
    "bad",
    [
        dict(validation_data=(X0, Y0 + 7)),  # found after the targets are chosen
        dict(optimizer="sgd"),
        dict(early_stopping=EarlyStopping(monitor="val_loss")),
        dict(y=np.arange(20) % 3),
        dict(validation_split=0.01),
    ],
    ids=["validation-labels", "optimizer", "monitor", "classes", "split"],
)
def test_a_rejected_fit_leaves_the_trained_model_unchanged(bad):
    model = fitted()
    params, classes, loss, history = (
        model.flat_params.copy(),
        model.classes_.copy(),
        model.loss_,
        dict(model.history_),
    )
    optimizer = model.optimizer_
    arguments = dict(X=X0, y=Y0, loss=SCE, epochs=1, random_state=123)
    arguments.update(bad)
    X, y = arguments.pop("X"), arguments.pop("y")
    with pytest.raises((TypeError, ValueError)):
        model.fit(X, y, **arguments)
    np.testing.assert_array_equal(model.flat_params, params)
    np.testing.assert_array_equal(model.classes_, classes)
    assert model.loss_ is loss and model.optimizer_ is optimizer
    assert model.history_ == history
    model.predict(X0)  # still usable


def test_partial_fit_refuses_non_finite_parameters():
    model = fitted()
    model.flat_params[0] = np.nan
    with pytest.raises(ValueError, match=r"parameters hold NaN or infinity: call fit"):
        model.partial_fit(X0, Y0)


def test_errors_name_the_bad_sample_in_a_large_x():
    X = np.zeros((70000, 3))
    X[65537, 2] = np.inf
    with pytest.raises(ValueError, match=r"in sample 65537\)"):
        fitted().predict(X)
