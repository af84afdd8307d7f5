"""The demo's reviewer scores a sample of the judged items in the review queue each week.

Each score is the one the answer deserves (its tier, without the simulated judge's
noise), given through the review flow as a `human` score. The monitor then compares the
judge with these scores (`calibration_runs`), so the judge page shows agreement with
people over time, as a team that reviews a few dozen items a week would see it.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from liveeval.demo.simulated_judge import true_grade
from liveeval.demo.story import PROJECT
from liveeval.flywheel.review import give_score
from liveeval.model.review import ReviewState
from liveeval.store.database import Store
from liveeval.store.review import ItemFilter, list_items
from liveeval.store.schema import interactions, scores

RUBRIC = "quality"


def score_sample(store: Store, reviewer: str, at: datetime, count: int) -> int:
    """Give human scores to up to `count` open, judged, not yet human-scored items (spread
    over the queue, oldest first); how many were scored."""
    with store.reading() as conn:
        items = list_items(
            conn, ItemFilter(project=PROJECT, states=(ReviewState.OPEN,), limit=5000)
        )
        ids = [i.interaction_id for i in items]
        texts = {
            row.interaction_id: (row.input_text or "", row.output_text or "")
            for row in conn.execute(
                sa.select(
                    interactions.c.interaction_id,
                    interactions.c.input_text,
                    interactions.c.output_text,
                ).where(interactions.c.interaction_id.in_(ids))
            )
        }
        kinds = _score_kinds(conn, ids)
    candidates = sorted(
        (item for item in items if kinds.get(item.interaction_id) == {"judge"}),
        key=lambda item: item.item_id or 0,
    )
    step = max(1, len(candidates) // max(1, count))
    chosen = candidates[::step][:count]
    for item in chosen:
        assert item.item_id is not None
        question, answer = texts[item.interaction_id]
        value, why = true_grade(question, answer)
        with store.writing() as conn:
            give_score(conn, item.item_id, float(value), reviewer, at, rubric=RUBRIC, comment=why)
    return len(chosen)


def _score_kinds(conn: sa.Connection, interaction_ids: list[int]) -> dict[int, set[str]]:
    """Which kinds of `quality` scores each interaction has (judge, human)."""
    found: dict[int, set[str]] = {}
    query = sa.select(scores.c.interaction_id, scores.c.kind).where(
        scores.c.interaction_id.in_(interaction_ids),
        scores.c.name == RUBRIC,
        scores.c.kind.in_(("judge", "human")),
        scores.c.status == "ok",
    )
    for interaction_id, kind in conn.execute(query):
        found.setdefault(interaction_id, set()).add(kind)
    return found
