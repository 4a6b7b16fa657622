"""Grid search: every setting of a parameter grid cross-validated on the same folds
(grid_search), the grid's settings (parameter_grid) and what the search found
(GridSearchResult).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from pynn.data.folds import fold_indices
from pynn.data.parallel_fits import check_search_arguments, run_fits
from pynn.data.scorers import get_scorer

if TYPE_CHECKING:
    from pynn.core.random_state import RandomState
    from pynn.data.scorers import ScorerLike


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
    n, fit_params = check_search_arguments(make_model, X, y, fit_params, n_jobs)
    settings = parameter_grid(param_grid)
    scorer, greater, name = get_scorer(scoring)
    folds = fold_indices(cv, X, y, n, random_state)
    results = run_fits(make_model, settings, X, y, folds, scorer, fit_params, n_jobs, False)
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
