"""Optimizers over a model's flat buffers, and learning-rate schedules."""

from pynn.optim.adam import Adam, AdamW
from pynn.optim.base import Optimizer
from pynn.optim.schedulers import InverseScalingLR, LRScheduler, ReduceLROnPlateau, StepLR
from pynn.optim.sgd import SGD

__all__ = [
    "SGD",
    "Adam",
    "AdamW",
    "Optimizer",
    "LRScheduler",
    "StepLR",
    "InverseScalingLR",
    "ReduceLROnPlateau",
]
