"""Dense: a = f(x Wᵀ + b), the activation fused into the matrix kernels."""
from pynn.activations import HARD, check_activation, saved_by
from pynn.checks import positive_int
from pynn.init import check_init, default_init
from pynn.layers.affine import AffineLayer


class Dense(AffineLayer):
    """A fully connected layer: out = activation(x @ weight.T + bias).

    weight is (out_features, in_features) and bias (out_features,), as in PyTorch's
    `nn.Linear`. `init` is one of pynn.init.INITS; by default He uniform for the
    rectifiers and Glorot uniform otherwise; biases start at zero.
    "step" and "sign" are for inference only (see `Sequential.harden`).
    """

    def __init__(self, in_features, out_features, activation=None, bias=True, init=None,
                 activation_param=None):
        self.in_features = positive_int(in_features, "in_features")
        self.out_features = positive_int(out_features, "out_features")
        self.activation = check_activation(activation, activation_param)
        self.activation_param = None if activation_param is None else float(activation_param)
        if not isinstance(bias, bool):
            raise TypeError(f"bias must be True or False, got {bias!r}")
        self.bias = bias
        self.init = check_init(default_init(self.activation) if init is None else init)
        self.differentiable = self.activation not in HARD
        self._saves = saved_by(self.activation, self.activation_param)

    def buffer_shapes(self, n, training, input_grad):
        shapes = super().buffer_shapes(n, training, input_grad)
        if training and self._saves == "input":
            shapes["z"] = ((n, self.out_features), None)
        return shapes

    def record(self, buf, training):
        return {"kind": "dense", **self._affine_record(training),
                "activation": self.activation, "param": self.activation_param,
                "out": buf["out"], "z": buf.get("z") if training else None,
                "dx": buf.get("dx")}

    def config(self):
        return {"type": "Dense", "in_features": self.in_features,
                "out_features": self.out_features,
                "activation": None if self.activation == "identity" else self.activation,
                "bias": self.bias, "init": self.init,
                "activation_param": self.activation_param}

