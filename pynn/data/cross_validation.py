"""Cross-validation: cross_validate fits a fresh model per fold and scores it on the fold
left out (pynn.data.model_selection describes the recipe).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from pynn.data.folds import fold_indices
from pynn.data.parallel_fits import check_search_arguments, run_fits
from pynn.data.scorers import get_scorer

if TYPE_CHECKING:
    from pynn.core.random_state import RandomState
    from pynn.data.scorers import ScorerLike


def cross_validate(
    make_model: Callable[[], Any],
    X: Any,
    y: Any,
    cv: int | Any = 5,
    scoring: str | ScorerLike | None = None,
    fit_params: dict[str, Any] | None = None,
    n_jobs: int | None = None,
    return_train_score: bool = False,
    random_state: RandomState = None,
) -> dict[str, NDArray[np.float64]]:
    """Fit a fresh model per fold and score it on the fold left out.

    make_model() returns a new unfitted model; each fold calls
    `model.fit(X_train, y_train, **fit_params)` then scores on the test fold.
    cv: an int number of folds (StratifiedKFold when y holds 1-D integer, bool or string
    labels, KFold for float or 2-D y: pass cv=KFold(k) for integer-valued regression
    targets), a splitter with split(X, y), or an iterable of (train, test) index pairs.
    random_state shuffles the folds of an int cv (None: folds in order).
    scoring: None (the model's own score: accuracy or R² for pynn models), a name of
    pynn.metrics.METRICS ("accuracy", "r2": higher is better; "zero_one_loss",
    "mean_squared_error", "log_loss": losses, reported as they are, so LOWER is better), or
    a callable scorer(model, X, y) -> float.
    n_jobs: None or 1 runs the folds one after another in this process; more run them in
    joblib workers (-1: one per core), each fitting on cores // workers of pynn's threads.
    An error in any fold is raised.

    Returns {"fit_time", "score_time", "test_score"(, "train_score")}: arrays with one
    value per fold, in seconds for the times.

    Parameters
    ----------
    make_model : callable
        make_model() returns a new unfitted model (a pynn.Sequential, or any object with
        fit, predict and score).
    X : array_like
        The samples (any container pynn.data can take rows of).
    y : array_like
        The targets, one per sample.
    cv : int, splitter or iterable of (train, test), default 5
        The folds, as above.
    scoring : str, callable or None, default None
        As above.
    fit_params : dict or None, default None
        Keyword arguments for every model.fit (copied for each fit).
    n_jobs : int or None, default None
        As above.
    return_train_score : bool, default False
        Also score each model on its training rows ("train_score").
    random_state : None, int or numpy.random.Generator, default None
        Shuffles the folds of an int cv.

    Returns
    -------
    dict of str to numpy.ndarray
        One float64 value per fold for each key.

    Raises
    ------
    TypeError
        A make_model that is not callable, a fit_params that is not a dict, an n_jobs
        that is not an int, or a bad cv or scoring.
    ValueError
        No y, X and y of different lengths, n_jobs=0, bad folds or an unknown metric.
    """
    n, fit_params = check_search_arguments(make_model, X, y, fit_params, n_jobs)
    if not isinstance(return_train_score, (bool, np.bool_)):
        raise TypeError(f"return_train_score must be True or False, got {return_train_score!r}")
    scorer, _, _ = get_scorer(scoring)
    folds = fold_indices(cv, X, y, n, random_state)
    results = run_fits(
        make_model, [{}], X, y, folds, scorer, fit_params, n_jobs, bool(return_train_score)
    )
    keys = ["fit_time", "score_time", "test_score"] + (
        ["train_score"] if return_train_score else []
    )
    return {key: np.array([r[key] for r in results], dtype=np.float64) for key in keys}
