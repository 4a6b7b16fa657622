"""The type that the modules below pynn.model give a model in their hints.

pynn.model imports them, and imports point down only, so they cannot name its class:
to them a model is `Model`, an alias of Any that says what it stands for
(pynn.model.Sequential).
"""

from typing import Any, TypeAlias

Model: TypeAlias = Any
