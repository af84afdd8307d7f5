"""Raw telemetry as received: spans with their events, and GenAI log events.

Attribute values are plain Python values (str, bool, int, float, bytes, lists
and dicts of those), decoded from OTLP ``AnyValue``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

Attributes = dict[str, Any]


@dataclass(slots=True)
class SpanEvent:
    name: str
    at: datetime
    attributes: Attributes = field(default_factory=dict)


@dataclass(slots=True)
class Span:
    """One OTLP span, with its resource and scope, ids as lowercase hex."""

    project: str
    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    kind: str  # "internal" | "server" | "client" | "producer" | "consumer" | "unspecified"
    start_at: datetime
    end_at: datetime
    status_code: str  # "unset" | "ok" | "error"
    status_message: str | None
    attributes: Attributes
    events: list[SpanEvent] = field(default_factory=list)
    resource: Attributes = field(default_factory=dict)
    scope: str | None = None
    protobuf: bytes = b""  # the OTLP encoding as stored (long values truncated)

    @property
    def duration_ms(self) -> float:
        return (self.end_at - self.start_at).total_seconds() * 1000.0


@dataclass(frozen=True, slots=True)
class StoredSpan:
    """A span as the store keeps it: its OTLP protobuf encoding, with the resource and scope
    it came with. `liveeval.ingest.otlp.decode_span` reads it back into a `Span`."""

    project: str
    payload: bytes
    resource: Attributes
    scope: str | None


@dataclass(slots=True)
class LogEvent:
    """An OTLP log record that belongs to a span (the GenAI event form)."""

    project: str
    trace_id: str
    span_id: str
    name: str
    at: datetime
    attributes: Attributes = field(default_factory=dict)
    body: Any = None
