"""Learning-rate schedules, stepped once per epoch by fit (as torch.optim.lr_scheduler is
in a usual training loop). No scheduler means a constant learning rate."""
import math

from pynn.checks import check_count, check_number


def check_monitor(monitor):
    """None or the name of a key of fit's epoch logs."""
    if monitor is not None and not isinstance(monitor, str):
        raise TypeError(f"monitor must be None or the name of a logged value such as "
                        f"'val_loss', got {monitor!r}")
    return monitor


def monitored_key(monitor, logged, who):
    """The log key `who` watches: `monitor`, else 'val_loss' when it is logged, else 'loss';
    ValueError when fit does not log it (`logged` lists the keys it does)."""
    key = monitor or ("val_loss" if "val_loss" in logged else "loss")
    if key not in logged:
        raise ValueError(f"{who} monitors {key!r}, which fit does not log here (it logs "
                         f"{sorted(logged)})")
    return key


def higher_is_better(key):
    """Accuracy and R² improve upwards; the losses downwards."""
    return key.endswith("accuracy") or key.endswith("r2")


class LRScheduler:
    """Changes its optimizer's `lr` after each epoch."""

    def bind(self, optimizer, logged=None):
        """Drive `optimizer`; `logged` lists the keys fit will log each epoch (for the
        schedules that watch one of them)."""
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.epoch = 0

    def check_logged(self, logged):
        """ValueError when this schedule watches a key fit will not log (`logged`)."""

    def step(self, logs):
        """Called at the end of each epoch with that epoch's logs (loss, val_loss, ...)."""
        self.epoch += 1
        self._update(logs)

    def _update(self, logs):
        raise NotImplementedError


class StepLR(LRScheduler):
    """Multiply the learning rate by `gamma` every `step_size` epochs (torch's StepLR)."""

    def __init__(self, step_size, gamma=0.1):
        self.step_size = check_count(step_size, "step_size", 1)
        self.gamma = check_number(gamma, "gamma")

    def _update(self, logs):
        if self.epoch % self.step_size == 0:  # chained, as torch does, so the values match it
            self.optimizer.lr = self.optimizer.lr * self.gamma


class InverseScalingLR(LRScheduler):
    """lr = base_lr / (epoch + 1) ** power during epoch `epoch` (from 0): scikit-learn's
    'invscaling' with time counted in epochs."""

    def __init__(self, power=0.5):
        self.power = check_number(power, "power")

    def _update(self, logs):
        self.optimizer.lr = self.base_lr / math.pow(self.epoch + 1, self.power)


class ReduceLROnPlateau(LRScheduler):
    """Multiply the learning rate by `factor` when the monitored value has not improved for
    more than `patience` epochs; torch's ReduceLROnPlateau. `monitor` is a key of the epoch
    logs; by default 'val_loss' when there is validation data, else 'loss'. Losses should
    fall (torch's mode 'min'); accuracy and R² should rise (mode 'max')."""

    def __init__(self, factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel",
                 cooldown=0, min_lr=0.0, eps=1e-8, monitor=None):
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

    def bind(self, optimizer, logged=None):
        super().bind(optimizer, logged)
        self.key = None
        if logged is not None:
            self._watch(monitored_key(self.monitor, logged, "ReduceLROnPlateau"))
        self.num_bad_epochs = 0
        self.cooldown_counter = 0

    def check_logged(self, logged):
        key = monitored_key(self.monitor, logged, "ReduceLROnPlateau")
        if getattr(self, "key", None) not in (None, key):  # continuing a schedule
            raise ValueError(f"ReduceLROnPlateau watches {self.key!r}, which fit does not log "
                             f"here (it logs {sorted(logged)})")

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
