"""The losses (`LOSSES`, one `Loss` record each, and `get_loss`): pynn's public face of
pynn.core.losses, whose `__all__` names them.
"""

from pynn.core.losses import *  # noqa: F403  (the names of its __all__)
from pynn.core.losses import __all__ as __all__
