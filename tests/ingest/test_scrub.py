"""PII scrubbing at ingest: a real OpenTelemetry SDK exporter sends GenAI and
OpenInference spans to a real server; for a project named in `[privacy]
scrub_ingest_projects` neither the stored span nor the interaction holds the PII."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from liveeval.config import Settings
from liveeval.config.privacy import PrivacyConfig
from liveeval.ingest.scrub import is_content_key, scrub_log_event
from liveeval.model.span import LogEvent
from liveeval.store.database import Store
from liveeval.store.interactions import InteractionFilter, list_interactions
from liveeval.store.schema import spans
from liveeval.store.span_payloads import expand_payload
from tests.conftest import RunningServer, run_server
from tests.telemetry import chat_attributes

QUESTION = "I am Jane Doe, mail me at jane.doe@example.com or call 212-555-0142."
ANSWER = "Sure, I will write to jane.doe@example.com today."


@pytest.fixture
def scrubbing_server(sqlite_store: Store) -> Iterator[RunningServer]:
    settings = Settings(
        db=str(sqlite_store.engine.url),
        privacy=PrivacyConfig(scrub_ingest_projects=("shop",)),
    )
    with run_server(sqlite_store, settings) as running:
        yield running


def send(server: RunningServer, service: str) -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    exporter = OTLPSpanExporter(endpoint=f"{server.url}/v1/traces", timeout=10)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("tests.scrub")
    with tracer.start_as_current_span("chat gpt-4o", attributes=chat_attributes(QUESTION, ANSWER)):
        pass
    with tracer.start_as_current_span(
        "llm",
        attributes={
            "openinference.span.kind": "LLM",
            "llm.model_name": "gpt-4o",
            "input.value": QUESTION,
            "input.mime_type": "text/plain",
            "output.value": ANSWER,
        },
    ):
        pass
    provider.shutdown()


def test_a_scrubbed_project_stores_no_pii_and_others_are_untouched(
    scrubbing_server: RunningServer,
) -> None:
    send(scrubbing_server, "shop")
    send(scrubbing_server, "lab")
    store = scrubbing_server.store
    with store.reading() as conn:
        shop = list_interactions(conn, InteractionFilter(project="shop"), limit=10)
        lab = list_interactions(conn, InteractionFilter(project="lab"), limit=10)
        raw: dict[str, bytes] = {"shop": b"", "lab": b""}
        for project, payload in conn.execute(sa.select(spans.c.project, spans.c.payload)):
            raw[project] += expand_payload(payload)  # as stored: compressed
    assert len(shop) == 2 and len(lab) == 2
    for interaction in shop:
        text = json.dumps(
            [
                interaction.input_text,
                str(interaction.input_messages),
                interaction.output_text,
                str(interaction.output_messages),
            ]
        )
        assert "jane.doe@example.com" not in text
        assert "212-555-0142" not in text
        assert "<EMAIL_ADDRESS>" in text
        assert interaction.model_requested in ("gpt-4o", "gpt-4o-mini")  # structure kept
    assert b"jane.doe@example.com" not in raw["shop"]
    assert b"212-555-0142" not in raw["shop"]
    assert b"jane.doe@example.com" in raw["lab"]
    assert all("jane.doe@example.com" in (i.output_text or str(i.output_messages)) for i in lab)


def test_only_content_attributes_are_scrubbed() -> None:
    for key in (
        "gen_ai.input.messages",
        "input.value",
        "llm.input_messages.0.message.content",
        "exception.message",
        "retrieval.documents.0.document.content",
    ):
        assert is_content_key(key), key
    for key in (
        "gen_ai.response.id",
        "gen_ai.usage.input_tokens",
        "input.mime_type",
        "gen_ai.request.model",
        "llm.input_messages.0.message.role",
        "user.id",
    ):
        assert not is_content_key(key), key


def test_log_event_bodies_are_scrubbed() -> None:
    from datetime import UTC, datetime

    from liveeval.privacy.scrubber import Scrubber

    scrubber = Scrubber(["EMAIL_ADDRESS"], ner="off")
    event = LogEvent(
        "shop",
        "a" * 32,
        "b" * 16,
        "gen_ai.user.message",
        datetime.now(UTC),
        {"gen_ai.system": "openai"},
        {"role": "user", "content": "a@b.io"},
    )
    done = scrub_log_event(event, lambda text: scrubber.scrub(text).text)
    assert done.body == {"role": "user", "content": "<EMAIL_ADDRESS>"}
    assert done.attributes == {"gen_ai.system": "openai"}


def test_feedback_comments_of_a_scrubbed_project_are_scrubbed(
    scrubbing_server: RunningServer,
) -> None:
    import httpx

    from liveeval.store.signals import list_signals

    send(scrubbing_server, "shop")
    with scrubbing_server.store.reading() as conn:
        [first, *_] = list_interactions(conn, InteractionFilter(project="shop"), limit=10)
    response = httpx.post(
        f"{scrubbing_server.url}/api/v1/signals",
        json={
            "kind": "thumbs_down",
            "interaction_id": first.interaction_id,
            "comment": "wrong, write to jane.doe@example.com",
        },
        headers={"X-Liveeval-Project": "shop"},
    )
    assert response.status_code < 300, response.text
    with scrubbing_server.store.reading() as conn:
        [signal] = list_signals(conn, [first.interaction_id])
    assert signal.text == "wrong, write to <EMAIL_ADDRESS>"
