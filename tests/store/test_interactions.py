from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
import sqlalchemy as sa

from liveeval.model import (
    Interaction,
    Message,
    RetrievedDocument,
    Score,
    ScoreKind,
    Signal,
    SignalKind,
    TokenUsage,
    ToolCall,
)
from liveeval.store.database import Store
from liveeval.store.interactions import (
    InteractionFilter,
    count_interactions,
    get_interaction,
    get_interactions,
    list_interactions,
    upsert_interactions,
)
from liveeval.store.schema import interactions
from liveeval.store.scores import write_scores
from liveeval.store.signals import record_signal
from tests.store.test_rollups import judge_score
from tests.telemetry import T0, span_id, trace_id


def interaction(**fields: object) -> Interaction:
    start = fields.pop("start_at", T0)
    values: dict = {
        "project": "shop",
        "trace_id": trace_id(),
        "span_id": span_id(),
        "parent_span_id": None,
        "name": "chat",
        "convention": "genai",
        "operation": "chat",
        "start_at": start,
        "end_at": start + timedelta(milliseconds=400),  # type: ignore[operator]
        "latency_ms": 400.0,
        "status": "ok",
    }
    values.update(fields)
    return Interaction(**values)


def save(store: Store, *batch: Interaction) -> list[Interaction]:
    with store.writing() as conn:
        upsert_interactions(conn, batch, T0)
    with store.reading() as conn:
        return list_interactions(conn, InteractionFilter(project="shop"), limit=1000)


def listed(store: Store, **conditions: object) -> list[Interaction]:
    with store.reading() as conn:
        return list_interactions(
            conn,
            InteractionFilter(project=conditions.pop("project", "shop"), **conditions),  # type: ignore[arg-type]
            limit=2000,
        )


def every_field() -> Interaction:
    """An interaction with every field set."""
    call = ToolCall(name="lookup", arguments='{"q": "ünïcode"}', id="call_1")
    return interaction(
        parent_span_id=span_id(),
        error=None,
        provider="openai",
        model_requested="gpt-4o",
        model_served="gpt-4o-2024-08-06",
        response_id="chatcmpl-9",
        finish_reasons=("tool_calls",),
        prompt_version="v2",
        route="/ask",
        segment="pro",
        session_id="s-1",
        user_id="u-1",
        input_text="Where is my parcel? 📦",
        input_messages=(
            Message(role="system", content="Be kind."),
            Message(role="user", content="Where is my parcel? 📦", name="ann"),
            Message(role="tool", content="in transit", tool_call_id="call_0"),
        ),
        output_text=None,
        output_messages=(
            Message(role="assistant", tool_calls=(call,), finish_reason="tool_calls"),
        ),
        retrieved_context=(
            RetrievedDocument(content="FAQ", id="d1", score=0.9, metadata={"src": "kb"}),
        ),
        tool_calls=(call,),
        usage=TokenUsage(
            input=100, output=20, total=120, cache_read=40, cache_creation=5, reasoning=7
        ),
        cost_usd=0.0012,
        cost_source="price_table",
        tags=("beta", "eu"),
        metadata={"tenant": {"id": 7, "tier": "gold"}},
    )


def test_every_field_of_an_interaction_survives_the_round_trip(store: Store) -> None:
    full = every_field()
    [back] = save(store, full)
    assert back.interaction_id is not None
    assert back == replace(full, interaction_id=back.interaction_id)


def test_a_reassembled_interaction_replaces_the_fields_and_keeps_its_id(store: Store) -> None:
    first = interaction(output_text=None, route=None)
    [stored] = save(store, first)
    with store.writing() as conn:
        upsert_interactions(conn, [replace(first, output_text="done", route="/r")], T0)
    [again] = listed(store)
    assert again.interaction_id == stored.interaction_id
    assert (again.output_text, again.route) == ("done", "/r")


def test_upsert_answers_every_id_the_last_copy_of_a_span_winning(store: Store) -> None:
    """1,201 interactions (three statements' worth) with one span twice in the batch: each
    key stored once, with its last copy's fields, and every id answered by the write."""
    batch = [interaction(start_at=T0 + timedelta(seconds=n)) for n in range(1200)]
    twice = replace(batch[7], output_text="the later copy")
    with store.writing() as conn:
        ids = upsert_interactions(conn, [*batch, twice], T0)
    stored = listed(store)
    assert len(stored) == 1200
    assert ids == {(i.trace_id, i.span_id): i.interaction_id for i in stored}
    [again] = [i for i in stored if i.span_id == twice.span_id]
    assert again.output_text == "the later copy"
    with store.writing() as conn:  # the same spans again: the same ids, nothing added
        assert upsert_interactions(conn, batch[:3], T0) == {
            key: ids[key] for key in [(i.trace_id, i.span_id) for i in batch[:3]]
        }
    assert len(listed(store)) == 1200


def test_listing_is_newest_first_and_only_of_the_project(store: Store) -> None:
    old = interaction(start_at=T0)
    new = interaction(start_at=T0 + timedelta(minutes=1))
    elsewhere = interaction(project="other", start_at=T0 + timedelta(minutes=2))
    save(store, old, new, elsewhere)
    assert [i.span_id for i in listed(store)] == [new.span_id, old.span_id]
    assert [i.span_id for i in listed(store, project="other")] == [elsewhere.span_id]


def test_each_filter_selects_exactly_its_interactions(store: Store) -> None:
    a = interaction(
        start_at=T0,
        model_requested="gpt-4o",
        model_served="gpt-4o-2024-08-06",
        prompt_version="v1",
        route="/a",
        session_id="s1",
        status="ok",
    )
    b = interaction(
        start_at=T0 + timedelta(minutes=10),
        model_requested="gpt-4o-mini",
        model_served="gpt-4o-mini-2024-07-18",
        prompt_version="v2",
        route="/b",
        session_id="s2",
        status="error",
    )
    save(store, a, b)

    def ids(**conditions: object) -> list[str]:
        return [i.span_id for i in listed(store, **conditions)]

    assert ids(since=T0 + timedelta(minutes=10)) == [b.span_id]
    assert ids(until=T0 + timedelta(minutes=10)) == [a.span_id]
    assert ids(since=T0, until=T0 + timedelta(minutes=11)) == [b.span_id, a.span_id]
    assert ids(model="gpt-4o") == [a.span_id]
    assert ids(model="gpt-4o-mini-2024-07-18") == [b.span_id]
    assert ids(prompt_version="v2") == [b.span_id]
    assert ids(route="/a") == [a.span_id]
    assert ids(session_id="s2") == [b.span_id]
    assert ids(trace_id=a.trace_id) == [a.span_id]
    assert ids(status="error") == [b.span_id]
    assert ids(route="/a", status="error") == []


def test_has_signal_selects_interactions_with_a_signal_of_that_kind(store: Store) -> None:
    liked, disliked, silent = interaction(), interaction(), interaction()
    rows = {i.span_id: i for i in save(store, liked, disliked, silent)}
    with store.writing() as conn:
        for target, kind in ((liked, SignalKind.THUMBS_UP), (disliked, SignalKind.THUMBS_DOWN)):
            stored = rows[target.span_id]
            record_signal(
                conn,
                Signal("shop", kind, T0, interaction_id=stored.interaction_id),
                T0,
            )
    assert [i.span_id for i in listed(store, has_signal="thumbs_down")] == [disliked.span_id]
    assert [i.span_id for i in listed(store, has_signal="thumbs_up")] == [liked.span_id]
    assert listed(store, has_signal="rating") == []


def test_max_score_selects_interactions_a_judge_scored_that_low(store: Store) -> None:
    low, high, failed, unjudged = interaction(), interaction(), interaction(), interaction()
    rows = {i.span_id: i for i in save(store, low, high, failed, unjudged)}

    def iid(target: Interaction) -> int:
        found = rows[target.span_id].interaction_id
        assert found is not None
        return found

    with store.writing() as conn:
        write_scores(
            conn,
            [
                judge_score("shop", iid(low), "quality", 2.0, T0),
                judge_score("shop", iid(low), "faithfulness", 5.0, T0),
                judge_score("shop", iid(high), "quality", 5.0, T0),
                judge_score("shop", iid(failed), "quality", None, T0),  # the judge failed
                Score("shop", iid(unjudged), "length", ScoreKind.CHECK, value=0.0, created_at=T0),
            ],
            [f"k{n}" for n in range(5)],
        )
    assert [i.span_id for i in listed(store, max_score=2.0)] == [low.span_id]
    assert [i.span_id for i in listed(store, max_score=1.0)] == []
    assert {i.span_id for i in listed(store, max_score=5.0)} == {low.span_id, high.span_id}


def test_paging_with_after_walks_every_row_once_even_with_equal_start_times(
    store: Store,
) -> None:
    batch = [
        interaction(start_at=T0 + timedelta(seconds=n // 4)) for n in range(23)
    ]  # runs of four equal start times
    save(store, *batch)
    seen: list[int] = []
    after = None
    with store.reading() as conn:
        while True:
            page = list_interactions(conn, InteractionFilter(project="shop"), limit=5, after=after)
            if not page:
                break
            seen += [i.interaction_id or 0 for i in page]
            after = (page[-1].start_at, page[-1].interaction_id or 0)
    assert len(seen) == 23
    assert len(set(seen)) == 23


def test_get_finds_one_interaction_by_id(store: Store) -> None:
    [stored] = save(store, interaction(route="/x"))
    with store.reading() as conn:
        assert get_interaction(conn, stored.interaction_id or 0) == stored
        assert get_interaction(conn, (stored.interaction_id or 0) + 1000) is None


def test_get_interactions_reads_each_as_the_listing_does_and_skips_unknown_ids(
    store: Store,
) -> None:
    stored = save(
        store,
        every_field(),
        interaction(input_text="Grüß Gott", start_at=T0 + timedelta(microseconds=7)),
        interaction(metadata={"scores": [0.5, -1e300, 2**62], "ok": True, "none": None}),
    )
    ids = [i.interaction_id or 0 for i in stored]
    with store.reading() as conn:
        found = get_interactions(conn, [*ids, max(ids) + 1000])
    assert found == {i.interaction_id: i for i in stored}
    assert all(i.start_at.tzinfo is not None for i in found.values())


def test_counts_per_slice_carry_errors_mean_latency_and_cost(store: Store) -> None:
    save(
        store,
        interaction(model_served="m1", route="/a", latency_ms=100.0, cost_usd=0.5),
        interaction(model_served="m1", route="/a", latency_ms=300.0, status="error"),
        interaction(model_served="m1", route="/b", latency_ms=50.0, cost_usd=0.25),
        interaction(model_served="m2", route=None, latency_ms=10.0),
    )
    with store.reading() as conn:
        rows = count_interactions(
            conn, InteractionFilter(project="shop"), ["model_served", "route"]
        )
    by_slice = {(r["model_served"], r["route"]): r for r in rows}
    assert {type(key) for row in rows for key in row} == {str}  # JSON-ready keys
    assert set(by_slice) == {("m1", "/a"), ("m1", "/b"), ("m2", None)}
    assert rows[0]["model_served"] == "m1" and rows[0]["route"] == "/a"  # most first
    a = by_slice[("m1", "/a")]
    assert (a["count"], a["errors"]) == (2, 1)
    assert a["mean_latency_ms"] == pytest.approx(200.0)
    assert a["cost_usd"] == pytest.approx(0.5)
    assert by_slice[("m2", None)]["cost_usd"] is None


def test_counts_refuse_an_unknown_slice(store: Store) -> None:
    with store.reading() as conn, pytest.raises(ValueError, match="cannot slice by"):
        count_interactions(conn, InteractionFilter(project="shop"), ["input_text"])


def test_user_and_text_filters_find_a_users_interactions_and_words_in_any_case(
    store: Store,
) -> None:
    a = interaction(user_id="u-1", input_text="Where is my ORDER?", output_text="It shipped.")
    b = interaction(
        start_at=T0 + timedelta(minutes=1),
        user_id="u-2",
        input_text="Reset my password",
        output_text="Use the 100% safe link_here",
    )
    save(store, a, b)

    def ids(**conditions: object) -> list[str]:
        return [i.span_id for i in listed(store, **conditions)]

    assert ids(user_id="u-1") == [a.span_id]
    assert ids(text="order") == [a.span_id]  # in the input, any case
    assert ids(text="SHIPPED") == [a.span_id]  # in the output
    assert ids(text="my") == [b.span_id, a.span_id]
    assert ids(text="100%") == [b.span_id]  # LIKE's wildcards are plain characters
    assert ids(text="0%") == [b.span_id]
    assert ids(text="k_h") == [b.span_id]
    assert ids(text="k%h") == []
    assert ids(text="_") == [b.span_id]
    assert ids(text="order", user_id="u-2") == []


def test_messages_whose_content_is_the_text_store_the_text_once_and_read_back_whole(
    store: Store,
) -> None:
    prompt, answer = "Where is my parcel? 📦", "It is on its way."
    chat = interaction(
        input_text=prompt,
        input_messages=(
            Message(role="system", content="Be kind."),
            Message(role="user", content=prompt),
            Message(role="user", content=None),
        ),
        output_text=answer,
        output_messages=(Message(role="assistant", content=answer, finish_reason="stop"),),
    )
    [back] = save(store, chat)
    assert back == replace(chat, interaction_id=back.interaction_id)
    with store.reading() as conn:
        stored = conn.execute(
            sa.select(interactions.c.input_messages, interactions.c.output_messages)
        ).one()
    assert stored.input_messages[1] == {"role": "user"}  # the text is not stored again
    assert stored.input_messages[2] == {"role": "user", "content": None}
    assert stored.output_messages == [{"role": "assistant", "finish_reason": "stop"}]


def test_messages_stored_with_their_content_beside_the_text_read_as_written(
    store: Store,
) -> None:
    """Rows written before the text was stored once keep the content in every message."""
    chat = interaction(
        input_text="Hi",
        input_messages=(Message(role="user", content="Hi"),),
        output_text="Hello",
        output_messages=(Message(role="assistant", content="Hello"),),
    )
    [back] = save(store, chat)
    with store.writing() as conn:
        conn.execute(
            interactions.update().values(
                input_messages=[{"role": "user", "content": "Hi"}],
                output_messages=[{"role": "assistant", "content": "Hello"}],
            )
        )
    [again] = listed(store)
    assert again == back
