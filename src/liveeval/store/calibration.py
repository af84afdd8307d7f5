"""Calibration sets (labelled items per project and rubric) and the runs that compared
a judge version with them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from liveeval.store.schema import calibration_items, calibration_runs


@dataclass(frozen=True, slots=True)
class StoredItem:
    item_id: str
    input: str
    output: str
    context: tuple[str, ...]
    human_scores: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class Run:
    run_id: int
    judge_version: str
    model_reported: str | None
    source: str
    trigger: str
    n: int
    metrics: dict[str, Any]
    floor: float
    passed: bool
    created_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "judge_version": self.judge_version,
            "model_reported": self.model_reported,
            "source": self.source,
            "trigger": self.trigger,
            "n": self.n,
            "floor": self.floor,
            "passed": self.passed,
            "created_at": self.created_at.isoformat(),
            "metrics": self.metrics,
        }


def replace_calibration_set(
    conn: sa.Connection, project: str, rubric: str, items: Sequence[StoredItem], now: datetime
) -> None:
    """The project's set for `rubric` becomes `items` (an import replaces the whole set)."""
    conn.execute(
        calibration_items.delete().where(
            calibration_items.c.project == project, calibration_items.c.rubric == rubric
        )
    )
    if items:
        conn.execute(
            calibration_items.insert(),
            [
                {
                    "project": project,
                    "rubric": rubric,
                    "item_id": item.item_id,
                    "input": item.input,
                    "output": item.output,
                    "context": list(item.context),
                    "human_scores": list(item.human_scores),
                    "imported_at": now,
                }
                for item in items
            ],
        )


def calibration_set(conn: sa.Connection, project: str, rubric: str) -> list[StoredItem]:
    c = calibration_items.c
    query = (
        sa.select(c.item_id, c.input, c.output, c.context, c.human_scores)
        .where(c.project == project, c.rubric == rubric)
        .order_by(c.item_id)
    )
    return [
        StoredItem(item_id, text, output, tuple(context), tuple(float(s) for s in scores))
        for item_id, text, output, context, scores in conn.execute(query)
    ]


def save_run(
    conn: sa.Connection,
    project: str,
    rubric: str,
    judge_version: str,
    model_reported: str | None,
    *,
    source: str,
    trigger: str,
    n: int,
    metrics: dict[str, Any],
    floor: float,
    passed: bool,
    now: datetime,
) -> None:
    conn.execute(
        calibration_runs.insert().values(
            project=project,
            rubric=rubric,
            judge_version=judge_version,
            model_reported=model_reported,
            source=source,
            trigger=trigger,
            n=n,
            metrics=metrics,
            floor=floor,
            passed=passed,
            created_at=now,
        )
    )


def latest_run(
    conn: sa.Connection,
    project: str,
    rubric: str,
    judge_version: str,
    model_reported: str | None,
    source: str,
) -> Run | None:
    c = calibration_runs.c
    model = (
        c.model_reported.is_(None) if model_reported is None else c.model_reported == model_reported
    )
    row = (
        conn.execute(
            sa.select(calibration_runs)
            .where(
                c.project == project,
                c.rubric == rubric,
                c.judge_version == judge_version,
                c.source == source,
                model,
            )
            .order_by(c.created_at.desc(), c.run_id.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    return _run(row) if row is not None else None


def runs(
    conn: sa.Connection, project: str, rubric: str | None = None, limit: int = 100
) -> list[Run]:
    """Calibration runs, newest first: agreement over time per judge version."""
    c = calibration_runs.c
    query = sa.select(calibration_runs).where(c.project == project)
    if rubric is not None:
        query = query.where(c.rubric == rubric)
    query = query.order_by(c.created_at.desc(), c.run_id.desc()).limit(limit)
    return [_run(row) for row in conn.execute(query).mappings()]


def _run(row: sa.RowMapping) -> Run:
    return Run(
        run_id=row["run_id"],
        judge_version=row["judge_version"],
        model_reported=row["model_reported"],
        source=row["source"],
        trigger=row["trigger"],
        n=row["n"],
        metrics=dict(row["metrics"]),
        floor=row["floor"],
        passed=bool(row["passed"]),
        created_at=row["created_at"],
    )
