"""Interactions stored for store tests, on whichever store the test runs."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from liveeval.model import Interaction
from liveeval.store.database import Store
from liveeval.store.interactions import upsert_interactions
from liveeval.store.scores import interaction_ids_by_span
from tests.telemetry import T0, span_id, trace_id


def chat_interaction(at: datetime, project: str = "shop", **fields: Any) -> Interaction:
    """One chat call of `project` at `at`, its own trace; `fields` override the rest."""
    values: dict[str, Any] = {
        "project": project,
        "trace_id": trace_id(),
        "span_id": span_id(),
        "parent_span_id": None,
        "name": "chat",
        "convention": "genai",
        "operation": "chat",
        "start_at": at,
        "end_at": at,
        "latency_ms": 5.0,
        "status": "ok",
        "input_text": "q",
        "output_text": "a",
    }
    return Interaction(**{**values, **fields})


def stored_interactions(store: Store, count: int, project: str = "shop") -> list[int]:
    """`count` interactions of `project`, each its own trace; their ids in order."""
    batch = [
        Interaction(
            project=project,
            trace_id=trace_id(),
            span_id=span_id(),
            parent_span_id=None,
            name="chat",
            convention="genai",
            operation="chat",
            start_at=T0,
            end_at=T0 + timedelta(milliseconds=500),
            latency_ms=500.0,
            status="ok",
            route="support",
            input_text=f"question {n}",
            output_text=f"answer {n}",
        )
        for n in range(count)
    ]
    with store.writing() as conn:
        upsert_interactions(conn, batch, T0)
        ids = interaction_ids_by_span(conn, project, [i.trace_id for i in batch])
    return [ids[(i.trace_id, i.span_id)] for i in batch]
