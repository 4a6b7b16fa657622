"""Maxout: each output is the maximum of `pieces` affine maps of the input
(Goodfellow et al. 2013)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from pynn.core.checks import positive_int
from pynn.core.init import check_init
from pynn.core.layers.affine import AffineLayer


class Maxout(AffineLayer):
    """out[:, j] = max over p of (x @ weight.T + bias)[:, j * pieces + p].

    weight is (out_features * pieces, in_features): the pieces of output j are rows
    j*pieces ... j*pieces + pieces - 1. The affine maps are one dense kernel; the
    gradient flows to the piece that was largest (the first one on ties).

    Parameters
    ----------
    in_features : int
        Input width (>= 1).
    out_features : int
        Output width (>= 1).
    pieces : int
        Affine maps per output (>= 1).
    bias : bool, default True
        Whether the maps have a bias.
    init : str, callable or None, default None
        One of pynn.core.init.INITS, or a callable init(shape, rng, dtype) returning the
        weight (out_features * pieces, in_features), as Dense's; None is
        "glorot_uniform".
        The fans are in_features and out_features.

    Raises
    ------
    TypeError
        A count that is not an integer, a bias that is not a bool, or an init that is
        neither a string nor a callable.
    ValueError
        A count < 1, or an unknown init.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        pieces: int,
        bias: bool = True,
        init: str | Callable[..., Any] | None = None,
    ) -> None:
        self.in_features = positive_int(in_features, "in_features")
        self.out_features = positive_int(out_features, "out_features")
        self.pieces = positive_int(pieces, "pieces")
        if not isinstance(bias, bool):
            raise TypeError(f"bias must be True or False, got {bias!r}")
        self.bias = bias
        self.init = check_init("glorot_uniform" if init is None else init)

    @property
    def affine_rows(self) -> int:
        """Rows of the weight: out_features * pieces."""
        return self.out_features * self.pieces

    def buffer_shapes(
        self, n: int, training: bool, input_grad: bool
    ) -> dict[str, tuple[tuple[int, ...], Any]]:
        shapes = super().buffer_shapes(n, training, input_grad)
        shapes["z"] = ((n, self.affine_rows), None)
        if training:
            shapes["argmax"] = ((n, self.out_features), np.int64)
            shapes["dz"] = ((n, self.affine_rows), None)
        return shapes

    def record(self, buf: dict[str, Any], training: bool) -> dict[str, Any]:
        """The affine maps are one dense kernel into z; the gradient flows to the piece
        that was largest (argmax).

        Parameters
        ----------
        buf : dict of str to numpy.ndarray
            The buffers buffer_shapes asked for (z, and argmax and dz when training).
        training : bool
            Whether the record is for training (with gradients).

        Returns
        -------
        dict of str to object
            The "maxout" record of docs/kernels.md, "Network".
        """
        return {
            "kind": "maxout",
            **self._affine_record(training),
            "pieces": self.pieces,
            "out": buf["out"],
            "z": buf["z"],
            "dz": buf.get("dz"),
            "argmax": buf.get("argmax"),
            "dx": buf.get("dx"),
        }

    def config(self) -> dict[str, Any]:
        return {
            "type": "Maxout",
            "in_features": self.in_features,
            "out_features": self.out_features,
            "pieces": self.pieces,
            "bias": self.bias,
            "init": self.init,
        }
