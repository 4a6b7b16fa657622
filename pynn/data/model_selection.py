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

The parts, each name re-exported here: pynn.data.scorers (Scorer, get_scorer),
pynn.data.folds (check_cv, fold_indices), pynn.data.parallel_fits (fit_and_score, run in
joblib workers), pynn.data.cross_validation (cross_validate) and
pynn.data.parameter_search (parameter_grid, grid_search, GridSearchResult).
"""

from pynn.data.cross_validation import cross_validate
from pynn.data.folds import check_cv, fold_indices, is_classification_target
from pynn.data.parallel_fits import (
    check_search_arguments,
    fit_and_score,
    limited_threads,
    run_fits,
    usable_cores,
)
from pynn.data.parameter_search import GridSearchResult, grid_search, parameter_grid
from pynn.data.scorers import Scorer, get_scorer, model_score

__all__ = [
    "Scorer",
    "model_score",
    "get_scorer",
    "is_classification_target",
    "check_cv",
    "fold_indices",
    "limited_threads",
    "usable_cores",
    "fit_and_score",
    "check_search_arguments",
    "run_fits",
    "cross_validate",
    "parameter_grid",
    "grid_search",
    "GridSearchResult",
]
