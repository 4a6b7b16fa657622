"""Optimizers over a model's flat buffers, and learning-rate schedules."""

from pynn.core.optim.adam import Adam, AdamW
from pynn.core.optim.base import Optimizer
from pynn.core.optim.cg import CG
from pynn.core.optim.lbfgs import LBFGS
from pynn.core.optim.natural_gradient import NaturalGradient
from pynn.core.optim.newton_cg import NewtonCG
from pynn.core.optim.schedulers import InverseScalingLR, LRScheduler, ReduceLROnPlateau, StepLR
from pynn.core.optim.sgd import SGD

__all__ = [
    "SGD",
    "Adam",
    "AdamW",
    "LBFGS",
    "NewtonCG",
    "NaturalGradient",
    "CG",
    "Optimizer",
    "LRScheduler",
    "StepLR",
    "InverseScalingLR",
    "ReduceLROnPlateau",
]
