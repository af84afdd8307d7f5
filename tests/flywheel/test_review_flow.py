"""A thumbs-down interaction followed from the queue to a frozen regression case, on
SQLite and PostgreSQL, through the functions the REST API and the CLI call."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from liveeval.config.review import ReviewConfig
from liveeval.features.hashing_embedding import HashingEncoder
from liveeval.flywheel.golden import CaseConflictError, edit_case, retire_case
from liveeval.flywheel.intake import collect
from liveeval.flywheel.review import (
    ReviewError,
    give_score,
    promote,
    triage,
    write_expected,
)
from liveeval.ingest.assemble import AssemblyRules
from liveeval.ingest.pipeline import write_spans
from liveeval.model import Interaction, Score, ScoreKind, Signal, SignalKind
from liveeval.model.case import FrozenCaseError
from liveeval.model.review import ReasonKind, ReviewState
from liveeval.store import review as queue
from liveeval.store.cases import case_versions, latest_cases
from liveeval.store.database import Store
from liveeval.store.interactions import upsert_interactions
from liveeval.store.scores import interaction_ids_by_span, write_scores
from liveeval.store.signals import record_signal
from tests.telemetry import genai_attributes, model_span, span_id, trace_id

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
SCALES = {"helpfulness": (1, 2, 3, 4, 5)}  # the rubric these tests score on
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


def scrub_emails(text: str) -> tuple[str, list[str]]:
    """A stand-in scrubber for these store tests (tests/privacy checks the real one)."""
    found = EMAIL.findall(text)
    return EMAIL.sub("<EMAIL_ADDRESS>", text), ["EMAIL_ADDRESS"] * len(found)


def store_interactions(store: Store, texts: list[tuple[str, str]]) -> list[int]:
    batch = [
        Interaction(
            project="shop",
            trace_id=trace_id(),
            span_id=span_id(),
            parent_span_id=None,
            name="chat",
            convention="genai",
            operation="chat",
            start_at=T0 + timedelta(seconds=k),
            end_at=T0 + timedelta(seconds=k + 1),
            latency_ms=1000,
            status="ok",
            input_text=question,
            output_text=answer,
        )
        for k, (question, answer) in enumerate(texts)
    ]
    with store.writing() as conn:
        upsert_interactions(conn, batch, T0)
        ids = interaction_ids_by_span(conn, "shop", sorted({i.trace_id for i in batch}))
    return [ids[(i.trace_id, i.span_id)] for i in batch]


def thumbs_down(store: Store, interaction_id: int, at: datetime = T0) -> None:
    with store.writing() as conn:
        record_signal(
            conn, Signal("shop", SignalKind.THUMBS_DOWN, at, interaction_id=interaction_id), at
        )


def run_intake(store: Store, config: ReviewConfig | None = None) -> None:
    collect(
        store, config or ReviewConfig(), scrub_emails, HashingEncoder(), T0 + timedelta(hours=1)
    )


def test_a_thumbs_down_becomes_a_frozen_regression_case(store: Store) -> None:
    [iid] = store_interactions(
        store, [("My email is jo@example.com, when is my refund due?", "Refunds take 90 days.")]
    )
    thumbs_down(store, iid)
    run_intake(store)

    with store.reading() as conn:
        [item] = queue.list_items(conn, queue.ItemFilter(project="shop"))
    assert item.state == ReviewState.OPEN
    assert [r.kind for r in item.reasons] == [ReasonKind.THUMBS_DOWN]
    assert item.input["text"] == "My email is <EMAIL_ADDRESS>, when is my refund due?"
    assert item.pii == {"EMAIL_ADDRESS": 1}
    assert item.item_id is not None

    later = T0 + timedelta(hours=2)
    with (
        store.writing() as conn,
        pytest.raises(ReviewError, match="only a real failure is promoted"),
    ):
        promote(conn, item.item_id, "alice", later)
    with store.writing() as conn:
        triage(conn, item.item_id, ReviewState.REAL_FAILURE, "alice", later)
        give_score(
            conn,
            item.item_id,
            1,
            "alice",
            later,
            rubric="helpfulness",
            scales=SCALES,
        )
        write_expected(
            conn,
            item.item_id,
            {"behaviour": "Say refunds arrive within 5 business days."},
            {"type": "contains", "values": ["5 business days"]},
            "alice",
            later,
            tags=["refunds"],
        )
        _, case = promote(conn, item.item_id, "bob", later + timedelta(minutes=1))

    assert case.regression and case.frozen
    assert case.input.text == "My email is <EMAIL_ADDRESS>, when is my refund due?"
    assert case.source is not None and case.source.interaction_id == iid
    assert set(case.tags) == {"refunds", "regression"}
    with store.reading() as conn:
        assert latest_cases(conn, "shop") == [case]
        events = queue.events_of(conn, item.item_id)
        promoted = queue.get_item(conn, item.item_id)
    assert [(e.action, e.actor) for e in events] == [
        ("enqueued", "liveeval"),
        ("triaged", "alice"),
        ("scored", "alice"),
        ("expected", "alice"),
        ("promoted", "bob"),
    ]
    assert promoted is not None and promoted.state == ReviewState.PROMOTED
    assert promoted.case_id == case.id

    # frozen: no new version, no second promotion; retiring keeps the row
    with store.writing() as conn:
        with pytest.raises(FrozenCaseError):
            edit_case(conn, "shop", case.id, {"tags": ["x"]}, "carol", later)
        with pytest.raises(ReviewError, match="was promoted"):
            triage(conn, item.item_id, ReviewState.NOT_FAILURE, "carol", later)
    with store.writing() as conn:
        retired = retire_case(conn, "shop", case.id, "carol", "policy changed", later)
    with store.writing() as conn, pytest.raises(CaseConflictError, match="already retired"):
        retire_case(conn, "shop", case.id, "carol", "again", later)
    with store.reading() as conn:
        assert latest_cases(conn, "shop") == []
        assert case_versions(conn, "shop", case.id) == [retired]
    assert retired.retired is not None and retired.retired.reason == "policy changed"


def test_near_identical_failures_share_a_group_and_reasons_merge(store: Store) -> None:
    ids = store_interactions(
        store,
        [
            ("How do I reset my password?", "No."),
            ("How do I reset my password??", "No."),
            ("What are your opening hours in Berlin?", "Unknown."),
        ],
    )
    for iid in ids:
        thumbs_down(store, iid)
    run_intake(store)
    with store.writing() as conn:
        write_scores(
            conn,
            [Score("shop", ids[0], "helpfulness", ScoreKind.JUDGE, value=1.0, created_at=T0)],
            [f"judge:{ids[0]}"],
        )
    run_intake(store)
    run_intake(store)  # nothing new: nothing changes

    with store.reading() as conn:
        groups = queue.list_groups(conn, "shop")
        items = {i.interaction_id: i for i in queue.list_items(conn, queue.ItemFilter("shop"))}
    assert sorted(g.open_items for g in groups) == [1, 2]
    assert items[ids[0]].group_id == items[ids[1]].group_id != items[ids[2]].group_id
    kinds = [r.kind for r in items[ids[0]].reasons]
    assert kinds == [ReasonKind.THUMBS_DOWN, ReasonKind.LOW_SCORE]
    assert len(items) == 3


def test_judge_and_human_disagreement_enters_the_queue(store: Store) -> None:
    [iid] = store_interactions(store, [("Translate 'cat' to German", "Katze")])
    with store.writing() as conn:
        write_scores(
            conn,
            [
                Score("shop", iid, "helpfulness", ScoreKind.JUDGE, value=5.0, created_at=T0),
                Score("shop", iid, "helpfulness", ScoreKind.HUMAN, value=2.0, created_at=T0),
            ],
            ["j", "h"],
        )
    run_intake(store)
    with store.reading() as conn:
        [item] = queue.list_items(conn, queue.ItemFilter("shop"))
    assert [r.kind for r in item.reasons] == [ReasonKind.DISAGREEMENT]
    assert item.reasons[0].detail == "helpfulness: judge 5, human 2"


def test_a_signal_before_its_interaction_is_picked_up_once_attached(store: Store) -> None:
    [iid] = store_interactions(store, [("q", "a")])
    with store.writing() as conn:
        record_signal(conn, Signal("shop", SignalKind.THUMBS_DOWN, T0, trace_id="f" * 32), T0)
    run_intake(store)
    with store.reading() as conn:
        assert queue.list_items(conn, queue.ItemFilter("shop")) == []
    thumbs_down(store, iid)
    run_intake(store)
    with store.reading() as conn:
        assert len(queue.list_items(conn, queue.ItemFilter("shop"))) == 1


def test_a_call_whose_content_was_not_captured_is_not_filed(store: Store) -> None:
    """A reviewer could read nothing: openai-v2's default span has no message at all."""
    bare = model_span(genai_attributes(), trace=trace_id(), project="shop")
    write_spans(store, [bare], AssemblyRules(), T0)
    [answered] = store_interactions(store, [("q", "a")])
    with store.reading() as conn:
        [found] = interaction_ids_by_span(conn, "shop", [bare.trace_id]).values()
    thumbs_down(store, found)
    thumbs_down(store, answered)
    run_intake(store)
    with store.reading() as conn:
        items = queue.list_items(conn, queue.ItemFilter("shop"))
    assert [item.interaction_id for item in items] == [answered]


def test_triage_rules(store: Store) -> None:
    a, b = store_interactions(store, [("q1", "a1"), ("q2", "a2")])
    thumbs_down(store, a)
    thumbs_down(store, b)
    run_intake(store)
    with store.reading() as conn:
        first, second = queue.list_items(conn, queue.ItemFilter("shop"))
    assert first.item_id is not None and second.item_id is not None
    with store.writing() as conn:
        with pytest.raises(ReviewError, match="needs `duplicate_of`"):
            triage(conn, first.item_id, ReviewState.DUPLICATE, "al", T0)
        with pytest.raises(ReviewError, match="no other item"):
            triage(conn, first.item_id, ReviewState.DUPLICATE, "al", T0, duplicate_of=first.item_id)
        with pytest.raises(ReviewError, match="not on the helpfulness scale"):
            give_score(
                conn,
                first.item_id,
                7,
                "al",
                T0,
                rubric="helpfulness",
                scales=SCALES,
            )
        with pytest.raises(ReviewError, match="no rubric"):
            give_score(conn, first.item_id, 3, "al", T0)
        with pytest.raises(ReviewError, match="pattern does not compile"):
            write_expected(conn, first.item_id, {}, {"type": "regex", "pattern": "("}, "al", T0)
        with pytest.raises(ReviewError, match="exact grader needs"):
            write_expected(conn, first.item_id, {}, {"type": "exact"}, "al", T0)
        item = triage(
            conn, first.item_id, ReviewState.DUPLICATE, "al", T0, duplicate_of=second.item_id
        )
    assert item.state == ReviewState.DUPLICATE and item.duplicate_of == second.item_id
