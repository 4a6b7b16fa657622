"""Truncated Newton with the exact Hessian-vector product: scipy.optimize.minimize(
method="trust-ncg") over the model's flat parameters, its `hessp` the full-batch
Hessian-vector product (pynn.core.full_batch_curvature) that fit hands it.
"""

from __future__ import annotations

from typing import Any

from pynn.core.checks import check_number
from pynn.core.optim.full_batch_solver import FullBatchSolver


class NewtonCG(FullBatchSolver):
    """Full-batch truncated Newton: scipy's trust-region Newton-CG ("trust-ncg") with the
    exact Hessian-vector product of the full-batch objective.

    Pass it to fit: `model.fit(X, y, loss=..., optimizer=pynn.NewtonCG(), epochs=100)`.
    Each "epoch" of fit is one trust-region iteration over all training rows (epochs is
    scipy's maxiter): Steihaug's conjugate gradients minimise the quadratic model
    g.p + 0.5 p.H p inside the trust region, one Hessian-vector product per inner
    iteration, and the step is taken when the loss falls by at least eta times what the
    model predicts (else the radius shrinks and the iteration keeps its point). The
    minimised function is LBFGS's: the mean loss over the training rows (weighted by
    sample_weight) plus 0.5 * weight_decay * ||theta||^2 over the decayed parameters,
    whose Hessian term weight_decay * v is added to every product.

    Why trust-ncg rather than trust-krylov: H of a network's loss is indefinite away from
    a minimum, and Steihaug's CG stops at the trust region's edge along the first
    direction of negative curvature, a cheap and safe step; it spends exactly one product
    per inner iteration and runs in plain NumPy. trust-krylov solves the same subproblem
    more exactly (more products per iteration, through the trlib extension), which pays
    when products are cheap relative to function evaluations; here one product costs
    about two evaluations.

    Cost per iteration: one loss-and-gradient evaluation (one pass over the training rows)
    plus one product (about two passes) per inner CG iteration, at most the number of
    parameters of them and usually a few.

    Parameters
    ----------
    tol : float, default 1e-5
        Stop when the objective's gradient has 2-norm below tol (scipy's gtol; note: the
        norm, where LBFGS's tol bounds the largest element).
    initial_trust_radius : float, default 1.0
        The first trust region's radius (> 0, below max_trust_radius).
    max_trust_radius : float, default 1000.0
        The largest radius.
    eta : float, default 0.15
        Accept a step when the actual decrease is more than eta times the predicted one
        (0 <= eta < 0.25).
    weight_decay : float, default 0.0
        The L2 penalty's factor (>= 0).
    weight_decay_scope : {"all", "weights"}, default "all"
        The parameters the penalty applies to.

    Attributes
    ----------
    status : int or None
        scipy's status after the last fit: 0 converged, 1 the iteration limit reached, 2
        the model predicted no decrease, 3 a linear-algebra error; None before any fit or
        after a fit stopped by a callback, early stopping or an error.
    message : str or None
        scipy's message to go with it.
    n_iter : int
        The iterations of the last fit (rejected steps included, as scipy counts them).
    n_fun : int
        The loss-and-gradient evaluations of the last fit (one pass each).
    n_products : int
        The Hessian-vector products of the last fit (about two passes each).
    fun : float or None
        The objective where the last fit left the model.

    Raises
    ------
    TypeError
        A hyperparameter of the wrong type.
    ValueError
        A hyperparameter out of range, or an unknown weight_decay_scope.
    """

    solver_name = "Newton-CG"
    uses_curvature = True

    def __init__(
        self,
        tol: float = 1e-5,
        initial_trust_radius: float = 1.0,
        max_trust_radius: float = 1000.0,
        eta: float = 0.15,
        weight_decay: float = 0.0,
        weight_decay_scope: str = "all",
    ) -> None:
        self._init_solver(weight_decay, weight_decay_scope)
        self.tol = check_number(tol, "tol")
        self.initial_trust_radius = check_number(initial_trust_radius, "initial_trust_radius")
        self.max_trust_radius = check_number(max_trust_radius, "max_trust_radius")
        self.eta = check_number(eta, "eta")
        if not 0 < self.initial_trust_radius < self.max_trust_radius:
            raise ValueError(
                f"initial_trust_radius must be > 0 and below max_trust_radius "
                f"({self.max_trust_radius}), got {self.initial_trust_radius}"
            )
        if not self.eta < 0.25:
            raise ValueError(f"eta must be in [0, 0.25), got {self.eta}")

    def state_size(self, n_params: int) -> int:
        """Elements scipy keeps: a few parameter-sized vectors (the point, gradient, the
        CG's residual, direction and step, the proposal's).

        Parameters
        ----------
        n_params : int
            The model's parameter count.

        Returns
        -------
        int
        """
        return 10 * n_params

    scipy_method = "trust-ncg"

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
            "maxiter": max_iter,
            "gtol": self.tol,
            "initial_trust_radius": self.initial_trust_radius,
            "max_trust_radius": self.max_trust_radius,
            "eta": self.eta,
        }

    def config(self) -> dict[str, Any]:
        return {
            "type": "NewtonCG",
            "tol": self.tol,
            "initial_trust_radius": self.initial_trust_radius,
            "max_trust_radius": self.max_trust_radius,
            "eta": self.eta,
            "weight_decay": self.weight_decay,
            "weight_decay_scope": self.weight_decay_scope,
        }
