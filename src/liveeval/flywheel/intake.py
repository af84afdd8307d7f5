"""Fill the review queue from what the store learned since the last run.

Each monitor tick reads the signals, scores and sampling decisions written since
its watermarks, turns them into reasons (flywheel.reasons), scrubs each new item's
interaction (flywheel.snapshot) and files it under a group of near-identical
failures. An interaction whose span carried no content is not filed: a reviewer could
read nothing. Reading and scrubbing happen outside the write lock; the write is one
short transaction. A signal that arrived before its interaction is looked at again
on later runs until it is attached (or for GAP_TTL_S).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa

from liveeval.config.review import ReviewConfig
from liveeval.features.encoder import TextEncoder
from liveeval.flywheel.reasons import (
    ScoreRow,
    disagreement_reason,
    merged,
    primary,
    sampled_signal_reason,
    score_reason,
    signal_reason,
)
from liveeval.flywheel.snapshot import ScrubText, Snapshot, snapshot
from liveeval.model.review import Reason, ReviewEvent, ReviewItem, ReviewState
from liveeval.store import review as queue
from liveeval.store.database import Store
from liveeval.store.interactions import get_interactions
from liveeval.store.schema import sampling_decisions, scores, signals
from liveeval.store.watermarks import Mark, read_marks, save_marks

SOURCES = ("review:signals", "review:scores", "review:sampling")
ACTOR = "liveeval"
LABEL_CHARS = 160


@dataclass(frozen=True, slots=True)
class Intake:
    new_items: int = 0
    updated_items: int = 0
    groups: int = 0


@dataclass(slots=True)
class _Found:
    reasons: dict[int, list[Reason]] = field(default_factory=lambda: defaultdict(list))
    new_marks: dict[str, Mark] = field(default_factory=dict)


def collect(
    store: Store,
    config: ReviewConfig,
    scrub: ScrubText,
    encoder: TextEncoder,
    now: datetime,
    binary_rubrics: Collection[str] = (),
) -> Intake:
    """One run: read what is new, file it; returns what changed."""
    with store.reading() as conn:
        marks = read_marks(conn, SOURCES)
        found = _find(conn, config, marks, frozenset(binary_rubrics))
        ids = sorted(found.reasons)
        known = {i: queue.item_of_interaction(conn, i) for i in ids}
        fresh = [i for i in ids if known[i] is None]
        interactions = get_interactions(conn, fresh)
        judged = _judge_scores(conn, fresh)
    snapshots = {
        i: snapshot(interactions[i], scrub)
        for i in fresh
        if i in interactions and interactions[i].content_captured
    }
    embeddings = _embed(encoder, snapshots)
    new = updated = groups = 0
    indexes: dict[tuple[str, str], GroupIndex] = {}
    with store.writing() as conn:
        for interaction_id in ids:
            reasons = found.reasons[interaction_id]
            existing = queue.item_of_interaction(conn, interaction_id)  # may be new since
            if existing is not None:
                updated += _add_reasons(conn, existing, reasons, now)
                continue
            shot = snapshots.get(interaction_id)
            if shot is None:
                continue  # gone (deleted with its project), or its content was never captured
            interaction = interactions[interaction_id]
            made_group = _file_new(
                conn,
                config,
                interaction.project,
                interaction_id,
                reasons,
                shot,
                embeddings[interaction_id],
                judged.get(interaction_id),
                now,
                indexes,
            )
            new += 1
            groups += made_group
        save_marks(conn, marks, found.new_marks)
    return Intake(new, updated, groups)


def _find(
    conn: sa.Connection,
    config: ReviewConfig,
    marks: dict[str, Mark],
    binary: frozenset[str],
) -> _Found:
    found = _Found()
    limit = config.max_new_items_per_tick
    now = time.time()

    mark = marks.get("review:signals", Mark(0, {}))
    c = signals.c
    rows = _new_rows(
        conn, signals, c.signal_id, mark, limit, c.interaction_id, c.kind, c.value, c.occurred_at
    )
    seen = set()
    for signal_id, interaction_id, kind, value, at in rows:
        if interaction_id is None:
            continue  # not attached yet: a gap, looked at again
        seen.add(signal_id)
        if (reason := signal_reason(kind, value, at, config)) is not None:
            found.reasons[interaction_id].append(reason)
    found.new_marks["review:signals"] = mark.advanced(seen, True, now)

    mark = marks.get("review:scores", Mark(0, {}))
    c = scores.c
    rows = _new_rows(
        conn,
        scores,
        c.score_id,
        mark,
        limit,
        c.interaction_id,
        c.name,
        c.kind,
        c.status,
        c.value,
        c.details,
        c.created_at,
    )
    seen = set()
    people: list[ScoreRow] = []
    judged: list[ScoreRow] = []
    values: list[Any]
    for score_id, *values in rows:
        seen.add(score_id)
        row = ScoreRow(*values)  # type: ignore[arg-type]
        if (reason := score_reason(row, config, row.name in binary)) is not None:
            found.reasons[row.interaction_id].append(reason)
        if row.status == "ok" and row.value is not None:
            if row.kind == "human":
                people.append(row)
            elif row.kind == "judge":
                judged.append(row)
    for reason_of in _disagreements(conn, people, judged, config):
        found.reasons[reason_of[0]].append(reason_of[1])
    found.new_marks["review:scores"] = mark.advanced(seen, True, now)

    mark = marks.get("review:sampling", Mark(0, {}))
    c = sampling_decisions.c
    rows = _new_rows(
        conn,
        sampling_decisions,
        c.decision_id,
        mark,
        limit,
        c.interaction_id,
        c.trigger,
        c.sampled,
        c.decided_at,
    )
    seen = set()
    for decision_id, interaction_id, trigger, sampled, at in rows:
        seen.add(decision_id)
        if (reason := sampled_signal_reason(trigger, bool(sampled), at, config)) is not None:
            found.reasons[interaction_id].append(reason)
    found.new_marks["review:sampling"] = mark.advanced(seen, True, now)
    return found


def _new_rows(
    conn: sa.Connection,
    table: sa.Table,
    id_column: sa.Column[int],
    mark: Mark,
    limit: int,
    *columns: sa.ColumnElement[object],
) -> list[Any]:
    new = id_column > mark.last_id
    condition = sa.or_(new, id_column.in_(sorted(mark.gaps))) if mark.gaps else new
    query = sa.select(id_column, *columns).where(condition).order_by(id_column).limit(limit)
    return list(conn.execute(query))


def _disagreements(
    conn: sa.Connection, people: list[ScoreRow], judged: list[ScoreRow], config: ReviewConfig
) -> list[tuple[int, Reason]]:
    """A new human score against the judge's, or a new judge score against a human's."""
    wanted = {(r.interaction_id, r.name) for r in people + judged}
    if not wanted:
        return []
    c = scores.c
    query = (
        sa.select(c.interaction_id, c.name, c.kind, c.value, c.created_at)
        .where(
            c.interaction_id.in_(sorted({i for i, _ in wanted})),
            c.kind.in_(("human", "judge")),
            c.status == "ok",
            c.value.is_not(None),
        )
        .order_by(c.created_at, c.score_id)
    )
    latest: dict[tuple[int, str, str], tuple[float, datetime]] = {}
    for interaction_id, name, kind, value, at in conn.execute(query):
        latest[(interaction_id, name, kind)] = (value, at)
    out = []
    for interaction_id, name in sorted(wanted):
        judge = latest.get((interaction_id, name, "judge"))
        human = latest.get((interaction_id, name, "human"))
        if judge is None or human is None:
            continue
        at = max(judge[1], human[1])
        if (reason := disagreement_reason(name, judge[0], human[0], at, config)) is not None:
            out.append((interaction_id, reason))
    return out


def _judge_scores(conn: sa.Connection, ids: list[int]) -> dict[int, tuple[str, float]]:
    """Each interaction's lowest judge score (the one a reviewer should see first)."""
    if not ids:
        return {}
    c = scores.c
    query = sa.select(c.interaction_id, c.name, c.value).where(
        c.interaction_id.in_(ids), c.kind == "judge", c.status == "ok", c.value.is_not(None)
    )
    lowest: dict[int, tuple[str, float]] = {}
    for interaction_id, name, value in conn.execute(query):
        if interaction_id not in lowest or value < lowest[interaction_id][1]:
            lowest[interaction_id] = (name, value)
    return lowest


def _embed(encoder: TextEncoder, snapshots: dict[int, Snapshot]) -> dict[int, np.ndarray]:
    if not snapshots:
        return {}
    ids = list(snapshots)
    vectors = encoder.encode([snapshots[i].input_text for i in ids])
    return {i: np.asarray(v, dtype=np.float32) for i, v in zip(ids, vectors, strict=True)}


def _file_new(
    conn: sa.Connection,
    config: ReviewConfig,
    project: str,
    interaction_id: int,
    reasons: list[Reason],
    shot: Snapshot,
    embedding: np.ndarray,
    judged: tuple[str, float] | None,
    now: datetime,
    indexes: dict[tuple[str, str], GroupIndex],
) -> int:
    reasons = merged([], reasons)
    first = primary(reasons)
    key = (project, first.failure)
    if key not in indexes:
        indexes[key] = load_index(conn, config, project, first.failure, now)
    group_id, made = assign_group(
        conn, config, indexes[key], project, first.failure, shot.input_text, embedding, now
    )
    item = ReviewItem(
        project=project,
        interaction_id=interaction_id,
        state=ReviewState.OPEN,
        priority=first.priority,
        failure=first.failure,
        reasons=reasons,
        input=shot.input,
        output_text=shot.output_text,
        pii=shot.pii,
        created_at=now,
        updated_at=now,
        group_id=group_id,
        rubric=judged[0] if judged else None,
        judge_score=judged[1] if judged else None,
    )
    item_id = queue.insert_item(conn, item)
    details = {"reasons": [r.to_json() for r in reasons], "group_id": group_id, "pii": shot.pii}
    queue.add_event(conn, project, ReviewEvent(item_id, "enqueued", ACTOR, now, details))
    return int(made)


def _add_reasons(conn: sa.Connection, item: ReviewItem, new: list[Reason], now: datetime) -> int:
    reasons = merged(item.reasons, new)
    if len(reasons) == len(item.reasons):
        return 0
    assert item.item_id is not None
    first = primary(reasons)
    queue.update_item(
        conn, item.item_id, reasons=reasons, priority=max(item.priority, first.priority)
    )
    added = [r.to_json() for r in reasons[len(item.reasons) :]]
    event = ReviewEvent(item.item_id, "reason_added", ACTOR, now, {"reasons": added})
    queue.add_event(conn, item.project, event)
    return 1


class GroupIndex:
    """The recent groups of one (project, failure), their first inputs' embeddings as unit
    rows, loaded once per run and kept up to date as groups are made."""

    def __init__(self, ids: list[int], embeddings: list[np.ndarray]) -> None:
        self.ids = ids
        self.rows = [_unit(e) for e in embeddings]
        self._matrix: np.ndarray | None = None

    def best(self, embedding: np.ndarray) -> tuple[int | None, float]:
        query = _unit(embedding)
        same = [k for k, row in enumerate(self.rows) if row.shape == query.shape]
        if not same:
            return None, -1.0
        if self._matrix is None or len(self._matrix) != len(same):
            self._matrix = np.stack([self.rows[k] for k in same])
        if not query.any():  # an empty input: like the other empty ones
            empty = [k for k in same if not self.rows[k].any()]
            return (self.ids[empty[0]], 1.0) if empty else (None, 0.0)
        similarities = self._matrix @ query
        top = int(np.argmax(similarities))
        return self.ids[same[top]], float(similarities[top])

    def add(self, group_id: int, embedding: np.ndarray) -> None:
        self.ids.append(group_id)
        self.rows.append(_unit(embedding))
        self._matrix = None


def _unit(vector: np.ndarray) -> np.ndarray:
    vector = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def assign_group(
    conn: sa.Connection,
    config: ReviewConfig,
    index: GroupIndex,
    project: str,
    failure: str,
    text: str,
    embedding: np.ndarray,
    now: datetime,
) -> tuple[int, bool]:
    """The group of the most similar recent input with the same failure, or a new one."""
    best_id, best = index.best(embedding)
    if best_id is not None and best >= config.group_similarity:
        queue.count_into_group(conn, best_id, now)
        return best_id, False
    label = " ".join(text.split())[:LABEL_CHARS] or "(empty input)"
    group_id = queue.create_group(conn, project, failure, label, embedding, now)
    queue.count_into_group(conn, group_id, now)
    index.add(group_id, embedding)
    return group_id, True


def load_index(
    conn: sa.Connection, config: ReviewConfig, project: str, failure: str, now: datetime
) -> GroupIndex:
    since = now - timedelta(days=config.group_window_days)
    found = queue.recent_groups(conn, project, failure, since)
    return GroupIndex([g for g, _ in found], [e for _, e in found])
