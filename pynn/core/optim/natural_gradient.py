"""Natural-gradient steps: each solves (G + lambda I) d = g by conjugate gradients on the
full-batch Gauss-Newton products (pynn.core.full_batch_curvature) and steps along -d,
lambda adjusted by Levenberg-Marquardt's rule as in Martens' Hessian-free optimisation
(2010). For the exponential-family losses (softmax cross-entropy, sigmoid binary
cross-entropy, squared error as a Gaussian, Poisson) the Gauss-Newton matrix G is the
Fisher information of the model's predictive distribution, so -d is the damped natural
gradient. Its own minimize() follows the full-batch solvers' protocol (full_batch_solver).
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pynn.core.checks import check_count, check_number
from pynn.core.optim.full_batch_solver import FullBatchSolver

#: losses whose Gauss-Newton matrix is 0 (piecewise linear in the output)
FLAT_LOSSES = ("l1", "hinge")
#: lambda past this: no step lowers the loss however short, so the solver stops
MAX_DAMPING = 1e10


def conjugate_gradient(
    apply: Callable[[NDArray[np.float64]], NDArray[np.float64]],
    b: NDArray[np.float64],
    max_iter: int,
    rtol: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64], int]:
    """Solve A d = b for a symmetric positive definite A given by its product, from d = 0.

    Parameters
    ----------
    apply : callable
        apply(p) -> A p (float64).
    b : numpy.ndarray of float64
        The right-hand side.
    max_iter : int
        The most iterations (products).
    rtol : float
        Stop when the residual's norm is at most rtol * ||b||.

    Returns
    -------
    d : numpy.ndarray of float64
        The solution.
    Ad : numpy.ndarray of float64
        A d, from the recursive residual (b - r): no extra product.
    iterations : int
        The products spent.
    """
    d = np.zeros_like(b)
    r = b.copy()
    p = r.copy()
    rr = float(r @ r)
    stop = (rtol * float(np.sqrt(b @ b))) ** 2
    iterations = 0
    while iterations < max_iter and rr > stop:
        Ap = apply(p)
        iterations += 1
        curvature = float(p @ Ap)
        if not curvature > 0:  # not positive definite along p (rounding): keep what we have
            break
        alpha = rr / curvature
        d += alpha * p
        r -= alpha * Ap
        rr_new = float(r @ r)
        p = r + (rr_new / rr) * p
        rr = rr_new
    return d, b - r, iterations


class NaturalGradient(FullBatchSolver):
    """Full-batch natural gradient with Levenberg-Marquardt damping.

    Pass it to fit: `model.fit(X, y, loss=..., optimizer=pynn.NaturalGradient(), epochs=50)`.
    Each "epoch" of fit is one iteration over all training rows: at the parameters x with
    objective f and gradient g it solves (G + lambda I) d = g by at most cg_iters
    conjugate-gradient iterations on Gauss-Newton products (G v = J^T H_out J v, plus
    weight_decay * v over the decayed parameters), proposes x - lr * d and evaluates f
    there. With rho the ratio of the actual decrease to the one the undamped quadratic
    model f + g.s + 0.5 s.G s predicts, lambda *= 2/3 when rho > 3/4 and lambda *= 3/2
    when rho < 1/4 (Martens 2010); the step is taken only when f falls, else the
    iteration keeps its point with the larger lambda. The minimised function is LBFGS's
    (the mean loss plus the L2 penalty).

    Cost per iteration: one loss-and-gradient evaluation (one pass) and at most cg_iters
    Gauss-Newton products (about two passes each).

    Parameters
    ----------
    lr : float, default 1.0
        The step's factor along -d (> 0).
    damping : float, default 1.0
        The first lambda (> 0); later ones follow the rule above.
    cg_iters : int, default 10
        The most conjugate-gradient iterations (products) per step.
    cg_tol : float, default 1e-2
        Stop the inner solve when its residual is at most cg_tol * ||g||.
    tol : float, default 1e-5
        Stop (converged) when the objective's gradient has 2-norm at most tol.
    weight_decay : float, default 0.0
        The L2 penalty's factor (>= 0).
    weight_decay_scope : {"all", "weights"}, default "all"
        The parameters the penalty applies to.

    Attributes
    ----------
    status : int or None
        0 converged, 1 the iteration limit reached, 2 lambda grew past 1e10 (no step
        lowers the loss); None before any fit or after a stopped one.
    message : str or None
        Its message.
    n_iter, n_fun, n_products : int
        The iterations (rejected steps included), evaluations and products of the last fit.
    fun : float or None
        The objective where the last fit left the model.
    damping_ : float or None
        lambda at the end of the last fit.

    Raises
    ------
    TypeError
        A hyperparameter of the wrong type.
    ValueError
        A hyperparameter out of range; at fit, the loss l1 or hinge, whose Gauss-Newton
        matrix is 0.
    """

    solver_name = "natural gradient"
    uses_curvature = True

    def __init__(
        self,
        lr: float = 1.0,
        damping: float = 1.0,
        cg_iters: int = 10,
        cg_tol: float = 1e-2,
        tol: float = 1e-5,
        weight_decay: float = 0.0,
        weight_decay_scope: str = "all",
    ) -> None:
        self._init_solver(weight_decay, weight_decay_scope)
        self.lr = self.initial_lr = check_number(lr, "lr")
        self.damping = check_number(damping, "damping")
        for name in ("lr", "damping"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        self.cg_iters = check_count(cg_iters, "cg_iters", 1)
        self.cg_tol = check_number(cg_tol, "cg_tol")
        self.tol = check_number(tol, "tol")
        self.damping_: float | None = None

    def check_loss(self, loss: Any) -> None:
        """Refuse l1 and hinge: piecewise linear in the output, their Gauss-Newton
        matrix is 0 and the step would be g / lambda, plain gradient descent.

        Parameters
        ----------
        loss : Loss
            fit's loss.

        Raises
        ------
        ValueError
            The loss is l1 or hinge.
        """
        name = getattr(loss, "name", None)
        if name in FLAT_LOSSES:
            raise ValueError(
                f"loss {name!r} does not work with NaturalGradient: its Gauss-Newton "
                f"(Fisher) matrix is 0 (the loss is piecewise linear in the output); use a "
                f"smooth loss (mse, softmax or sigmoid cross-entropy, poisson), or NewtonCG, "
                f"LBFGS, SGD or Adam"
            )

    def state_size(self, n_params: int) -> int:
        """Elements kept: the point, gradient, trial point and gradient, and the CG's
        solution, residual, direction and product.

        Parameters
        ----------
        n_params : int
            The model's parameter count.

        Returns
        -------
        int
        """
        return 9 * n_params

    def minimize(
        self,
        function: Callable[[NDArray[np.float64]], tuple[float, NDArray[np.float64]]],
        x0: NDArray[np.float64],
        max_iter: int,
        callback: Callable[[Any], None],
        curvature: Callable[..., NDArray[np.float64]] | None = None,
    ) -> SimpleNamespace:
        """Natural-gradient iterations from x0 (see the class docstring).

        Parameters
        ----------
        function : callable
            The objective and its float64 gradient.
        x0 : numpy.ndarray of float64
            The start.
        max_iter : int
            The most iterations.
        callback : callable
            callback(namespace with x and fun) after each iteration; StopIteration stops.
        curvature : callable
            curvature(x, v, gauss_newton) -> the objective's Gauss-Newton matrix times v.

        Returns
        -------
        types.SimpleNamespace
            scipy's result fields: x, fun, jac, nit, nfev, nhev (products), status,
            message, success.

        Raises
        ------
        TypeError
            curvature is not given.
        """
        if curvature is None:
            raise TypeError("NaturalGradient needs curvature=, the Gauss-Newton product")
        x = np.array(x0, np.float64)
        value, grad = function(x)
        nfev, nhev, nit, damping = 1, 0, 0, self.damping
        status, message = 1, "the iteration limit reached"
        while True:
            if float(np.sqrt(grad @ grad)) <= self.tol:
                status, message = 0, "the gradient's norm is at most tol"
                break
            if nit >= max_iter:
                break
            if damping > MAX_DAMPING:
                status = 2
                message = f"the damping grew past {MAX_DAMPING:g}: no step lowers the loss"
                break
            trial, trial_value, trial_grad, predicted, products = self._trial(
                function, curvature, x, grad, damping
            )
            nfev, nhev = nfev + 1, nhev + products
            actual = trial_value - value
            rho = actual / predicted if predicted < 0 else -np.inf
            if rho > 0.75:
                damping *= 2 / 3
            elif rho < 0.25:
                damping *= 3 / 2
            if trial_value < value:  # steps that raise the loss are rejected
                x, value, grad = trial, trial_value, trial_grad
            nit += 1
            try:
                callback(SimpleNamespace(x=x, fun=value))
            except StopIteration:
                status, message = 99, "stopped by the callback"
                break
        self.damping_ = damping
        return SimpleNamespace(
            x=x,
            fun=value,
            jac=grad,
            nit=nit,
            nfev=nfev,
            nhev=nhev,
            status=status,
            message=message,
            success=status == 0,
        )

    def _trial(self, function, curvature, x, grad, damping):
        """The trial point x - lr * d, d from CG on (G + damping I) d = grad: (trial, its
        value, its gradient, the undamped model's predicted change, the products spent)."""

        def damped(v):
            return curvature(x, v, True) + damping * v

        d, damped_d, products = conjugate_gradient(damped, grad, self.cg_iters, self.cg_tol)
        step = -self.lr * d
        # the undamped model's change g.s + 0.5 s.G s, G d = (G + damping I) d - damping d
        predicted = float(grad @ step) + 0.5 * self.lr**2 * float(d @ (damped_d - damping * d))
        trial = x + step
        trial_value, trial_grad = function(trial)
        return trial, trial_value, trial_grad, predicted, products

    def config(self) -> dict[str, Any]:
        return {
            "type": "NaturalGradient",
            "lr": self.lr,
            "damping": self.damping,
            "cg_iters": self.cg_iters,
            "cg_tol": self.cg_tol,
            "tol": self.tol,
            "weight_decay": self.weight_decay,
            "weight_decay_scope": self.weight_decay_scope,
        }
