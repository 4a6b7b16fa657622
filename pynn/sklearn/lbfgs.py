"""solver="lbfgs" for pynn.sklearn's estimators: scikit-learn's _fit_lbfgs on pynn's
network (pynn.LBFGS over all rows).

scikit-learn minimises, with scipy's L-BFGS-B (maxiter=max_iter, maxfun=max_fun,
gtol=tol), the mean loss over the rows plus 0.5 * alpha * ||W||^2 / n (n the rows, or
the sample weights' sum), over the weights only, not the intercepts; the gradient adds
alpha * W / n. pynn.LBFGS with weight_decay = alpha / n over the weights is that
function. The classifier's loss value is scikit-learn's clipped log-loss (the estimator's
logged bounds), as the line search sees it there.
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from pynn.core.errors import ConvergenceWarning as PynnConvergenceWarning
from pynn.core.optim import LBFGS

PREPROCESSING_URL = "https://scikit-learn.org/stable/modules/preprocessing.html"


def lbfgs_optimizer(estimator, n_weight):
    """The LBFGS of scikit-learn's run: its limits and alpha / n as weight decay."""
    return LBFGS(
        max_fun=estimator.max_fun,
        tol=estimator.tol,
        weight_decay=estimator.alpha / n_weight,
        weight_decay_scope="weights",
    )


def train_lbfgs(estimator, model, train, loss, first):
    """Train model on train = (X, y, weights or None) with L-BFGS, as scikit-learn's
    solver="lbfgs": sets n_iter_, loss_ and loss_curve_ (one objective per iteration, a
    pynn addition) and warns as scikit-learn does when it did not converge."""
    X, y, weights = train
    # every evaluation reads all rows: cast X to the network's dtype once, not per block
    X = np.ascontiguousarray(X, dtype=model.dtype)
    n_weight = X.shape[0] if weights is None else float(np.sum(weights))
    optimizer = lbfgs_optimizer(estimator, n_weight)
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
        _warn(optimizer, estimator.n_iter_, estimator.max_iter)


def _warn(optimizer, n_iter, max_iter):
    """scikit-learn's ConvergenceWarning (sklearn.utils.optimize._check_optimize_result)."""
    message = (
        f"lbfgs failed to converge after {n_iter} iteration(s) "
        f"(status={optimizer.status}):\n{optimizer.message}\n"
    )
    if n_iter == max_iter:
        message += (
            f"\nIncrease the number of iterations to improve the convergence "
            f"(max_iter={max_iter})."
        )
    message += f"\nYou might also want to scale the data as shown in:\n    {PREPROCESSING_URL}"
    warnings.warn(message, ConvergenceWarning, stacklevel=5)  # fit's caller
