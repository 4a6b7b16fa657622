"""Data handling around pynn models: splits and folds, preprocessing, model selection.

- pynn.data.split: train_test_split, KFold, StratifiedKFold
- pynn.data.preprocessing: StandardScaler, one_hot, polynomial_features
- pynn.data.model_selection: cross_validate, grid_search (joblib-parallel)

Metrics are in pynn.metrics. See docs/data.md.
"""

from pynn.data.model_selection import (
    GridSearchResult,
    Scorer,
    cross_validate,
    get_scorer,
    grid_search,
    parameter_grid,
)
from pynn.data.preprocessing import StandardScaler, one_hot, polynomial_features
from pynn.data.split import KFold, StratifiedKFold, train_test_split

__all__ = [
    "train_test_split",
    "KFold",
    "StratifiedKFold",
    "StandardScaler",
    "one_hot",
    "polynomial_features",
    "cross_validate",
    "grid_search",
    "parameter_grid",
    "GridSearchResult",
    "Scorer",
    "get_scorer",
]
