"""The layers of a pynn.Sequential model, and `layer_from_config`: pynn's public
face of pynn.core.layers, whose `__all__` names them.
"""

from pynn.core.layers import *  # noqa: F403  (the names of its __all__)
from pynn.core.layers import __all__ as __all__
