"""What every layer of a Sequential model provides.

A layer owns no memory of its own. The model gives it
- views of its parameters and their gradients inside the model's two flat buffers (`bind`),
- per batch size, the buffers it asked for in `buffer_shapes` (its output, what its
  backward pass reads, its input gradient), allocated once and reused every step,
- and turns them into its network record (`record`): a dict the network of the model's
  backend (pynn._kernels.Network, or pynn.reference_network.Network) runs, one kind of
  docs/kernels.md "Network" per layer class. Forward and backward passes, of every layer
  at once, are the network's: a layer has no Python forward or backward of its own.

The layer classes are the network's kinds; a subclass that changes what a layer computes
cannot run (Sequential refuses any layer whose class is not one of pynn's).
"""


class Layer:
    """Base class of the layers of a `pynn.Sequential` model."""

    #: input width this layer requires, or None when it takes any width (elementwise layers)
    in_features = None
    #: False for the hard nonlinearities, which have no derivative
    differentiable = True

    def build(self, in_features):
        """Check the incoming width and return this layer's output width."""
        if self.in_features is not None and in_features != self.in_features:
            raise ValueError(f"{self!r} expects {self.in_features} input features, "
                             f"but the layer before it gives {in_features}")
        self.built_in_features = in_features
        self.out_features = self._out_features(in_features)
        return self.out_features

    def _out_features(self, in_features):
        return in_features

    # ---- parameters --------------------------------------------------------------
    def parameter_shapes(self):
        """[(name, shape)] of the trainable parameters, in flat-buffer order."""
        return []

    @property
    def has_parameters(self):
        """Whether the layer has trainable parameters (the backward pass goes through a
        layer only while some layer before it has)."""
        return bool(self.parameter_shapes())

    def bind(self, params, grads):
        """Receive views of this layer's parameters and gradients (dicts by name)."""
        self.params = params
        self.grads = grads

    def reset_parameters(self, rng):
        """Initialise the parameters from the numpy Generator `rng`."""

    # ---- buffers and kernels -----------------------------------------------------
    def buffer_shapes(self, n, training, input_grad):
        """{name: (shape, dtype or None for the model's)} this layer needs for a batch of n.

        `out` is always needed; `dx` when `input_grad`; whatever backward reads when training.
        """
        shapes = {"out": ((n, self.out_features), None)}
        if training and input_grad:
            shapes["dx"] = ((n, self.built_in_features), None)
        return shapes

    def workspace_size(self, backend, n, dtype, training):
        """Elements of the shared workspace this layer's kernels need."""
        return 0

    def record(self, buf, training):
        """This layer's network record over the buffers `buf` (those buffer_shapes asked
        for): a dict {"kind": ..., ...} with the keys of its kind (docs/kernels.md,
        "Network"). Gradient buffers are None when not `training`."""
        raise NotImplementedError

    # ---- description -------------------------------------------------------------
    def config(self):
        """A JSON-able description from which `layer_from_config` rebuilds the layer."""
        raise NotImplementedError

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items() if k != "type")
        return f"{type(self).__name__}({args})"
