"""Fitting for model selection: one fresh model fitted and scored per (setting, fold), in
joblib workers (fit_and_score, run_fits), each on its share of pynn's threads, and the
arguments cross_validate and grid_search share, checked (check_search_arguments).
"""

from __future__ import annotations

import contextlib
import copy
import numbers
import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from pynn import _kernels
from pynn.data._arrays import check_same_length, take_rows

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from pynn.data.scorers import ScorerLike


def limited_threads(n: int | None) -> AbstractContextManager[Any]:
    """pynn's kernels use at most n threads inside the block, in this thread only
    (unchanged for n=None): concurrent fits of the threading backend do not disturb each
    other.

    Parameters
    ----------
    n : int or None
        The thread count (None: unchanged).

    Returns
    -------
    context manager
        pynn.threads(n), or a no-op.
    """
    return contextlib.nullcontext() if n is None else _kernels.threads(n)


def usable_cores() -> int:
    """The cores this process may run on.

    Returns
    -------
    int
        The size of its CPU affinity set where the system has one, else the CPU count.
    """
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _fresh_copy(fit_params):
    """A deep copy of fit_params: a shared optimizer or early stopping starts fresh in
    every fit, whether or not the fits share a process."""
    return copy.deepcopy(fit_params)


def fit_and_score(
    make_model: Callable[..., Any],
    params: Mapping[str, Any],
    X: Any,
    y: Any,
    train: NDArray[np.intp],
    test: NDArray[np.intp],
    scorer: ScorerLike,
    fit_params: dict[str, Any],
    return_train: bool,
    workers: int,
) -> dict[str, float | None]:
    """Build make_model(**params), fit it on the train rows, score it on the test rows.

    Runs in a joblib worker (a module-level function, so it pickles). With workers > 1 the
    fit runs on max(1, cores // workers) of pynn's threads. fit_params are copied, so that
    a stateful argument (an optimizer, a scheduler, an EarlyStopping) starts fresh in every
    fit, whether the fits share a process or not.

    Parameters
    ----------
    make_model : callable
        make_model(**params) returns a new unfitted model.
    params : mapping of str to object
        The setting's keyword arguments.
    X, y : array_like
        All the samples and targets.
    train, test : numpy.ndarray of int
        The fold's row indices.
    scorer : callable
        scorer(model, X, y) -> float.
    fit_params : dict
        Keyword arguments for model.fit (deep-copied here).
    return_train : bool
        Also score on the training rows.
    workers : int
        The number of joblib workers running at once.

    Returns
    -------
    dict
        "fit_time", "score_time" (seconds), "test_score" and "train_score" (None unless
        return_train).

    Raises
    ------
    TypeError
        make_model returned something without fit.
    """
    fit_params = _fresh_copy(fit_params)
    threads = None if workers <= 1 else max(1, usable_cores() // workers)
    with limited_threads(threads):
        model = make_model(**params)
        if not callable(getattr(model, "fit", None)):
            raise TypeError(
                f"make_model must return a model with fit(X, y), got {type(model).__name__}"
            )
        X_train, y_train = take_rows(X, train), take_rows(y, train)
        start = time.perf_counter()
        model.fit(X_train, y_train, **fit_params)
        fit_time = time.perf_counter() - start
        start = time.perf_counter()
        test_score = scorer(model, take_rows(X, test), take_rows(y, test))
        score_time = time.perf_counter() - start
        train_score = scorer(model, X_train, y_train) if return_train else None
    return {
        "fit_time": fit_time,
        "score_time": score_time,
        "test_score": float(test_score),
        "train_score": None if train_score is None else float(train_score),
    }


def check_search_arguments(
    make_model: Any, X: Any, y: Any, fit_params: Any, n_jobs: Any
) -> tuple[int, dict[str, Any]]:
    """The arguments cross_validate and grid_search share, checked.

    Parameters
    ----------
    make_model : callable
        Returns a new unfitted model.
    X, y : array_like
        The samples and targets (y is required).
    fit_params : dict or None
        Keyword arguments for every model.fit.
    n_jobs : int or None
        The joblib workers (not 0).

    Returns
    -------
    n : int
        The number of samples.
    fit_params : dict
        fit_params, {} for None.

    Raises
    ------
    TypeError
        make_model not callable, fit_params not a dict, n_jobs not None or an int.
    ValueError
        No y, X and y of different lengths, or n_jobs=0.
    """
    if not callable(make_model):
        raise TypeError(f"make_model must be a callable returning a new model, got {make_model!r}")
    if y is None:
        raise ValueError("y is required")
    n = check_same_length([X, y], ["X", "y"])
    if fit_params is None:
        fit_params = {}
    if not isinstance(fit_params, dict):
        raise TypeError(
            f"fit_params must be a dict of keyword arguments for fit, got {fit_params!r}"
        )
    if n_jobs is not None and (
        isinstance(n_jobs, (bool, np.bool_)) or not isinstance(n_jobs, numbers.Integral)
    ):
        raise TypeError(f"n_jobs must be None or an int, got {n_jobs!r}")
    if n_jobs == 0:
        raise ValueError("n_jobs must not be 0: None or 1 runs serially, -1 uses every core")
    return n, fit_params


def run_fits(
    make_model: Callable[..., Any],
    settings: Sequence[Mapping[str, Any]],
    X: Any,
    y: Any,
    folds: Sequence[tuple[NDArray[np.intp], NDArray[np.intp]]],
    scorer: ScorerLike,
    fit_params: dict[str, Any],
    n_jobs: int | None,
    return_train: bool,
) -> list[dict[str, float | None]]:
    """fit_and_score for every (setting, fold) pair, in joblib workers; results in the
    order setting by setting, fold by fold.

    Parameters
    ----------
    make_model : callable
        make_model(**params) returns a new unfitted model.
    settings : sequence of mapping
        The settings' keyword arguments ([{}] for cross_validate).
    X, y : array_like
        All the samples and targets.
    folds : sequence of (train, test)
        The folds' row indices (fold_indices).
    scorer : callable
        scorer(model, X, y) -> float.
    fit_params : dict
        Keyword arguments for every model.fit.
    n_jobs : int or None
        joblib's n_jobs (None or 1: serially, in this process).
    return_train : bool
        Also score on the training rows.

    Returns
    -------
    list of dict
        fit_and_score's results, len(settings) * len(folds) of them.
    """
    import joblib  # here, not at the top: it adds ~60 ms to importing pynn.data

    tasks = [(params, train, test) for params in settings for train, test in folds]
    workers = max(1, min(joblib.effective_n_jobs(n_jobs), len(tasks)))
    call = joblib.delayed(fit_and_score)
    return joblib.Parallel(n_jobs=n_jobs)(
        call(make_model, params, X, y, train, test, scorer, fit_params, return_train, workers)
        for params, train, test in tasks
    )
