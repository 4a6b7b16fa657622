"""The full-batch solvers of pynn.sklearn's estimators: solver="lbfgs" (scikit-learn's
_fit_lbfgs on pynn's network, pynn.LBFGS) and pynn's own solver="cg" (pynn.CG),
"newton-cg" (pynn.NewtonCG) and "natural" (pynn.NaturalGradient), all run over all rows
as scikit-learn runs L-BFGS.

scikit-learn minimises, with scipy's L-BFGS-B (maxiter=max_iter, maxfun=max_fun,
gtol=tol), the mean loss over the rows plus 0.5 * alpha * ||W||^2 / n (n the rows, or
the sample weights' sum), over the weights only, not the intercepts; the gradient adds
alpha * W / n. A pynn full-batch solver with weight_decay = alpha / n over the weights is
that function. The classifier's loss value is scikit-learn's clipped log-loss (the
estimator's logged bounds), as the line search sees it there. Every solver here gets the
same function and the same meanings of max_iter (iterations), tol (its gradient
tolerance), n_iter_, loss_curve_ and the ConvergenceWarning; max_fun reaches those whose
class takes it.
"""

import inspect
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from pynn.core.errors import ConvergenceWarning as PynnConvergenceWarning
from pynn.core.optim import CG, LBFGS, NaturalGradient, NewtonCG

PREPROCESSING_URL = "https://scikit-learn.org/stable/modules/preprocessing.html"

#: solver name -> pynn's full-batch optimizer class: a new full-batch solver is one entry
FULL_BATCH_SOLVERS = {
    "lbfgs": LBFGS,
    "cg": CG,
    "newton-cg": NewtonCG,
    "natural": NaturalGradient,
}


def full_batch_optimizer(estimator, n_weight):
    """The estimator's solver as scikit-learn's run sets it: tol, alpha / n as weight
    decay over the weights, and max_fun when the solver has an evaluation limit."""
    solver_class = FULL_BATCH_SOLVERS[estimator.solver]
    options = dict(
        tol=estimator.tol, weight_decay=estimator.alpha / n_weight, weight_decay_scope="weights"
    )
    if "max_fun" in inspect.signature(solver_class).parameters:
        options["max_fun"] = estimator.max_fun
    return solver_class(**options)


def train_full_batch(estimator, model, train, loss, first):
    """Train model on train = (X, y, weights or None) with the estimator's full-batch
    solver, as scikit-learn's solver="lbfgs": sets n_iter_, loss_ and loss_curve_ (one
    objective per iteration, a pynn addition for lbfgs) and warns as scikit-learn does
    when it did not converge."""
    X, y, weights = train
    # every evaluation reads all rows: cast X to the network's dtype once, not per block
    X = np.ascontiguousarray(X, dtype=model.dtype)
    n_weight = X.shape[0] if weights is None else float(np.sum(weights))
    optimizer = full_batch_optimizer(estimator, n_weight)
    # scikit-learn's multi-output squared error: the value averages over the outputs, the
    # gradient sums them; its line search sees that pair
    optimizer.value_scale = estimator._loss_scale(y)
    curve = estimator.loss_curve_

    def record(model, iteration, logs):
        curve.append(logs["objective"])
        if estimator.verbose:
            print(f"Iteration {iteration + 1}, loss = {logs['objective']:.8f}")
        return False

    options = dict(
        optimizer=optimizer,
        epochs=estimator.max_iter,
        callback=record,
        sample_weight=weights,
        batch_size=None,
        shuffle=False,
    )
    if first:  # a new network: keep its initial parameters; set the loss and classes
        options.update(loss=loss, classes=estimator._pynn_classes())
    with warnings.catch_warnings():  # scikit-learn's warning is given below instead
        warnings.simplefilter("ignore", PynnConvergenceWarning)
        model.partial_fit(X, y, **options)
    estimator.n_iter_ = min(optimizer.n_iter, estimator.max_iter)
    estimator.loss_ = optimizer.fun
    if optimizer.status:
        _warn(estimator.solver, optimizer, estimator.n_iter_, estimator.max_iter)


def _warn(solver, optimizer, n_iter, max_iter):
    """scikit-learn's ConvergenceWarning (sklearn.utils.optimize._check_optimize_result),
    naming the solver."""
    message = (
        f"{solver} failed to converge after {n_iter} iteration(s) "
        f"(status={optimizer.status}):\n{optimizer.message}\n"
    )
    if n_iter == max_iter:
        message += (
            f"\nIncrease the number of iterations to improve the convergence "
            f"(max_iter={max_iter})."
        )
    message += f"\nYou might also want to scale the data as shown in:\n    {PREPROCESSING_URL}"
    warnings.warn(message, ConvergenceWarning, stacklevel=5)  # fit's caller
