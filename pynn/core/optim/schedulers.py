"""Learning-rate schedules, stepped once per epoch by fit (as torch.optim.lr_scheduler is
in a usual training loop). No scheduler means a constant learning rate."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING

from pynn.core.checks import check_count, check_number

if TYPE_CHECKING:
    from pynn.core.optim.base import Optimizer


def check_monitor(monitor: str | None) -> str | None:
    """None or the name of a key of fit's epoch logs.

    Parameters
    ----------
    monitor : str or None
        The key to watch (None: the default, val_loss or loss).

    Returns
    -------
    str or None
        monitor itself.

    Raises
    ------
    TypeError
        Not a str or None.
    """
    if monitor is not None and not isinstance(monitor, str):
        raise TypeError(
            f"monitor must be None or the name of a logged value such as "
            f"'val_loss', got {monitor!r}"
        )
    return monitor


def monitored_key(monitor: str | None, logged: Collection[str], who: str) -> str:
    """The log key `who` watches: `monitor`, else 'val_loss' when it is logged, else 'loss';
    ValueError when fit does not log it (`logged` lists the keys it does).

    Parameters
    ----------
    monitor : str or None
        The key asked for (None: the default).
    logged : collection of str
        The keys fit logs each epoch.
    who : str
        The watcher's name in the error message.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        The key is not logged.
    """
    key = monitor or ("val_loss" if "val_loss" in logged else "loss")
    if key not in logged:
        raise ValueError(
            f"{who} monitors {key!r}, which fit does not log here (it logs {sorted(logged)})"
        )
    return key


def higher_is_better(key: str) -> bool:
    """Accuracy and R² improve upwards; the losses downwards.

    Parameters
    ----------
    key : str
        A log key ("loss", "val_accuracy", "r2", ...).

    Returns
    -------
    bool
        True for the accuracies and R².
    """
    return key.endswith("accuracy") or key.endswith("r2")


class LRScheduler:
    """Changes its optimizer's `lr` after each epoch.

    The base class of StepLR, InverseScalingLR and ReduceLROnPlateau; fit binds a schedule
    to its optimizer and steps it at each epoch's end.
    """

    optimizer: Optimizer
    base_lr: float
    epoch: int

    def bind(self, optimizer: Optimizer, logged: Collection[str] | None = None) -> None:
        """Drive `optimizer`; `logged` lists the keys fit will log each epoch (for the
        schedules that watch one of them).

        Parameters
        ----------
        optimizer : Optimizer
            The optimizer whose lr the schedule sets; its current lr is the base.
        logged : collection of str or None, default None
            The keys of fit's epoch logs (None: unknown until the first step).

        Raises
        ------
        ValueError
            A schedule watches a key that is not logged.
        """
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.epoch = 0

    def check_logged(self, logged: Collection[str]) -> None:
        """ValueError when this schedule watches a key fit will not log (`logged`).

        Parameters
        ----------
        logged : collection of str
            The keys of fit's epoch logs.

        Raises
        ------
        ValueError
            The watched key is not logged.
        """

    def step(self, logs: Mapping[str, float]) -> None:
        """Called at the end of each epoch with that epoch's logs (loss, val_loss, ...).

        Parameters
        ----------
        logs : mapping of str to float
            The epoch's logs.
        """
        self.epoch += 1
        self._update(logs)

    def _update(self, logs):
        raise NotImplementedError


class StepLR(LRScheduler):
    """Multiply the learning rate by `gamma` every `step_size` epochs (torch's StepLR).

    Parameters
    ----------
    step_size : int
        Epochs between decays (>= 1).
    gamma : float, default 0.1
        The factor (finite, >= 0).

    Raises
    ------
    TypeError
        step_size is not an integer, or gamma not a number.
    ValueError
        step_size < 1, or gamma negative or not finite.
    """

    def __init__(self, step_size: int, gamma: float = 0.1) -> None:
        self.step_size = check_count(step_size, "step_size", 1)
        self.gamma = check_number(gamma, "gamma")

    def _update(self, logs):
        if self.epoch % self.step_size == 0:  # chained, as torch does, so the values match it
            self.optimizer.lr = self.optimizer.lr * self.gamma


class InverseScalingLR(LRScheduler):
    """lr = base_lr / (epoch + 1) ** power during epoch `epoch` (from 0): scikit-learn's
    'invscaling' with time counted in epochs.

    Parameters
    ----------
    power : float, default 0.5
        The exponent (finite, >= 0).

    Raises
    ------
    TypeError
        power is not a number.
    ValueError
        power is negative or not finite.
    """

    def __init__(self, power: float = 0.5) -> None:
        self.power = check_number(power, "power")

    def _update(self, logs):
        self.optimizer.lr = self.base_lr / math.pow(self.epoch + 1, self.power)


class ReduceLROnPlateau(LRScheduler):
    """Multiply the learning rate by `factor` when the monitored value has not improved for
    more than `patience` epochs; torch's ReduceLROnPlateau. `monitor` is a key of the epoch
    logs; by default 'val_loss' when there is validation data, else 'loss'. Losses should
    fall (torch's mode 'min'); accuracy and R² should rise (mode 'max').

    Parameters
    ----------
    factor : float, default 0.1
        The factor the learning rate is multiplied by, in [0, 1).
    patience : int, default 10
        Epochs without improvement tolerated before a reduction (>= 0).
    threshold : float, default 1e-4
        The smallest change that counts as an improvement (>= 0).
    threshold_mode : {"rel", "abs"}, default "rel"
        Whether threshold is relative to the best value or absolute.
    cooldown : int, default 0
        Epochs after a reduction before counting bad epochs again (>= 0).
    min_lr : float, default 0.0
        The learning rate's floor (>= 0).
    eps : float, default 1e-8
        A reduction smaller than this is skipped (>= 0).
    monitor : str or None, default None
        The log key watched (None: val_loss when there is validation data, else loss).

    Raises
    ------
    TypeError
        A hyperparameter of the wrong type.
    ValueError
        A hyperparameter out of range or not finite, or an unknown threshold_mode.
    """

    def __init__(
        self,
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float = 0.0,
        eps: float = 1e-8,
        monitor: str | None = None,
    ) -> None:
        self.factor = check_number(factor, "factor", 0.0, 1.0, high_open=True)
        self.patience = check_count(patience, "patience", 0)
        self.cooldown = check_count(cooldown, "cooldown", 0)
        self.threshold = check_number(threshold, "threshold")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        self.threshold_mode = threshold_mode
        self.min_lr = check_number(min_lr, "min_lr")
        self.eps = check_number(eps, "eps")
        self.monitor = check_monitor(monitor)

    def bind(self, optimizer: Optimizer, logged: Collection[str] | None = None) -> None:
        super().bind(optimizer, logged)
        self.key = None
        if logged is not None:
            self._watch(monitored_key(self.monitor, logged, "ReduceLROnPlateau"))
        self.num_bad_epochs = 0
        self.cooldown_counter = 0

    def check_logged(self, logged: Collection[str]) -> None:
        key = monitored_key(self.monitor, logged, "ReduceLROnPlateau")
        if getattr(self, "key", None) not in (None, key):  # continuing a schedule
            raise ValueError(
                f"ReduceLROnPlateau watches {self.key!r}, which fit does not log "
                f"here (it logs {sorted(logged)})"
            )

    def _watch(self, key):
        self.key = key
        self.mode = "max" if higher_is_better(key) else "min"
        self.best = -math.inf if self.mode == "max" else math.inf

    def _improved(self, value):
        """torch's test, per mode and threshold_mode."""
        if self.mode == "min":
            if self.threshold_mode == "rel":
                return value < self.best * (1 - self.threshold)
            return value < self.best - self.threshold
        if self.threshold_mode == "rel":
            return value > self.best * (1 + self.threshold)
        return value > self.best + self.threshold

    def _update(self, logs):
        if self.key is None:  # bound without knowing the keys: decide from the first logs
            self._watch(monitored_key(self.monitor, logs, "ReduceLROnPlateau"))
        value = float(logs[self.key])
        if self._improved(value):
            self.best = value
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            new_lr = max(self.optimizer.lr * self.factor, self.min_lr)
            if self.optimizer.lr - new_lr > self.eps:
                self.optimizer.lr = new_lr
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
