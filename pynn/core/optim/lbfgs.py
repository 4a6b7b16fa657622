"""L-BFGS, a full-batch quasi-Newton solver: scipy.optimize.minimize(method="L-BFGS-B")
over the model's flat parameters, as scikit-learn's MLP solver="lbfgs" runs it.

It is no step rule: fit (pynn.core.full_batch_training) hands scipy the loss and gradient
over all training rows (pynn.core.full_batch) and scipy's line search picks each step.
"""

from __future__ import annotations

from typing import Any

from pynn.core.checks import check_count, check_number
from pynn.core.optim.full_batch_solver import FullBatchSolver

#: scipy's L-BFGS-B default for ftol (the relative reduction of the loss that stops it)
SCIPY_FTOL = 2.220446049250313e-09


class LBFGS(FullBatchSolver):
    """Full-batch L-BFGS through scipy.optimize.minimize(method="L-BFGS-B").

    Pass it to fit: `model.fit(X, y, loss=..., optimizer=pynn.LBFGS(), epochs=200)`.
    Each "epoch" of fit is then one L-BFGS iteration over all training rows (epochs is
    scipy's maxiter); batch_size and shuffle are not read. The minimised function is the
    mean loss over the training rows (weighted by sample_weight) plus
    0.5 * weight_decay * ||theta||^2 over the parameters weight_decay_scope names, whose
    gradient is weight_decay * theta: the L2 penalty whose gradient is SGD's weight decay.

    Parameters
    ----------
    max_fun : int, default 15000
        The most loss-and-gradient evaluations (scipy's maxfun; one evaluation is one pass
        over all training rows).
    tol : float, default 1e-5
        Stop when the largest gradient element is at most tol (scipy's gtol).
    ftol : float, default 2.22e-9
        Stop when the loss falls by less than ftol * max(|loss|, 1) in an iteration
        (scipy's ftol and default).
    history_size : int, default 10
        The pairs of past steps and gradient changes kept (scipy's maxcor).
    max_line_search : int, default 20
        The most evaluations of one line search (scipy's maxls).
    weight_decay : float, default 0.0
        The L2 penalty's factor (>= 0).
    weight_decay_scope : {"all", "weights"}, default "all"
        The parameters the penalty applies to: all (PyTorch's), or the weight matrices
        only (scikit-learn's alpha).

    Attributes
    ----------
    status : int or None
        scipy's status after the last fit: 0 converged, 1 the iteration or evaluation limit
        reached, 2 stopped otherwise (a failed line search); None before any fit, or after
        a fit stopped by a callback, early stopping or an error.
    message : str or None
        scipy's message to go with it.
    n_iter : int
        The iterations of the last fit.
    n_fun : int
        The loss-and-gradient evaluations of the last fit.
    n_products : int
        Always 0: L-BFGS uses no curvature products.
    fun : float or None
        The objective (the loss plus the penalty) where the last fit left the model.
    value_scale : float
        The factor of the loss's value, not of its gradient, in the objective: 1.0. For
        scikit-learn's multi-output squared error (whose value averages over the outputs
        and whose gradient sums them), pynn.sklearn sets 1 / n_outputs to follow its run.

    Raises
    ------
    TypeError
        A hyperparameter of the wrong type.
    ValueError
        A hyperparameter out of range, or an unknown weight_decay_scope.
    """

    solver_name = "L-BFGS"
    limit_hint = "raise epochs (the most iterations) or max_fun"

    def __init__(
        self,
        max_fun: int = 15000,
        tol: float = 1e-5,
        ftol: float = SCIPY_FTOL,
        history_size: int = 10,
        max_line_search: int = 20,
        weight_decay: float = 0.0,
        weight_decay_scope: str = "all",
    ) -> None:
        self._init_solver(weight_decay, weight_decay_scope)
        self.max_fun = check_count(max_fun, "max_fun", 1)
        self.tol = check_number(tol, "tol")
        self.ftol = check_number(ftol, "ftol")
        self.history_size = check_count(history_size, "history_size", 1)
        self.max_line_search = check_count(max_line_search, "max_line_search", 1)

    def state_size(self, n_params: int) -> int:
        """Elements scipy keeps: history_size pairs of parameter-sized vectors, and a few.

        Parameters
        ----------
        n_params : int
            The model's parameter count.

        Returns
        -------
        int
        """
        return (2 * self.history_size + 5) * n_params

    scipy_method = "L-BFGS-B"

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
        return {
            "maxfun": self.max_fun,
            "maxiter": max_iter,
            "gtol": self.tol,
            "ftol": self.ftol,
            "maxcor": self.history_size,
            "maxls": self.max_line_search,
        }

    def config(self) -> dict[str, Any]:
        return {
            "type": "LBFGS",
            "max_fun": self.max_fun,
            "tol": self.tol,
            "ftol": self.ftol,
            "history_size": self.history_size,
            "max_line_search": self.max_line_search,
            "weight_decay": self.weight_decay,
            "weight_decay_scope": self.weight_decay_scope,
        }
