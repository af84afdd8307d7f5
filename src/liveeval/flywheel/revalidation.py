"""Re-validation of the judge after a model change, before its scores feed the SLIs.

The judge is pinned (provider/model/rubric@version#hash), but providers update the
model behind a name. When the judge worker sees a judge version, or a model the
provider reports serving, that has not been checked against the project's
calibration set for that rubric, it grades the set first. If agreement (quadratic
weighted kappa against the human labels) is at or above the floor, its scores are
written; if not, they are *held*: the jobs wait and retry, no score reaches the
rollups, and the `judge-revalidation` alert fires through the monitor's notifiers.
A failed check is run again after `recheck_after`, so a provider that fixes its
model releases the held jobs. A project without a calibration set is not gated.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from liveeval.config import Settings
from liveeval.flywheel.calibration_watch import BINARY, LEVELS, judge_alert, record_run
from liveeval.judge.calibration import AgreementReport, JudgeError, agreement_report
from liveeval.judge.calibration_set import CalibrationItem, item_interaction
from liveeval.judge.grading import Grader
from liveeval.judge.rubrics import Rubric
from liveeval.model.alert import Severity
from liveeval.monitor.delivery import wanted_by
from liveeval.store.calibration import Run, StoredItem, calibration_set, latest_run
from liveeval.store.database import Store

RULE = "judge-revalidation"
SOURCE = "calibration_set"
RECHECK_AFTER = timedelta(hours=6)
Key = tuple[str, str, str, str | None]  # project, rubric, judge version, model reported


@dataclass(frozen=True, slots=True)
class Verdict:
    passed: bool
    checked_at: datetime
    summary: str


class Revalidator:
    def __init__(
        self,
        store: Store,
        grader: Grader,
        settings: Settings,
        clock: Callable[[], datetime],
        *,
        recheck_after: timedelta = RECHECK_AFTER,
        concurrency: int = 4,
    ) -> None:
        self.store = store
        self.grader = grader
        self.floor = settings.review.agreement_floor
        self.clock = clock
        self.recheck_after = recheck_after
        self.concurrency = concurrency
        self.notifiers = [
            n.name for n in settings.monitor.notifiers if wanted_by(n, Severity.WARNING)
        ]
        self._verdicts: dict[Key, Verdict | None] = {}
        self._locks: dict[Key, asyncio.Lock] = {}

    async def held(
        self, project: str, rubric: Rubric, judge_version: str, model_reported: str | None
    ) -> str | None:
        """None when scores of this judge may be written; else why they are held."""
        key = (project, rubric.name, judge_version, model_reported)
        if not self._stale(key):
            return _reason(self._verdicts[key])
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            if self._stale(key):
                self._verdicts[key] = await self._check(key, rubric)
        return _reason(self._verdicts[key])

    def _stale(self, key: Key) -> bool:
        if key not in self._verdicts:
            return True
        verdict = self._verdicts[key]
        return (
            verdict is not None
            and not verdict.passed
            and self.clock() - verdict.checked_at >= self.recheck_after
        )

    async def _check(self, key: Key, rubric: Rubric) -> Verdict | None:
        items, last = await asyncio.to_thread(self._stored, key)
        if not items:
            return None  # no calibration set: nothing to check against
        now = self.clock()
        if last is not None and (last.passed or now - last.created_at < self.recheck_after):
            return Verdict(last.passed, last.created_at, _summary_of(last.metrics, last.floor))
        report = await self._grade_set(rubric, items)
        await asyncio.to_thread(self._save, key, report, now)
        return Verdict(report.passed, now, _summary(report))

    def _stored(self, key: Key) -> tuple[list[StoredItem], Run | None]:
        project, name, version, model = key
        with self.store.reading() as conn:
            items = calibration_set(conn, project, name)
            last = latest_run(conn, project, name, version, model, SOURCE) if items else None
        return items, last

    async def _grade_set(self, rubric: Rubric, items: Sequence[StoredItem]) -> AgreementReport:
        limit = asyncio.Semaphore(self.concurrency)

        async def one(item: StoredItem) -> tuple[float | None, str | None]:
            interaction = item_interaction(
                CalibrationItem(
                    item.item_id,
                    item.input,
                    item.output,
                    item.human_scores,
                    0,
                    context=item.context,
                )
            )
            async with limit:
                judgment = await self.grader.grade(rubric, interaction)
            if judgment.status != "ok" or judgment.value is None:
                return None, judgment.error or "no score"
            return judgment.value, None

        results = await asyncio.gather(*(one(item) for item in items))
        judged = [
            (item, value)
            for item, (value, _) in zip(items, results, strict=True)
            if value is not None
        ]
        errors = [
            JudgeError(item.item_id, error or "")
            for item, (value, error) in zip(items, results, strict=True)
            if value is None
        ]
        scores = [value for _, value in judged]
        humans = [list(item.human_scores) for item, _ in judged]
        levels = BINARY if set(scores) | {h for hs in humans for h in hs} <= set(BINARY) else LEVELS
        return agreement_report(
            scores,
            humans,
            levels,
            [len(item.output) for item, _ in judged],
            floor=self.floor,
            judge_errors=errors,
        )

    def _save(self, key: Key, report: AgreementReport, now: datetime) -> None:
        project, name, version, model = key
        slice_ = {"rubric": name, "judge_version": version, "model_reported": model or "-"}
        what = f"judge re-validation after a model change ({name}, {version}, served {model})"
        with self.store.writing() as conn:
            record_run(conn, project, name, version, model, report, SOURCE, "model_change", now)
            judge_alert(conn, project, RULE, slice_, what, report, self.notifiers, now)


def _reason(verdict: Verdict | None) -> str | None:
    if verdict is None or verdict.passed:
        return None
    return f"held: the judge failed re-validation on the calibration set ({verdict.summary})"


def _summary(report: AgreementReport) -> str:
    return f"kappa {report.kappa_quadratic.value:.2f} < floor {report.floor:.2f}, n={report.n}"


def _summary_of(metrics: dict[str, object], floor: float) -> str:
    kappa = metrics.get("kappa_quadratic")
    value = kappa.get("value") if isinstance(kappa, dict) else kappa
    shown = f"{value:.2f}" if isinstance(value, float) else str(value)
    return f"kappa {shown} < floor {floor:.2f}"
