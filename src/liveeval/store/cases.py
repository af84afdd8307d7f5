"""The golden set's rows: every version of every case, inserted, never updated except
to record a retirement."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from liveeval.model.case import Case, Retirement
from liveeval.store.schema import cases


def insert_case(
    conn: sa.Connection, project: str, case: Case, review_item_id: int | None = None
) -> None:
    content = case.model_dump(mode="json", by_alias=True, exclude_none=True, exclude={"retired"})
    conn.execute(
        cases.insert().values(
            project=project,
            case_id=case.id,
            version=case.version,
            content=content,
            hash=case.hash,
            regression=case.regression,
            frozen=case.frozen,
            tags=list(case.tags),
            author=case.author,
            source_interaction_id=case.source.interaction_id if case.source else None,
            review_item_id=review_item_id
            if review_item_id is not None
            else (case.source.review_item_id if case.source else None),
            created_at=case.created_at,
            retired_at=case.retired.at if case.retired else None,
            retired_by=case.retired.by if case.retired else None,
            retired_reason=case.retired.reason if case.retired else None,
        )
    )


def _case(row: sa.Row[Any]) -> Case:
    document = dict(row.content)
    if row.retired_at is not None:
        document["retired"] = {
            "at": row.retired_at.isoformat(),
            "by": row.retired_by,
            "reason": row.retired_reason,
        }
    return Case.model_validate(document)


def _latest_versions(project: str) -> sa.Subquery:
    return (
        sa.select(cases.c.case_id, sa.func.max(cases.c.version).label("version"))
        .where(cases.c.project == project)
        .group_by(cases.c.case_id)
        .subquery()
    )


def latest_cases(
    conn: sa.Connection,
    project: str,
    *,
    include_retired: bool = False,
    tags: Sequence[str] = (),
    regression: bool | None = None,
    case_ids: Sequence[str] = (),
) -> list[Case]:
    """The newest version of each case, by id; retired ones only when asked."""
    latest = _latest_versions(project)
    query = (
        sa.select(cases)
        .join(
            latest,
            sa.and_(cases.c.case_id == latest.c.case_id, cases.c.version == latest.c.version),
        )
        .where(cases.c.project == project)
        .order_by(cases.c.case_id)
    )
    if not include_retired:
        query = query.where(cases.c.retired_at.is_(None))
    if regression is not None:
        query = query.where(cases.c.regression.is_(regression))
    if case_ids:
        query = query.where(cases.c.case_id.in_(list(case_ids)))
    found = [_case(row) for row in conn.execute(query)]
    if tags:
        wanted = set(tags)
        found = [case for case in found if wanted <= set(case.tags)]
    return found


def all_versions(conn: sa.Connection, project: str) -> list[Case]:
    query = (
        sa.select(cases)
        .where(cases.c.project == project)
        .order_by(cases.c.case_id, cases.c.version)
    )
    return [_case(row) for row in conn.execute(query)]


def case_versions(conn: sa.Connection, project: str, case_id: str) -> list[Case]:
    query = (
        sa.select(cases)
        .where(cases.c.project == project, cases.c.case_id == case_id)
        .order_by(cases.c.version)
    )
    return [_case(row) for row in conn.execute(query)]


def latest_case(conn: sa.Connection, project: str, case_id: str) -> Case | None:
    versions = latest_cases(conn, project, include_retired=True, case_ids=[case_id])
    return versions[0] if versions else None


def record_retirement(
    conn: sa.Connection, project: str, case_id: str, version: int, retirement: Retirement
) -> None:
    conn.execute(
        cases.update()
        .where(
            cases.c.project == project,
            cases.c.case_id == case_id,
            cases.c.version == version,
            cases.c.retired_at.is_(None),
        )
        .values(
            retired_at=retirement.at, retired_by=retirement.by, retired_reason=retirement.reason
        )
    )
