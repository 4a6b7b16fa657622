"""Early stopping: end training when the monitored value stops improving."""

from __future__ import annotations

import numbers
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from pynn.core.checks import check_count
from pynn.core.model_type import Model
from pynn.core.optim.schedulers import check_monitor, higher_is_better, monitored_key

if TYPE_CHECKING:
    from numpy.typing import NDArray


class EarlyStopping:
    """Stop when `monitor` ('val_loss' when there is validation data, else 'loss') has not
    improved by more than `min_delta` for `patience` epochs; with `restore_best_weights`
    the model ends with the parameters of its best epoch. Losses improve downwards,
    accuracy and R² ('val_accuracy', 'r2', ...) upwards.

    Parameters
    ----------
    patience : int, default 10
        Epochs without improvement before training stops (>= 0).
    min_delta : float, default 0.0
        The smallest change that counts as an improvement (finite, >= 0).
    restore_best_weights : bool, default True
        At the end, put back the parameters of the best epoch.
    monitor : str or None, default None
        The log key watched (None: val_loss when there is validation data, else loss).

    Raises
    ------
    TypeError
        An argument of the wrong type.
    ValueError
        patience < 0, or min_delta negative or not finite.
    """

    patience: int
    min_delta: float
    restore_best_weights: bool
    monitor: str | None
    best_params: NDArray[Any] | None
    best_epoch: int | None

    def __init__(
        self,
        patience: int = 10,
        min_delta: float = 0.0,
        restore_best_weights: bool = True,
        monitor: str | None = None,
    ) -> None:
        self.patience = check_count(patience, "patience", 0)
        if isinstance(min_delta, bool) or not isinstance(min_delta, numbers.Real):
            raise TypeError(f"min_delta must be a number, got {min_delta!r}")
        if not 0 <= min_delta < np.inf:
            raise ValueError(f"min_delta must be a finite number >= 0, got {min_delta!r}")
        if not isinstance(restore_best_weights, (bool, np.bool_)):
            raise TypeError(
                f"restore_best_weights must be True or False, got {restore_best_weights!r}"
            )
        self.min_delta = float(min_delta)
        self.restore_best_weights = bool(restore_best_weights)
        self.monitor = check_monitor(monitor)

    def start(self, model: Model, logged: Collection[str]) -> None:
        """Watch `model` through a fit that logs the keys `logged`; ValueError when the
        monitored key is not among them (before any training, rather than after an epoch).

        Parameters
        ----------
        model : Sequential
            The model being trained.
        logged : collection of str
            The keys of fit's epoch logs.

        Raises
        ------
        ValueError
            The monitored key is not logged.
        """
        self.key = monitored_key(self.monitor, logged, "early stopping")
        self.sign = -1.0 if higher_is_better(self.key) else 1.0  # compare sign * value, lower wins
        self.model = model
        self.best = np.inf
        self.best_epoch = None
        self.wait = 0
        self.best_params = np.empty_like(model.flat_params) if self.restore_best_weights else None

    def update(self, epoch: int, logs: Mapping[str, float]) -> bool:
        """Record one epoch; True when training should stop.

        Parameters
        ----------
        epoch : int
            The epoch's index (from 0).
        logs : mapping of str to float
            The epoch's logs.

        Returns
        -------
        bool
            True once `patience` epochs passed without improvement.
        """
        value = self.sign * logs[self.key]
        if value < self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.best_params is not None:
                np.copyto(self.best_params, self.model.flat_params)
            return False
        self.wait += 1
        return self.wait >= self.patience

    def finish(self, last_epoch: int) -> None:
        """Put the best parameters back (when asked and when the last epoch was not the best).

        Parameters
        ----------
        last_epoch : int
            The index of the last epoch trained.
        """
        if (
            self.best_params is not None
            and self.best_epoch is not None
            and self.best_epoch != last_epoch
        ):
            np.copyto(self.model.flat_params, self.best_params)
