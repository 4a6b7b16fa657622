"""Dropout: inverted dropout (Srivastava et al. 2014) in training steps, the identity
otherwise.

In a training step each element of the input is kept with probability 1 - p and scaled
by 1 / (1 - p), or set to zero: out = x * mask, mask = 0 or (dtype)(1 / (1 - p)), so the
expected output is the input. The backward pass multiplies the gradient by the same mask.
predict, evaluate and every forward pass outside a training step are the identity.

The mask comes from a counter-based random stream (csrc/dropout_impl.h): each element's
keep or drop is a function of the model's dropout seed, the training step, the layer's
index in the model and the element's index in the batch only, never of the thread that
computes it, so training gives the same bits for any thread count and from one seed.
The stream (seed, step) is the model's (`Sequential._dropout_stream`); fit draws its
seed from random_state and every training step advances the step (docs/model.md,
"Dropout").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from pynn.core.checks import check_number
from pynn.core.layers.base import Layer

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from pynn.core.layers.base import BufferShapes


class Dropout(Layer):
    """Inverted dropout: in a training step, each element is zeroed with probability `p`
    and the others are scaled by 1 / (1 - p); the identity in predict and evaluate.

    >>> model = Sequential(Dense(64, 128, activation="relu"), Dropout(0.5), Dense(128, 10))

    The masks are reproducible: the same random_state gives the same masks, and the same
    trained model, bit for bit, for any thread count (see the module docstring). It has
    no parameters; `harden()` leaves it out.

    Parameters
    ----------
    p : float, default 0.5
        The probability of dropping an element, in [0, 1) (0 keeps every element).

    Raises
    ------
    TypeError
        p is not a real number.
    ValueError
        p is outside [0, 1).
    """

    def __init__(self, p: float = 0.5) -> None:
        # p = 1 would drop everything: [0, 1)
        self.p = check_number(p, "Dropout's p", 0.0, 1.0, high_open=True)
        # (seed, step): the model's stream, given to the layer when the model is built
        self.stream: NDArray[np.uint64] = np.zeros(2, np.uint64)

    def buffer_shapes(self, n: int, training: bool, input_grad: bool) -> BufferShapes:
        """The output, the input gradient when asked for and, in training, the mask.

        Parameters
        ----------
        n : int
            Rows of the batch.
        training : bool
            Buffers for training (then with the mask) rather than inference.
        input_grad : bool
            Whether the backward pass computes the gradient of this layer's input.

        Returns
        -------
        dict of str to (tuple of int, numpy dtype or None)
        """
        shapes = super().buffer_shapes(n, training, input_grad)
        if training:
            shapes["mask"] = ((n, self.out_features), None)
        return shapes

    def record(self, buf: dict[str, Any], training: bool) -> dict[str, Any]:
        return {
            "kind": "dropout",
            "p": self.p,
            "stream": self.stream,
            "mask": buf.get("mask") if training else None,
            "out": buf["out"],
            "dx": buf.get("dx"),
        }

    def config(self) -> dict[str, Any]:
        return {"type": "Dropout", "p": self.p}
