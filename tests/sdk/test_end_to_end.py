"""The SDK against the real liveeval server (uvicorn on port 0, a SQLite store): spans
over OTLP/HTTP, GenAI log events, and signals, read back through the query API."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

import liveeval.sdk as le
from liveeval.config import Settings
from liveeval.model import Role
from liveeval.store.database import Store
from liveeval.store.keys import create_key
from tests.conftest import run_server
from tests.sdk.conftest import BOUND

PROJECT = "support-bot"


@dataclass
class Liveeval:
    url: str
    key: str
    api: httpx.Client

    def interactions(self, **params: Any) -> list[dict[str, Any]]:
        response = self.api.get("/api/v1/interactions", params={"project": PROJECT, **params})
        response.raise_for_status()
        return response.json()["items"]

    def detail(self, interaction_id: int) -> dict[str, Any]:
        response = self.api.get(f"/api/v1/interactions/{interaction_id}")
        response.raise_for_status()
        return response.json()


@pytest.fixture
def liveeval(sqlite_store: Store, sdk_state: None) -> Iterator[Liveeval]:
    with sqlite_store.writing() as conn:
        _, key = create_key(conn, PROJECT, Role.ADMIN, "sdk tests", datetime.now(UTC))
    settings = Settings(db=str(sqlite_store.engine.url), require_keys=True)
    with (
        run_server(sqlite_store, settings) as server,
        httpx.Client(base_url=server.url, headers={"authorization": f"Bearer {key}"}) as api,
    ):
        yield Liveeval(server.url, key, api)


def test_a_traced_call_and_its_feedback_arrive_in_liveeval(liveeval: Liveeval) -> None:
    provider = le.setup(liveeval.url, project=PROJECT, api_key=liveeval.key, set_global=False)
    with provider.get_tracer("app").start_as_current_span("answer question"):
        with le.retrieval("where is order 7?") as found:
            found.set_documents([{"id": "kb-1", "content": "Orders ship in 2 days.", "score": 0.9}])
        with le.llm_call(
            "gpt-4o-mini",
            provider="openai",
            prompt_version="v2",
            route="support",
            segment="pro",
            user_id="u-1",
            session_id="s-1",
            input_messages=[{"role": "user", "content": "Where is order 7?"}],
            system_instructions="Answer briefly.",
        ) as call:
            call.set_output(
                "It ships tomorrow.",
                response_id="chatcmpl-7",
                response_model="gpt-4o-mini-2024-07-18",
                finish_reason="stop",
                input_tokens=12,
                output_tokens=5,
                cost_usd=0.0001,
            )
    assert le.feedback("thumbs_down", trace_id=call.trace_id, comment="it shipped already")
    assert le.signal("regenerated", response_id="chatcmpl-7")
    assert le.flush(BOUND)

    (interaction,) = liveeval.interactions()
    assert interaction["trace_id"] == call.trace_id
    assert interaction["span_id"] == call.span_id
    expected = {
        "project": PROJECT,
        "name": "chat gpt-4o-mini",
        "operation": "chat",
        "status": "unset",
        "provider": "openai",
        "model_requested": "gpt-4o-mini",
        "model_served": "gpt-4o-mini-2024-07-18",
        "response_id": "chatcmpl-7",
        "finish_reasons": ["stop"],
        "prompt_version": "v2",
        "route": "support",
        "segment": "pro",
        "session_id": "s-1",
        "user_id": "u-1",
        "input_text": "Where is order 7?",
        "output_text": "It ships tomorrow.",
        "cost_usd": 0.0001,
        "cost_source": "span",
    }
    assert {name: interaction[name] for name in expected} == expected
    assert [(m["role"], m["content"]) for m in interaction["input_messages"]] == [
        ("system", "Answer briefly."),
        ("user", "Where is order 7?"),
    ]
    assert interaction["usage"]["input_tokens"] == 12
    assert interaction["usage"]["output_tokens"] == 5
    assert [(d["id"], d["content"], d["score"]) for d in interaction["retrieved_context"]] == [
        ("kb-1", "Orders ship in 2 days.", 0.9)
    ]

    signals = liveeval.detail(interaction["interaction_id"])["signals"]
    assert sorted((s["kind"], s["text"]) for s in signals) == [
        ("regenerated", None),
        ("thumbs_down", "it shipped already"),
    ]
    assert all(s["interaction_id"] == interaction["interaction_id"] for s in signals)


def test_feedback_that_arrives_before_its_span_is_attached_when_the_span_comes(
    liveeval: Liveeval,
) -> None:
    le.setup(liveeval.url, project=PROJECT, api_key=liveeval.key, set_global=False)
    with le.llm_call("gpt-4o-mini", provider="openai") as call:
        call.set_output("ok")
    le.feedback("rating", trace_id=call.trace_id, value=2)
    assert le.default_client().flush(BOUND)  # the signal first: stored, not attached yet
    assert liveeval.interactions() == []
    assert le.flush(BOUND)  # now the span
    (interaction,) = liveeval.interactions(has_signal="rating")
    (rating,) = liveeval.detail(interaction["interaction_id"])["signals"]
    assert (rating["kind"], rating["value"]) == ("rating", 2.0)


def test_genai_events_sent_as_log_records_reach_the_interaction(liveeval: Liveeval) -> None:
    le.setup(liveeval.url, project=PROJECT, api_key=liveeval.key, set_global=False)
    logger_provider = le.get_logger_provider()
    assert logger_provider is not None
    events = logger_provider.get_logger("opentelemetry.instrumentation.openai_v2")
    with le.llm_call("gpt-4o-mini", provider="openai") as call:
        events.emit(
            event_name="gen_ai.user.message",
            body={"content": "What is the refund policy?"},
            attributes={"gen_ai.system": "openai"},
        )
        call.set_output("30 days.", finish_reason="stop")
    assert le.flush(BOUND)
    (interaction,) = liveeval.interactions()
    assert interaction["input_text"] == "What is the refund policy?"
    assert interaction["output_text"] == "30 days."


def test_an_exception_in_the_call_is_an_error_interaction(liveeval: Liveeval) -> None:
    le.setup(liveeval.url, project=PROJECT, api_key=liveeval.key, set_global=False)
    with pytest.raises(TimeoutError), le.llm_call("gpt-4o-mini", provider="openai"):
        raise TimeoutError("no answer in 30 s")
    assert le.flush(BOUND)
    (interaction,) = liveeval.interactions()
    assert interaction["status"] == "error"
    assert interaction["error"] == "TimeoutError: no answer in 30 s"


def test_the_openai_v2_instrumentations_log_events_reach_the_interaction(
    liveeval: Liveeval, monkeypatch: pytest.MonkeyPatch
) -> None:
    import httpx2
    import openai
    from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor

    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "EVENT_ONLY")
    completion = {
        "id": "chatcmpl-42",
        "object": "chat.completion",
        "created": 1_790_000_000,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Within 30 days."},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13},
    }
    # openai's own HTTP stack, with a transport that answers as the provider would
    provider_api = httpx2.MockTransport(lambda request: httpx2.Response(200, json=completion))
    tracer_provider = le.setup(
        liveeval.url, project=PROJECT, api_key=liveeval.key, set_global=False
    )
    instrumentor = OpenAIInstrumentor()
    instrumentor.instrument(
        tracer_provider=tracer_provider, logger_provider=le.get_logger_provider()
    )
    try:
        with openai.OpenAI(
            api_key="sk-test",
            base_url="http://openai.test/v1",
            http_client=openai.DefaultHttpxClient(transport=provider_api),
        ) as client:
            client.chat.completions.create(
                model="gpt-4o-mini",
                messages=[{"role": "user", "content": "What is the refund window?"}],
            )
    finally:
        instrumentor.uninstrument()
    assert le.feedback("thumbs_up", response_id="chatcmpl-42")
    assert le.flush(BOUND)
    (interaction,) = liveeval.interactions()
    assert interaction["response_id"] == "chatcmpl-42"
    assert interaction["input_text"] == "What is the refund window?"
    assert interaction["output_text"] == "Within 30 days."
    (thumbs_up,) = liveeval.detail(interaction["interaction_id"])["signals"]
    assert thumbs_up["kind"] == "thumbs_up"
