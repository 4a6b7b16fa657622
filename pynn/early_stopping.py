"""Early stopping: end training when the monitored loss stops improving."""
import numbers

import numpy as np


class EarlyStopping:
    """Stop when `monitor` ('val_loss' when there is validation data, else 'loss') has not
    improved by more than `min_delta` for `patience` epochs; with `restore_best_weights`
    the model ends with the parameters of its best epoch."""

    def __init__(self, patience=10, min_delta=0.0, restore_best_weights=True, monitor=None):
        if isinstance(patience, bool) or not isinstance(patience, numbers.Integral) or patience < 0:
            raise ValueError(f"patience must be an integer >= 0, got {patience!r}")
        if not isinstance(min_delta, numbers.Real) or not min_delta >= 0:
            raise ValueError(f"min_delta must be a number >= 0, got {min_delta!r}")
        self.patience = int(patience)
        self.min_delta = float(min_delta)
        self.restore_best_weights = bool(restore_best_weights)
        self.monitor = monitor

    def start(self, model, has_validation):
        self.key = self.monitor or ("val_loss" if has_validation else "loss")
        self.model = model
        self.best = np.inf
        self.best_epoch = None
        self.wait = 0
        self.best_params = np.empty_like(model.flat_params) if self.restore_best_weights else None

    def update(self, epoch, logs):
        """Record one epoch; True when training should stop."""
        if self.key not in logs:
            raise ValueError(f"early stopping monitors {self.key!r}, which fit does not log "
                             f"(it logs {sorted(logs)})")
        value = logs[self.key]
        if value < self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.best_params is not None:
                np.copyto(self.best_params, self.model.flat_params)
            return False
        self.wait += 1
        return self.wait >= self.patience

    def finish(self, last_epoch):
        """Put the best parameters back (when asked and when the last epoch was not the best)."""
        if self.best_params is not None and self.best_epoch is not None \
                and self.best_epoch != last_epoch:
            np.copyto(self.model.flat_params, self.best_params)
