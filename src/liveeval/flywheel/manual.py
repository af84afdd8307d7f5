"""An interaction a person picked, from its page: filed in the review queue with the
reason `manual`, and — given what it should have done and how to check it — triaged,
given its expectation and promoted to a frozen regression case in one step.

It goes through the same steps as the review queue (flywheel.review), so the case keeps
the queue's scrubbed copy of the interaction and the item keeps the history.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from liveeval.config.review import PRIORITIES
from liveeval.flywheel.review import ReviewError, promote, triage, write_expected
from liveeval.flywheel.snapshot import Snapshot
from liveeval.model import Interaction
from liveeval.model.case import Case
from liveeval.model.review import Reason, ReasonKind, ReviewEvent, ReviewItem, ReviewState
from liveeval.store import review as queue

__all__ = ["add_to_golden_set", "enqueue_interaction"]


def enqueue_interaction(
    conn: sa.Connection, interaction: Interaction, shot: Snapshot, actor: str, at: datetime
) -> ReviewItem:
    """The interaction's review item: the one it has, or a new one with reason manual.

    `shot` is the interaction's scrubbed copy (flywheel.snapshot), made before the write
    transaction: scrubbing with NER is slow.
    """
    assert interaction.interaction_id is not None
    existing = queue.item_of_interaction(conn, interaction.interaction_id)
    if existing is not None:
        return existing
    reason = Reason(ReasonKind.MANUAL, f"picked by {actor}", PRIORITIES["manual"], at)
    item = ReviewItem(
        project=interaction.project,
        interaction_id=interaction.interaction_id,
        state=ReviewState.OPEN,
        priority=reason.priority,
        failure=reason.failure,
        reasons=[reason],
        input=shot.input,
        output_text=shot.output_text,
        pii=shot.pii,
        created_at=at,
        updated_at=at,
    )
    item_id = queue.insert_item(conn, item)
    details = {"reasons": [reason.to_json()], "pii": shot.pii}
    queue.add_event(conn, item.project, ReviewEvent(item_id, "enqueued", actor, at, details))
    found = queue.get_item(conn, item_id)
    assert found is not None
    return found


def add_to_golden_set(
    conn: sa.Connection,
    interaction: Interaction,
    shot: Snapshot,
    expected: dict[str, Any],
    grader: dict[str, Any],
    actor: str,
    at: datetime,
    *,
    tags: Sequence[str] = (),
    case_id: str | None = None,
) -> Case:
    """File, triage as a real failure, write the expectation and promote: the new case.

    A ReviewError (an item already promoted, a grader that does not fit) leaves the
    caller's transaction to roll back, so nothing is half done.
    """
    item = enqueue_interaction(conn, interaction, shot, actor, at)
    assert item.item_id is not None
    if item.state == ReviewState.PROMOTED:
        raise ReviewError(
            f"interaction {interaction.interaction_id} is already case {item.case_id} "
            f"(review item {item.item_id})"
        )
    if item.state != ReviewState.REAL_FAILURE:
        triage(conn, item.item_id, ReviewState.REAL_FAILURE, actor, at)
    write_expected(conn, item.item_id, expected, grader, actor, at, tags=tags)
    _, case = promote(conn, item.item_id, actor, at, case_id=case_id)
    return case
