"""The lines `pynn train` prints: one per epoch, the test results, the confusion matrix."""

from pynn.core.summary import layer_label
from pynn.metrics import confusion_matrix, mean_squared_error


def epoch_line(epoch, epochs, logs):
    """`epoch  3/30  loss 0.2143  accuracy 0.9412  val_loss ...  12 ms`."""
    parts = [f"epoch {epoch + 1:>{len(str(epochs))}}/{epochs}"]
    parts += [f"{key} {value:.4f}" for key, value in logs.items() if key not in ("lr", "time")]
    seconds = logs["time"]
    parts.append(f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s")
    return "  ".join(parts)


def model_line(model):
    """`Standardize(64) -> Dense(64 -> 64, relu) -> Dense(64 -> 10); 8,970 parameters`."""
    labels = []
    for layer in model.layers:
        if type(layer).__name__ == "Standardize":
            labels.append(f"Standardize({layer.in_features})")
        else:
            labels.append(layer_label(layer))
    return f"{' -> '.join(labels)}; {model.n_parameters:,} parameters"


def test_lines(model, X, y, scale_note=""):
    """The held-out set's metrics: accuracy and loss, or R² and MSE (computed from the
    model's predictions, on y's scale; `scale_note`, e.g. "targets' scale", says so)."""
    scores = model.evaluate(X, y)
    if model.targets_.is_classifier:
        return [
            f"test accuracy {scores['accuracy']:.4f}  loss {scores['loss']:.4f}  "
            f"({len(X)} samples)"
        ]
    mse = mean_squared_error(y, model.predict(X))
    scale = f" on the {scale_note}" if scale_note else ""
    return [f"test R2 {scores['r2']:.4f}  MSE {mse:.6g}{scale}  ({len(X)} samples)"]


def confusion_lines(y_true, y_pred, classes):
    """The confusion matrix with its labels: rows the true class, columns the predicted."""
    matrix = confusion_matrix(y_true, y_pred, labels=classes)
    names = [str(c) for c in classes]
    width = max(max(len(name) for name in names), len(str(matrix.max())))
    label_width = max(len(name) for name in names)
    lines = ["confusion matrix (rows: true class, columns: predicted class):"]
    lines.append(" " * (label_width + 2) + " ".join(f"{name:>{width}}" for name in names))
    for name, row in zip(names, matrix):
        lines.append(f"{name:>{label_width}}  " + " ".join(f"{count:>{width}}" for count in row))
    return lines
