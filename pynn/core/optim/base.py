"""What the optimizers share: hyperparameter checks and binding to a model's flat buffers."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from pynn.core.checks import check_number

if TYPE_CHECKING:
    from types import ModuleType


class Optimizer:
    """An update rule over one flat parameter buffer and its flat gradient.

    `bind` gives it the buffers (a model does this in `fit`) and creates its flat state;
    each `step` is one kernel call over the whole model. `lr` may be changed between steps
    (the schedulers do).

    Parameters
    ----------
    lr : float
        The learning rate (finite, >= 0); a fresh fit starts from it.

    Raises
    ------
    TypeError
        lr is not a number.
    ValueError
        lr is negative or not finite.
    """

    state_names: tuple[str, ...] = ()
    params: NDArray[Any] | None
    grads: NDArray[Any]
    kernels: ModuleType
    state: dict[str, NDArray[Any]]
    step_count: int

    def __init__(self, lr: float) -> None:
        self.lr = check_number(lr, "lr")
        self.initial_lr = self.lr  # what a fresh fit starts from, as torch's 'initial_lr'
        self.params = None

    def bind(self, params: NDArray[Any], grads: NDArray[Any], kernels: ModuleType) -> None:
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
        """
        self.params, self.grads, self.kernels = params, grads, kernels
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
