"""Slice keys: where a context's evidence is pooled.

With slice dimensions ("language", "segment") an outcome in context {language: de,
segment: pro} counts for three slices, widest first: the whole task ("*"), "language=de"
and "language=de,segment=pro". A dimension the context lacks ends the chain there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from liveeval.model.routing import TASK


def slice_chain(context: Mapping[str, object], dimensions: Sequence[str]) -> list[str]:
    """The context's slice keys, widest ("*") first."""
    keys = [TASK]
    parts: list[str] = []
    for dimension in dimensions:
        value = context.get(dimension)
        if value is None:
            break
        parts.append(f"{dimension}={value}")
        keys.append(",".join(parts))
    return keys


def parent_of(key: str) -> str | None:
    """The next wider slice ("language=de" for "language=de,segment=pro"); None for "*"."""
    if key == TASK:
        return None
    head, comma, _ = key.rpartition(",")
    return head if comma else TASK


def covers(wide: str, key: str) -> bool:
    """`key` is `wide` or a slice inside it."""
    return wide == TASK or key == wide or key.startswith(wide + ",")
