"""Review queue rows: items, their groups, and the audit trail of who did what."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import sqlalchemy as sa

from liveeval.model.review import (
    Reason,
    ReasonKind,
    ReviewEvent,
    ReviewGroup,
    ReviewItem,
    ReviewState,
)
from liveeval.store.schema import review_events, review_groups, review_items

_ITEM_FIELDS = (
    "project",
    "interaction_id",
    "group_id",
    "state",
    "priority",
    "failure",
    "input",
    "output_text",
    "pii",
    "judge_score",
    "rubric",
    "human_score",
    "expected",
    "grader",
    "tags",
    "duplicate_of",
    "note",
    "case_id",
    "created_at",
    "updated_at",
    "updated_by",
)


def _reason(data: dict[str, Any]) -> Reason:
    return Reason(
        kind=ReasonKind(data["kind"]),
        detail=data["detail"],
        priority=int(data["priority"]),
        at=datetime.fromisoformat(data["at"]),
    )


def item_from_row(row: sa.RowMapping) -> ReviewItem:
    values = {name: row[name] for name in _ITEM_FIELDS}
    values["state"] = ReviewState(values["state"])
    values["tags"] = list(values["tags"] or [])
    return ReviewItem(
        **values, reasons=[_reason(r) for r in row["reasons"]], item_id=row["item_id"]
    )


def insert_item(conn: sa.Connection, item: ReviewItem) -> int:
    values = {name: getattr(item, name) for name in _ITEM_FIELDS}
    values["state"] = str(item.state)
    values["reasons"] = [r.to_json() for r in item.reasons]
    result = conn.execute(review_items.insert().values(**values))
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def item_of_interaction(conn: sa.Connection, interaction_id: int) -> ReviewItem | None:
    row = (
        conn.execute(sa.select(review_items).where(review_items.c.interaction_id == interaction_id))
        .mappings()
        .first()
    )
    return item_from_row(row) if row is not None else None


def get_item(conn: sa.Connection, item_id: int) -> ReviewItem | None:
    row = (
        conn.execute(sa.select(review_items).where(review_items.c.item_id == item_id))
        .mappings()
        .first()
    )
    return item_from_row(row) if row is not None else None


def update_item(conn: sa.Connection, item_id: int, **values: Any) -> None:
    if "reasons" in values:
        values["reasons"] = [r.to_json() for r in values["reasons"]]
    if "state" in values:
        values["state"] = str(values["state"])
    conn.execute(review_items.update().where(review_items.c.item_id == item_id).values(**values))


@dataclass(frozen=True, slots=True)
class ItemFilter:
    project: str | None = None
    states: tuple[ReviewState, ...] = ()
    group_id: int | None = None
    failure: str | None = None
    limit: int = 100
    offset: int = 0


def list_items(conn: sa.Connection, f: ItemFilter) -> list[ReviewItem]:
    query = sa.select(review_items)
    if f.project is not None:
        query = query.where(review_items.c.project == f.project)
    if f.states:
        query = query.where(review_items.c.state.in_([str(s) for s in f.states]))
    if f.group_id is not None:
        query = query.where(review_items.c.group_id == f.group_id)
    if f.failure is not None:
        query = query.where(review_items.c.failure == f.failure)
    query = query.order_by(review_items.c.priority.desc(), review_items.c.item_id)
    query = query.limit(f.limit).offset(f.offset)
    return [item_from_row(row) for row in conn.execute(query).mappings()]


def next_item_id(
    conn: sa.Connection, project: str, after: ReviewItem, states: Sequence[ReviewState]
) -> int | None:
    """The item after `after` in queue order (priority high to low, then id) among those in
    `states`; None at the end of the queue."""
    c = review_items.c
    query = (
        sa.select(c.item_id)
        .where(
            c.project == project,
            c.state.in_([str(s) for s in states]),
            sa.or_(
                c.priority < after.priority,
                sa.and_(c.priority == after.priority, c.item_id > after.item_id),
            ),
        )
        .order_by(c.priority.desc(), c.item_id)
        .limit(1)
    )
    found = conn.execute(query).scalar()
    return int(found) if found is not None else None


def failures_of(conn: sa.Connection, project: str) -> list[str]:
    """The failure labels the project's items carry, for a filter's choices."""
    query = (
        sa.select(review_items.c.failure)
        .where(review_items.c.project == project, review_items.c.failure.is_not(None))
        .distinct()
        .order_by(review_items.c.failure)
    )
    return [str(f) for f in conn.execute(query).scalars()]


def add_event(conn: sa.Connection, project: str, event: ReviewEvent) -> None:
    conn.execute(
        review_events.insert().values(
            item_id=event.item_id,
            project=project,
            action=event.action,
            actor=event.actor,
            at=event.at,
            details=event.details,
        )
    )


def events_of(conn: sa.Connection, item_id: int) -> list[ReviewEvent]:
    query = (
        sa.select(review_events)
        .where(review_events.c.item_id == item_id)
        .order_by(review_events.c.at, review_events.c.event_id)
    )
    return [
        ReviewEvent(r["item_id"], r["action"], r["actor"], r["at"], dict(r["details"]))
        for r in conn.execute(query).mappings()
    ]


def recent_groups(
    conn: sa.Connection, project: str, failure: str, since: datetime
) -> list[tuple[int, np.ndarray]]:
    """The groups of one failure that saw an item since `since`, with their embeddings."""
    query = sa.select(review_groups.c.group_id, review_groups.c.embedding).where(
        review_groups.c.project == project,
        review_groups.c.failure == failure,
        review_groups.c.last_at >= since,
    )
    return [
        (group_id, np.frombuffer(blob, dtype=np.float32)) for group_id, blob in conn.execute(query)
    ]


def create_group(
    conn: sa.Connection,
    project: str,
    failure: str,
    label: str,
    embedding: np.ndarray,
    at: datetime,
) -> int:
    result = conn.execute(
        review_groups.insert().values(
            project=project,
            failure=failure,
            label=label,
            embedding=np.asarray(embedding, dtype=np.float32).tobytes(),
            items=0,
            first_at=at,
            last_at=at,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def count_into_group(conn: sa.Connection, group_id: int, at: datetime) -> None:
    mine = review_groups.c.group_id == group_id
    conn.execute(review_groups.update().where(mine).values(items=review_groups.c["items"] + 1))
    conn.execute(
        review_groups.update().where(mine, review_groups.c.last_at < at).values(last_at=at)
    )


def list_groups(
    conn: sa.Connection,
    project: str,
    states: Sequence[ReviewState] = (ReviewState.OPEN,),
    limit: int = 100,
) -> list[ReviewGroup]:
    """Failure patterns with items in `states`, the most urgent first."""
    wanted = [str(s) for s in states]
    counts = (
        sa.select(
            review_items.c.group_id,
            sa.func.count().label("open_items"),
            sa.func.max(review_items.c.priority).label("top_priority"),
        )
        .where(review_items.c.project == project, review_items.c.state.in_(wanted))
        .group_by(review_items.c.group_id)
        .subquery()
    )
    query = (
        sa.select(review_groups, counts.c.open_items, counts.c.top_priority)
        .join(counts, counts.c.group_id == review_groups.c.group_id)
        .order_by(
            counts.c.top_priority.desc(), counts.c.open_items.desc(), review_groups.c.group_id
        )
        .limit(limit)
    )
    return [
        ReviewGroup(
            group_id=r["group_id"],
            project=r["project"],
            failure=r["failure"],
            label=r["label"],
            items=r["items"],
            open_items=r["open_items"],
            first_at=r["first_at"],
            last_at=r["last_at"],
            top_priority=r["top_priority"],
        )
        for r in conn.execute(query).mappings()
    ]


def state_counts(conn: sa.Connection, project: str) -> dict[str, int]:
    query = (
        sa.select(review_items.c.state, sa.func.count())
        .where(review_items.c.project == project)
        .group_by(review_items.c.state)
    )
    return {state: n for state, n in conn.execute(query)}
