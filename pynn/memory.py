"""How many bytes this process may still allocate (`available_bytes`) and the checks made
before an allocation: pynn's public face of pynn.core.memory, whose `__all__` names them.
"""

from pynn.core.memory import *  # noqa: F403  (the names of its __all__)
from pynn.core.memory import __all__ as __all__
