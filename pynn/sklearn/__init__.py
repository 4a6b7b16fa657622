"""scikit-learn estimators on pynn networks: MLPClassifier and MLPRegressor.

They take the parameters of scikit-learn's MLPClassifier / MLPRegressor (the stochastic
solvers "adam" and "sgd"), train a `pynn.Sequential` (`model_`) with pynn's C kernels, and
follow scikit-learn's rules: parameters stored unchanged by __init__, input checked by
`validate_data`, `classes_`, `n_features_in_`, `feature_names_in_`, `loss_curve_`,
`n_iter_`, the stopping rule on `tol` / `n_iter_no_change` and a ConvergenceWarning when
`max_iter` ends training first. docs/sklearn.md says where they differ from scikit-learn's.

scikit-learn is optional for pynn; this module needs it (`pip install "pynn[sklearn]"`).

The package: pynn.sklearn.estimators (the two estimators), pynn.sklearn.base (what they
share: training, inference, the stopping rule), pynn.sklearn.params (their parameters'
checks) and pynn.sklearn.weights (coefs_ and intercepts_ over the network's parameters).
"""

try:  # validate_data and __sklearn_tags__ are scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data  # noqa: F401 (the version check)
except ImportError as error:
    raise ImportError(
        'pynn.sklearn needs scikit-learn >= 1.6: pip install "pynn[sklearn]"'
    ) from error

from pynn.sklearn.estimators import MLPClassifier, MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor"]
