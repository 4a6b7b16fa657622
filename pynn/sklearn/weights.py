"""coefs_ and intercepts_: scikit-learn's lists of weight and bias arrays, over the
parameters of a pynn network (model_), readable and assignable as scikit-learn's are."""

import numpy as np
from sklearn.utils.validation import check_is_fitted

# attribute name: (the Dense parameter it shows, a note on its layout for messages)
KINDS = {"coefs_": ("weight", " (in, out)"), "intercepts_": ("bias", "")}


class LayerArrays(list):
    """coefs_ or intercepts_: a list of views of model_'s parameters, one per layer.

    In scikit-learn these lists are the model, so `coefs_[i] = W` sets layer i; here too:
    assigning an item sets the parameter it shows (checked as assigning the whole list is).
    Writing into an item (`coefs_[0][...] = 0`) writes into model_.

    Parameters
    ----------
    estimator : pynn.sklearn.MLPClassifier or pynn.sklearn.MLPRegressor
        The fitted estimator the arrays belong to.
    name : {"coefs_", "intercepts_"}
        The attribute the list is.
    """

    def __init__(self, estimator, name):
        super().__init__(layer_arrays(estimator.model_, name))
        self._estimator, self._name = estimator, name

    def __setitem__(self, index, value):
        arrays = list(self)
        arrays[index] = value
        set_layer_arrays(self._estimator, self._name, arrays)
        super().__setitem__(slice(None), layer_arrays(self._estimator.model_, self._name))


def layer_arrays(model, name):
    """The views of `model`'s parameters that coefs_ or intercepts_ holds.

    Parameters
    ----------
    model : pynn.Sequential
        A network of Dense layers.
    name : {"coefs_", "intercepts_"}
        The attribute: each layer's weight as (in, out), the transpose of pynn's (out, in),
        or each layer's bias.

    Returns
    -------
    list of numpy.ndarray
        Views into model.flat_params.
    """
    key = KINDS[name][0]
    return [
        layer.params[key].T if key == "weight" else layer.params[key] for layer in model.layers
    ]


def set_layer_arrays(estimator, name, arrays):
    """Copy `arrays` into the parameters coefs_ or intercepts_ shows, all checked first.

    Parameters
    ----------
    estimator : pynn.sklearn.MLPClassifier or pynn.sklearn.MLPRegressor
        A fitted estimator.
    name : {"coefs_", "intercepts_"}
        The attribute assigned.
    arrays : list or tuple of array_like
        One array per layer, of the shapes the attribute has (cast to model_'s dtype).

    Raises
    ------
    sklearn.exceptions.NotFittedError
        The estimator has no network yet.
    TypeError
        Not a list or tuple, or an item that does not hold numbers.
    ValueError
        Not one array per layer, an array of another shape, or NaN or infinity.
    """
    check_is_fitted(estimator, "model_")
    model = estimator.model_
    key, layout = KINDS[name]
    current = layer_arrays(model, name)
    if not isinstance(arrays, (list, tuple)):
        raise TypeError(
            f"{name} must be a list of {len(current)} arrays (one per layer), got "
            f"{type(arrays).__name__}"
        )
    if len(arrays) != len(current):
        raise ValueError(
            f"{name} must be a list of {len(current)} arrays (one per layer), got {len(arrays)}"
        )
    state = model.state_dict()
    for i, (value, old) in enumerate(zip(arrays, current)):
        try:
            value = np.asarray(value)
        except (TypeError, ValueError):
            raise TypeError(f"{name}[{i}] must be an array of numbers, got {value!r}") from None
        if value.dtype.kind not in "biuf":
            raise TypeError(f"{name}[{i}] must hold numbers, got dtype {value.dtype}")
        if value.shape != old.shape:
            raise ValueError(f"{name}[{i}] must have shape {old.shape}{layout}, got {value.shape}")
        with np.errstate(over="ignore", invalid="ignore"):
            finite = np.isfinite(value.astype(model.dtype)).all()
        if not finite:
            raise ValueError(f"{name}[{i}] holds NaN or infinity (in the model's {model.dtype})")
        state[f"{i}.{key}"] = value.T if key == "weight" else value
    model.load_state_dict(state)
