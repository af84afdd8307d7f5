"""Retention in the store (store/retention.py): old interactions lose their content and raw
spans; scores, signal kinds and values, features and rollups stay exactly as they were.

Each test runs on SQLite and on PostgreSQL. `stored_history` writes, through the store's
own write functions, interactions on both sides of a cutoff: one a microsecond before
it, one exactly at it, a newer one, a trace with an old and a recent interaction, and
an old one of another project; with spans, GenAI log events, signals, scores, features,
judge jobs, queued evaluations, pending signals and cached verdicts.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from liveeval.model import (
    Interaction,
    Message,
    RetrievedDocument,
    Score,
    ScoreKind,
    ScoreStatus,
    Signal,
    SignalKind,
    TokenUsage,
    ToolCall,
)
from liveeval.store import jobs
from liveeval.store.database import Store
from liveeval.store.evaluation_queue import enqueue
from liveeval.store.features import Features, write_features
from liveeval.store.interactions import get_interactions, upsert_interactions
from liveeval.store.judge_cache import CachedVerdict, remember
from liveeval.store.retention import (
    Purged,
    count_judge_cache,
    count_purgeable,
    late_signals,
    purge_before,
    purge_judge_cache,
    purge_start,
    scrub_signals,
    stored_projects,
)
from liveeval.store.rollups import refresh_rollups
from liveeval.store.schema import (
    evaluation_queue,
    interaction_features,
    interactions,
    judge_cache,
    judge_jobs,
    log_events,
    rollup_watermarks,
    rollups,
    scores,
    signals,
    spans,
)
from liveeval.store.scores import interaction_ids_by_span, write_scores
from liveeval.store.signals import record_signal
from liveeval.store.telemetry import insert_log_events, insert_spans
from tests.telemetry import chat_attributes, model_log_event, model_span, span_id, trace_id

CUTOFF = datetime(2026, 10, 1, tzinfo=UTC)
NOW = CUTOFF + timedelta(days=30)
TICK = timedelta(microseconds=1)


@dataclass(frozen=True)
class History:
    """The interaction ids of `stored_history`, by role."""

    old: int  # one microsecond before the cutoff
    at_cutoff: int  # exactly at it: kept
    new: int  # a day after it
    mixed_old: int  # an old interaction in a trace that also has…
    mixed_new: int  # …a recent one: the trace's spans stay
    other_project: int  # old, in project "other"
    old_trace: str
    mixed_trace: str
    other_trace: str

    @property
    def kept(self) -> list[int]:
        return [self.at_cutoff, self.new, self.mixed_new, self.other_project]


def full_interaction(project: str, trace: str, start: datetime, n: int) -> Interaction:
    """An interaction with every field that retention clears, and every one it keeps."""
    return Interaction(
        project=project,
        trace_id=trace,
        span_id=span_id(),
        parent_span_id=None,
        name="chat gpt-4o",
        convention="genai",
        operation="chat",
        start_at=start,
        end_at=start + timedelta(milliseconds=800),
        latency_ms=800.0 + n,
        status="error" if n % 2 else "ok",
        error=f"tool failed on 'my card is 4111 1111 1111 {n:04d}'",
        provider="openai",
        model_requested="gpt-4o",
        model_served="gpt-4o-2024-08-06",
        response_id=f"chatcmpl-{n}",
        finish_reasons=("stop",),
        prompt_version="v7",
        route="billing",
        segment="pro",
        session_id=f"session-{n}",
        user_id=f"alice-{n}@example.com",
        input_text=f"my address is {n} Elm Street",
        input_messages=(Message("user", f"my address is {n} Elm Street"),),
        output_text="Noted.",
        output_messages=(Message("assistant", "Noted.", finish_reason="stop"),),
        retrieved_context=(RetrievedDocument(f"alice's invoice {n}", id="inv-1", score=0.9),),
        tool_calls=(ToolCall("lookup", '{"user": "alice"}', id="call-1"),),
        usage=TokenUsage(input=120, output=8, total=128, cache_read=64, reasoning=0),
        cost_usd=0.0021,
        cost_source="price_table",
        tags=("vip",),
        metadata={"email": "alice@example.com"},
    )


def stored_history(store: Store, *, old_count: int = 1) -> History:
    """The scenario of this module; `old_count` extra-old interactions share `old_trace`."""
    old_trace, mixed_trace, other_trace = trace_id(), trace_id(), trace_id()
    shop = [
        full_interaction("shop", old_trace, CUTOFF - TICK * (1 + n), n) for n in range(old_count)
    ]
    shop += [
        full_interaction("shop", trace_id(), CUTOFF, 100),
        full_interaction("shop", trace_id(), CUTOFF + timedelta(days=1), 101),
        full_interaction("shop", mixed_trace, CUTOFF - timedelta(days=2), 102),
        full_interaction("shop", mixed_trace, CUTOFF + timedelta(hours=1), 103),
    ]
    other = [full_interaction("other", other_trace, CUTOFF - timedelta(days=3), 104)]
    with store.writing() as conn:
        upsert_interactions(conn, shop, CUTOFF)
        upsert_interactions(conn, other, CUTOFF)
        ids = interaction_ids_by_span(conn, "shop", sorted({i.trace_id for i in shop}))
        ids |= interaction_ids_by_span(conn, "other", [other_trace])
        everyone = shop + other
        iids = [ids[(i.trace_id, i.span_id)] for i in everyone]
        _store_spans_and_events(conn, everyone)
        _store_evaluations(conn, everyone, iids)
    history = History(
        old=iids[0],
        at_cutoff=iids[old_count],
        new=iids[old_count + 1],
        mixed_old=iids[old_count + 2],
        mixed_new=iids[old_count + 3],
        other_project=iids[-1],
        old_trace=old_trace,
        mixed_trace=mixed_trace,
        other_trace=other_trace,
    )
    with store.writing() as conn:
        refresh_rollups(conn)
    return history


def _store_spans_and_events(conn: sa.Connection, batch: list[Interaction]) -> None:
    for i in batch:
        llm = model_span(
            chat_attributes(i.input_text or "", "Noted."),
            trace=i.trace_id,
            span=i.span_id,
            start=i.start_at,
            project=i.project,
        )
        tool = model_span(
            {"tool.name": "lookup"}, trace=i.trace_id, parent=i.span_id, project=i.project
        )
        insert_spans(conn, [llm, tool], ["llm", "tool"], i.start_at)
        event = model_log_event(
            "gen_ai.user.message",
            trace=i.trace_id,
            span=i.span_id,
            body={"content": i.input_text},
            project=i.project,
            at=i.start_at,
        )
        insert_log_events(conn, [event], i.start_at)


def _store_evaluations(conn: sa.Connection, batch: list[Interaction], iids: list[int]) -> None:
    for i, iid in zip(batch, iids, strict=True):
        at = i.end_at
        for signal in (
            Signal(i.project, SignalKind.COMMENT, at, iid, text="alice here", user_id="alice"),
            Signal(
                i.project,
                SignalKind.EDITED,
                at,
                iid,
                value=0.25,
                details={"draft": "Noted.", "final": "Noted, Alice."},
            ),
            Signal(i.project, SignalKind.REGENERATED, at, iid),
        ):
            record_signal(conn, signal, at)
        judge = Score(
            i.project,
            iid,
            "helpfulness",
            ScoreKind.JUDGE,
            value=4.0,
            explanation="The answer acknowledges the address.",
            status=ScoreStatus.OK,
            created_at=at,
        )
        check = Score(
            i.project,
            iid,
            "empty",
            ScoreKind.CHECK,
            value=1.0,
            status=ScoreStatus.OK,
            details={"passed": True},
            created_at=at,
        )
        write_scores(conn, [judge, check], [f"judge:{iid}", f"check:{iid}"])
        write_features(conn, [Features(iid, i.project, i.start_at, 22, 6, "en", "billing")])
        new_job = jobs.NewJob(i.project, iid, "helpfulness", "judge-v1", 5, "uniform")
        done_job = jobs.NewJob(i.project, iid, "correctness", "judge-v1", 5, "uniform")
        jobs.enqueue(conn, [new_job, done_job], at)
        conn.execute(
            judge_jobs.update()
            .where(judge_jobs.c.interaction_id == iid, judge_jobs.c.rubric == "correctness")
            .values(state=jobs.DONE, finished_at=at)
        )
        enqueue(conn, i.project, [iid], at)


def rows(store: Store, table: sa.Table, *order: str) -> list[dict[str, Any]]:
    with store.reading() as conn:
        query = sa.select(table).order_by(*(table.c[name] for name in order))
        return [dict(row) for row in conn.execute(query).mappings()]


def count(store: Store, table: sa.Table, *where: sa.ColumnElement[bool]) -> int:
    with store.reading() as conn:
        query = sa.select(sa.func.count()).select_from(table).where(*where)
        return int(conn.execute(query).scalar_one())


def loaded(store: Store, ids: list[int]) -> dict[int, Interaction]:
    with store.reading() as conn:
        return get_interactions(conn, ids)


def purged_at(store: Store) -> dict[int, datetime | None]:
    with store.reading() as conn:
        query = sa.select(interactions.c.interaction_id, interactions.c.content_purged_at)
        return {iid: at for iid, at in conn.execute(query)}


def without_content(i: Interaction) -> Interaction:
    """What a purged interaction reads as: every kept field as it was."""
    return dataclasses.replace(
        i,
        error=None,
        session_id=None,
        user_id=None,
        input_text=None,
        input_messages=(),
        output_text=None,
        output_messages=(),
        retrieved_context=(),
        tool_calls=(),
        tags=(),
        metadata={},
    )


def purge(store: Store, project: str = "shop", limit: int = 1000, **kwargs: Any) -> Purged:
    with store.writing() as conn:
        return purge_before(conn, project, CUTOFF, limit, now=NOW, **kwargs).purged


def test_content_of_interactions_started_before_the_cutoff_is_cleared_and_the_rest_kept(
    store: Store,
) -> None:
    history = stored_history(store)
    everyone = [history.old, history.mixed_old, *history.kept]
    before = loaded(store, everyone)

    purged = purge(store)

    after = loaded(store, everyone)
    assert purged.interactions == 2
    assert after[history.old] == without_content(before[history.old])
    assert after[history.mixed_old] == without_content(before[history.mixed_old])
    for kept in history.kept:  # at the cutoff exactly, newer, and another project's
        assert after[kept] == before[kept]
    marks = purged_at(store)
    assert marks[history.old] == marks[history.mixed_old] == NOW
    assert {marks[kept] for kept in history.kept} == {None}


def test_spans_and_events_of_an_old_trace_go_and_a_trace_with_a_recent_interaction_keeps_its(
    store: Store,
) -> None:
    history = stored_history(store)

    purged = purge(store)

    def spans_of(trace: str) -> int:
        return count(store, spans, spans.c.trace_id == trace)

    def events_of(trace: str) -> int:
        return count(store, log_events, log_events.c.trace_id == trace)

    assert (spans_of(history.old_trace), events_of(history.old_trace)) == (0, 0)
    assert (spans_of(history.mixed_trace), events_of(history.mixed_trace)) == (4, 2)
    assert (spans_of(history.other_trace), events_of(history.other_trace)) == (2, 1)
    assert (purged.spans, purged.log_events) == (2, 1)
    assert count(store, spans) == 2 * 6 - 2


def test_scores_features_signal_kinds_and_rollups_stay_exactly_as_they_were(
    store: Store,
) -> None:
    history = stored_history(store)
    kept = {
        table.name: rows(store, table, order)
        for table, order in (
            (scores, "score_id"),
            (interaction_features, "feature_id"),
            (rollups, "rollup_id"),
        )
    }
    signals_before = rows(store, signals, "signal_id")

    purge(store)

    for table, order in ((scores, "score_id"), (interaction_features, "feature_id")):
        assert rows(store, table, order) == kept[table.name]
    signals_after = rows(store, signals, "signal_id")
    measured = ("signal_id", "interaction_id", "kind", "value", "occurred_at", "received_at")
    assert [{k: s[k] for k in measured} for s in signals_after] == [
        {k: s[k] for k in measured} for s in signals_before
    ]
    old = {history.old, history.mixed_old}
    for signal in signals_after:
        if signal["interaction_id"] in old:
            assert (signal["text"], signal["user_id"], signal["details"]) == (None, None, {})
    assert [s for s in signals_after if s["interaction_id"] not in old] == [
        s for s in signals_before if s["interaction_id"] not in old
    ]
    # The SLI history rebuilt from scratch out of the purged rows is the one kept.
    with store.writing() as conn:
        refresh_rollups(conn)
    assert rows(store, rollups, "rollup_id") == kept["rollups"]
    with store.writing() as conn:
        conn.execute(rollups.delete())
        conn.execute(rollup_watermarks.delete())
        refresh_rollups(conn)
    rebuilt = rows(store, rollups, "project", "grain_s", "bucket_at", "slice_key")
    original = sorted(
        kept["rollups"], key=lambda r: (r["project"], r["grain_s"], r["bucket_at"], r["slice_key"])
    )
    assert [_no_id(r) for r in rebuilt] == [_no_id(r) for r in original]


def _no_id(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "rollup_id"}


def test_a_second_purge_finds_nothing_and_keeps_the_first_purge_time(store: Store) -> None:
    stored_history(store)
    first = purge(store)
    marks = purged_at(store)
    snapshot = rows(store, interactions, "interaction_id")

    with store.writing() as conn:
        again = purge_before(conn, "shop", CUTOFF, 1000, now=NOW + timedelta(days=1))

    assert first.interactions == 2
    assert again.purged == Purged()
    assert not again.more
    assert purged_at(store) == marks
    assert rows(store, interactions, "interaction_id") == snapshot


def test_a_limit_below_the_backlog_purges_it_in_several_batches(store: Store) -> None:
    history = stored_history(store, old_count=5)
    batches, after, more = [], None, True
    while more:
        with store.writing() as conn:
            batch = purge_before(conn, "shop", CUTOFF, 2, now=NOW, after=after)
        batches.append(batch)
        after, more = batch.last, batch.more

    assert [b.purged.interactions for b in batches] == [2, 2, 2, 0]  # 5 old + mixed_old
    assert sum((b.purged for b in batches), Purged()).interactions == 6
    marks = purged_at(store)
    assert sum(1 for at in marks.values() if at is not None) == 6
    assert {marks[kept] for kept in history.kept} == {None}
    assert count(store, spans, spans.c.trace_id == history.old_trace) == 0


def test_batches_without_a_cursor_skip_what_is_purged_already(store: Store) -> None:
    stored_history(store, old_count=3)
    taken = [purge(store, limit=2).interactions for _ in range(4)]
    assert taken == [2, 2, 0, 0]


def test_queued_judge_jobs_are_dead_lettered_and_queued_evaluations_dropped(store: Store) -> None:
    history = stored_history(store)

    purged = purge(store)

    old = [history.old, history.mixed_old]
    with store.reading() as conn:
        states = {
            (iid, rubric): (state, error)
            for iid, rubric, state, error in conn.execute(
                sa.select(
                    judge_jobs.c.interaction_id,
                    judge_jobs.c.rubric,
                    judge_jobs.c.state,
                    judge_jobs.c.last_error,
                )
            )
        }
    for iid in old:
        assert states[(iid, "helpfulness")][0] == jobs.DEAD
        assert "retention" in (states[(iid, "helpfulness")][1] or "")
        assert states[(iid, "correctness")] == (jobs.DONE, None)
    for iid in history.kept:
        assert states[(iid, "helpfulness")] == (jobs.QUEUED, None)
    assert (purged.judge_jobs, purged.queued_evaluations) == (2, 2)
    queued = {row["interaction_id"] for row in rows(store, evaluation_queue, "interaction_id")}
    assert queued == set(history.kept)


def test_signals_that_never_found_their_interaction_go_once_older_than_the_cutoff(
    store: Store,
) -> None:
    stored_history(store)
    with store.writing() as conn:
        for at in (CUTOFF - TICK, CUTOFF):
            pending = Signal("shop", SignalKind.COMMENT, at, trace_id=trace_id(), text="hi")
            record_signal(conn, pending, at)

    purged = purge(store)

    left = count(store, signals, signals.c.interaction_id.is_(None))
    assert (purged.pending_signals, left) == (1, 1)


def test_feedback_that_arrives_after_the_purge_is_scrubbed_by_the_late_sweep(store: Store) -> None:
    history = stored_history(store)
    purge(store)
    with store.writing() as conn:
        late = Signal(
            "shop", SignalKind.REPORT, NOW, history.old, text="rude", details={"category": "x"}
        )
        record_signal(conn, late, NOW)
        plain = Signal("shop", SignalKind.THUMBS_DOWN, NOW, history.old)
        record_signal(conn, plain, NOW)
        recent = Signal("shop", SignalKind.COMMENT, NOW, history.new, text="thanks")
        record_signal(conn, recent, NOW)

    with store.reading() as conn:
        found = late_signals(conn, "shop", 1000)
    with store.writing() as conn:
        scrubbed = scrub_signals(conn, found)
    with store.reading() as conn:
        again = late_signals(conn, "shop", 1000)

    assert (len(found), scrubbed, again) == (1, 1, [])
    texts = {
        (s["interaction_id"], s["kind"]): (s["text"], s["details"])
        for s in rows(store, signals, "signal_id")
        if s["occurred_at"] == NOW
    }
    assert texts == {
        (history.old, "report"): (None, {}),
        (history.old, "thumbs_down"): (None, {}),
        (history.new, "comment"): ("thanks", {}),
    }


def test_cached_verdicts_written_before_the_cutoff_are_deleted(store: Store) -> None:
    with store.writing() as conn:
        for n, at in enumerate((CUTOFF - timedelta(days=9), CUTOFF - TICK, CUTOFF, NOW)):
            verdict = CachedVerdict(4.0, None, "quotes the user", "gpt-4o", 10, 2, 0.001, at)
            remember(conn, f"{n:064x}", verdict)
    with store.reading() as conn:
        predicted = count_judge_cache(conn, CUTOFF)

    with store.writing() as conn:
        first = purge_judge_cache(conn, CUTOFF, 1)
    with store.writing() as conn:
        rest = purge_judge_cache(conn, CUTOFF, 1000)

    assert (predicted, first, rest) == (2, 1, 1)
    created = [row["created_at"] for row in rows(store, judge_cache, "created_at")]
    assert created == [CUTOFF, NOW]


def test_a_dry_count_predicts_what_the_purge_does(store: Store) -> None:
    history = stored_history(store)
    with store.writing() as conn:
        pending = Signal("shop", SignalKind.COMMENT, CUTOFF - TICK, trace_id=trace_id(), text="x")
        record_signal(conn, pending, CUTOFF)
    with store.reading() as conn:
        predicted = count_purgeable(conn, "shop", CUTOFF)

    purged = purge(store)

    assert predicted == purged
    assert predicted == Purged(
        interactions=2,
        spans=2,
        log_events=1,
        signals=4,  # a comment and an edit on each old interaction
        pending_signals=1,
        judge_jobs=2,
        queued_evaluations=2,
    )
    with store.reading() as conn:
        assert count_purgeable(conn, "shop", CUTOFF) == Purged()
        assert count_purgeable(conn, "other", CUTOFF).interactions == 1
    assert count(store, interactions, interactions.c.interaction_id == history.old) == 1


def test_stored_projects_lists_each_project_once_including_one_with_only_waiting_signals(
    store: Store,
) -> None:
    stored_history(store)
    with store.writing() as conn:
        waiting = Signal("early", SignalKind.THUMBS_UP, CUTOFF, trace_id=trace_id())
        record_signal(conn, waiting, CUTOFF)
    with store.reading() as conn:
        assert stored_projects(conn) == ["early", "other", "shop"]


def test_purge_start_points_just_before_the_oldest_due_interaction(store: Store) -> None:
    history = stored_history(store, old_count=3)
    with store.reading() as conn:
        start = purge_start(conn, "shop", CUTOFF)
    assert start is not None
    with store.writing() as conn:
        first = purge_before(conn, "shop", CUTOFF, 1, now=NOW, after=start)
    assert first.last == (CUTOFF - timedelta(days=2), history.mixed_old)  # the oldest
    purge(store)
    with store.reading() as conn:
        assert purge_start(conn, "shop", CUTOFF) is None
        assert purge_start(conn, "other", CUTOFF) == (
            CUTOFF - timedelta(days=3),
            history.other_project - 1,
        )


def test_an_interaction_reassembled_after_its_purge_is_purged_again(store: Store) -> None:
    history = stored_history(store)
    with store.reading() as conn:
        before = get_interactions(conn, [history.old])[history.old]
    purge(store)
    with store.writing() as conn:
        upsert_interactions(conn, [dataclasses.replace(before, interaction_id=None)], NOW)

    again = purge(store)

    assert again.interactions == 1
    assert loaded(store, [history.old])[history.old] == without_content(before)
