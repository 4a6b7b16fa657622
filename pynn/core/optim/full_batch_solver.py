"""What the full-batch solvers (pynn.LBFGS, pynn.CG) share: they take no steps of their own
(fit hands a scipy minimiser the loss and gradient over all training rows, in
pynn.core.full_batch_training), the L2 penalty that stands for weight decay, and the
records of their last run.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from pynn.core.checks import check_number
from pynn.core.optim.base import Optimizer


class FullBatchSolver(Optimizer):
    """The base of the full-batch solvers: `minimize(function, x0, max_iter, callback)` is
    each subclass's own; this class holds the penalty, the refusal of `step` and the run's
    records.

    Parameters
    ----------
    tol : float
        The subclass's gradient tolerance (>= 0).
    weight_decay : float
        The L2 penalty's factor (>= 0).
    weight_decay_scope : {"all", "weights"}
        The parameters the penalty applies to.

    Raises
    ------
    TypeError
        A hyperparameter of the wrong type.
    ValueError
        A hyperparameter out of range, or an unknown weight_decay_scope.
    """

    full_batch = True  # fit runs it over all rows (pynn.core.full_batch_training)
    value_scale = 1.0

    def __init__(self, tol: float, weight_decay: float, weight_decay_scope: str) -> None:
        super().__init__(1.0, weight_decay_scope)  # lr: unused (the line search steps)
        self.tol = check_number(tol, "tol")
        self.weight_decay = check_number(weight_decay, "weight_decay")
        self.status: int | None = None
        self.message: str | None = None
        self.n_iter = self.n_fun = 0
        self.fun: float | None = None

    def step(self) -> None:
        """Not a step rule: fit runs the solver over all rows.

        Raises
        ------
        TypeError
            Always.
        """
        name = type(self).__name__
        raise TypeError(f"{name} takes no steps of its own: pass it to fit(optimizer={name}())")

    def penalty(self, x: NDArray[np.float64], grad: NDArray[np.float64]) -> float:
        """0.5 * weight_decay * ||x||^2 over the decayed parameters, its gradient added
        into grad (0.0 and grad unchanged without weight decay).

        Parameters
        ----------
        x : numpy.ndarray of float64
            The flat parameters.
        grad : numpy.ndarray of float64
            The loss's gradient, changed in place.

        Returns
        -------
        float
        """
        if self.weight_decay == 0:
            return 0.0
        if self.decay_ranges is None:  # every parameter
            spans = [(0, x.size)]
        else:
            spans = [(int(a), int(b)) for a, b in self.decay_ranges]
        squares = 0.0
        for a, b in spans:
            part = x[a:b]
            squares += float(np.dot(part, part))
            grad[a:b] += self.weight_decay * part
        return 0.5 * self.weight_decay * squares

    def config(self) -> dict[str, Any]:
        raise NotImplementedError
