from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from liveeval.model import Interaction, Signal, SignalKind
from liveeval.store.database import Store
from liveeval.store.interactions import InteractionFilter, list_interactions, upsert_interactions
from liveeval.store.schema import signals
from liveeval.store.signals import attach_pending, find_target, list_signals, record_signal
from tests.telemetry import T0, span_id, trace_id


def interaction(trace: str, *, end_ms: int, response_id: str | None = None) -> Interaction:
    return Interaction(
        project="shop",
        trace_id=trace,
        span_id=span_id(),
        parent_span_id=None,
        name="chat",
        convention="genai",
        operation="chat",
        start_at=T0,
        end_at=T0 + timedelta(milliseconds=end_ms),
        latency_ms=float(end_ms),
        status="ok",
        response_id=response_id,
    )


def save(store: Store, *batch: Interaction) -> dict[str, int]:
    """interaction ids by span id"""
    with store.writing() as conn:
        upsert_interactions(conn, batch, T0)
    with store.reading() as conn:
        rows = list_interactions(conn, InteractionFilter(project="shop"), limit=100)
    return {i.span_id: i.interaction_id or 0 for i in rows}


def signal_count(store: Store) -> int:
    with store.reading() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(signals)).scalar_one()


def test_a_trace_id_names_the_last_ending_llm_call_of_the_trace(store: Store) -> None:
    trace = trace_id()
    first, last = interaction(trace, end_ms=100), interaction(trace, end_ms=900)
    ids = save(store, last, first)
    with store.reading() as conn:
        assert find_target(conn, "shop", trace_id=trace, response_id=None) == (
            ids[last.span_id],
            trace,
        )


def test_a_response_id_names_its_own_llm_call(store: Store) -> None:
    trace = trace_id()
    first = interaction(trace, end_ms=100, response_id="resp-a")
    last = interaction(trace, end_ms=900, response_id="resp-b")
    ids = save(store, first, last)
    with store.reading() as conn:
        assert find_target(conn, "shop", trace_id=None, response_id="resp-a") == (
            ids[first.span_id],
            trace,
        )
        assert find_target(conn, "other", trace_id=None, response_id="resp-a") is None
        assert find_target(conn, "shop", trace_id=trace_id(), response_id=None) is None
        assert find_target(conn, "shop", trace_id=None, response_id=None) is None


def test_a_signal_with_an_idempotency_key_is_stored_once_per_project(store: Store) -> None:
    trace = trace_id()
    with store.writing() as conn:
        first = record_signal(
            conn, Signal("shop", SignalKind.THUMBS_UP, T0, trace_id=trace, idempotency_key="k"), T0
        )
        retry = record_signal(
            conn, Signal("shop", SignalKind.THUMBS_UP, T0, trace_id=trace, idempotency_key="k"), T0
        )
        elsewhere = record_signal(
            conn, Signal("other", SignalKind.THUMBS_UP, T0, trace_id=trace, idempotency_key="k"), T0
        )
    assert first.duplicate is False
    assert retry.duplicate is True
    assert retry.signal_id == first.signal_id
    assert elsewhere.duplicate is False
    assert elsewhere.signal_id != first.signal_id
    assert signal_count(store) == 2


def test_signals_without_a_key_are_each_stored(store: Store) -> None:
    with store.writing() as conn:
        for _ in range(3):
            record_signal(conn, Signal("shop", SignalKind.REGENERATED, T0, trace_id=trace_id()), T0)
    assert signal_count(store) == 3


def test_every_field_of_a_signal_is_kept(store: Store) -> None:
    trace = trace_id()
    ids = save(store, target := interaction(trace, end_ms=10))
    signal = Signal(
        project="shop",
        kind=SignalKind.EDITED,
        occurred_at=T0 + timedelta(seconds=3),
        interaction_id=ids[target.span_id],
        trace_id=trace,
        response_id="r",
        value=0.25,
        text="note",
        details={"draft": "a", "final": "b"},
        user_id="u1",
        idempotency_key="edit-1",
    )
    with store.writing() as conn:
        recorded = record_signal(conn, signal, T0 + timedelta(seconds=4))
    with store.reading() as conn:
        [back] = list_signals(conn, [ids[target.span_id]])
    signal.signal_id = recorded.signal_id
    signal.received_at = T0 + timedelta(seconds=4)
    assert back == signal


def test_pending_signals_attach_to_the_interaction_they_name(store: Store) -> None:
    trace = trace_id()
    with store.writing() as conn:
        by_trace = record_signal(conn, Signal("shop", SignalKind.ABANDONED, T0, trace_id=trace), T0)
        by_response = record_signal(
            conn, Signal("shop", SignalKind.THUMBS_UP, T0, response_id="resp-x"), T0
        )
        unrelated = record_signal(
            conn, Signal("shop", SignalKind.THUMBS_UP, T0, trace_id=trace_id()), T0
        )
    first = interaction(trace, end_ms=100, response_id="resp-x")
    last = interaction(trace, end_ms=500)
    ids = save(store, first, last)
    with store.writing() as conn:
        assert len(attach_pending(conn, "shop", {trace}, {"resp-x"})) == 2
        assert len(attach_pending(conn, "shop", {trace}, {"resp-x"})) == 0  # already attached
    with store.reading() as conn:
        rows = dict(conn.execute(sa.select(signals.c.signal_id, signals.c.interaction_id)).all())
    assert rows == {
        by_trace.signal_id: ids[last.span_id],
        by_response.signal_id: ids[first.span_id],
        unrelated.signal_id: None,
    }


def test_signals_are_listed_in_the_order_they_happened(store: Store) -> None:
    ids = save(store, target := interaction(trace_id(), end_ms=10))
    interaction_id = ids[target.span_id]
    with store.writing() as conn:
        for seconds, kind in ((5, SignalKind.COMMENT), (1, SignalKind.THUMBS_UP)):
            record_signal(
                conn,
                Signal(
                    "shop", kind, T0 + timedelta(seconds=seconds), interaction_id=interaction_id
                ),
                T0,
            )
    with store.reading() as conn:
        assert [s.kind for s in list_signals(conn, [interaction_id])] == [
            SignalKind.THUMBS_UP,
            SignalKind.COMMENT,
        ]
        assert list_signals(conn, []) == []


def test_signals_waiting_in_the_claim_project_are_claimed_and_moved(store: Store) -> None:
    trace, other_trace = trace_id(), trace_id()
    with store.writing() as conn:
        waiting = record_signal(
            conn,
            Signal("default", SignalKind.THUMBS_UP, T0, trace_id=trace, idempotency_key="k1"),
            T0,
        )
        elsewhere = record_signal(
            conn, Signal("third", SignalKind.THUMBS_UP, T0, trace_id=trace), T0
        )
        unrelated = record_signal(
            conn, Signal("default", SignalKind.THUMBS_UP, T0, trace_id=other_trace), T0
        )
    ids = save(store, target := interaction(trace, end_ms=10))
    with store.writing() as conn:
        assert len(attach_pending(conn, "shop", {trace}, set())) == 0  # not claimed unless asked
        assert len(attach_pending(conn, "shop", {trace}, set(), claim_from="default")) == 1
    with store.reading() as conn:
        rows = {
            row.signal_id: (row.project, row.interaction_id)
            for row in conn.execute(
                sa.select(signals.c.signal_id, signals.c.project, signals.c.interaction_id)
            )
        }
    assert rows == {
        waiting.signal_id: ("shop", ids[target.span_id]),
        elsewhere.signal_id: ("third", None),
        unrelated.signal_id: ("default", None),
    }


def test_a_claimed_signal_whose_key_is_taken_in_the_project_keeps_waiting(store: Store) -> None:
    trace = trace_id()
    with store.writing() as conn:
        waiting = record_signal(
            conn,
            Signal("default", SignalKind.THUMBS_UP, T0, trace_id=trace, idempotency_key="k"),
            T0,
        )
        record_signal(
            conn,
            Signal("shop", SignalKind.COMMENT, T0, trace_id=trace_id(), idempotency_key="k"),
            T0,
        )
    save(store, interaction(trace, end_ms=10))
    with store.writing() as conn:
        assert len(attach_pending(conn, "shop", {trace}, set(), claim_from="default")) == 0
    with store.reading() as conn:
        row = conn.execute(
            sa.select(signals.c.project, signals.c.interaction_id).where(
                signals.c.signal_id == waiting.signal_id
            )
        ).one()
    assert tuple(row) == ("default", None)
