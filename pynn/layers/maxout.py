"""Maxout: each output is the maximum of `pieces` affine maps of the input
(Goodfellow et al. 2013)."""
import numpy as np

from pynn.checks import positive_int
from pynn.init import check_init
from pynn.layers.affine import AffineLayer


class Maxout(AffineLayer):
    """out[:, j] = max over p of (x @ weight.T + bias)[:, j * pieces + p].

    weight is (out_features * pieces, in_features): the pieces of output j are rows
    j*pieces ... j*pieces + pieces - 1. The affine maps are one dense kernel; the
    gradient flows to the piece that was largest (the first one on ties).
    """

    def __init__(self, in_features, out_features, pieces, bias=True, init="glorot_uniform"):
        self.in_features = positive_int(in_features, "in_features")
        self.out_features = positive_int(out_features, "out_features")
        self.pieces = positive_int(pieces, "pieces")
        if not isinstance(bias, bool):
            raise TypeError(f"bias must be True or False, got {bias!r}")
        self.bias = bias
        self.init = check_init(init)

    @property
    def affine_rows(self):
        return self.out_features * self.pieces

    def buffer_shapes(self, n, training, input_grad):
        shapes = super().buffer_shapes(n, training, input_grad)
        shapes["z"] = ((n, self.affine_rows), None)
        if training:
            shapes["argmax"] = ((n, self.out_features), np.intp)
            shapes["mask"] = ((n, self.out_features), np.bool_)
            shapes["dz"] = ((n, self.affine_rows), None)
        return shapes

    def forward(self, x, buf, kernels, workspace, training):
        z = kernels.dense_forward(x, self.params["weight"], self.params.get("bias"),
                                  out=buf["z"], workspace=workspace)
        z3 = z.reshape(z.shape[0], self.out_features, self.pieces)
        np.max(z3, axis=2, out=buf["out"])
        if training:
            np.argmax(z3, axis=2, out=buf["argmax"])
        return buf["out"]

    def backward(self, dout, x, buf, kernels, workspace, input_grad):
        dz = buf["dz"]
        dz3 = dz.reshape(dz.shape[0], self.out_features, self.pieces)
        mask = buf["mask"]
        dz.fill(0)
        for p in range(self.pieces):  # routes dout to the winning piece, without temporaries
            np.equal(buf["argmax"], p, out=mask)
            np.copyto(dz3[:, :, p], dout, where=mask)
        _, _, dx = kernels.dense_backward(
            dz, x, self.params["weight"], bias=self.bias, input_grad=input_grad,
            dweight=self.grads["weight"], dbias=self.grads.get("bias"),
            dx=buf["dx"] if input_grad else None, workspace=workspace)
        return dx

    def config(self):
        return {"type": "Maxout", "in_features": self.in_features,
                "out_features": self.out_features, "pieces": self.pieces, "bias": self.bias,
                "init": self.init}
