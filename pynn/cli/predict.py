"""`pynn predict MODEL DATA`: a saved model's predictions as CSV.

Format (a header row, then one row per sample, in the order of DATA):
- classifiers with probabilities (softmax or binary cross-entropy over labels):
  `label,p_<class 1>,p_<class 2>,...`: the predicted label, then the probability of each
  class in the model's order (`classes_`, sorted);
- multi-label or probability-target classifiers: `label_0,...` (0/1 or the class index)
  then `p_0,...`; hinge classifiers: `label` only (a hinge loss gives no probabilities);
- regressors: `prediction` (or `prediction_0,prediction_1,...` for several targets).
Numbers are written with enough digits to read back the model's floats exactly.
"""
import csv
import os
import sys

import numpy as np

import pynn
from pynn.cli.data_sources import load_features, width_error


def load_model(path):
    if not os.path.exists(path):
        raise FileNotFoundError(2, "model file not found", path)
    return pynn.load(path)


def _format(dtype):
    digits = 9 if np.dtype(dtype) == np.float32 else 17  # enough for an exact round trip
    return lambda value: f"{value:.{digits}g}"


def prediction_table(model, X):
    """(header, rows) of the CSV for the model's predictions on X."""
    if model.targets_ is None:
        raise ValueError("the model was never trained (it has no loss): nothing to predict")
    number = _format(model.dtype)
    predicted = model.predict(X)
    if not model.targets_.is_classifier:
        values = predicted.reshape(len(X), -1)
        header = ["prediction"] if predicted.ndim == 1 else \
            [f"prediction_{j}" for j in range(values.shape[1])]
        return header, [[number(v) for v in row] for row in values]
    if predicted.ndim == 1:
        header, labels = ["label"], [[str(label)] for label in predicted]
    else:
        header = [f"label_{j}" for j in range(predicted.shape[1])]
        labels = [[str(v) for v in row] for row in predicted]
    if model.loss_.proba is None:
        return header, labels
    probabilities = model.predict_proba(X)
    names = model.classes_ if model.targets_.kind in ("labels", "binary") else \
        range(probabilities.shape[1])
    header += [f"p_{name}" for name in names]
    rows = [row + [number(p) for p in ps] for row, ps in zip(labels, probabilities)]
    return header, rows


def run(args):
    model = load_model(args.model)
    X = load_features(args.data, target=args.target, n_features=model.n_features_in_)
    if X.shape[1] != model.n_features_in_:  # a CSV file's width is known once it is read
        raise width_error(args.data, X.shape[1], model.n_features_in_, args.target)
    header, rows = prediction_table(model, X)
    if args.output is None:
        _write(sys.stdout, header, rows)
    else:
        with open(args.output, "w", newline="", encoding="utf-8") as file:
            _write(file, header, rows)
        print(f"wrote {len(rows)} predictions to {args.output}", file=sys.stderr)
    return 0


def _write(stream, header, rows):
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    stream.flush()
