"""Hardening a trained model for inference (shared/notes/000, "Nonlinearities summarized").

Training needs the soft output nonlinearities because they are differentiable; once
trained, a classifier only needs the decision, so the soft nonlinearity can be replaced
by its hard counterpart: softmax -> argmax, sigmoid (logistic) -> unit step, tanh ->
signum. The decision is unchanged: pynn predicts argmax of the logits, or logit > 0, and
step(z) > 0, sign(z) > 0 and tanh(z) > 0 all hold exactly when z > 0 (the kernels'
tanh keeps the sign even of subnormal z), so a HardenedModel predicts what its model
predicts, on every input.

Where the hard nonlinearity goes:
- softmax_cross_entropy: the network gives logits; predict takes their argmax.
- binary_cross_entropy: the sigmoid is in the loss and the network gives logits; a unit
  step replaces the last layer's identity (fused into a Dense), or follows the last layer.
- hinge: signum replaces a last tanh or identity, or follows the last layer.
- mse / l1 with a tanh or sigmoid output: signum or unit step replaces it, and the
  outputs are the hard values (as the notes train tanh with MSE on ±1 targets). Other
  regressors have no hard counterpart and are refused.

Dropout layers, the identity outside training and without parameters, are left out: the
hardened model is the model without them (the flat parameters still correspond one to
one), and its last layer is the model's last layer that is not a Dropout.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pynn.core.layers import Activation, Dropout, layer_from_config
from pynn.core.model_type import Model
from pynn.core.summary import layer_table

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray


def _hardened_last(layer, loss):
    """(layers replacing the last one, description of the change); what replaces what is
    the loss's (pynn.losses: hard_replaces, hard_after)."""
    soft = getattr(layer, "activation", None)
    if not loss.hard_replaces and loss.hard_after is None:  # poisson: rates, nothing hard
        raise ValueError(
            f"a {loss.name} model has no hard output to harden to (it predicts rates "
            f"exp(output)): use the model itself for inference"
        )
    hard = loss.hard_replaces.get(soft)
    if hard is not None:
        config = layer.config()
        if config["type"] == "Dense":
            config["activation"] = hard
        else:  # an Activation layer
            config["param"] = None
            config["activation"] = hard
        return [layer_from_config(config)], f"{soft} output replaced by {hard}"
    if loss.hard_after is not None:
        hard = loss.hard_after
        return [
            layer_from_config(layer.config()),
            Activation(hard),
        ], f"{hard} added after the output"
    raise ValueError(
        f"harden replaces a tanh output by signum or a sigmoid output by the unit step; "
        f"this {loss.name} regressor ends in {soft or type(layer).__name__!r}, which has no "
        f"hard counterpart: use the model itself for inference"
    )


class HardenedModel:
    """An inference-only copy of a trained model with hard output nonlinearities.

    Made by `Sequential.harden()`; see the module docstring. `predict(X)` gives exactly
    `model.predict(X)` for classifiers, and sign/step of the output for a tanh/sigmoid
    regressor. It copies the parameters: later training of the model does not change it.
    There is no fit or partial_fit.

    Parameters
    ----------
    model : Sequential
        A trained model.

    Raises
    ------
    ValueError
        An untrained model, or a regressor whose output has no hard counterpart.
    """

    def __init__(self, model: Model) -> None:
        if model.targets_ is None:
            raise ValueError(
                "harden needs a trained model: call fit first (it fixes the loss "
                "and, for classifiers, classes_)"
            )
        loss_name = model.loss_.name
        # Dropout is the identity at inference: left out (it has no parameters)
        kept = [layer for layer in model.layers if not isinstance(layer, Dropout)]
        layers = [layer_from_config(layer.config()) for layer in kept[:-1]]
        # softmax -> argmax, which predict takes of the logits
        if model.loss_.proba == "softmax":
            layers.append(layer_from_config(kept[-1].config()))
            self.output_rule = "argmax of the logits"
        else:
            last, self.output_rule = _hardened_last(kept[-1], model.loss_)
            layers += last
        # The model's own class (Sequential), taken from the model: pynn.core.model imports this
        # module, so this module does not import it.
        network = type(model)(*layers, dtype=model.dtype, backend=model.backend)
        # Same configs, same parameter order: the flat buffers correspond one to one.
        network.flat_params[...] = model.flat_params
        self._network = network
        self._targets = model.targets_
        self.loss = loss_name
        self.layers = network.layers
        self.dtype = network.dtype
        self.backend = network.backend
        self.n_features_in_ = network.n_features_in_
        self.n_outputs_ = network.n_outputs_

    @property
    def classes_(self) -> NDArray[Any] | None:
        """The model's sorted class labels (None for a regressor)."""
        return self._targets.classes_

    @property
    def n_parameters(self) -> int:
        """Number of parameters (copied from the model)."""
        return self._network.n_parameters

    def predict(self, X: ArrayLike) -> NDArray[Any]:
        """Class labels (classifiers, as the model predicts them) or the hard outputs
        (regressors: -1/0/+1 for signum, 0/1 for the unit step).

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features_in_)
            Numeric features, as for Sequential.decision_function.

        Returns
        -------
        numpy.ndarray
            What the model's predict gives (classifiers), or the hard outputs.

        Raises
        ------
        ValueError
            X of the wrong width, not 2-D, or holding NaN or infinity.
        """
        # The network's outputs are hard already, except softmax's logits (argmax in
        # decode); decoding thresholds at 0, which a step or sign output keeps.
        return self._targets.decode(self._network.decision_function(X))

    def __repr__(self):
        lines = [
            f"HardenedModel (inference only; {self.dtype.name}, backend "
            f"{self.backend!r}, trained with {self.loss!r})"
        ]
        lines += layer_table(self._network)
        lines.append(f"Parameters: {self.n_parameters:,}; output: {self.output_rule}")
        if self.classes_ is not None:
            shown = self.classes_[:10].tolist()
            more = " ..." if len(self.classes_) > 10 else ""
            lines.append(f"classes_: {shown}{more}")
        return "\n".join(lines)


def harden(model: Model) -> HardenedModel:
    """The HardenedModel of a trained Sequential model.

    Parameters
    ----------
    model : Sequential
        A trained model.

    Returns
    -------
    HardenedModel

    Raises
    ------
    ValueError
        An untrained model, or a regressor whose output has no hard counterpart.
    """
    return HardenedModel(model)
