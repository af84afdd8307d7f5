"""The golden set's rules: cases are immutable versions, regression cases are frozen,
an import is all or nothing.

Importing a file decides, for each line, one of: *added* (a new id), *unchanged*
(the stored version with the same content), *new version* (a line without `hash`
whose content differs from the newest stored version: a hand edit), or *retired*
(the line retires a stored case). A line that would change a frozen case, or that
claims a stored version number with other content, is an error; then nothing of
the file is written.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from liveeval.model.case import Case, FrozenCaseError, Retirement, with_changes
from liveeval.store import cases as stored


class CaseConflictError(ValueError):
    """An import or edit that would change history; the message says which case and why."""


class UnknownCaseError(LookupError):
    pass


@dataclass(slots=True)
class ImportPlan:
    inserts: list[Case] = field(default_factory=list)
    retirements: list[Case] = field(default_factory=list)
    outcome: Counter[str] = field(default_factory=Counter)


def plan_import(conn: sa.Connection, project: str, incoming: Sequence[Case]) -> ImportPlan:
    plan = ImportPlan()
    errors: list[str] = []
    for case in incoming:
        try:
            _plan_one(conn, project, case, plan)
        except (CaseConflictError, FrozenCaseError) as exc:
            errors.append(str(exc))
    if errors:
        shown = "; ".join(errors[:10])
        more = f" (and {len(errors) - 10} more)" if len(errors) > 10 else ""
        raise CaseConflictError(f"nothing imported: {shown}{more}")
    return plan


def _plan_one(conn: sa.Connection, project: str, case: Case, plan: ImportPlan) -> None:
    versions = {c.version: c for c in stored.case_versions(conn, project, case.id)}
    if not versions:
        plan.inserts.append(case)
        plan.outcome["added"] += 1
        return
    latest = versions[max(versions)]
    same_version = versions.get(case.version)
    if same_version is not None and same_version.hash == case.hash:
        if case.retired is not None and same_version.retired is None:
            plan.retirements.append(case)
            plan.outcome["retired"] += 1
        else:
            plan.outcome["unchanged"] += 1
        return
    if "hash" not in case.model_fields_set:  # written or edited by hand
        if latest.hash == case.hash:
            plan.outcome["unchanged"] += 1
            return
        if latest.frozen:
            raise FrozenCaseError(case.id)
        plan.inserts.append(with_changes(latest, _content(case), case.author, case.created_at))
        plan.outcome["new version"] += 1
        return
    if same_version is not None:
        raise CaseConflictError(
            f"case {case.id} version {case.version} differs from the stored version "
            f"{case.version} ({same_version.hash} != {case.hash}); cases are immutable: "
            "leave out `hash` and `version` to make the next version"
        )
    if latest.frozen:
        raise FrozenCaseError(case.id)
    if case.version != latest.version + 1:
        raise CaseConflictError(
            f"case {case.id} version {case.version} does not follow the stored version "
            f"{latest.version}"
        )
    plan.inserts.append(case)
    plan.outcome["new version"] += 1


def _content(case: Case) -> dict[str, object]:
    return case.model_dump(
        mode="json",
        by_alias=True,
        exclude_none=True,
        include={"input", "expected", "grader", "tags", "regression", "frozen", "source"},
    )


def apply_import(conn: sa.Connection, project: str, plan: ImportPlan) -> None:
    for case in plan.inserts:
        stored.insert_case(conn, project, case)
    for case in plan.retirements:
        assert case.retired is not None
        stored.record_retirement(conn, project, case.id, case.version, case.retired)


def add_case(conn: sa.Connection, project: str, case: Case, review_item_id: int | None) -> Case:
    """A brand-new case (promotion or REST create); an existing id is a conflict."""
    if stored.case_versions(conn, project, case.id):
        raise CaseConflictError(f"case {case.id} already exists; edit it to make a new version")
    stored.insert_case(conn, project, case, review_item_id)
    return case


def edit_case(
    conn: sa.Connection,
    project: str,
    case_id: str,
    changes: dict[str, object],
    author: str,
    at: datetime,
) -> Case:
    latest = stored.latest_case(conn, project, case_id)
    if latest is None:
        raise UnknownCaseError(case_id)
    edited = with_changes(latest, changes, author=author, at=at)
    stored.insert_case(conn, project, edited)
    return edited


def retire_case(
    conn: sa.Connection, project: str, case_id: str, by: str, reason: str, at: datetime
) -> Case:
    latest = stored.latest_case(conn, project, case_id)
    if latest is None:
        raise UnknownCaseError(case_id)
    if latest.retired is not None:
        raise CaseConflictError(
            f"case {case_id} was already retired by {latest.retired.by} "
            f"at {latest.retired.at.isoformat()}: {latest.retired.reason}"
        )
    retirement = Retirement(at=at, by=by, reason=reason)
    stored.record_retirement(conn, project, case_id, latest.version, retirement)
    return latest.model_copy(update={"retired": retirement})
