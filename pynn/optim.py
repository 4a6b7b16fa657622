"""Optimizers over a model's flat buffers, and learning-rate schedules: pynn's public
face of pynn.core.optim, whose `__all__` names them.
"""

from pynn.core.optim import *  # noqa: F403  (the names of its __all__)
from pynn.core.optim import __all__ as __all__
