"""POST /api/v1/signals and /api/v1/signals/batch."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
import sqlalchemy as sa

from liveeval.ingest.assemble import hash_user_id
from liveeval.store.database import Store
from liveeval.store.schema import signals
from tests.conftest import Clock
from tests.ingest.test_edits import levenshtein
from tests.server.asgi import client
from tests.telemetry import genai_attributes, json_span, json_traces, span_id, trace_id

NOW = Clock().now


async def send_llm_span(
    http: httpx.AsyncClient,
    *,
    trace: str | None = None,
    response_id: str | None = None,
    service: str | None = None,
) -> tuple[str, int]:
    """Export one LLM span; its trace id and interaction id."""
    trace = trace or trace_id()
    document = json_traces(
        json_span(genai_attributes(response_id=response_id), trace=trace, span=span_id()),
        service=service,
    )
    response = await http.post(
        "/v1/traces", content=orjson.dumps(document), headers={"content-type": "application/json"}
    )
    assert response.status_code == 200, response.text
    listed = await http.get(
        "/api/v1/interactions", params={"trace_id": trace, "project": service or "default"}
    )
    [item] = listed.json()["items"]
    return trace, item["interaction_id"]


async def signals_of(http: httpx.AsyncClient, interaction_id: int) -> list[dict[str, Any]]:
    response = await http.get(f"/api/v1/interactions/{interaction_id}")
    assert response.status_code == 200, response.text
    return response.json()["signals"]


def stored_signals(store: Store) -> int:
    with store.reading() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(signals)).scalar_one()


KINDS = [
    ({"kind": "thumbs_up"}, None, None, {}),
    ({"kind": "thumbs_down", "comment": "wrong city"}, None, "wrong city", {}),
    ({"kind": "rating", "value": 4, "comment": "ok"}, 4.0, "ok", {}),
    ({"kind": "comment", "text": "Nice answer"}, None, "Nice answer", {}),
    (
        {"kind": "report", "reason": "rude", "category": "safety"},
        None,
        "rude",
        {"category": "safety"},
    ),
    ({"kind": "regenerated", "reason": "too long"}, None, "too long", {}),
    ({"kind": "abandoned"}, None, None, {}),
    ({"kind": "rephrased", "new_input": "capital of PT?"}, None, "capital of PT?", {}),
    ({"kind": "escalated", "reason": "asked for a human"}, None, "asked for a human", {}),
    ({"kind": "schema_invalid", "error": "missing key 'city'"}, None, "missing key 'city'", {}),
    ({"kind": "outcome", "success": True}, 1.0, None, {}),
    (
        {"kind": "outcome", "success": False, "error": "payment declined"},
        0.0,
        "payment declined",
        {},
    ),
    (
        {"kind": "edited", "draft": "abc", "final": "abd"},
        1 / 3,
        None,
        {"draft": "abc", "final": "abd"},
    ),
    (
        {"kind": "thumbs_up", "metadata": {"screen": "chat"}},
        None,
        None,
        {"metadata": {"screen": "chat"}},
    ),
]


@pytest.mark.anyio
@pytest.mark.parametrize(("body", "value", "text", "details"), KINDS)
async def test_each_kind_of_signal_is_stored_with_its_value_text_and_details(
    sqlite_store: Store,
    body: dict[str, Any],
    value: float | None,
    text: str | None,
    details: dict[str, Any],
) -> None:
    async with client(sqlite_store) as http:
        trace, interaction_id = await send_llm_span(http)
        response = await http.post(
            "/api/v1/signals",
            json={**body, "trace_id": trace, "user_id": "u-9", "at": "2026-11-01T11:00:00Z"},
        )
        assert response.status_code == 201, response.text
        result = response.json()
        assert result == {
            "signal_id": result["signal_id"],
            "interaction_id": interaction_id,
            "attached": True,
            "duplicate": False,
        }
        [signal] = await signals_of(http, interaction_id)
    assert signal["kind"] == body["kind"]
    assert signal["value"] == (pytest.approx(value) if value is not None else None)
    assert signal["text"] == text
    assert signal["details"] == details
    assert signal["trace_id"] == trace
    assert signal["user_id"] == "u-9"
    assert signal["occurred_at"] == "2026-11-01T11:00:00Z"
    assert signal["received_at"] == "2026-11-01T12:00:00Z"


@pytest.mark.anyio
async def test_a_signal_names_its_interaction_by_trace_response_or_interaction_id(
    store: Store,
) -> None:
    async with client(store) as http:
        trace, by_trace = await send_llm_span(http)
        _, by_response = await send_llm_span(http, response_id="chatcmpl-xyz")
        _, by_id = await send_llm_span(http)
        for naming, expected in (
            ({"trace_id": trace.upper()}, by_trace),
            ({"response_id": "chatcmpl-xyz"}, by_response),
            ({"interaction_id": by_id}, by_id),
        ):
            response = await http.post("/api/v1/signals", json={"kind": "thumbs_up", **naming})
            assert response.status_code == 201, response.text
            assert response.json()["interaction_id"] == expected
        for interaction_id in (by_trace, by_response, by_id):
            assert [s["kind"] for s in await signals_of(http, interaction_id)] == ["thumbs_up"]


@pytest.mark.anyio
@pytest.mark.parametrize("naming", ["trace_id", "response_id"])
async def test_a_signal_before_its_span_is_accepted_and_attached_when_the_span_arrives(
    store: Store, naming: str
) -> None:
    trace = trace_id()
    name = {"trace_id": trace, "response_id": "chatcmpl-late"}[naming]
    async with client(store) as http:
        response = await http.post("/api/v1/signals", json={"kind": "thumbs_down", naming: name})
        assert response.status_code == 202
        early = response.json()
        assert (early["attached"], early["interaction_id"]) == (False, None)

        _, interaction_id = await send_llm_span(http, trace=trace, response_id="chatcmpl-late")

        [signal] = await signals_of(http, interaction_id)
    assert signal["signal_id"] == early["signal_id"]
    assert signal["interaction_id"] == interaction_id
    assert signal["trace_id"] == trace


@pytest.mark.anyio
async def test_a_signal_before_its_span_attaches_to_the_project_named_by_service_name(
    sqlite_store: Store,
) -> None:
    """Open mode, no project named: the span's service.name decides where the pair lives."""
    trace = trace_id()
    async with client(sqlite_store) as http:
        early = await http.post("/api/v1/signals", json={"kind": "regenerated", "trace_id": trace})
        assert early.status_code == 202
        _, interaction_id = await send_llm_span(http, trace=trace, service="shop")
        assert [s["kind"] for s in await signals_of(http, interaction_id)] == ["regenerated"]


@pytest.mark.anyio
async def test_a_retried_signal_is_still_a_duplicate_after_its_span_claimed_it(
    store: Store,
) -> None:
    trace = trace_id()
    body = {"kind": "thumbs_up", "trace_id": trace, "idempotency_key": "tap-1"}
    async with client(store) as http:
        early = await http.post("/api/v1/signals", json=body)
        assert early.status_code == 202
        _, interaction_id = await send_llm_span(http, trace=trace, service="shop")
        retry = await http.post("/api/v1/signals", json=body)
        assert retry.status_code == 200
        assert retry.json() == {
            "signal_id": early.json()["signal_id"],
            "interaction_id": interaction_id,
            "attached": True,
            "duplicate": True,
        }
    assert stored_signals(store) == 1


@pytest.mark.anyio
async def test_a_signal_after_its_span_finds_it_in_any_project_in_open_mode(
    sqlite_store: Store,
) -> None:
    async with client(sqlite_store) as http:
        trace, interaction_id = await send_llm_span(http, service="shop")
        response = await http.post("/api/v1/signals", json={"kind": "thumbs_up", "trace_id": trace})
        assert response.status_code == 201
        assert response.json()["interaction_id"] == interaction_id


@pytest.mark.anyio
async def test_a_retried_signal_with_an_idempotency_key_is_counted_once(store: Store) -> None:
    async with client(store) as http:
        trace, interaction_id = await send_llm_span(http)
        body = {"kind": "rating", "value": 2, "trace_id": trace, "idempotency_key": "fb-1"}
        first = await http.post("/api/v1/signals", json=body)
        retry = await http.post("/api/v1/signals", json=body)
        assert first.status_code == 201
        assert retry.status_code == 200
        assert retry.json() == {**first.json(), "duplicate": True}
        assert len(await signals_of(http, interaction_id)) == 1
    assert stored_signals(store) == 1


@pytest.mark.anyio
async def test_signals_without_idempotency_keys_are_each_counted(sqlite_store: Store) -> None:
    async with client(sqlite_store) as http:
        trace, interaction_id = await send_llm_span(http)
        for _ in range(2):
            response = await http.post(
                "/api/v1/signals", json={"kind": "regenerated", "trace_id": trace}
            )
            assert response.status_code == 201
        assert len(await signals_of(http, interaction_id)) == 2


EDIT_PAIRS = [
    ("The capital is Lisbon.", "The capital of Portugal is Lisbon."),
    ("Grüße, Jürgen", "Grüsse, Juergen"),
    ("東京は日本の首都です", "東京は首都です"),
    ("ok 👍🏽 thanks", "ok thanks"),
    ("same text", "same text"),
    ("", "written from scratch"),
]


@pytest.mark.anyio
@pytest.mark.parametrize(("draft", "final"), EDIT_PAIRS)
async def test_an_edited_signal_carries_the_edit_ratio_of_draft_and_final(
    sqlite_store: Store, draft: str, final: str
) -> None:
    async with client(sqlite_store) as http:
        trace, interaction_id = await send_llm_span(http)
        response = await http.post(
            "/api/v1/signals",
            json={"kind": "edited", "trace_id": trace, "draft": draft, "final": final},
        )
        assert response.status_code == 201, response.text
        [signal] = await signals_of(http, interaction_id)
    expected = levenshtein(draft, final) / max(len(draft), len(final))
    assert signal["value"] == pytest.approx(expected)
    assert signal["details"] == {"draft": draft, "final": final}


def _error_locations(response: httpx.Response) -> list[tuple[Any, ...]]:
    return [tuple(error["loc"]) for error in response.json()["detail"]]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("body", "location", "message"),
    [
        (
            {"kind": "rating", "value": 7, "trace_id": "ab" * 16},
            ("body", "rating", "value"),
            "less than or equal to 5",
        ),
        (
            {"kind": "rating", "value": "4", "trace_id": "ab" * 16},
            ("body", "rating", "value"),
            "valid integer",
        ),
        (
            {"kind": "rating", "value": 4.5, "trace_id": "ab" * 16},
            ("body", "rating", "value"),
            "valid integer",
        ),
        ({"kind": "love", "trace_id": "ab" * 16}, ("body",), "'love'"),
        ({"trace_id": "ab" * 16}, ("body",), "'kind'"),
        (
            {"kind": "thumbs_up", "trace_id": "ab" * 16, "stars": 3},
            ("body", "thumbs_up", "stars"),
            "Extra inputs are not permitted",
        ),
        ({"kind": "thumbs_up"}, ("body", "thumbs_up"), "name the interaction"),
        (
            {"kind": "thumbs_up", "trace_id": "not-a-hex-trace-id"},
            ("body", "thumbs_up", "trace_id"),
            "pattern",
        ),
        (
            {"kind": "thumbs_up", "trace_id": "ab" * 15},
            ("body", "thumbs_up", "trace_id"),
            "pattern",
        ),
        (
            {"kind": "thumbs_up", "trace_id": "ab" * 16, "at": "2026-11-01T10:00:00"},
            ("body", "thumbs_up", "at"),
            "timezone",
        ),
        (
            {"kind": "thumbs_up", "interaction_id": 2**64},
            ("body", "thumbs_up", "interaction_id"),
            "less than or equal to",
        ),
        (
            {"kind": "thumbs_up", "interaction_id": 0},
            ("body", "thumbs_up", "interaction_id"),
            "greater than or equal to 1",
        ),
        (
            {"kind": "edited", "trace_id": "ab" * 16, "draft": "x"},
            ("body", "edited", "final"),
            "Field required",
        ),
    ],
)
async def test_an_invalid_signal_is_422_naming_the_field(
    sqlite_store: Store, body: dict[str, Any], location: tuple[str, ...], message: str
) -> None:
    async with client(sqlite_store) as http:
        response = await http.post("/api/v1/signals", json=body)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert tuple(error["loc"]) == location
    assert message in error["msg"]
    assert stored_signals(sqlite_store) == 0


@pytest.mark.anyio
async def test_an_unknown_interaction_id_is_404(sqlite_store: Store) -> None:
    async with client(sqlite_store) as http:
        response = await http.post(
            "/api/v1/signals", json={"kind": "thumbs_up", "interaction_id": 987654}
        )
    assert response.status_code == 404
    assert response.json() == {"detail": "interaction 987654 does not exist"}
    assert stored_signals(sqlite_store) == 0


@pytest.mark.anyio
async def test_an_interaction_id_of_another_project_than_the_header_names_is_422(
    sqlite_store: Store,
) -> None:
    async with client(sqlite_store) as http:
        _, interaction_id = await send_llm_span(http, service="shop")
        response = await http.post(
            "/api/v1/signals",
            json={"kind": "thumbs_up", "interaction_id": interaction_id},
            headers={"x-liveeval-project": "blog"},
        )
    assert response.status_code == 422
    assert response.json() == {"detail": f"interaction {interaction_id} belongs to project 'shop'"}
    assert stored_signals(sqlite_store) == 0


@pytest.mark.anyio
async def test_a_batch_is_stored_whole(store: Store) -> None:
    async with client(store) as http:
        trace, interaction_id = await send_llm_span(http)
        pending = trace_id()
        response = await http.post(
            "/api/v1/signals/batch",
            json={
                "signals": [
                    {"kind": "thumbs_up", "trace_id": trace},
                    {"kind": "comment", "interaction_id": interaction_id, "text": "great"},
                    {"kind": "abandoned", "trace_id": pending},
                ]
            },
        )
        assert response.status_code == 202  # one of them waits for its span
        results = response.json()
        assert [r["attached"] for r in results] == [True, True, False]
        assert [r["interaction_id"] for r in results] == [interaction_id, interaction_id, None]
        assert [s["kind"] for s in await signals_of(http, interaction_id)] == [
            "thumbs_up",
            "comment",
        ]


@pytest.mark.anyio
async def test_a_batch_of_attached_signals_is_201_and_a_repeated_one_200(
    sqlite_store: Store,
) -> None:
    async with client(sqlite_store) as http:
        trace, _ = await send_llm_span(http)
        batch = {
            "signals": [
                {"kind": "thumbs_up", "trace_id": trace, "idempotency_key": "a"},
                {"kind": "escalated", "trace_id": trace, "idempotency_key": "b"},
            ]
        }
        assert (await http.post("/api/v1/signals/batch", json=batch)).status_code == 201
        again = await http.post("/api/v1/signals/batch", json=batch)
        assert again.status_code == 200
        assert [r["duplicate"] for r in again.json()] == [True, True]
    assert stored_signals(sqlite_store) == 2


@pytest.mark.anyio
async def test_a_batch_with_one_invalid_signal_stores_nothing(store: Store) -> None:
    async with client(store) as http:
        trace, _ = await send_llm_span(http)
        response = await http.post(
            "/api/v1/signals/batch",
            json={
                "signals": [
                    {"kind": "thumbs_up", "trace_id": trace},
                    {"kind": "rating", "value": 9, "trace_id": trace},
                ]
            },
        )
    assert response.status_code == 422
    assert _error_locations(response) == [("body", "signals", 1, "rating", "value")]
    assert stored_signals(store) == 0


@pytest.mark.anyio
async def test_a_batch_naming_an_unknown_interaction_stores_nothing(store: Store) -> None:
    async with client(store) as http:
        trace, _ = await send_llm_span(http)
        response = await http.post(
            "/api/v1/signals/batch",
            json={
                "signals": [
                    {"kind": "thumbs_up", "trace_id": trace},
                    {"kind": "thumbs_up", "interaction_id": 424242},
                ]
            },
        )
    assert response.status_code == 404
    assert stored_signals(store) == 0


@pytest.mark.anyio
async def test_an_empty_batch_is_422(sqlite_store: Store) -> None:
    async with client(sqlite_store) as http:
        response = await http.post("/api/v1/signals/batch", json={"signals": []})
    assert response.status_code == 422
    assert _error_locations(response) == [("body", "signals")]


@pytest.mark.anyio
async def test_the_project_header_decides_where_a_pending_signal_waits(
    sqlite_store: Store,
) -> None:
    trace = trace_id()
    async with client(sqlite_store) as http:
        early = await http.post(
            "/api/v1/signals",
            json={"kind": "thumbs_down", "trace_id": trace},
            headers={"x-liveeval-project": "shop"},
        )
        assert early.status_code == 202
        _, interaction_id = await send_llm_span(http, trace=trace, service="shop")
        assert [s["kind"] for s in await signals_of(http, interaction_id)] == ["thumbs_down"]


@pytest.mark.anyio
async def test_user_ids_of_signals_are_hashed_like_those_of_interactions(
    sqlite_store: Store,
) -> None:
    async with client(sqlite_store, hash_user_ids=True, user_id_salt="pepper") as http:
        trace = trace_id()
        document = json_traces(
            json_span(genai_attributes(**{"user.id": "alice"}), trace=trace, span=span_id())
        )
        sent = await http.post(
            "/v1/traces",
            content=orjson.dumps(document),
            headers={"content-type": "application/json"},
        )
        assert sent.status_code == 200
        [item] = (await http.get("/api/v1/interactions")).json()["items"]
        response = await http.post(
            "/api/v1/signals", json={"kind": "thumbs_up", "trace_id": trace, "user_id": "alice"}
        )
        assert response.status_code == 201
        [signal] = await signals_of(http, item["interaction_id"])
    assert item["user_id"] == hash_user_id("alice", "pepper")
    assert signal["user_id"] == item["user_id"]
