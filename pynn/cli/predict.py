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

ROWS_PER_WRITE = 4096


def load_model(path):
    if not os.path.exists(path):
        raise FileNotFoundError(2, "model file not found", path)
    return pynn.load(path)


def _format(dtype):
    digits = 9 if np.dtype(dtype) == np.float32 else 17  # enough for an exact round trip
    return lambda value: f"{value:.{digits}g}"


def predictions(model, X, memory=None):
    """(header, labels or values, probabilities or None) of the model on X: the numbers
    of the CSV, computed in full (within `memory`, see Sequential.decision_function)
    before anything is written."""
    if model.targets_ is None:
        raise ValueError("the model was never trained (it has no loss): nothing to predict")
    predicted = model.predict(X, memory=memory)
    if not model.targets_.is_classifier:
        values = predicted.reshape(len(X), -1)
        header = (
            ["prediction"]
            if predicted.ndim == 1
            else [f"prediction_{j}" for j in range(values.shape[1])]
        )
        return header, values, None
    labels = predicted.reshape(len(X), -1)
    header = ["label"] if predicted.ndim == 1 else [f"label_{j}" for j in range(labels.shape[1])]
    if model.loss_.proba is None:
        return header, labels, None
    probabilities = model.predict_proba(X, memory=memory)
    names = (
        model.classes_
        if model.targets_.kind in ("labels", "binary")
        else range(probabilities.shape[1])
    )
    return header + [f"p_{name}" for name in names], labels, probabilities


def csv_rows(model, first, probabilities, start, stop):
    """The CSV rows start:stop: labels as text, numbers with a round trip's digits."""
    number = _format(model.dtype)
    cell = str if model.targets_.is_classifier else number
    rows = [[cell(v) for v in row] for row in first[start:stop]]
    if probabilities is not None:
        for row, ps in zip(rows, probabilities[start:stop]):
            row += [number(p) for p in ps]
    return rows


def run(args):
    model = load_model(args.model)
    X = load_features(args.data, target=args.target, n_features=model.n_features_in_)
    if X.shape[1] != model.n_features_in_:  # a CSV file's width is known once it is read
        raise width_error(args.data, X.shape[1], model.n_features_in_, args.target)
    table = predictions(model, X, args.memory)
    if args.output is None:
        _write(sys.stdout, model, *table)
    else:
        with open(args.output, "w", newline="", encoding="utf-8") as file:
            _write(file, model, *table)
        print(f"wrote {len(X)} predictions to {args.output}", file=sys.stderr)
    return 0


def _write(stream, model, header, first, probabilities):
    """The CSV, formatted ROWS_PER_WRITE rows at a time (the text of all rows at once
    would take far more memory than the numbers)."""
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(header)
    for start in range(0, len(first), ROWS_PER_WRITE):
        writer.writerows(csv_rows(model, first, probabilities, start, start + ROWS_PER_WRITE))
    stream.flush()
