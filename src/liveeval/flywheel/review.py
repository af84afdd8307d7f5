"""Triage: what a reviewer does with a review item, each step recorded with who and when.

open → real_failure | not_failure | duplicate | needs_info (and back, until promoted);
a real failure with an expected behaviour and a grader is promoted to a frozen
regression case in the golden set. A human score is also stored as a `human` score
on the interaction, where judge calibration and the disagreement check find it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError

from liveeval.flywheel.case_file import describe
from liveeval.flywheel.golden import add_case
from liveeval.judge.rubrics import Rubric
from liveeval.model.case import Case, CaseSource
from liveeval.model.review import TRIAGE_STATES, ReviewEvent, ReviewItem, ReviewState
from liveeval.model.score import Score, ScoreKind
from liveeval.store import review as queue
from liveeval.store.interactions import get_interaction
from liveeval.store.scores import insert_score


class ReviewError(ValueError):
    """A step that does not fit the item's state or input; the message says why."""


class InvalidCaseError(ReviewError):
    """The expected behaviour or grader would not make a valid case."""


class UnknownItemError(LookupError):
    pass


def item_or_error(conn: sa.Connection, item_id: int, project: str | None = None) -> ReviewItem:
    item = queue.get_item(conn, item_id)
    if item is None or (project is not None and item.project != project):
        raise UnknownItemError(f"review item {item_id} does not exist")
    return item


def _not_promoted(item: ReviewItem) -> None:
    if item.state == ReviewState.PROMOTED:
        raise ReviewError(
            f"review item {item.item_id} was promoted to case {item.case_id}; "
            "retire the case instead"
        )


def _record(
    conn: sa.Connection,
    item: ReviewItem,
    action: str,
    actor: str,
    at: datetime,
    details: dict[str, Any],
    **values: Any,
) -> ReviewItem:
    assert item.item_id is not None
    queue.update_item(conn, item.item_id, updated_at=at, updated_by=actor, **values)
    queue.add_event(conn, item.project, ReviewEvent(item.item_id, action, actor, at, details))
    return item_or_error(conn, item.item_id)


def triage(
    conn: sa.Connection,
    item_id: int,
    state: ReviewState,
    actor: str,
    at: datetime,
    *,
    duplicate_of: int | None = None,
    note: str | None = None,
    project: str | None = None,
) -> ReviewItem:
    item = item_or_error(conn, item_id, project)
    _not_promoted(item)
    if state not in (*TRIAGE_STATES, ReviewState.OPEN):
        raise ReviewError(f"triage sets one of {', '.join(TRIAGE_STATES)} (or open), not {state}")
    if state == ReviewState.DUPLICATE:
        if duplicate_of is None:
            raise ReviewError("a duplicate needs `duplicate_of`: the item it repeats")
        original = queue.get_item(conn, duplicate_of)
        if original is None or original.project != item.project or duplicate_of == item_id:
            raise ReviewError(f"duplicate_of {duplicate_of}: no other item of this project")
    elif duplicate_of is not None:
        raise ReviewError("`duplicate_of` only goes with the state duplicate")
    details: dict[str, Any] = {"from": str(item.state), "to": str(state)}
    if duplicate_of is not None:
        details["duplicate_of"] = duplicate_of
    if note:
        details["note"] = note
    return _record(
        conn,
        item,
        "triaged",
        actor,
        at,
        details,
        state=state,
        duplicate_of=duplicate_of,
        note=note if note is not None else item.note,
    )


BULK_LIMIT = 1_000  # items one bulk triage changes at most


def triage_group(
    conn: sa.Connection,
    project: str,
    group_id: int,
    state: ReviewState,
    actor: str,
    at: datetime,
    *,
    from_state: ReviewState = ReviewState.OPEN,
    note: str | None = None,
) -> int:
    """Triage every item of a failure pattern that is in `from_state`, each recorded as
    its own step; how many. A duplicate needs the item it repeats, so it is not bulk."""
    if state == ReviewState.DUPLICATE:
        raise ReviewError("a duplicate names the item it repeats: triage duplicates one by one")
    wanted = queue.ItemFilter(project, (from_state,), group_id, limit=BULK_LIMIT)
    items = queue.list_items(conn, wanted)
    for item in items:
        assert item.item_id is not None
        triage(conn, item.item_id, state, actor, at, note=note, project=project)
    return len(items)


def give_score(
    conn: sa.Connection,
    item_id: int,
    value: float,
    actor: str,
    at: datetime,
    *,
    rubric: str | None = None,
    scales: Mapping[str, Collection[float]] | None = None,
    comment: str | None = None,
    project: str | None = None,
) -> ReviewItem:
    """A human score on the rubric the judge used (the item's, unless `rubric` is given),
    checked against that rubric's scale when `scales` knows it."""
    item = item_or_error(conn, item_id, project)
    name = rubric or item.rubric
    if name is None:
        raise ReviewError("no rubric: the judge did not score this interaction; name one")
    allowed = scales.get(name) if scales else None
    if allowed is not None and value not in allowed:
        shown = ", ".join(f"{v:g}" for v in sorted(allowed))
        raise ReviewError(f"{value:g} is not on the {name} scale ({shown})")
    score = Score(
        project=item.project,
        interaction_id=item.interaction_id,
        name=name,
        kind=ScoreKind.HUMAN,
        value=value,
        explanation=comment,
        author=actor,
        created_at=at,
        evaluator_version=f"review:{actor}",
        details={"review_item_id": item_id},
    )
    score_id, _ = insert_score(conn, score, f"review:{item_id}:{name}:{actor}:{at.isoformat()}")
    details = {"rubric": name, "value": value, "score_id": score_id}
    return _record(conn, item, "scored", actor, at, details, human_score=value, rubric=name)


def rubric_scales(rubrics: Mapping[str, Rubric]) -> dict[str, tuple[int, ...]]:
    """The allowed scores of each numeric rubric (a labels rubric has none to check)."""
    return {name: r.scale.scores for name, r in rubrics.items() if r.scale.scores}


def draft_case(
    item: ReviewItem,
    expected: dict[str, Any],
    grader: dict[str, Any],
    tags: Sequence[str],
    actor: str,
    at: datetime,
    case_id: str | None = None,
    trace_id: str | None = None,
) -> Case:
    """The case this item would become; raises ReviewError naming what is invalid."""
    assert item.item_id is not None
    document = {
        "id": case_id or f"review-{item.item_id}",
        "input": item.input,
        "expected": expected,
        "grader": grader,
        "tags": sorted({*tags, "regression"}),
        "regression": True,
        "frozen": True,
        "source": CaseSource(
            project=item.project,
            interaction_id=item.interaction_id,
            trace_id=trace_id,
            review_item_id=item.item_id,
        ).model_dump(exclude_none=True),
        "author": actor,
        "created_at": at.isoformat(),
    }
    try:
        return Case.model_validate(document)
    except ValidationError as exc:
        raise InvalidCaseError(describe(exc)) from None


def write_expected(
    conn: sa.Connection,
    item_id: int,
    expected: dict[str, Any],
    grader: dict[str, Any],
    actor: str,
    at: datetime,
    *,
    tags: Sequence[str] = (),
    project: str | None = None,
) -> ReviewItem:
    """The expected behaviour and the grader, checked now so promotion cannot fail on them."""
    item = item_or_error(conn, item_id, project)
    _not_promoted(item)
    draft_case(item, expected, grader, tags, actor, at)
    details = {"expected": expected, "grader": grader, "tags": list(tags)}
    return _record(
        conn,
        item,
        "expected",
        actor,
        at,
        details,
        expected=expected,
        grader=grader,
        tags=list(tags),
    )


def promote(
    conn: sa.Connection,
    item_id: int,
    actor: str,
    at: datetime,
    *,
    case_id: str | None = None,
    project: str | None = None,
) -> tuple[ReviewItem, Case]:
    """Make the frozen regression case; the item must be a triaged real failure."""
    item = item_or_error(conn, item_id, project)
    _not_promoted(item)
    if item.state != ReviewState.REAL_FAILURE:
        raise ReviewError(
            f"review item {item_id} is {item.state}: only a real failure is promoted "
            "(triage it first)"
        )
    if item.expected is None or item.grader is None:
        raise ReviewError(f"review item {item_id} has no expected behaviour and grader yet")
    interaction = get_interaction(conn, item.interaction_id)
    trace_id = interaction.trace_id if interaction is not None else None
    case = draft_case(item, item.expected, item.grader, item.tags, actor, at, case_id, trace_id)
    add_case(conn, item.project, case, item_id)
    details = {"case_id": case.id, "version": case.version, "hash": case.hash}
    updated = _record(
        conn, item, "promoted", actor, at, details, state=ReviewState.PROMOTED, case_id=case.id
    )
    return updated, case
