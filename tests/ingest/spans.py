"""A bare `Span` for the extractor tests, which read attributes and events only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from liveeval.model import Span, SpanEvent

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def make_span(attributes: dict[str, Any], events: list[SpanEvent] | None = None) -> Span:
    return Span(
        project="demo",
        trace_id="0af7651916cd43dd8448eb211c80319c",
        span_id="b7ad6b7169203331",
        parent_span_id=None,
        name="chat gpt-4o-mini",
        kind="client",
        start_at=T0,
        end_at=T0 + timedelta(seconds=1),
        status_code="ok",
        status_message=None,
        attributes=attributes,
        events=events or [],
    )
