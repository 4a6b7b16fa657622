"""Nonlinear conjugate gradients, a full-batch solver: scipy.optimize.minimize(method="CG")
(Polak-Ribiere+ directions, a strong-Wolfe line search) over the model's flat parameters.

The notes' "conjugate gradients" (004, "Second Order Methods"): each direction is the
negative gradient plus a multiple of the previous direction, which on a quadratic bowl
makes the directions conjugate and reaches its minimum without forming the Hessian. As
for LBFGS, fit (pynn.core.full_batch_training) hands scipy the loss and gradient over all
training rows (pynn.core.full_batch) and scipy's line search picks each step.
"""

from __future__ import annotations

from typing import Any

from pynn.core.checks import check_number
from pynn.core.optim.full_batch_solver import FullBatchSolver

#: scipy's CG defaults for the strong-Wolfe line search's two constants
SCIPY_C1, SCIPY_C2 = 1e-4, 0.4


class CG(FullBatchSolver):
    """Full-batch nonlinear conjugate gradients through
    scipy.optimize.minimize(method="CG").

    Pass it to fit: `model.fit(X, y, loss=..., optimizer=pynn.CG(), epochs=500)`. Each
    "epoch" of fit is then one CG iteration (one line search) over all training rows
    (epochs is scipy's maxiter); batch_size and shuffle are not read. The minimised
    function is LBFGS's: the mean loss over the training rows (weighted by sample_weight)
    plus 0.5 * weight_decay * ||theta||^2 over the parameters weight_decay_scope names.
    scipy's CG has no limit on the evaluations: an iteration's line search takes as many
    as it needs (a few, usually).

    Parameters
    ----------
    tol : float, default 1e-5
        Stop when the largest gradient element is at most tol (scipy's gtol, with its
        default norm, the largest magnitude).
    c1 : float, default 1e-4
        The line search's sufficient-decrease (Armijo) constant (scipy's c1).
    c2 : float, default 0.4
        The line search's curvature constant (scipy's c2); 0 < c1 < c2 < 1.
    weight_decay : float, default 0.0
        The L2 penalty's factor (>= 0).
    weight_decay_scope : {"all", "weights"}, default "all"
        The parameters the penalty applies to: all (PyTorch's), or the weight matrices
        only (scikit-learn's alpha).

    Attributes
    ----------
    status : int or None
        scipy's status after the last fit: 0 converged, 1 the iteration limit reached, 2
        the line search failed (precision loss), 3 a NaN; None before any fit, or after a
        fit stopped by a callback, early stopping or an error.
    message : str or None
        scipy's message to go with it.
    n_iter : int
        The iterations of the last fit.
    n_fun : int
        The loss-and-gradient evaluations of the last fit (scipy's nfev).
    fun : float or None
        The objective (the loss plus the penalty) where the last fit left the model.
    value_scale : float
        The factor of the loss's value, not of its gradient, in the objective: 1.0 (see
        LBFGS).

    Raises
    ------
    TypeError
        A hyperparameter of the wrong type.
    ValueError
        A hyperparameter out of range (c1 and c2 must satisfy 0 < c1 < c2 < 1), or an
        unknown weight_decay_scope.
    """

    solver_name = "CG"

    def __init__(
        self,
        tol: float = 1e-5,
        c1: float = SCIPY_C1,
        c2: float = SCIPY_C2,
        weight_decay: float = 0.0,
        weight_decay_scope: str = "all",
    ) -> None:
        self._init_solver(weight_decay, weight_decay_scope)
        self.tol = check_number(tol, "tol")
        self.c1 = check_number(c1, "c1", 0.0, 1.0, high_open=True)
        self.c2 = check_number(c2, "c2", 0.0, 1.0, high_open=True)
        if not 0 < self.c1 < self.c2:
            raise ValueError(f"c1 and c2 must satisfy 0 < c1 < c2 < 1, got c1={c1}, c2={c2}")

    def state_size(self, n_params: int) -> int:
        """Elements scipy keeps: the iterate, gradient and direction, and a few more.

        Parameters
        ----------
        n_params : int
            The model's parameter count.

        Returns
        -------
        int
        """
        return 6 * n_params

    scipy_method = "CG"

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
        return {"maxiter": max_iter, "gtol": self.tol, "c1": self.c1, "c2": self.c2}

    def config(self) -> dict[str, Any]:
        return {
            "type": "CG",
            "tol": self.tol,
            "c1": self.c1,
            "c2": self.c2,
            "weight_decay": self.weight_decay,
            "weight_decay_scope": self.weight_decay_scope,
        }
