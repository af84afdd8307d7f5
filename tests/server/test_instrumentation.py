"""Real instrumentations of a real `openai` client, exported over OTLP to a real liveeval.

The OpenAI API is a small local HTTP server that answers /v1/chat/completions the
way the API does; the client, the instrumentations and the exporters are the
real packages, unmodified.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

import openai
import pytest
import sqlalchemy as sa
import uvicorn
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from liveeval.config import Settings
from liveeval.ingest.otlp import decode_span
from liveeval.model import Interaction
from liveeval.store.database import Store
from liveeval.store.interactions import InteractionFilter, list_interactions
from liveeval.store.sampling import decisions_of
from liveeval.store.schema import log_events
from liveeval.store.scores import scores_of
from liveeval.store.telemetry import load_stored_spans
from tests.conftest import Clock, RunningServer, run_server, wait_for

RESPONSE_ID = "chatcmpl-fake-0001"
SERVED_MODEL = "gpt-4o-mini-2024-07-18"
ANSWER = "Lisbon is the capital of Portugal."
QUESTION = "What is the capital of Portugal?"


class FakeOpenAI:
    """What the fake API received."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    async def chat_completions(self, request: Request) -> JSONResponse:
        body = await request.json()
        self.requests.append(body)
        return JSONResponse(
            {
                "id": RESPONSE_ID,
                "object": "chat.completion",
                "created": 1_790_000_000,
                "model": SERVED_MODEL,
                "system_fingerprint": "fp_test",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": ANSWER, "refusal": None},
                        "logprobs": None,
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 23, "completion_tokens": 8, "total_tokens": 31},
            },
            headers={"x-request-id": "req-test"},
        )


@contextmanager
def fake_openai() -> Iterator[tuple[str, FakeOpenAI]]:
    fake = FakeOpenAI()
    app = Starlette(routes=[Route("/v1/chat/completions", fake.chat_completions, methods=["POST"])])
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started or not thread.is_alive())
    assert server.started, "the fake OpenAI API did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/v1", fake
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def providers(server: RunningServer) -> Iterator[tuple[TracerProvider, LoggerProvider]]:
    resource = Resource.create({"service.name": "travel-bot"})
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(
        SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{server.url}/v1/traces", timeout=10))
    )
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(
        SimpleLogRecordProcessor(OTLPLogExporter(endpoint=f"{server.url}/v1/logs", timeout=10))
    )
    try:
        yield tracer_provider, logger_provider
    finally:
        tracer_provider.shutdown()
        logger_provider.shutdown()


def ask(base_url: str) -> Any:
    with openai.OpenAI(base_url=base_url, api_key="sk-test", max_retries=0) as client:
        return client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[
                {"role": "system", "content": "You answer in one sentence."},
                {"role": "user", "content": QUESTION},
            ],
            temperature=0.2,
        )


def only_interaction(server: RunningServer) -> Interaction:
    with server.store.reading() as conn:
        [interaction] = list_interactions(conn, InteractionFilter(project="travel-bot"), limit=10)
    return interaction


def tracing_doc_pins() -> dict[str, str]:
    """The `name==version` pins of docs/tracing.md's pip line for openai-v2."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "tracing.md").read_text()
    [line] = [
        line for line in doc.splitlines() if line.startswith("pip install") and "openai-v2" in line
    ]
    return dict(re.findall(r'"([A-Za-z0-9_.-]+)==([^"]+)"', line))


def test_the_installed_openai_v2_instrumentation_is_the_pair_docs_tracing_md_pins() -> None:
    pins = tracing_doc_pins()
    assert set(pins) == {"opentelemetry-instrumentation-openai-v2", "opentelemetry-util-genai"}
    assert {name: metadata.version(name) for name in pins} == pins


def test_openai_v2_instrumentation_spans_and_log_events_make_one_interaction(
    live_server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor

    # With the installed opentelemetry-util-genai, openai-v2 always takes its "latest
    # experimental" path; EVENT_ONLY puts the content on a log event and not on the span.
    monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", "gen_ai_latest_experimental")
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "EVENT_ONLY")
    instrumentor = OpenAIInstrumentor()
    with fake_openai() as (base_url, fake), providers(live_server) as (tracing, logging):
        instrumentor.instrument(tracer_provider=tracing, logger_provider=logging)
        try:
            completion = ask(base_url)
        finally:
            instrumentor.uninstrument()
    assert completion.id == RESPONSE_ID
    assert fake.requests[0]["model"] == "gpt-4o-mini"
    with live_server.store.reading() as conn:
        [stored] = load_stored_spans(conn, "travel-bot", [only_interaction(live_server).trace_id])
        span = decode_span(stored)
        [event_name] = conn.execute(sa.select(log_events.c.name)).scalars()
    assert "gen_ai.input.messages" not in span.attributes
    assert event_name == "gen_ai.client.inference.operation.details"

    interaction = only_interaction(live_server)
    assert interaction.convention == "genai"
    assert interaction.operation == "chat"
    assert interaction.provider == "openai"
    assert interaction.model_requested == "gpt-4o-mini"
    assert interaction.model_served == SERVED_MODEL
    assert interaction.response_id == RESPONSE_ID
    assert (interaction.usage.input, interaction.usage.output) == (23, 8)
    assert interaction.finish_reasons == ("stop",)
    assert interaction.input_text == QUESTION
    assert [(m.role, m.content) for m in interaction.input_messages] == [
        ("system", "You answer in one sentence."),
        ("user", QUESTION),
    ]
    assert interaction.output_text == ANSWER


def test_openai_v2_by_default_sends_no_content_which_is_not_evaluated_and_said_once(
    store: Store, clock: Clock, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The instrumentation's default records the model and the tokens, not the messages:
    not_empty used to fail every call, the judge was sent all of them."""
    from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor

    monkeypatch.delenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", raising=False)
    settings = Settings(db=str(store.engine.url), evaluation="inline")
    instrumentor = OpenAIInstrumentor()
    with (
        run_server(store, settings, clock=clock) as server,
        fake_openai() as (base_url, _),
        providers(server) as (tracing, logging),
        caplog.at_level("WARNING", logger="liveeval.ingest.capture"),
    ):
        instrumentor.instrument(tracer_provider=tracing, logger_provider=logging)
        try:
            ask(base_url)
            clock.now += timedelta(minutes=2)
            ask(base_url)
        finally:
            instrumentor.uninstrument()
    with store.reading() as conn:
        found = list_interactions(conn, InteractionFilter(project="travel-bot"), limit=10)
        ids = [i.interaction_id for i in found if i.interaction_id is not None]
        decided = [d for iid in ids for d in decisions_of(conn, iid)]
        scored = scores_of(conn, ids)
    assert len(found) == 2 and not any(i.content_captured for i in found)
    assert all(i.model_served == SERVED_MODEL and i.usage.input == 23 for i in found)
    assert scored == [] and decided == []
    [warning] = [r for r in caplog.records if r.name == "liveeval.ingest.capture"]
    assert "project 'travel-bot': genai spans have arrived without message content" in (
        warning.message
    )
    assert "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true" in warning.message


def test_openinference_instrumentation_spans_make_one_interaction(
    live_server: RunningServer,
) -> None:
    from openinference.instrumentation.openai import OpenAIInstrumentor

    instrumentor = OpenAIInstrumentor()
    with fake_openai() as (base_url, _), providers(live_server) as (tracing, _logging):
        instrumentor.instrument(tracer_provider=tracing)
        try:
            completion = ask(base_url)
        finally:
            instrumentor.uninstrument()
    assert completion.choices[0].message.content == ANSWER

    interaction = only_interaction(live_server)
    assert interaction.convention == "openinference"
    assert interaction.operation == "chat"
    assert interaction.model_requested == "gpt-4o-mini"
    assert interaction.model_served == SERVED_MODEL
    assert interaction.response_id == RESPONSE_ID
    assert (interaction.usage.input, interaction.usage.output, interaction.usage.total) == (
        23,
        8,
        31,
    )
    assert interaction.input_text == QUESTION
    assert [(m.role, m.content) for m in interaction.input_messages] == [
        ("system", "You answer in one sentence."),
        ("user", QUESTION),
    ]
    assert interaction.output_text == ANSWER


ZERO_CODE_APP = """
import sys

import openai

with openai.OpenAI(base_url=sys.argv[1], api_key="sk-test", max_retries=0) as client:
    client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": sys.argv[2]}]
    )
"""


def hide_distribution(folder: Path, name: str) -> None:
    """Shadow an installed distribution with an empty one of the same name, first on the path.

    importlib.metadata lists one distribution per name, the first found on sys.path, so
    its entry points (how `opentelemetry-instrument` finds instrumentations) disappear.
    """
    info = folder / f"{name.replace('-', '_')}-0.0.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.0.0\n")


def test_the_zero_code_path_of_docs_tracing_md_records_an_unchanged_app(
    live_server: RunningServer, tmp_path: Path
) -> None:
    """`opentelemetry-instrument python app.py`, configured only by the environment that
    docs/tracing.md gives, on an app that never imports OpenTelemetry."""
    (tmp_path / "app.py").write_text(ZERO_CODE_APP)
    # This environment also has OpenInference's OpenAI instrumentation, whose entry point
    # is also named "openai": a user installs one (docs/tracing.md), so hide the other.
    hide_distribution(tmp_path / "hidden", "openinference-instrumentation-openai")
    doc = (Path(__file__).resolve().parents[2] / "docs" / "tracing.md").read_text()
    documented = dict(re.findall(r"^export (OTEL_[A-Z_]+)=(\S+)$", doc, flags=re.MULTILINE))
    assert documented["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://127.0.0.1:7318"
    environment = {
        **os.environ,
        **documented,
        "OTEL_EXPORTER_OTLP_ENDPOINT": live_server.url,
        "OTEL_SERVICE_NAME": "travel-bot",
        "PYTHONPATH": str(tmp_path / "hidden"),
    }
    instrument = Path(sys.executable).with_name("opentelemetry-instrument")
    with fake_openai() as (base_url, fake):
        subprocess.run(
            [str(instrument), sys.executable, "app.py", base_url, QUESTION],
            cwd=tmp_path,
            env=environment,
            check=True,
            timeout=120,
        )
    assert len(fake.requests) == 1

    def stored() -> list[Interaction]:
        with live_server.store.reading() as conn:
            return list_interactions(conn, InteractionFilter(project="travel-bot"), limit=10)

    [interaction] = wait_for(stored, timeout=30)
    assert interaction.convention == "genai"
    assert interaction.model_served == SERVED_MODEL
    assert interaction.content_captured
    assert (interaction.input_text, interaction.output_text) == (QUESTION, ANSWER)
