"""The type that the modules below pynn.core.model give a model in their hints.

pynn.core.model imports them, and imports point down only, so they cannot name its class:
to them a model is `Model`, an alias of Any that says what it stands for
(pynn.core.model.Sequential).
"""

from typing import Any, TypeAlias

Model: TypeAlias = Any
