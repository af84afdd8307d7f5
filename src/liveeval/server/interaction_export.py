"""Interactions as a file: JSON lines (the REST API's interaction, one a line) or CSV (one
row an interaction, the columns people filter and read in a spreadsheet).

The CLI (`liveeval interactions export`) and the API (`GET /api/v1/interactions/export`)
write the same bytes for the same filter. Rows are read newest first, `BATCH` at a time,
each batch in its own short read transaction, so an export of a large project neither
holds the store nor memory.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Literal

from liveeval.model import Interaction
from liveeval.server.interaction_views import InteractionView
from liveeval.store.database import Store
from liveeval.store.interactions import InteractionFilter, list_interactions

__all__ = ["CSV_COLUMNS", "FORMATS", "ExportFormat", "export_lines", "iter_interactions"]

ExportFormat = Literal["jsonl", "csv"]
FORMATS: tuple[ExportFormat, ...] = ("jsonl", "csv")
MEDIA_TYPES = {"jsonl": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}
BATCH = 500
CSV_COLUMNS = (
    "interaction_id",
    "start_at",
    "project",
    "trace_id",
    "status",
    "error",
    "model_requested",
    "model_served",
    "prompt_version",
    "route",
    "segment",
    "session_id",
    "user_id",
    "latency_ms",
    "input_tokens",
    "output_tokens",
    "cost_usd",
    "tags",
    "input_text",
    "output_text",
)
# A cell a spreadsheet would run as a formula (CSV injection): written with a leading '.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def iter_interactions(
    store: Store, f: InteractionFilter, limit: int | None = None
) -> Iterator[Interaction]:
    """Every interaction the filter matches, newest first, at most `limit`."""
    after = None
    left = limit
    while left is None or left > 0:
        size = BATCH if left is None else min(BATCH, left)
        with store.reading() as conn:
            rows = list_interactions(conn, f, limit=size, after=after)
        yield from rows
        if len(rows) < size:
            return
        last = rows[-1]
        after = (last.start_at, last.interaction_id or 0)
        if left is not None:
            left -= len(rows)


def export_lines(interactions: Iterable[Interaction], fmt: ExportFormat) -> Iterator[str]:
    """The file, a line (a CSV row may hold newlines inside quotes) at a time."""
    if fmt == "jsonl":
        for i in interactions:
            yield InteractionView.of(i).model_dump_json() + "\n"
        return
    yield _csv_row(list(CSV_COLUMNS))
    for i in interactions:
        yield _csv_row(csv_values(i))


def csv_values(i: Interaction) -> list[str]:
    def text(value: object) -> str:
        if value is None:
            return ""
        cell = str(value)
        return "'" + cell if cell.startswith(_FORMULA_START) else cell

    return [
        str(i.interaction_id or ""),
        i.start_at.isoformat(),
        text(i.project),
        i.trace_id,
        text(i.status),
        text(i.error),
        text(i.model_requested),
        text(i.model_served),
        text(i.prompt_version),
        text(i.route),
        text(i.segment),
        text(i.session_id),
        text(i.user_id),
        f"{i.latency_ms:g}",
        "" if i.usage.input is None else str(i.usage.input),
        "" if i.usage.output is None else str(i.usage.output),
        "" if i.cost_usd is None else f"{i.cost_usd:.10g}",
        text(";".join(i.tags)),
        text(i.input_text),
        text(i.output_text),
    ]


def _csv_row(values: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(values)
    return buffer.getvalue()
