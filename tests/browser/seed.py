"""The data the browser tests look at: two weeks of traffic in two slices, a hostile
output, and failures in the review queue, written through the store's own functions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from liveeval.config import Settings
from liveeval.config.review import ReviewConfig
from liveeval.features.hashing_embedding import HashingEncoder
from liveeval.flywheel.intake import collect
from liveeval.flywheel.review import give_score, promote, triage, write_expected
from liveeval.model import Interaction, Signal, SignalKind
from liveeval.model.review import ReviewState
from liveeval.monitor.scheduler import Monitor
from liveeval.store import review as queue
from liveeval.store.database import Store
from liveeval.store.interactions import upsert_interactions
from liveeval.store.scores import interaction_ids_by_span
from liveeval.store.signals import record_signal
from tests.flywheel.test_review_flow import SCALES
from tests.monitor.traffic import Traffic, store_traffic
from tests.telemetry import span_id, trace_id

PROJECT = "shop"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
XSS_OUTPUT = (
    "<script>window.__xss=1</script> Click "
    '<a href="javascript:alert(1)">here</a> or [here](javascript:alert(1)) '
    '<img src=x onerror="window.__xss=1">'
)
REFUND_QUESTION = "When is my refund due?"
BERLIN_QUESTION = "What are your opening hours in Berlin?"


@dataclass(frozen=True)
class Seeded:
    """What the tests need to find again."""

    project: str
    now: datetime
    xss_interaction_id: int
    refund_interaction_id: int
    review_item_id: int  # open, for the browser to triage and promote
    promoted_case_id: str  # promoted here, so the golden set is not empty


def no_scrub(text: str) -> tuple[str, list[str]]:
    return text, []


def _store_failures(store: Store, texts: list[tuple[str, str]], at: datetime) -> list[int]:
    batch = [
        Interaction(
            project=PROJECT,
            trace_id=trace_id(),
            span_id=span_id(),
            parent_span_id=None,
            name="chat",
            convention="genai",
            operation="chat",
            start_at=at + timedelta(seconds=k),
            end_at=at + timedelta(seconds=k + 1),
            latency_ms=1000,
            status="ok",
            model_requested="gpt-4o",
            model_served="gpt-4o-2024-11-20",
            prompt_version="v2",
            route="support",
            input_text=question,
            output_text=answer,
        )
        for k, (question, answer) in enumerate(texts)
    ]
    with store.writing() as conn:
        upsert_interactions(conn, batch, at)
        ids = interaction_ids_by_span(conn, PROJECT, sorted({i.trace_id for i in batch}))
        iids = [ids[(i.trace_id, i.span_id)] for i in batch]
        for iid, interaction in zip(iids, batch, strict=True):
            signal = Signal(PROJECT, SignalKind.THUMBS_DOWN, interaction.end_at, interaction_id=iid)
            record_signal(conn, signal, interaction.end_at)
    return iids


def seed(store: Store, settings: Settings) -> Seeded:
    """Fill `store`, then run one monitor tick (rollups, rules, alerts) as `settings` say;
    the clock of the server that serves it should read `NOW`."""
    start = NOW - timedelta(days=14)
    store_traffic(
        store,
        Traffic(prompt_version="v1", language="en"),
        start,
        14 * 24 * 60,
        2,
        project=PROJECT,
        seed=1,
        every=60,
    )
    store_traffic(
        store,
        Traffic(
            model_served="gpt-4o-2024-11-20",
            prompt_version="v2",
            route="billing",
            language="de",
            regenerated=0.2,
            score=lambda rng: rng.choice((1, 2, 3, 4)),
        ),
        NOW - timedelta(days=3),
        3 * 24 * 60,
        2,
        project=PROJECT,
        seed=2,
        every=30,
    )
    at = NOW - timedelta(hours=2)
    xss, refund, berlin = _store_failures(
        store,
        [
            ("Show me a link", XSS_OUTPUT),
            (REFUND_QUESTION, "Refunds take 90 days."),
            (BERLIN_QUESTION, "Unknown."),
        ],
        at,
    )
    collect(store, ReviewConfig(), no_scrub, HashingEncoder(), NOW - timedelta(hours=1))
    with store.reading() as conn:
        items = {i.interaction_id: i for i in queue.list_items(conn, queue.ItemFilter(PROJECT))}
    review_item = items[refund].item_id
    berlin_item = items[berlin].item_id
    assert review_item is not None and berlin_item is not None
    later = NOW - timedelta(minutes=30)
    with store.writing() as conn:
        triage(conn, berlin_item, ReviewState.REAL_FAILURE, "alice", later)
        give_score(
            conn,
            berlin_item,
            1,
            "alice",
            later,
            rubric="helpfulness",
            scales=SCALES,
        )
        write_expected(
            conn,
            berlin_item,
            {"behaviour": "Give the Berlin store's opening hours."},
            {"type": "contains", "values": ["9:00"]},
            "alice",
            later,
            tags=["stores"],
        )
        _, case = promote(conn, berlin_item, "bob", later)
    # the queue is filled above, unscrubbed, so the monitor's own intake is left out
    quiet = settings.model_copy(update={"review": ReviewConfig(enabled=False)})
    monitor = Monitor(store, quiet)
    monitor.tick(NOW)
    monitor.release()
    return Seeded(PROJECT, NOW, xss, refund, review_item, case.id)
