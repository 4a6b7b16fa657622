"""PNG pictures of a training run (`pynn train --plot DIR`), drawn with matplotlib.

Figures are made with matplotlib.figure.Figure and its Agg canvas directly, never
through pyplot: no window opens and no global backend is switched.
"""

import os

import numpy as np

GRID = 300  # points per axis of the decision-region grid


def require_matplotlib():
    """ImportError with the install hint when matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401
        from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: F401
    except ImportError:
        raise ImportError('--plot needs matplotlib: pip install "pynn[plot]"') from None


def _figure():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.4, 4.8), dpi=100)
    FigureCanvasAgg(figure)
    return figure


def _save(figure, directory, name):
    path = os.path.join(directory, name)
    figure.savefig(path)
    return path


def _curves(directory, name, history, key, label):
    figure = _figure()
    axes = figure.add_subplot()
    epochs = np.arange(1, len(history[key]) + 1)
    axes.plot(epochs, history[key], label=f"training {label}")
    if "val_" + key in history:
        axes.plot(epochs, history["val_" + key], label=f"validation {label}")
    axes.set_xlabel("epoch")
    axes.set_ylabel(label)
    axes.grid(alpha=0.3)
    axes.legend()
    return _save(figure, directory, name)


def _decision_regions(directory, model, X, y):
    """The class the model predicts over the plane, with the training points."""
    from matplotlib.colors import ListedColormap

    classes = model.classes_
    low, high = X.min(axis=0), X.max(axis=0)
    margin = 0.1 * np.where(high > low, high - low, 1.0)
    u = np.linspace(low[0] - margin[0], high[0] + margin[0], GRID)
    v = np.linspace(low[1] - margin[1], high[1] + margin[1], GRID)
    grid_u, grid_v = np.meshgrid(u, v)
    predicted = model.predict(np.column_stack([grid_u.ravel(), grid_v.ravel()]))
    region = np.searchsorted(classes, predicted).reshape(grid_u.shape)
    colors = [f"C{i % 10}" for i in range(len(classes))]
    figure = _figure()
    axes = figure.add_subplot()
    axes.pcolormesh(
        grid_u,
        grid_v,
        region,
        cmap=ListedColormap(colors),
        alpha=0.3,
        vmin=-0.5,
        vmax=len(classes) - 0.5,
        shading="auto",
    )
    for i, label in enumerate(classes):
        points = X[y == label]
        axes.scatter(
            points[:, 0],
            points[:, 1],
            s=10,
            color=colors[i],
            edgecolors="black",
            linewidths=0.3,
            label=str(label),
        )
    axes.set_xlabel("feature 0")
    axes.set_ylabel("feature 1")
    axes.set_title("decision regions and training points")
    axes.legend(loc="best")
    return _save(figure, directory, "decision_regions.png")


def _fitted_curve(directory, model, X, y):
    """A one-feature regressor's curve over the training points."""
    x = np.linspace(X[:, 0].min(), X[:, 0].max(), 500)
    figure = _figure()
    axes = figure.add_subplot()
    axes.scatter(X[:, 0], y, s=8, alpha=0.5, label="training points")
    axes.plot(x, model.predict(x.reshape(-1, 1)), color="C1", label="model")
    axes.set_xlabel("x")
    axes.set_ylabel("y")
    axes.legend()
    return _save(figure, directory, "fit.png")


def write_plots(directory, model, X_train, y_train):
    """Write the PNGs into `directory`; returns (paths written, notes on what was skipped)."""
    history = model.history_
    metric = model.targets_.metric_name
    paths = [
        _curves(directory, "loss.png", history, "loss", "loss"),
        _curves(
            directory,
            f"{metric}.png",
            history,
            metric,
            "accuracy" if metric == "accuracy" else "R2",
        ),
    ]
    notes = []
    n_features = X_train.shape[1]
    one_output = np.ndim(y_train) == 1
    if model.targets_.is_classifier and n_features == 2 and one_output:
        paths.append(_decision_regions(directory, model, X_train, y_train))
    elif not model.targets_.is_classifier and n_features == 1 and one_output:
        paths.append(_fitted_curve(directory, model, X_train, y_train))
    else:
        notes.append(
            "no picture of the model's predictions: drawn for classifiers of 2 "
            "features and regressors of 1 feature and 1 target only"
        )
    return paths, notes
