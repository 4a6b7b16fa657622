"""What Dense and Maxout share: a weight (rows, in_features), an optional bias (rows,), their
initialisation, and the dense kernels' workspace."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pynn.core.backend import dense_workspace_size
from pynn.core.init import Init, initialize_affine
from pynn.core.layers.base import Layer

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import DTypeLike


class AffineLayer(Layer):
    """A layer whose first step is z = x Wᵀ + b with W (affine_rows, in_features)."""

    in_features: int | None
    bias: bool
    changes_width = True
    init: Init

    @property
    def affine_rows(self) -> int:
        """Rows of the weight: the outputs of the affine map."""
        return self.out_features

    def _out_features(self, in_features):
        return self.out_features

    def parameter_shapes(self) -> list[tuple[str, tuple[int, ...]]]:
        shapes: list[tuple[str, tuple[int, ...]]] = [
            ("weight", (self.affine_rows, self.built_in_features))
        ]
        if self.bias:
            shapes.append(("bias", (self.affine_rows,)))
        return shapes

    def reset_parameters(self, rng: np.random.Generator) -> None:
        initialize_affine(
            self.params["weight"],
            self.params.get("bias"),
            self.init,
            self.built_in_features,
            self.out_features,
            rng,
        )

    def _affine_record(self, training):
        """The weight, bias and their gradients of a network record."""
        return {
            "weight": self.params["weight"],
            "bias": self.params.get("bias"),
            "dweight": self.grads["weight"] if training else None,
            "dbias": self.grads.get("bias") if training else None,
        }

    def workspace_size(self, backend: str, n: int, dtype: DTypeLike, training: bool) -> int:
        size = dense_workspace_size(
            backend, n, self.built_in_features, self.affine_rows, dtype, backward=False
        )
        if training:
            size = max(
                size,
                dense_workspace_size(
                    backend, n, self.built_in_features, self.affine_rows, dtype, backward=True
                ),
            )
        return size
