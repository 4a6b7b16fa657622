"""Scorers for model selection: scorer(model, X, y) -> float, and get_scorer, which turns
cross_validate's and grid_search's `scoring` (None, a name of pynn.metrics.METRICS or a
callable) into a scorer and whether greater is better.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pynn.metrics import METRICS

if TYPE_CHECKING:
    #: scorer(model, X, y) -> float
    ScorerLike = Callable[[Any, Any, Any], float]


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
