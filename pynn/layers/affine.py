"""What Dense and Maxout share: a weight (rows, in_features), an optional bias (rows,), their
initialisation, and the dense kernels' workspace."""
from pynn.backend import dense_workspace_size
from pynn.init import initialize
from pynn.layers.base import Layer


class AffineLayer(Layer):
    """A layer whose first step is z = x Wᵀ + b with W (affine_rows, in_features)."""

    @property
    def affine_rows(self):
        return self.out_features

    def _out_features(self, in_features):
        return self.out_features

    def parameter_shapes(self):
        shapes = [("weight", (self.affine_rows, self.in_features))]
        if self.bias:
            shapes.append(("bias", (self.affine_rows,)))
        return shapes

    def reset_parameters(self, rng):
        initialize(self.params["weight"], self.init, self.in_features, self.out_features, rng)
        if self.bias:
            self.params["bias"][...] = 0

    def _affine_record(self, training):
        """The weight, bias and their gradients of a network record."""
        return {"weight": self.params["weight"], "bias": self.params.get("bias"),
                "dweight": self.grads["weight"] if training else None,
                "dbias": self.grads.get("bias") if training else None}

    def workspace_size(self, backend, n, dtype, training):
        size = dense_workspace_size(backend, n, self.in_features, self.affine_rows, dtype,
                                    backward=False)
        if training:
            size = max(size, dense_workspace_size(backend, n, self.in_features,
                                                  self.affine_rows, dtype, backward=True))
        return size
