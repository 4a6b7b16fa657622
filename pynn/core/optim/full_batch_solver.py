"""What the full-batch solvers (LBFGS, NewtonCG, NaturalGradient) share: they take no
steps of their own (fit runs them over all rows, pynn.core.full_batch_training), the
weight-decay penalty, its gradient and its Hessian product, and their counters.

The minimize protocol the loop calls: `minimize(function, x0, max_iter, callback)`, and
with `uses_curvature = True` also `curvature=`, a function (x, v, gauss_newton) -> the
float64 product of the objective's Hessian (or Gauss-Newton matrix) with v at x, penalty
included. It returns a scipy-like result with x, fun, nit, nfev, status and message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pynn.core.checks import check_number
from pynn.core.optim.base import Optimizer


class FullBatchSolver(Optimizer):
    """The base of the full-batch solvers: see the module docstring. Subclasses set
    `solver_name` (for messages), call `_init_solver(weight_decay, weight_decay_scope)`,
    and define minimize() and config().

    Attributes
    ----------
    status : int or None
        The solver's status after the last fit: 0 converged, 1 a limit reached, 2 stopped
        otherwise; None before any fit, or after a fit stopped by a callback, early
        stopping or an error.
    message : str or None
        The solver's message to go with it.
    n_iter : int
        The iterations of the last fit.
    n_fun : int
        The loss-and-gradient evaluations of the last fit (one pass over the training rows
        each).
    n_products : int
        The curvature products of the last fit (about two passes each).
    fun : float or None
        The objective (the loss plus the penalty) where the last fit left the model.
    """

    full_batch = True  # fit runs it over all rows (pynn.core.full_batch_training)
    uses_curvature = False  # minimize() takes curvature= (Hessian or Gauss-Newton products)
    solver_name = "a full-batch solver"
    limit_hint = "raise epochs (the most iterations)"  # the ConvergenceWarning's advice
    value_scale = 1.0
    n_products = 0  # a solver pickled before the counter existed

    def _init_solver(self, weight_decay: float, weight_decay_scope: str) -> None:
        super().__init__(1.0, weight_decay_scope)  # lr: unused by the line-search solvers
        self.weight_decay = check_number(weight_decay, "weight_decay")
        self.status: int | None = None
        self.message: str | None = None
        self.n_iter = self.n_fun = self.n_products = 0
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

    def _decayed_spans(self, size: int) -> list[tuple[int, int]]:
        if self.decay_ranges is None:  # every parameter
            return [(0, size)]
        return [(int(a), int(b)) for a, b in self.decay_ranges]

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
        squares = 0.0
        for a, b in self._decayed_spans(x.size):
            part = x[a:b]
            squares += float(np.dot(part, part))
            grad[a:b] += self.weight_decay * part
        return 0.5 * self.weight_decay * squares

    def penalty_product(self, v: NDArray[np.float64], product: NDArray[np.float64]) -> None:
        """The penalty's Hessian times v, weight_decay * v over the decayed parameters,
        added into product (unchanged without weight decay).

        Parameters
        ----------
        v : numpy.ndarray of float64
            The direction.
        product : numpy.ndarray of float64
            The loss's curvature product, changed in place.
        """
        if self.weight_decay == 0:
            return
        for a, b in self._decayed_spans(v.size):
            product[a:b] += self.weight_decay * v[a:b]

    def check_loss(self, loss: Any) -> None:
        """Refuse a loss the solver cannot minimise (ValueError naming it); fit calls it
        for a solver with uses_curvature. Every loss is accepted here.

        Parameters
        ----------
        loss : Loss
            fit's loss.
        """

    #: scipy.optimize.minimize's method, for the solvers scipy runs (they define
    #: scipy_options); a solver with a loop of its own overrides minimize instead
    scipy_method: str | None = None

    def scipy_options(self, max_iter: int) -> dict[str, Any]:
        """scipy's options for a run of at most max_iter iterations.

        Parameters
        ----------
        max_iter : int
            The most iterations (scipy's maxiter).

        Returns
        -------
        dict
        """
        raise NotImplementedError

    def minimize(
        self,
        function: Callable[[NDArray[np.float64]], tuple[float, NDArray[np.float64]]],
        x0: NDArray[np.float64],
        max_iter: int,
        callback: Callable[[Any], None],
        curvature: Callable[..., NDArray[np.float64]] | None = None,
    ) -> Any:
        """scipy.optimize.minimize(method=scipy_method) from x0 on function(x) -> (value,
        gradient), with hessp curvature(x, v, False) for a solver that uses curvature.

        Parameters
        ----------
        function : callable
            The objective and its float64 gradient.
        x0 : numpy.ndarray of float64
            The start.
        max_iter : int
            The most iterations (scipy's maxiter).
        callback : callable
            callback(intermediate_result) after each iteration (raise StopIteration to stop).
        curvature : callable or None, default None
            curvature(x, v, gauss_newton) -> the objective's Hessian times v at x (fit gives
            it to a solver with uses_curvature).

        Returns
        -------
        scipy.optimize.OptimizeResult

        Raises
        ------
        TypeError
            A solver that uses curvature without curvature.
        """
        import scipy.optimize  # late: scipy loads only when a solver runs

        extra = {}
        if self.uses_curvature:
            if curvature is None:
                raise TypeError(
                    f"{type(self).__name__} needs curvature=, the Hessian-vector product "
                    f"(fit gives it)"
                )
            extra["hessp"] = lambda x, v: curvature(x, v, False)
        return scipy.optimize.minimize(
            function,
            x0,
            method=self.scipy_method,
            jac=True,
            callback=callback,
            options=self.scipy_options(max_iter),
            **extra,
        )

    def config(self) -> dict[str, Any]:
        raise NotImplementedError
