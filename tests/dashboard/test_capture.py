"""Traffic sent without message content, on the dashboard (in-process, OTLP/JSON in): the
overview says how much and how to turn capture on, and so does each such interaction."""

from __future__ import annotations

import orjson
import pytest

from liveeval.store.database import Store
from liveeval.store.scores import interaction_ids_by_span
from tests.server.asgi import client
from tests.telemetry import (
    chat_attributes,
    genai_attributes,
    json_span,
    json_traces,
    span_id,
    trace_id,
)

pytestmark = pytest.mark.anyio
JSON = {"content-type": "application/json"}
HINT = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true"


async def test_the_overview_and_the_interaction_say_the_content_was_not_captured(
    store: Store,
) -> None:
    bare, told, failed = (trace_id() for _ in range(3))
    document = json_traces(
        json_span(genai_attributes(), trace=bare, span=span_id()),
        json_span(chat_attributes("Hi?", "Hello."), trace=told, span=span_id()),
        json_span(genai_attributes(), trace=failed, span=span_id(), status_code=2),
        service="travel-bot",
    )
    async with client(store) as http:
        posted = await http.post("/v1/traces", content=orjson.dumps(document), headers=JSON)
        assert posted.status_code == 200, posted.text
        with store.reading() as conn:
            ids = interaction_ids_by_span(conn, "travel-bot", [bare, told, failed])
        by_trace = {trace: iid for (trace, _), iid in ids.items()}
        overview = await http.get("/ui/overview", params={"project": "travel-bot"})
        pages = {
            trace: await http.get(f"/ui/interactions/{by_trace[trace]}")
            for trace in (bare, told, failed)
        }
    assert overview.status_code == 200
    # the failed call is an error, not missing content: 1 of the 2 answered ones
    assert "1 of the last 2 interactions arrived without their message content" in overview.text
    assert HINT in overview.text
    assert 'id="content-capture"' in pages[bare].text and HINT in pages[bare].text
    assert 'id="content-capture"' not in pages[told].text
    assert 'id="content-capture"' not in pages[failed].text
