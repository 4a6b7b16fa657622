"""Cross-validation and grid search: choosing hyperparameters on validation folds.

The course notes' recipe (shared/notes): cut the training data into k folds, train on
k - 1 and score on the one left out, rotate, average; the hyperparameters with the best
average win, and the test set is used only at the end. The models are built by the user's
`make_model` (a pynn.Sequential, or any object with fit/predict/score such as a
scikit-learn estimator), fitted with `model.fit(X_train, y_train, **fit_params)`.

Folds run in parallel with joblib (its default backend, so `with
joblib.parallel_backend("dask"):` sends them to a dask cluster). A worker lowers pynn's
own thread count to cores // workers while it fits, so that workers times threads does
not oversubscribe the machine; pynn's results do not depend on the thread count, so a
parallel run gives exactly the serial run's scores.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import numbers
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from pynn import _kernels
from pynn.data._arrays import check_same_length, take_rows
from pynn.data.split import KFold, StratifiedKFold
from pynn.metrics import METRICS

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from pynn.random_state import RandomState

    #: scorer(model, X, y) -> float
    ScorerLike = Callable[[Any, Any, Any], float]


# ---- scoring -----------------------------------------------------------------------------
class Scorer:
    """scorer(model, X, y) -> float: `metric(y, model.predict(X))`, or with
    response="predict_proba", `metric(y, model.predict_proba(X), labels=model.classes_)`.
    greater_is_better tells grid search whether to keep the largest or the smallest.

    Parameters
    ----------
    metric : callable
        metric(y_true, y_pred) -> float, such as a function of pynn.metrics.
    greater_is_better : bool, default True
        Whether larger values are better (False for losses).
    response : {"predict", "predict_proba"}, default "predict"
        The model method whose output the metric reads.
    name : str or None, default None
        The scorer's name in reports (None: the metric's __name__).

    Raises
    ------
    TypeError
        metric is not callable.
    ValueError
        An unknown response.
    """

    def __init__(
        self,
        metric: Callable[..., Any],
        greater_is_better: bool = True,
        response: str = "predict",
        name: str | None = None,
    ) -> None:
        if not callable(metric):
            raise TypeError(f"metric must be callable: metric(y_true, y_pred), got {metric!r}")
        if response not in ("predict", "predict_proba"):
            raise ValueError(f"response must be 'predict' or 'predict_proba', got {response!r}")
        self.metric = metric
        self.greater_is_better = bool(greater_is_better)
        self.response = response
        self.name = name or getattr(metric, "__name__", repr(metric))

    def __call__(self, model: Any, X: Any, y: Any) -> float:
        if self.response == "predict_proba":
            return float(self.metric(y, model.predict_proba(X), labels=model.classes_))
        return float(self.metric(y, model.predict(X)))

    def __repr__(self):
        return f"Scorer({self.name}, greater_is_better={self.greater_is_better})"


def model_score(model: Any, X: Any, y: Any) -> float:
    """The model's own score(X, y): accuracy or R² for pynn models (higher is better).

    Parameters
    ----------
    model : object
        A fitted model with score(X, y).
    X, y : array_like
        The samples and targets to score on.

    Returns
    -------
    float
    """
    return float(model.score(X, y))


def get_scorer(scoring: str | ScorerLike | None) -> tuple[ScorerLike, bool, str]:
    """(scorer, greater_is_better, name) for scoring = None (the model's score), a name of
    pynn.metrics.METRICS, or a callable scorer(model, X, y) -> float (greater is better
    unless it has an attribute greater_is_better = False, as a Scorer).

    Parameters
    ----------
    scoring : str, callable or None
        None, a name of pynn.metrics.METRICS, or scorer(model, X, y) -> float.

    Returns
    -------
    scorer : callable
        scorer(model, X, y) -> float.
    greater_is_better : bool
    name : str

    Raises
    ------
    ValueError
        An unknown metric name.
    TypeError
        Neither None, a str nor a callable.
    """
    if scoring is None:
        return model_score, True, "score"
    if isinstance(scoring, str):
        if scoring not in METRICS:
            raise ValueError(
                f"scoring must be one of {sorted(METRICS)}, a callable "
                f"scorer(model, X, y) or None, got {scoring!r}"
            )
        metric, greater = METRICS[scoring]
        response = "predict_proba" if scoring == "log_loss" else "predict"
        return Scorer(metric, greater, response, scoring), greater, scoring
    if callable(scoring):
        greater = getattr(scoring, "greater_is_better", True)
        return (
            scoring,
            bool(greater),
            getattr(scoring, "name", None) or getattr(scoring, "__name__", "scorer"),
        )  # type: ignore[return-value]  # a str
    raise TypeError(
        f"scoring must be None, a metric name or a callable scorer(model, X, y), got {scoring!r}"
    )


# ---- folds -------------------------------------------------------------------------------
def is_classification_target(y: ArrayLike) -> bool:
    """True for 1-D integer, bool or string labels (stratified folds); False for floats and
    2-D targets (plain folds). A float y with integral values counts as continuous.

    Parameters
    ----------
    y : array_like
        The targets.

    Returns
    -------
    bool
    """
    y = np.asarray(y)
    if y.dtype == object:
        return y.ndim == 1 and all(isinstance(v, (str, numbers.Integral)) for v in y)
    return y.ndim == 1 and y.dtype.kind in "biuUS"


def check_cv(cv: int | Any, y: ArrayLike, random_state: RandomState = None) -> Any:
    """The splitter for `cv`: an int gives StratifiedKFold for classification labels (see
    is_classification_target) and KFold otherwise, shuffled from random_state when that is
    given and in order when it is None. A splitter object or an iterable of (train, test)
    index pairs is returned as it is (random_state must then be None).

    Parameters
    ----------
    cv : int, splitter or iterable of (train, test)
        The number of folds, an object with split(X, y), or index pairs.
    y : array_like
        The targets (their kind chooses the splitter for an int cv).
    random_state : None, int or numpy.random.Generator, default None
        Shuffles the folds of an int cv (None: in order).

    Returns
    -------
    KFold, StratifiedKFold, or cv itself

    Raises
    ------
    TypeError
        A cv of another kind (a bool, a string, ...).
    ValueError
        random_state with a cv that is not an int.
    """
    if isinstance(cv, (bool, np.bool_)):
        raise TypeError(f"cv must be an int, a splitter or (train, test) pairs, got {cv!r}")
    if isinstance(cv, numbers.Integral):
        splitter = StratifiedKFold if is_classification_target(y) else KFold
        return splitter(int(cv), shuffle=random_state is not None, random_state=random_state)
    if random_state is not None:
        raise ValueError(
            "random_state is for cv given as an int: give the splitter its own random_state"
        )
    if not isinstance(cv, (str, bytes)) and (hasattr(cv, "split") or _is_iterable(cv)):
        return cv
    raise TypeError(
        f"cv must be an int, a splitter with split(X, y) or an iterable of "
        f"(train, test) index pairs, got {cv!r}"
    )


def _is_iterable(value):
    return not isinstance(value, (str, bytes)) and hasattr(value, "__iter__")


def _fold_indices(cv, X, y, n, random_state):
    """The folds of `cv` as a list of checked (train, test) integer index arrays."""
    splitter = check_cv(cv, y, random_state)
    pairs = splitter.split(X, y) if hasattr(splitter, "split") else splitter
    folds = []
    for k, pair in enumerate(pairs):
        try:
            train, test = pair
        except (TypeError, ValueError):
            raise TypeError(f"cv fold {k} must be a pair (train, test) of index arrays") from None
        folds.append(
            (
                _check_index(train, n, f"cv fold {k} train"),
                _check_index(test, n, f"cv fold {k} test"),
            )
        )
    if not folds:
        raise ValueError("cv gave no folds")
    return folds


def _check_index(index, n, name):
    index = np.asarray(index)
    if index.ndim != 1 or index.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of sample indices")
    if index.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer sample indices, got dtype {index.dtype}")
    if index.min() < 0 or index.max() >= n:
        raise ValueError(f"{name} has indices outside [0, {n})")
    return index.astype(np.intp)


# ---- one fit -----------------------------------------------------------------------------
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


def _check_common(make_model, X, y, fit_params, n_jobs):
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


def _run(make_model, settings, X, y, folds, scorer, fit_params, n_jobs, return_train):
    """fit_and_score for every (setting, fold) pair, in joblib workers; results in the
    order setting by setting, fold by fold."""
    import joblib  # here, not at the top: it adds ~60 ms to importing pynn.data

    tasks = [(params, train, test) for params in settings for train, test in folds]
    workers = max(1, min(joblib.effective_n_jobs(n_jobs), len(tasks)))
    call = joblib.delayed(fit_and_score)
    return joblib.Parallel(n_jobs=n_jobs)(
        call(make_model, params, X, y, train, test, scorer, fit_params, return_train, workers)
        for params, train, test in tasks
    )


# ---- cross-validation --------------------------------------------------------------------
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
    n, fit_params = _check_common(make_model, X, y, fit_params, n_jobs)
    if not isinstance(return_train_score, (bool, np.bool_)):
        raise TypeError(f"return_train_score must be True or False, got {return_train_score!r}")
    scorer, _, _ = get_scorer(scoring)
    folds = _fold_indices(cv, X, y, n, random_state)
    results = _run(
        make_model, [{}], X, y, folds, scorer, fit_params, n_jobs, bool(return_train_score)
    )
    keys = ["fit_time", "score_time", "test_score"] + (
        ["train_score"] if return_train_score else []
    )
    return {key: np.array([r[key] for r in results], dtype=np.float64) for key in keys}


# ---- grid search -------------------------------------------------------------------------
def parameter_grid(
    param_grid: Mapping[str, Iterable[Any]] | Sequence[Mapping[str, Iterable[Any]]],
) -> list[dict[str, Any]]:
    """The list of settings (dicts) of a grid: a dict of lists of values gives every
    combination, the last key varying fastest; a list of such dicts gives each one's
    combinations in turn. {} is one setting without parameters.

    Parameters
    ----------
    param_grid : dict of str to list, or list of such dicts
        The values to try for each parameter.

    Returns
    -------
    list of dict

    Raises
    ------
    TypeError
        Not a dict (or a non-empty list of dicts) of lists with str keys.
    ValueError
        A parameter with no values.
    """
    grids = [param_grid] if isinstance(param_grid, dict) else param_grid
    if not isinstance(grids, (list, tuple)) or not grids:
        raise TypeError(
            f"param_grid must be a dict of lists of values or a non-empty list "
            f"of such dicts, got {param_grid!r}"
        )
    settings = []
    for grid in grids:
        if not isinstance(grid, dict):
            raise TypeError(f"param_grid must hold dicts of lists of values, got {grid!r}")
        for name, values in grid.items():
            if not isinstance(name, str):
                raise TypeError(f"param_grid keys must be parameter names (str), got {name!r}")
            if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
                raise TypeError(f"param_grid[{name!r}] must be a list of values, got {values!r}")
            if len(list(values)) == 0:
                raise ValueError(f"param_grid[{name!r}] is empty: give at least one value")
        names = list(grid)
        for combination in itertools.product(*(list(grid[name]) for name in names)):
            settings.append(dict(zip(names, combination)))
    return settings


def grid_search(
    make_model: Callable[..., Any],
    param_grid: Mapping[str, Iterable[Any]] | Sequence[Mapping[str, Iterable[Any]]],
    X: Any,
    y: Any,
    cv: int | Any = 5,
    scoring: str | ScorerLike | None = None,
    fit_params: dict[str, Any] | None = None,
    n_jobs: int | None = None,
    random_state: RandomState = None,
) -> GridSearchResult:
    """Cross-validate make_model(**params) for every setting of param_grid; the best mean
    test score wins (the largest for scores, the SMALLEST for losses; ties: the first).

    param_grid: a dict of lists of values, or a list of such dicts (see parameter_grid).
    cv, scoring, fit_params, n_jobs, random_state: as cross_validate; every setting is
    scored on the same folds, and the (setting, fold) pairs run in parallel. Returns a
    GridSearchResult. Refit the winner on all the training data yourself:
    `make_model(**result.best_params_).fit(X, y, ...)`.

    Parameters
    ----------
    make_model : callable
        make_model(**params) returns a new unfitted model for a setting.
    param_grid : dict of str to list, or list of such dicts
        The settings to try (see parameter_grid).
    X : array_like
        The samples.
    y : array_like
        The targets, one per sample.
    cv : int, splitter or iterable of (train, test), default 5
        As cross_validate.
    scoring : str, callable or None, default None
        As cross_validate.
    fit_params : dict or None, default None
        As cross_validate.
    n_jobs : int or None, default None
        As cross_validate.
    random_state : None, int or numpy.random.Generator, default None
        As cross_validate.

    Returns
    -------
    GridSearchResult

    Raises
    ------
    TypeError, ValueError
        As cross_validate and parameter_grid; ValueError when every setting scored NaN.
    """
    n, fit_params = _check_common(make_model, X, y, fit_params, n_jobs)
    settings = parameter_grid(param_grid)
    scorer, greater, name = get_scorer(scoring)
    folds = _fold_indices(cv, X, y, n, random_state)
    results = _run(make_model, settings, X, y, folds, scorer, fit_params, n_jobs, False)
    shape = (len(settings), len(folds))
    table = {
        key: np.array([r[key] for r in results], dtype=np.float64).reshape(shape)
        for key in ("test_score", "fit_time", "score_time")
    }
    return GridSearchResult(
        settings, table["test_score"], table["fit_time"], table["score_time"], greater, name
    )


class GridSearchResult:
    """What grid_search found.

    best_params_, best_score_ (its mean test score), best_index_ (its row), and results_:
    one dict per setting, in grid order, with "params", "mean_test_score",
    "std_test_score" (over folds, ddof=0), "test_scores" (per fold), "rank_test_score"
    (1 = best; equal means share a rank), "mean_fit_time", "mean_score_time". Printing it
    shows the table; `pandas.DataFrame(result.results_)` makes a data frame of it.

    Parameters
    ----------
    settings : list of dict
        The settings, in grid order.
    scores : numpy.ndarray of shape (n_settings, n_splits)
        The test scores per setting and fold.
    fit_times, score_times : numpy.ndarray of shape (n_settings, n_splits)
        Seconds per fit and per scoring.
    greater_is_better : bool
        Whether the largest mean score wins (else the smallest).
    scoring : str, default "score"
        The scoring's name, for the table.

    Raises
    ------
    ValueError
        Every setting scored NaN.
    """

    def __init__(
        self,
        settings: Sequence[Mapping[str, Any]],
        scores: NDArray[np.float64],
        fit_times: NDArray[np.float64],
        score_times: NDArray[np.float64],
        greater_is_better: bool,
        scoring: str = "score",
    ) -> None:
        self.greater_is_better = greater_is_better
        self.scoring = scoring
        means, stds = scores.mean(axis=1), scores.std(axis=1)
        # Order by goodness with NaN last: compare on a key where smaller is better.
        key = np.where(np.isnan(means), np.inf, -means if greater_is_better else means)
        if np.isnan(means).all():
            raise ValueError("every setting scored NaN: no best setting")
        ranks = np.array([1 + int(np.sum(key < k)) for k in key])
        self.best_index_ = int(np.argmin(key))
        self.best_params_ = dict(settings[self.best_index_])
        self.best_score_ = float(means[self.best_index_])
        self.n_splits_ = scores.shape[1]
        self.results_ = [
            {
                "params": dict(params),
                "mean_test_score": float(means[i]),
                "std_test_score": float(stds[i]),
                "test_scores": scores[i].copy(),
                "rank_test_score": int(ranks[i]),
                "mean_fit_time": float(fit_times[i].mean()),
                "mean_score_time": float(score_times[i].mean()),
            }
            for i, params in enumerate(settings)
        ]

    def to_string(self) -> str:
        """The results as a text table, one row per setting.

        Returns
        -------
        str
            The table and a line naming the best setting (str(result) gives it too).
        """
        names = list(dict.fromkeys(name for row in self.results_ for name in row["params"]))
        header = ["rank", *names, f"mean {self.scoring}", "std", "per fold"]
        lines = [header]
        for row in self.results_:
            params = [_short(row["params"][n]) if n in row["params"] else "-" for n in names]
            lines.append(
                [
                    str(row["rank_test_score"]),
                    *params,
                    f"{row['mean_test_score']:.6g}",
                    f"{row['std_test_score']:.3g}",
                    " ".join(f"{s:.4g}" for s in row["test_scores"]),
                ]
            )
        widths = [max(len(line[c]) for line in lines) for c in range(len(header))]
        direction = "higher" if self.greater_is_better else "lower"
        text = [
            "  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in lines
        ]
        text.append(
            f"best: {self.best_params_} ({self.scoring} {self.best_score_:.6g}, "
            f"{direction} is better, {self.n_splits_} folds)"
        )
        return "\n".join(text)

    __str__ = to_string

    def __repr__(self):
        return (
            f"GridSearchResult(best_params_={self.best_params_}, "
            f"best_score_={self.best_score_:.6g}, settings={len(self.results_)})"
        )


def _short(value, width=24):
    text = str(value)
    return text if len(text) <= width else text[: width - 3] + "..."
