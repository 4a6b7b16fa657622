"""PReLU: x if x > 0 else a·x, with the slope a learned (He et al. 2015)."""
from pynn.checks import finite_number, positive_int
from pynn.layers.base import Layer


class PReLU(Layer):
    """Parametric ReLU with `num_parameters` slopes: 1 shared by every feature, or one per
    feature (then it must equal the incoming width). As PyTorch's `nn.PReLU`, the slopes
    start at `init` and are named `weight`."""

    def __init__(self, num_parameters=1, init=0.25):
        self.num_parameters = positive_int(num_parameters, "num_parameters")
        self.init = finite_number(init, "init")

    def build(self, in_features):
        if self.num_parameters not in (1, in_features):
            raise ValueError(f"{self!r} has {self.num_parameters} slopes but receives "
                             f"{in_features} features: use 1 (shared) or {in_features}")
        return super().build(in_features)

    def parameter_shapes(self):
        return [("weight", (self.num_parameters,))]

    def reset_parameters(self, rng):
        self.params["weight"][...] = self.init

    def record(self, buf, training):
        return {"kind": "prelu", "weight": self.params["weight"],
                "dweight": self.grads["weight"] if training else None, "out": buf["out"],
                "dx": buf.get("dx")}

    def config(self):
        return {"type": "PReLU", "num_parameters": self.num_parameters, "init": self.init}
