"""Activation layers: an elementwise nonlinearity with no parameters."""
from pynn.activations import HARD, PARAM_DEFAULTS, check_activation, saved_by
from pynn.layers.base import Layer


class Activation(Layer):
    """Applies a named activation of docs/kernels.md elementwise ("relu", "tanh", ...).

    Usually fused into the Dense layer before it instead (`Dense(..., activation="relu")`),
    which saves a pass over memory; this layer is for models that want it separate.
    """

    def __init__(self, activation, param=None):
        self.activation = check_activation(activation, param, "param")
        self.param = None if param is None else float(param)
        self.differentiable = self.activation not in HARD
        self._saves = saved_by(self.activation, self.param)

    def record(self, buf, training):
        return {"kind": "activation", "activation": self.activation, "param": self.param,
                "out": buf["out"], "dx": buf.get("dx")}

    def config(self):
        return {"type": "Activation", "activation": self.activation, "param": self.param}

    def __repr__(self):
        if type(self) is Activation:
            return super().__repr__()
        return f"{type(self).__name__}()" if self.param is None else \
            f"{type(self).__name__}({self.param!r})"


class Identity(Activation):
    def __init__(self):
        super().__init__("identity")


class Sigmoid(Activation):
    def __init__(self):
        super().__init__("sigmoid")


class Tanh(Activation):
    def __init__(self):
        super().__init__("tanh")


class ReLU(Activation):
    def __init__(self):
        super().__init__("relu")


class LeakyReLU(Activation):
    def __init__(self, negative_slope=PARAM_DEFAULTS["leaky_relu"]):
        super().__init__("leaky_relu", negative_slope)


class Softplus(Activation):
    def __init__(self):
        super().__init__("softplus")


class ELU(Activation):
    def __init__(self, alpha=PARAM_DEFAULTS["elu"]):
        super().__init__("elu", alpha)


class Step(Activation):
    """The unit step (1 if z > 0 else 0): for inference only, it has no useful derivative."""

    def __init__(self):
        super().__init__("step")


class Sign(Activation):
    """Signum: for inference only, it has no useful derivative."""

    def __init__(self):
        super().__init__("sign")
