"""What the optimizers share: hyperparameter checks and binding to a model's flat buffers."""
import importlib

import numpy as np

from pynn.checks import check_number


class Optimizer:
    """An update rule over one flat parameter buffer and its flat gradient.

    `bind` gives it the buffers (a model does this in `fit`) and creates its flat state;
    each `step` is one kernel call over the whole model. `lr` may be changed between steps
    (the schedulers do).
    """

    state_names = ()

    def __init__(self, lr):
        self.lr = check_number(lr, "lr")
        self.initial_lr = self.lr  # what a fresh fit starts from, as torch's 'initial_lr'
        self.params = None

    def bind(self, params, grads, kernels):
        """Use these flat buffers; the state starts at zero, the step count at 0 and the
        learning rate at the one the optimizer was made with (a schedule may have lowered it)."""
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

    def step(self):
        if self.params is None:
            raise RuntimeError("this optimizer is not bound to parameters: pass it to fit()")
        self.step_count += 1
        self._update()

    def zero_grad(self):
        self.grads.fill(0)

    def state_size(self, n_params):
        """Elements of state this optimizer keeps for n_params parameters."""
        return len(self.state_names) * n_params

    def config(self):
        raise NotImplementedError

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items() if k != "type")
        return f"{type(self).__name__}({args})"
