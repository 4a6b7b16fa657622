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

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing import TypeAlias

    import numpy as np
    from numpy.typing import DTypeLike, NDArray

    #: {name: (shape, dtype or None for the model's)}, as buffer_shapes gives them
    BufferShapes: TypeAlias = dict[str, tuple[tuple[int, ...], Any]]


class Layer:
    """Base class of the layers of a `pynn.Sequential` model.

    Not used directly: the layer classes are Dense, Maxout, PReLU, Standardize and
    Activation (with its named subclasses). Its methods are the interface the model uses.
    """

    #: input width this layer requires, or None when it takes any width (elementwise layers,
    #: and a Dense made with its output width only, which takes the width it is given)
    in_features: int | None = None
    #: whether the output width is the layer's own rather than its input's
    changes_width: bool = False
    #: False for the hard nonlinearities, which have no derivative
    differentiable: bool = True
    #: set by build: the incoming and outgoing widths
    built_in_features: int
    out_features: int
    #: set by bind: views of the parameters and gradients, by name
    params: dict[str, NDArray[Any]]
    grads: dict[str, NDArray[Any]]

    def build(self, in_features: int) -> int:
        """Check the incoming width and return this layer's output width.

        Parameters
        ----------
        in_features : int
            The width of the layer before it (or of the model's input).

        Returns
        -------
        int
            This layer's output width.

        Raises
        ------
        ValueError
            The layer requires another input width.
        """
        if self.in_features is not None and in_features != self.in_features:
            raise ValueError(
                f"{self!r} expects {self.in_features} input features, "
                f"but the layer before it gives {in_features}"
            )
        self.built_in_features = in_features
        self.out_features = self._out_features(in_features)
        return self.out_features

    def _out_features(self, in_features):
        return in_features

    # ---- parameters --------------------------------------------------------------
    def parameter_shapes(self) -> list[tuple[str, tuple[int, ...]]]:
        """[(name, shape)] of the trainable parameters, in flat-buffer order.

        Returns
        -------
        list of (str, tuple of int)
            Empty for a layer without parameters.
        """
        return []

    @property
    def has_parameters(self) -> bool:
        """Whether the layer has trainable parameters (the backward pass goes through a
        layer only while some layer before it has)."""
        return bool(self.parameter_shapes())

    def bind(self, params: dict[str, NDArray[Any]], grads: dict[str, NDArray[Any]]) -> None:
        """Receive views of this layer's parameters and gradients (dicts by name).

        Parameters
        ----------
        params : dict of str to numpy.ndarray
            Views into the model's flat parameter buffer, by the names of
            parameter_shapes.
        grads : dict of str to numpy.ndarray
            The matching views into the flat gradient buffer.
        """
        self.params = params
        self.grads = grads

    def reset_parameters(self, rng: np.random.Generator) -> None:
        """Initialise the parameters from the numpy Generator `rng`.

        Parameters
        ----------
        rng : numpy.random.Generator
            The source of random initial values.
        """

    # ---- buffers and kernels -----------------------------------------------------
    def buffer_shapes(self, n: int, training: bool, input_grad: bool) -> BufferShapes:
        """{name: (shape, dtype or None for the model's)} this layer needs for a batch of n.

        `out` is always needed; `dx` when `input_grad`; whatever backward reads when training.

        Parameters
        ----------
        n : int
            Rows of the batch.
        training : bool
            Buffers for training (forward and backward) rather than inference.
        input_grad : bool
            Whether the backward pass computes the gradient of this layer's input.

        Returns
        -------
        dict of str to (tuple of int, numpy dtype or None)
        """
        shapes: BufferShapes = {"out": ((n, self.out_features), None)}
        if training and input_grad:
            shapes["dx"] = ((n, self.built_in_features), None)
        return shapes

    def workspace_size(self, backend: str, n: int, dtype: DTypeLike, training: bool) -> int:
        """Elements of the shared workspace this layer's kernels need.

        Parameters
        ----------
        backend : str
            "c" or "reference".
        n : int
            Rows of the batch.
        dtype : numpy dtype
            The model's dtype.
        training : bool
            Whether the backward pass runs too.

        Returns
        -------
        int
        """
        return 0

    def record(self, buf: dict[str, NDArray[Any]], training: bool) -> dict[str, Any]:
        """This layer's network record over the buffers `buf` (those buffer_shapes asked
        for): a dict {"kind": ..., ...} with the keys of its kind (docs/kernels.md,
        "Network"). Gradient buffers are None when not `training`.

        Parameters
        ----------
        buf : dict of str to numpy.ndarray
            The buffers buffer_shapes asked for.
        training : bool
            Whether the record is for training (with gradients).

        Returns
        -------
        dict of str to object
        """
        raise NotImplementedError

    # ---- description -------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        """A JSON-able description from which `layer_from_config` rebuilds the layer.

        Returns
        -------
        dict of str to object
            {"type": the class name, and the constructor's arguments}.
        """
        raise NotImplementedError

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items() if k != "type")
        return f"{type(self).__name__}({args})"
