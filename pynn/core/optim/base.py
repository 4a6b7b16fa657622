"""What the optimizers share: hyperparameter checks and binding to a model's flat buffers."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from pynn.core.checks import check_choice, check_number

if TYPE_CHECKING:
    from types import ModuleType

#: The values of the optimizers' weight_decay_scope: every parameter (PyTorch's) or only
#: the weight matrices (scikit-learn's alpha, which leaves the intercepts alone).
WEIGHT_DECAY_SCOPES = ("all", "weights")


def _holds_arrays(value: Any) -> bool:
    """Whether value is a collection of parameters (arrays), as model.parameters() gives."""
    if isinstance(value, dict):
        value = list(value.values())
    elif not isinstance(value, (list, tuple)):
        return hasattr(value, "__next__")  # a generator, as torch's parameters()
    return any(isinstance(item, np.ndarray) for item in value)


class Optimizer:
    """An update rule over one flat parameter buffer and its flat gradient.

    `bind` gives it the buffers (a model does this in `fit`) and creates its flat state;
    each `step` is one kernel call over the whole model. `lr` may be changed between steps
    (the schedulers do).

    Parameters
    ----------
    lr : float
        The learning rate (finite, >= 0); a fresh fit starts from it.
    weight_decay_scope : {"all", "weights"}, default "all"
        Which parameters weight decay applies to: all of them (PyTorch's), or only the
        weight matrices, not the biases nor PReLU's slopes (scikit-learn's alpha).

    Raises
    ------
    TypeError
        lr is not a number.
    ValueError
        lr is negative or not finite, or weight_decay_scope is unknown.
    """

    state_names: tuple[str, ...] = ()
    params: NDArray[Any] | None
    grads: NDArray[Any]
    kernels: ModuleType
    state: dict[str, NDArray[Any]]
    step_count: int
    # class defaults: an optimizer pickled before these existed decays everything
    weight_decay_scope: str = "all"
    decay_ranges: NDArray[np.int64] | None = None

    def __new__(cls, *args: Any, **kwargs: Any) -> Optimizer:
        # PyTorch's Adam(model.parameters(), lr=...) would fail in __init__ with "multiple
        # values for argument 'lr'"; say what to do instead.
        if args and _holds_arrays(args[0]):
            raise TypeError(
                f"{cls.__name__} takes no parameters: create it with its hyperparameters, "
                f"{cls.__name__}(lr=...), and pass it to fit(optimizer=...), which binds it "
                f"to the model's flat buffers"
            )
        return super().__new__(cls)

    def __init__(self, lr: float, weight_decay_scope: str = "all") -> None:
        self.lr = check_number(lr, "lr")
        self.initial_lr = self.lr  # what a fresh fit starts from, as torch's 'initial_lr'
        self.weight_decay_scope = check_choice(
            weight_decay_scope, "weight_decay_scope", WEIGHT_DECAY_SCOPES
        )
        self.params = None

    def bind(
        self,
        params: NDArray[Any],
        grads: NDArray[Any],
        kernels: ModuleType,
        weight_ranges: ArrayLike | None = None,
    ) -> None:
        """Use these flat buffers; the state starts at zero, the step count at 0 and the
        learning rate at the one the optimizer was made with (a schedule may have lowered it).

        Parameters
        ----------
        params : numpy.ndarray
            The model's flat parameter buffer, updated in place by `step`.
        grads : numpy.ndarray
            The matching flat gradient buffer.
        kernels : module
            The model's kernel module (pynn._kernels or pynn.reference).
        weight_ranges : array_like of shape (k, 2) or None, default None
            The [start, stop) offsets of the weights in `params`, sorted and disjoint
            (Sequential.weight_ranges(); fit passes them): with weight_decay_scope
            "weights", weight decay applies to these elements only. Ignored with "all".

        Raises
        ------
        ValueError
            weight_decay_scope is "weights" and weight_ranges is None or malformed.
        """
        decay_ranges = None
        if self.weight_decay_scope == "weights":
            decay_ranges = _checked_ranges(weight_ranges, params.size)
        self.params, self.grads, self.kernels = params, grads, kernels
        self.decay_ranges = decay_ranges
        self.lr = self.initial_lr
        self.state = {name: np.zeros_like(params) for name in self.state_names}
        self.step_count = 0

    def __getstate__(self):
        """The kernel module travels by name (a module cannot be pickled)."""
        state = self.__dict__.copy()
        if state.get("kernels") is not None:
            state["kernels"] = state["kernels"].__name__
        return state

    def __setstate__(self, state):
        state = dict(state)
        if isinstance(state.get("kernels"), str):
            state["kernels"] = importlib.import_module(state["kernels"])
        self.__dict__.update(state)

    def step(self) -> None:
        """One update of the bound parameters from their gradient (one kernel call).

        Raises
        ------
        RuntimeError
            The optimizer is not bound (fit binds it).
        """
        if self.params is None:
            raise RuntimeError("this optimizer is not bound to parameters: pass it to fit()")
        self.step_count += 1
        self._update()  # type: ignore[attr-defined]  # each optimizer class defines it

    def zero_grad(self) -> None:
        """Set the bound gradient buffer to zero."""
        self.grads.fill(0)

    def state_size(self, n_params: int) -> int:
        """Elements of state this optimizer keeps for n_params parameters.

        Parameters
        ----------
        n_params : int
            The model's parameter count.

        Returns
        -------
        int
        """
        return len(self.state_names) * n_params

    def config(self) -> dict[str, Any]:
        """The optimizer's class name and hyperparameters (its repr shows them).

        Returns
        -------
        dict of str to object
            {"type": the class name, and the constructor's arguments}.
        """
        raise NotImplementedError

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items() if k != "type")
        return f"{type(self).__name__}({args})"


def _checked_ranges(weight_ranges: ArrayLike | None, size: int) -> NDArray[np.int64]:
    """weight_ranges as a C-contiguous int64 (k, 2) array of sorted, disjoint [start, stop)
    pairs within [0, size]; ValueError otherwise."""
    if weight_ranges is None:
        raise ValueError(
            "weight_decay_scope='weights' needs the weights' offsets: bind(..., "
            "weight_ranges=model.weight_ranges()) (fit passes them)"
        )
    ranges = np.array(weight_ranges, dtype=np.int64, copy=True)
    if ranges.size == 0:
        ranges = ranges.reshape(0, 2)
    flat = ranges.ravel()  # start0 <= stop0 <= start1 <= ... within [0, size]
    ordered = flat.size == 0 or (flat[0] >= 0 and flat[-1] <= size and np.all(np.diff(flat) >= 0))
    if ranges.ndim != 2 or ranges.shape[1] != 2 or not ordered:
        raise ValueError(
            f"weight_ranges must be sorted, disjoint [start, stop) pairs within [0, {size}], "
            f"shape (k, 2), got {weight_ranges!r}"
        )
    return ranges
