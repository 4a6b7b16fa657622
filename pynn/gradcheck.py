"""gradcheck: compare a model's backpropagated gradient with central finite differences.

The check runs in float64 on a copy of the model rebuilt from its layers' configs, with
the model's backend and parameters: a float32 model is checked at full precision, and the
user's model is never touched (its parameters, gradients, loss and history stay bit for
bit as they were).

Error measure, per parameter tensor t (a model's "0.weight", "0.bias", ...):

    error_t = max_i |numeric_i - analytic_i|
              / max(max_i |numeric_i|, max_i |analytic_i|, floor * max(1, |loss|))

- The scale is the tensor's largest gradient, not each element's own: the finite
  difference has an absolute error that does not shrink with the element (rounding,
  about 2.2e-16 * |loss| / eps, and truncation, about eps^2 * |f'''|), so an element whose
  true gradient is near zero (a unit that is off for every sample) would otherwise show a
  large relative error from noise alone. Against the tensor's scale a wrong formula (a
  missing factor, a sign, a wrong index) is still off by O(1), and a gradient scaled by
  1.01 by 1e-2.
- The floor keeps a tensor whose gradient is all (near) zero from dividing noise by
  noise: its error is then absolute, in units of floor * max(1, |loss|). It grows with the
  loss because the rounding noise does: multiplying the loss by c multiplies gradients and
  noise by c and leaves the errors unchanged.
The result names the worst tensor, its worst element, and every tensor's error.

A model with Dropout layers is checked with the masks of its next training step, the
same for the analytic gradient and every finite difference (a training pass that does
not advance the dropout stream).

Finite differences are only meaningful where the loss is smooth: keep data and weights
farther than `eps` from kinks (relu, leaky_relu and PReLU at 0, l1 where pred = y, hinge
where y * pred = 1, Maxout where two pieces tie).
"""

import math
import numbers

import numpy as np

from pynn.core.checks import positive_number
from pynn.core.inputs import y_checked
from pynn.core.layers import layer_from_config
from pynn.core.losses import LOSSES, get_loss
from pynn.core.model import Sequential
from pynn.core.targets import Targets


class GradcheckResult:
    """What `gradcheck` found; true (and `ok`) when `max_rel_error <= tolerance`.

    Parameters
    ----------
    per_parameter : dict of str to float
        The error of every parameter tensor, by name.
    worst_index : tuple of int or None
        The index of the worst element in the worst tensor.
    analytic, numeric : dict of str to numpy.ndarray
        The two gradients (float64), by name.
    loss : float
        The loss at the model's parameters.
    tolerance : float
        What `ok` compares with.

    Attributes
    ----------
    max_rel_error : float
        The worst per-tensor error (see the module docstring).
    worst_parameter : str or None
        Its tensor's name ("0.weight"); None for a model without parameters.
    worst_index : tuple of int or None
        The index of the worst element in that tensor.
    per_parameter : dict of str to float
        The error of every parameter tensor, by name.
    analytic, numeric : dict of str to numpy.ndarray
        The two gradients (float64), by name.
    loss : float
        The loss at the model's parameters.
    tolerance : float
        What `ok` compares with.
    """

    def __init__(self, per_parameter, worst_index, analytic, numeric, loss, tolerance):
        self.per_parameter = per_parameter
        self.analytic = analytic
        self.numeric = numeric
        self.loss = loss
        self.tolerance = tolerance
        if per_parameter:
            self.worst_parameter = max(per_parameter, key=per_parameter.get)
            self.max_rel_error = per_parameter[self.worst_parameter]
            self.worst_index = worst_index[self.worst_parameter]
        else:
            self.worst_parameter, self.max_rel_error, self.worst_index = None, 0.0, None

    @property
    def ok(self):
        """True when the worst relative error is within the tolerance."""
        return self.max_rel_error <= self.tolerance

    def __bool__(self):
        return self.ok

    def __repr__(self):
        return (
            f"GradcheckResult(ok={self.ok}, max_rel_error={self.max_rel_error:.3e}, "
            f"worst_parameter={self.worst_parameter!r}, worst_index={self.worst_index}, "
            f"tolerance={self.tolerance:g})"
        )


def _float64_copy(model):
    """A float64 Sequential with the model's layers (rebuilt from their configs), backend
    and parameters."""
    layers = []
    for i, layer in enumerate(model.layers):
        if not layer.differentiable:
            raise ValueError(
                f"model: layer {i} ({layer!r}) is for inference only and has no gradient"
            )
        try:
            layers.append(layer_from_config(layer.config()))
        except (NotImplementedError, ValueError, TypeError) as error:
            raise TypeError(
                f"model: layer {i} ({type(layer).__name__}) cannot be rebuilt "
                f"from its config: {error}"
            ) from None
    copy = Sequential(*layers, dtype=np.float64, backend=model.backend, random_state=0)
    copy.load_state_dict(model.state_dict())  # float32 -> float64 is exact
    if model._dropout_stream is not None:  # the masks of the model's next training step
        copy._dropout_stream[...] = model._dropout_stream
    return copy


def _targets(model, loss, y):
    """The model's own target encoding when it was trained with this loss (its classes),
    else the one fit would derive from y."""
    if model.loss_ is loss and model.targets_ is not None:
        return model.targets_
    return Targets.for_loss(loss, y, model.n_outputs_)


def _parameters_and_gradients(model):
    """[(name, parameter view, gradient view)], named as model.named_parameters() names them."""
    return [
        (f"{i}.{name}", layer.params[name], layer.grads[name])
        for i, layer in enumerate(model.layers)
        for name, _ in layer.parameter_shapes()
    ]


def gradcheck(model, X, y, loss=None, *, eps=1e-6, tolerance=1e-5, floor=1e-3):
    """Compare backpropagation with central finite differences for every parameter.

    Cost: two forward passes over X per parameter element, in float64.

    Parameters
    ----------
    model : pynn.Sequential
        The model to check (float32 or float64, either backend); it is left unchanged.
    X : array-like of shape (n_samples, n_features)
        The inputs the loss is averaged over, as one batch (keep it small).
    y : array-like
        The targets, encoded as the trained model encodes them, or as fit would encode
        them for this loss.
    loss : str, pynn.losses.Loss or None
        A name in pynn.losses.LOSSES; None: the loss the model was trained with (required
        for an untrained model).
    eps : float, default 1e-6
        The step h of (L(p + h) - L(p - h)) / 2h, for each parameter element p.
    tolerance : float, default 1e-5
        The largest error that counts as agreement (`result.ok`), >= 0.
    floor : float, default 1e-3
        Errors are divided by at least floor * max(1, |loss|) (module docstring).

    Returns
    -------
    GradcheckResult
        True when the gradients agree; its max_rel_error, worst_parameter and worst_index
        say where they differ most.

    Raises
    ------
    TypeError
        model is not a Sequential, a layer cannot be rebuilt from its config, or a
        number is not one.
    ValueError
        eps or floor not positive, tolerance negative, no loss for an untrained model, a
        layer for inference only, or a loss that is not finite at the model's parameters.

    Examples
    --------
    >>> result = gradcheck(model, X[:20], y[:20], loss="mse")
    >>> result.max_rel_error, result.worst_parameter, result.worst_index

    Why these defaults: rounding gives each numeric element an error of a few times
    2.2e-16 * |loss| / eps, about 1e-10 * |loss| (truncation, about eps^2 * |f'''|, is
    smaller); divided by at least 1e-3 * max(1, |loss|) that is about 1e-7, ten times and
    more below the tolerance for a small X, while a gradient wrong by 1% is off by 1e-2.
    """
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a pynn.Sequential, got {type(model).__name__}")
    eps, tolerance, floor = _check_steps(eps, tolerance, floor)
    if loss is None:
        if model.loss_ is None:
            raise ValueError(
                f"loss is required for a model that was not trained: one of {tuple(LOSSES)}"
            )
        loss = model.loss_
    loss = get_loss(loss)

    copy = _float64_copy(model)
    X = copy._check_X(X)
    y = y_checked(y, X.shape[0])
    copy.loss_, copy.targets_ = loss, _targets(model, loss, y)
    target = copy.targets_.encode(y, np.float64)
    value = copy.loss_and_grad(X, target)  # the analytic gradient, into copy.flat_grads
    if not math.isfinite(value):
        raise ValueError(f"the loss at the model's parameters is {value}: no gradient to check")

    # Dropout: the training pass with the masks loss_and_grad drew (the dropout stream
    # advances in fit only), over the batch loss_and_grad put in the plan
    network = None if copy._dropout_stream is None else copy._plan(X.shape[0]).network

    def loss_at_current_parameters():
        out = copy.decision_function(X) if network is None else network.forward()
        return copy.loss_(copy._kernels, out, target)

    per_parameter, worst_index, analytic, numeric = {}, {}, {}, {}
    for name, param, grad in _parameters_and_gradients(copy):
        grad = grad.copy()
        fd = _finite_differences(param, loss_at_current_parameters, eps)
        diff = np.abs(fd - grad)
        scale = max(
            float(np.max(np.abs(fd), initial=0.0)),
            float(np.max(np.abs(grad), initial=0.0)),
            floor * max(1.0, abs(value)),
        )
        per_parameter[name] = float(np.max(diff, initial=0.0)) / scale
        worst_index[name] = tuple(
            int(k) for k in np.unravel_index(int(np.argmax(diff)), diff.shape)
        )
        analytic[name], numeric[name] = grad, fd
    return GradcheckResult(per_parameter, worst_index, analytic, numeric, value, tolerance)


def _check_steps(eps, tolerance, floor):
    """gradcheck's eps, tolerance and floor, checked."""
    eps = positive_number(eps, "eps")
    floor = positive_number(floor, "floor")
    if isinstance(tolerance, bool) or not isinstance(tolerance, numbers.Real):
        raise TypeError(f"tolerance must be a number, got {tolerance!r}")
    if not tolerance >= 0:
        raise ValueError(f"tolerance must be >= 0, got {tolerance!r}")
    return eps, tolerance, floor


def _finite_differences(param, loss_at_current_parameters, eps):
    """The central finite difference of the loss for each element of `param` (a view into
    the model's parameters, each element put back exactly after its two steps)."""
    fd = np.empty(param.shape)  # float64, C order: fd_flat is a view of it
    flat, fd_flat = param.reshape(-1), fd.reshape(-1)
    for i in range(flat.size):
        original = flat[i]
        flat[i] = original + eps
        up, high = loss_at_current_parameters(), flat[i]
        flat[i] = original - eps
        down, low = loss_at_current_parameters(), flat[i]
        flat[i] = original  # exactly restored: every element is perturbed from one point
        fd_flat[i] = (up - down) / (high - low)  # the step as stored, not 2 * eps
    return fd
