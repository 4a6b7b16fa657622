"""Standardize: (x - mean) / scale per feature, a fixed input scaling saved with the model.

The statistics come from the training data (pynn.data.StandardScaler's mean_ and scale_);
putting them in the model's first layer means a saved model takes raw features and cannot
be used with the wrong scaling. The layer has no trainable parameters.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from pynn.core.layers.base import Layer


def _vector(values, name):
    """values as a read-only 1-D float64 array of finite numbers, else TypeError/ValueError."""
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{name} must be a 1-D sequence of numbers, got {values!r}")
    if isinstance(values, np.ndarray):
        array = values
    elif isinstance(values, (list, tuple)):
        for value in values:  # no bools and no strings: np.asarray would accept both
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise TypeError(f"{name} must hold numbers, got {value!r}")
        array = np.asarray(values)
    else:
        raise TypeError(f"{name} must be a 1-D sequence of numbers, got {type(values).__name__}")
    if array.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold numbers, got dtype {array.dtype}")
    if array.ndim != 1 or array.size == 0:
        raise ValueError(
            f"{name} must be a non-empty 1-D sequence (one value per feature), "
            f"got shape {array.shape}"
        )
    array = np.array(array, dtype=np.float64)  # a copy: the caller's array may change
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        raise ValueError(f"{name}[{bad[0]}] is {array[bad[0]]}: it must be finite")
    array.setflags(write=False)
    return array


class Standardize(Layer):
    """out = (x - mean) / scale, feature by feature; no trainable parameters.

    mean and scale are sequences of `in_features` numbers (scale > 0), kept in float64 and
    applied in the model's dtype. Put it first so the model takes unscaled features:

    >>> scaler = pynn.data.StandardScaler().fit(X_train)
    >>> model = pynn.Sequential(Standardize(scaler.mean_, scaler.scale_),
    ...                         Dense(X_train.shape[1], 32, activation="relu"), Dense(32, 10))

    Parameters
    ----------
    mean : array_like of shape (in_features,)
        The per-feature means (finite numbers; a list, tuple or 1-D array).
    scale : array_like of shape (in_features,)
        The per-feature scales (finite and > 0; a constant feature takes 1).

    Raises
    ------
    TypeError
        mean or scale is not a 1-D sequence of numbers.
    ValueError
        Empty, not 1-D, of different lengths, not finite, or a scale <= 0.
    """

    def __init__(self, mean: ArrayLike, scale: ArrayLike) -> None:
        self.mean = _vector(mean, "mean")
        self.scale = _vector(scale, "scale")
        if self.scale.shape != self.mean.shape:
            raise ValueError(
                f"mean and scale must have one value per feature each, got "
                f"{self.mean.size} means and {self.scale.size} scales"
            )
        bad = np.flatnonzero(self.scale <= 0)
        if bad.size:
            raise ValueError(
                f"scale[{bad[0]}] is {self.scale[bad[0]]}: every scale must be "
                f"positive (a constant feature takes scale 1)"
            )
        self.in_features = self.mean.size
        self._constants: dict[Any, Any] = {}  # dtype -> (mean, scale) in that dtype, made once

    def _in_dtype(self, dtype):
        if dtype not in self._constants:
            self._constants[dtype] = (self.mean.astype(dtype), self.scale.astype(dtype))
        return self._constants[dtype]

    def record(self, buf: dict[str, Any], training: bool) -> dict[str, Any]:
        """(x - mean) / scale in the buffers' dtype: the subtraction and the division
        each rounded to it, as NumPy does them.

        Parameters
        ----------
        buf : dict of str to numpy.ndarray
            The buffers buffer_shapes asked for.
        training : bool
            Whether the record is for training (with the input gradient).

        Returns
        -------
        dict of str to object
            The "standardize" record of docs/kernels.md, "Network".
        """
        mean, scale = self._in_dtype(buf["out"].dtype)
        return {
            "kind": "standardize",
            "mean": mean,
            "scale": scale,
            "out": buf["out"],
            "dx": buf.get("dx"),
        }

    def config(self) -> dict[str, Any]:
        # Python floats: JSON writes their shortest repr, which reads back exactly.
        return {
            "type": "Standardize",
            "mean": [float(v) for v in self.mean],
            "scale": [float(v) for v in self.scale],
        }

    def __repr__(self):
        return f"Standardize({self.in_features} features)"
