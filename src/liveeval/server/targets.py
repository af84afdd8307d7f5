"""Which interaction a posted signal or score names, and in which project it belongs."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from fastapi import HTTPException

from liveeval.server.auth import Caller
from liveeval.store.schema import interactions
from liveeval.store.signals import find_target


@dataclass(frozen=True, slots=True)
class Target:
    project: str
    interaction_id: int | None  # None: not stored yet
    trace_id: str | None


def resolve_target(
    conn: sa.Connection,
    caller: Caller,
    named_project: str | None,
    default_project: str,
    *,
    interaction_id: int | None,
    trace_id: str | None,
    response_id: str | None,
) -> Target:
    """The interaction named by id, trace id or response id, checked against the caller's
    project; 404 for an unknown interaction id, 422 for one of another named project."""
    trace_id = trace_id.lower() if trace_id else None
    if interaction_id is not None:
        row = conn.execute(
            sa.select(interactions.c.project, interactions.c.trace_id).where(
                interactions.c.interaction_id == interaction_id
            )
        ).first()
        if row is None:
            raise HTTPException(404, f"interaction {interaction_id} does not exist")
        caller.check_project(row.project)
        if named_project is not None and named_project != row.project:
            raise HTTPException(
                422, f"interaction {interaction_id} belongs to project {row.project!r}"
            )
        return Target(row.project, interaction_id, row.trace_id)
    project = caller.project_for(named_project, default_project)
    target = find_target(conn, project, trace_id=trace_id, response_id=response_id)
    if target is None and caller.project is None and named_project is None:
        # Open mode, no project named: the interaction may be in any project.
        target, project = _find_anywhere(conn, trace_id, response_id, project)
    if target is None:
        return Target(project, None, trace_id)
    return Target(project, target[0], target[1])


def _find_anywhere(
    conn: sa.Connection, trace_id: str | None, response_id: str | None, fallback: str
) -> tuple[tuple[int, str] | None, str]:
    c = interactions.c
    if response_id is not None:
        where = c.response_id == response_id
    elif trace_id is not None:
        where = c.trace_id == trace_id
    else:
        return None, fallback
    row = conn.execute(sa.select(c.project).where(where).limit(1)).first()
    if row is None:
        return None, fallback
    target = find_target(conn, row.project, trace_id=trace_id, response_id=response_id)
    return target, row.project
