"""PII scrubbing: typed placeholders for names, emails, ids and the like, offline.

`entities` is plain data and cheap to import; `scrubber` loads Presidio (and spaCy
when NER is on), so its names are imported here only when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from liveeval.privacy.entities import ENTITIES, ENTITY_NAMES, NER_ENTITIES, Entity

if TYPE_CHECKING:
    from liveeval.privacy.scrubber import (
        Found,
        NerUnavailableError,
        Scrubbed,
        ScrubbedValue,
        Scrubber,
        shared_scrubber,
    )

__all__ = [
    "ENTITIES",
    "ENTITY_NAMES",
    "NER_ENTITIES",
    "Entity",
    "Found",
    "NerUnavailableError",
    "Scrubbed",
    "ScrubbedValue",
    "Scrubber",
    "shared_scrubber",
]
_LAZY = frozenset(__all__) - {"ENTITIES", "ENTITY_NAMES", "NER_ENTITIES", "Entity"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from liveeval.privacy import scrubber

        return getattr(scrubber, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
