"""Stochastic gradient descent, as torch.optim.SGD."""
from pynn.checks import check_number
from pynn.optim.base import Optimizer


class SGD(Optimizer):
    """SGD with optional momentum (heavy ball or Nesterov), dampening and L2 weight decay.

    Per-sample (online) updates are fit(batch_size=1), full-batch updates
    fit(batch_size=None); the update rule is torch.optim.SGD's (docs/kernels.md).
    """

    def __init__(self, lr=1e-3, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
        super().__init__(lr)
        # torch accepts any momentum >= 0, but from 1 on the step grows without bound
        self.momentum = check_number(momentum, "momentum", 0.0, 1.0, high_open=True)
        self.dampening = check_number(dampening, "dampening", 0.0, 1.0)
        self.weight_decay = check_number(weight_decay, "weight_decay")
        if not isinstance(nesterov, bool):
            raise TypeError(f"nesterov must be True or False, got {nesterov!r}")
        if nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError("nesterov momentum needs momentum > 0 and dampening = 0")
        self.nesterov = nesterov

    @property
    def state_names(self):
        return ("momentum_buffer",) if self.momentum != 0 else ()

    def _update(self):
        self.kernels.sgd_update(self.params, self.grads, self.state.get("momentum_buffer"),
                                step=self.step_count, lr=self.lr, momentum=self.momentum,
                                dampening=self.dampening, nesterov=self.nesterov,
                                weight_decay=self.weight_decay)

    def config(self):
        return {"type": "SGD", "lr": self.lr, "momentum": self.momentum,
                "dampening": self.dampening, "nesterov": self.nesterov,
                "weight_decay": self.weight_decay}
