"""Learning-rate schedules, stepped once per epoch by fit (as torch.optim.lr_scheduler is
in a usual training loop). No scheduler means a constant learning rate."""
import math

from pynn.optim.base import check_number


class LRScheduler:
    """Changes its optimizer's `lr` after each epoch."""

    def bind(self, optimizer):
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.epoch = 0

    def step(self, logs):
        """Called at the end of each epoch with that epoch's logs (loss, val_loss, ...)."""
        self.epoch += 1
        self._update(logs)

    def _update(self, logs):
        raise NotImplementedError


class StepLR(LRScheduler):
    """Multiply the learning rate by `gamma` every `step_size` epochs (torch's StepLR)."""

    def __init__(self, step_size, gamma=0.1):
        if isinstance(step_size, bool) or not isinstance(step_size, int) or step_size < 1:
            raise ValueError(f"step_size must be an integer >= 1, got {step_size!r}")
        self.step_size = step_size
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
    """Multiply the learning rate by `factor` when the monitored loss has not improved for
    more than `patience` epochs; torch's ReduceLROnPlateau (mode 'min'). `monitor` is a key
    of the epoch logs; by default 'val_loss' when there is validation data, else 'loss'."""

    def __init__(self, factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel",
                 cooldown=0, min_lr=0.0, eps=1e-8, monitor=None):
        self.factor = check_number(factor, "factor", 0.0, 1.0, high_open=True)
        for name, value in (("patience", patience), ("cooldown", cooldown)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
        self.patience, self.cooldown = patience, cooldown
        self.threshold = check_number(threshold, "threshold")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        self.threshold_mode = threshold_mode
        self.min_lr = check_number(min_lr, "min_lr")
        self.eps = check_number(eps, "eps")
        self.monitor = monitor

    def bind(self, optimizer):
        super().bind(optimizer)
        self.best = math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0

    def _improved(self, value):
        if self.threshold_mode == "rel":
            return value < self.best * (1 - self.threshold)
        return value < self.best - self.threshold

    def _update(self, logs):
        key = self.monitor or ("val_loss" if "val_loss" in logs else "loss")
        if key not in logs:
            raise ValueError(f"ReduceLROnPlateau monitors {key!r}, which fit does not log "
                             f"(it logs {sorted(logs)})")
        value = float(logs[key])
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
