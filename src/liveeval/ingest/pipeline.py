"""Writing decoded telemetry: raw spans and events, the interactions they make, late signals.

A trace's spans may arrive over several exports (a batch exporter sends each span
when it ends), and GenAI log events arrive on their own endpoint. So for every
trace that already has stored spans or events, interactions are re-assembled
from everything stored for it, and written as upserts: the result does not
depend on the order in which the pieces came.

The common case, a batch of new traces, is assembled before the write
transaction opens; the transaction (one writer at a time on SQLite) holds only
the inserts, the look-ups that find earlier pieces, and the commit, which
happens before the caller acknowledges.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import astuple, dataclass
from datetime import datetime
from typing import TypeVar

import sqlalchemy as sa

from liveeval.ingest.assemble import AssemblyRules, assemble, span_type
from liveeval.ingest.decisions import decisions_in
from liveeval.ingest.evaluations import EvaluationEvent, evaluation_events
from liveeval.ingest.otlp import decode_span
from liveeval.ingest.scoring import (
    Checked,
    OnlineEvaluation,
    record_deferred,
    record_evaluation,
    run_checks,
)
from liveeval.model import Interaction, LogEvent, Span
from liveeval.store.database import Store
from liveeval.store.interactions import upsert_interactions
from liveeval.store.routing import record_decisions
from liveeval.store.signals import attach_pending
from liveeval.store.telemetry import (
    insert_log_events,
    insert_spans,
    load_log_events,
    load_stored_spans,
    register_traces,
)

R = TypeVar("R", Span, LogEvent)


@dataclass(frozen=True, slots=True)
class Written:
    spans: int = 0
    log_events: int = 0
    interactions: int = 0
    signals_attached: int = 0
    scores: int = 0
    sampled: int = 0
    judge_jobs: int = 0


def write_spans(
    store: Store,
    batch: Sequence[Span],
    rules: AssemblyRules,
    now: datetime,
    *,
    evaluation: OnlineEvaluation | None = None,
    claim_pending_from: str | None = None,
) -> Written:
    """Store spans and the interactions they make; attach signals that waited for them;
    with `evaluation`, check, score and sample the interactions (see ingest/scoring.py).

    `claim_pending_from`: a project whose waiting signals may name interactions of any
    project (an open server's default project, where a signal sent without a project
    waits for its span).
    """
    prepared = []
    for project, spans in _by_project(batch).items():
        interactions = assemble(spans, (), rules)
        checked = _checks(evaluation, interactions)
        events = evaluation_events(spans) if evaluation else []
        prepared.append(
            (project, spans, [span_type(s) for s in spans], interactions, checked, events)
        )
    totals = Written()
    with store.writing() as conn:
        for project, spans, types, interactions, checked, events in prepared:
            trace_ids = {span.trace_id for span in spans}
            earlier = register_traces(conn, project, trace_ids, now)
            insert_spans(conn, spans, types, now)
            record_decisions(conn, decisions_in(spans))  # the SDK's `route <task>` spans
            if earlier:
                kept = [n for n, i in enumerate(interactions) if i.trace_id not in earlier]
                again = _reassemble(conn, project, earlier, rules)
                interactions = [interactions[n] for n in kept] + again
                if evaluation and not evaluation.background:
                    checked = [checked[n] for n in kept] + run_checks(evaluation, again)
            written = _store_interactions(
                conn, project, interactions, now, claim_pending_from, evaluation, checked, events
            )
            totals = _sum(totals, _sum(written, Written(spans=len(spans))))
    return totals


def write_log_events(
    store: Store,
    batch: Sequence[LogEvent],
    rules: AssemblyRules,
    now: datetime,
    *,
    evaluation: OnlineEvaluation | None = None,
    claim_pending_from: str | None = None,
) -> Written:
    totals = Written(log_events=len(batch))
    with store.writing() as conn:
        for project, events in _by_project(batch).items():
            insert_log_events(conn, events, now)
            traces = register_traces(conn, project, {e.trace_id for e in events}, now)
            interactions = _reassemble(conn, project, traces, rules)
            checked = _checks(evaluation, interactions)
            scored = evaluation_events(log_events=events) if evaluation else []
            written = _store_interactions(
                conn, project, interactions, now, claim_pending_from, evaluation, checked, scored
            )
            totals = _sum(totals, written)
    return totals


def _reassemble(
    conn: sa.Connection, project: str, trace_ids: set[str], rules: AssemblyRules
) -> list[Interaction]:
    """Interactions of whole traces, from everything stored for them."""
    if not trace_ids:
        return []
    spans = [decode_span(stored) for stored in load_stored_spans(conn, project, trace_ids)]
    return assemble(spans, load_log_events(conn, project, trace_ids), rules)


def _store_interactions(
    conn: sa.Connection,
    project: str,
    interactions: list[Interaction],
    now: datetime,
    claim_pending_from: str | None,
    evaluation: OnlineEvaluation | None,
    checked: Sequence[Checked],
    events: Sequence[EvaluationEvent],
) -> Written:
    if not interactions:
        return Written()
    ids = upsert_interactions(conn, interactions, now)
    trace_ids = {i.trace_id for i in interactions}
    response_ids = {i.response_id for i in interactions if i.response_id}
    attached = attach_pending(conn, project, trace_ids, response_ids, claim_from=claim_pending_from)
    written = Written(interactions=len(interactions), signals_attached=len(attached))
    if evaluation is None:
        return written
    evaluation.capture.observe(project, interactions, now)
    if evaluation.background:
        evaluated = record_deferred(conn, project, interactions, events, now, ids)
        return _sum(written, Written(scores=evaluated.scores))
    kinds: dict[int, set[str]] = defaultdict(set)
    for interaction_id, kind in attached:
        kinds[interaction_id].add(kind)
    evaluated = record_evaluation(
        conn, evaluation, project, interactions, checked, events, now, ids, kinds
    )
    return _sum(
        written,
        Written(scores=evaluated.scores, sampled=evaluated.sampled, judge_jobs=evaluated.jobs),
    )


def _checks(evaluation: OnlineEvaluation | None, batch: Sequence[Interaction]) -> list[Checked]:
    """Inline evaluation's check results (pure, so run before the write lock)."""
    if evaluation is None or evaluation.background:
        return []
    return run_checks(evaluation, batch)


def _by_project(records: Sequence[R]) -> dict[str, list[R]]:
    grouped: dict[str, list[R]] = defaultdict(list)
    for record in records:
        grouped[record.project].append(record)
    return grouped


def _sum(a: Written, b: Written) -> Written:
    return Written(*(x + y for x, y in zip(astuple(a), astuple(b), strict=True)))
