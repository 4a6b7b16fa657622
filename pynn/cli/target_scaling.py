"""`pynn train --standardize-targets`: regression targets standardized for training, and
the saved model's last layer mapping its outputs back to the targets' scale.

The network trains on (y - mean) / scale, each target column with the training split's
mean and standard deviation (pynn.data.StandardScaler: a constant column takes scale 1).
After training, `with_output_scaling` appends `Standardize(-mean / scale, 1 / scale)`,
which computes (z + mean / scale) * scale = z * scale + mean: the model that is reported,
saved and predicted with gives values on the original scale, and `pynn.load` of its file
needs nothing new (a Standardize layer is part of the file format already).
"""

import numpy as np

import pynn
from pynn.core.layers import Standardize, layer_from_config
from pynn.data import StandardScaler

REGRESSION_LOSSES = ("mse", "l1")


def wanted(option, loss):
    """Whether to standardize the targets: --standardize-targets / --no-standardize-targets,
    else (None) for mse and l1. ValueError when asked for with a classifier or with
    poisson (its targets are counts >= 0 and the network's output their log-rate:
    standardized counts would be neither)."""
    if option is None:
        return loss in REGRESSION_LOSSES
    if option and loss == "poisson":
        raise ValueError(
            "--standardize-targets is not for --loss poisson: its targets are counts or "
            "rates >= 0, which standardizing would make negative, and the network's output "
            "is their log-rate (predictions are exp of it)"
        )
    if option and loss not in REGRESSION_LOSSES:
        raise ValueError(f"--standardize-targets is for regression (--loss mse or l1), not {loss}")
    return option


def fit_scaler(y_train):
    """The StandardScaler of the training targets' columns (a 1-D y is one column)."""
    return StandardScaler().fit(np.reshape(y_train, (len(y_train), -1)))


def scaled(scaler, y):
    """(y - mean) / scale, in y's shape (1-D stays 1-D), float64."""
    columns = np.reshape(np.asarray(y, dtype=np.float64), (len(y), -1))
    return scaler.transform(columns).reshape(np.shape(y))


def describe(scaler):
    """`mean 152.133 and scale 77.0057` (a list of values for several targets)."""

    def values(array):
        text = ", ".join(f"{value:.6g}" for value in array)
        return text if array.size == 1 else f"[{text}]"

    return f"mean {values(scaler.mean_)} and scale {values(scaler.scale_)}"


def with_output_scaling(model, scaler):
    """A copy of the trained `model` (its parameters, loss, targets and history) followed
    by Standardize(-mean / scale, 1 / scale): outputs z become z * scale + mean."""
    mean, scale = scaler.mean_, scaler.scale_
    layers = [layer_from_config(layer.config()) for layer in model.layers]
    layers.append(Standardize(-mean / scale, 1.0 / scale))
    scaled_model = pynn.Sequential(
        *layers, dtype=model.dtype, backend=model.backend, random_state=model.random_state
    )
    scaled_model.flat_params[...] = model.flat_params
    scaled_model.loss_, scaled_model.targets_ = model.loss_, model.targets_
    scaled_model.history_ = model.history_
    return scaled_model
