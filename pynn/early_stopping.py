"""Early stopping: end training when the monitored value stops improving."""
import numbers

import numpy as np

from pynn.checks import check_count
from pynn.optim.schedulers import check_monitor, higher_is_better, monitored_key


class EarlyStopping:
    """Stop when `monitor` ('val_loss' when there is validation data, else 'loss') has not
    improved by more than `min_delta` for `patience` epochs; with `restore_best_weights`
    the model ends with the parameters of its best epoch. Losses improve downwards,
    accuracy and R² ('val_accuracy', 'r2', ...) upwards."""

    def __init__(self, patience=10, min_delta=0.0, restore_best_weights=True, monitor=None):
        self.patience = check_count(patience, "patience", 0)
        if isinstance(min_delta, bool) or not isinstance(min_delta, numbers.Real):
            raise TypeError(f"min_delta must be a number, got {min_delta!r}")
        if not 0 <= min_delta < np.inf:
            raise ValueError(f"min_delta must be a finite number >= 0, got {min_delta!r}")
        if not isinstance(restore_best_weights, (bool, np.bool_)):
            raise TypeError(f"restore_best_weights must be True or False, got "
                            f"{restore_best_weights!r}")
        self.min_delta = float(min_delta)
        self.restore_best_weights = bool(restore_best_weights)
        self.monitor = check_monitor(monitor)

    def start(self, model, logged):
        """Watch `model` through a fit that logs the keys `logged`; ValueError when the
        monitored key is not among them (before any training, rather than after an epoch)."""
        self.key = monitored_key(self.monitor, logged, "early stopping")
        self.sign = -1.0 if higher_is_better(self.key) else 1.0  # compare sign * value, lower wins
        self.model = model
        self.best = np.inf
        self.best_epoch = None
        self.wait = 0
        self.best_params = np.empty_like(model.flat_params) if self.restore_best_weights else None

    def update(self, epoch, logs):
        """Record one epoch; True when training should stop."""
        value = self.sign * logs[self.key]
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
