"""Review items, groups and events as JSON: one shape for the REST API, the CLI and
candidate files."""

from __future__ import annotations

from typing import Any

from liveeval.model.review import ReviewEvent, ReviewGroup, ReviewItem


def item_json(item: ReviewItem) -> dict[str, Any]:
    return {
        "item_id": item.item_id,
        "project": item.project,
        "interaction_id": item.interaction_id,
        "group_id": item.group_id,
        "state": str(item.state),
        "priority": item.priority,
        "failure": item.failure,
        "reasons": [r.to_json() for r in item.reasons],
        "input": item.input,
        "output": item.output_text,
        "pii_replaced": item.pii,
        "judge_score": item.judge_score,
        "rubric": item.rubric,
        "human_score": item.human_score,
        "expected": item.expected,
        "grader": item.grader,
        "tags": item.tags,
        "duplicate_of": item.duplicate_of,
        "note": item.note,
        "case_id": item.case_id,
        "created_at": item.created_at.isoformat(),
        "updated_at": item.updated_at.isoformat(),
        "updated_by": item.updated_by,
    }


def group_json(group: ReviewGroup) -> dict[str, Any]:
    return {
        "group_id": group.group_id,
        "project": group.project,
        "failure": group.failure,
        "label": group.label,
        "items": group.items,
        "open_items": group.open_items,
        "top_priority": group.top_priority,
        "first_at": group.first_at.isoformat(),
        "last_at": group.last_at.isoformat(),
    }


def event_json(event: ReviewEvent) -> dict[str, Any]:
    return {
        "action": event.action,
        "actor": event.actor,
        "at": event.at.isoformat(),
        "details": event.details,
    }
