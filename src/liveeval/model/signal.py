"""Signals: explicit feedback and implicit behaviour, attached to an interaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class SignalKind(StrEnum):
    THUMBS_UP = "thumbs_up"
    THUMBS_DOWN = "thumbs_down"
    RATING = "rating"  # value 1..5
    COMMENT = "comment"  # text
    REPORT = "report"  # text: the reason
    REGENERATED = "regenerated"
    EDITED = "edited"  # value: edit-distance ratio of draft -> final, 0..1
    ABANDONED = "abandoned"
    REPHRASED = "rephrased"
    ESCALATED = "escalated"  # handed to a human
    SCHEMA_INVALID = "schema_invalid"  # the app could not parse/validate the output
    OUTCOME = "outcome"  # value 1.0 success / 0.0 failure, text: the error


EXPLICIT_KINDS = frozenset(
    {
        SignalKind.THUMBS_UP,
        SignalKind.THUMBS_DOWN,
        SignalKind.RATING,
        SignalKind.COMMENT,
        SignalKind.REPORT,
    }
)


@dataclass(slots=True)
class Signal:
    project: str
    kind: SignalKind
    occurred_at: datetime
    interaction_id: int | None = None
    trace_id: str | None = None
    response_id: str | None = None
    value: float | None = None
    text: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    user_id: str | None = None
    idempotency_key: str | None = None
    signal_id: int | None = None
    received_at: datetime | None = None
