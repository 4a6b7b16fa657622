"""The network of a plan: the model's layers as network records over the plan's buffers,
bound once per batch size (and thread count) in the backend's Network class.

One path (shared/DESIGN.md): every model of pynn's layers trains, predicts, evaluates and
is gradient-checked through its network: pynn._kernels.Network on the "c" backend (one C
call for the whole step: gather, every layer's forward, the fused loss, every layer's
backward), its NumPy twin pynn.reference_network.Network on the "reference" backend.

A loss of pynn.losses.LOSSES is fused into the step. Any other Loss object (a subclass,
or a Loss made with another kernel) takes the documented slow path: the network's forward
pass, the loss called from Python, the network's backward pass (TrainingPlan.run). Layers
must be pynn's own classes: a layer of another class is refused with an error (the
network cannot run Python code between its layers).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pynn.core import backend as backends
from pynn.core import layers as layer_classes
from pynn.core.losses import LOSSES, Loss
from pynn.core.model_type import Model

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from pynn.core.layers import Layer

# the layer classes the network runs (each gives a record of its kind): pynn.layers' own,
# read from its __all__ rather than listed again
NETWORK_LAYERS = tuple(
    cls
    for cls in map(layer_classes.__dict__.get, layer_classes.__all__)
    if isinstance(cls, type)
    and issubclass(cls, layer_classes.Layer)
    and cls is not layer_classes.Layer
)


def check_layers(layers: Sequence[Layer]) -> None:
    """TypeError for a layer whose class is not one of pynn's: the network runs records of
    pynn's layer kinds only, and would ignore a subclass's own forward or backward.

    Parameters
    ----------
    layers : sequence of Layer
        A model's layers.

    Raises
    ------
    TypeError
        A layer of another class (a subclass included).
    """
    for i, layer in enumerate(layers):
        if type(layer) not in NETWORK_LAYERS:
            raise TypeError(
                f"layer {i} is a {type(layer).__name__}, which is not one of pynn's layer "
                f"classes (Dense, Activation and its named subclasses, PReLU, Maxout, Dropout, "
                f"Standardize): custom layers are not supported, since the network runs "
                f"every layer in C (docs/model.md, 'One network')"
            )


def fused_kernel(loss: Loss) -> str | None:
    """The kernel name the network's step fuses for `loss`, or None when the loss is not
    one of LOSSES or a with_logged_bounds copy of one (a custom Loss: the slow path calls
    it from Python).

    Parameters
    ----------
    loss : Loss
        The model's loss.

    Returns
    -------
    str or None
    """
    if type(loss) is Loss and LOSSES.get(loss.name) is loss.unbounded:
        return loss.kernel
    return None


def network_class(backend: str) -> Any:
    """The backend's Network class (pynn.core.backend.network_class).

    Parameters
    ----------
    backend : str
        "c" or "reference".

    Returns
    -------
    type
    """
    return backends.network_class(backend)


def make_network(
    model: Model,
    buffers: Sequence[dict[str, NDArray[Any]]],
    training: bool,
    x: NDArray[Any],
    workspace: NDArray[Any] | None,
    loss: str | None = None,
    target: NDArray[Any] | None = None,
    dout: NDArray[Any] | None = None,
    sample_loss: NDArray[Any] | None = None,
    sample_weight: NDArray[Any] | None = None,
) -> Any:
    """The backend's Network over the layers' buffers (one dict per layer): training
    (with the gradient buffers, dout and, for a fused loss, its kernel name, target and
    sample_loss) or forward only.

    Parameters
    ----------
    model : Sequential
        The model whose layers make the records.
    buffers : sequence of dict
        Each layer's buffers (those its buffer_shapes asked for).
    training : bool
        A training network (forward and backward) rather than forward only.
    x : numpy.ndarray
        The input buffer.
    workspace : numpy.ndarray or None
        The kernels' shared workspace.
    loss : str or None, default None
        The fused loss kernel's name (fused_kernel), or None.
    target, dout, sample_loss : numpy.ndarray or None, default None
        The target, output-gradient and per-sample-loss buffers of a training network.
    sample_weight : numpy.ndarray or None, default None
        The buffer (n,) a fused training network gathers a batch's sample weights into.

    Returns
    -------
    Network
        pynn._kernels.Network or pynn.reference_network.Network.
    """
    records = [layer.record(buf, training) for layer, buf in zip(model.layers, buffers)]
    return network_class(model.backend)(
        records, loss, x, target, dout, sample_loss, workspace, sample_weight
    )
