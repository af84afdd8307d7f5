"""The judge is an instrument that drifts: each monitor tick compares the judge's
scores with the human scores given in review, per rubric and judge version, and
raises the `judge-calibration` alert through the monitor's notifiers when their
agreement (quadratic weighted kappa) falls below the floor; it resolves when it is
back above. Each new comparison is kept in `calibration_runs`, so agreement can be
followed over time per judge version.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from liveeval.config.review import ReviewConfig
from liveeval.judge.calibration import AgreementReport, agreement_report, report_to_dict
from liveeval.model.alert import Alert, AlertState, Severity
from liveeval.monitor.alerting import Change
from liveeval.monitor.rules import fingerprint
from liveeval.store.alerts import enqueue_notifications, firing_alerts, save_alert
from liveeval.store.schema import calibration_runs, interactions, scores

RULE = "judge-calibration"
LEVELS = (1.0, 2.0, 3.0, 4.0, 5.0)
BINARY = (0.0, 1.0)


@dataclass(frozen=True, slots=True)
class Pairs:
    judge: list[float]
    human: list[float]
    lengths: list[int]


def human_judge_pairs(
    conn: sa.Connection, project: str, since: datetime
) -> dict[tuple[str, str], Pairs]:
    """(rubric, judge version) → the items both a human and that judge version scored."""
    s = scores.c
    query = (
        sa.select(
            s.interaction_id,
            s.name,
            s.kind,
            s.value,
            s.evaluator_version,
            sa.func.length(interactions.c.output_text),
        )
        .select_from(scores.join(interactions))
        .where(
            s.project == project,
            s.kind.in_(("judge", "human")),
            s.status == "ok",
            s.value.is_not(None),
            s.created_at >= since,
        )
        .order_by(s.created_at, s.score_id)
    )
    judged: dict[tuple[int, str], tuple[float, str]] = {}
    human: dict[tuple[int, str], float] = {}
    lengths: dict[int, int] = {}
    for interaction_id, name, kind, value, version, length in conn.execute(query):
        lengths[interaction_id] = int(length or 0)
        if kind == "judge":
            judged[(interaction_id, name)] = (value, _version(version))
        else:
            human[(interaction_id, name)] = value
    found: dict[tuple[str, str], Pairs] = defaultdict(lambda: Pairs([], [], []))
    for key, human_value in sorted(human.items()):
        if key not in judged:
            continue
        value, version = judged[key]
        pairs = found[(key[1], version)]
        pairs.judge.append(value)
        pairs.human.append(human_value)
        pairs.lengths.append(lengths[key[0]])
    return dict(found)


def _version(evaluator_version: str | None) -> str:
    """The pinned judge version, without the model the provider reported."""
    return (evaluator_version or "unknown").split(" (reported ")[0]


def watch(
    conn: sa.Connection,
    project: str,
    config: ReviewConfig,
    notifiers: Sequence[str],
    now: datetime,
) -> list[Change]:
    """Compare, record, and fire/update/resolve the calibration alerts."""
    since = now - timedelta(days=config.agreement_window_days)
    firing = {a.fingerprint: a for a in firing_alerts(conn, project).values() if a.rule == RULE}
    changed: list[Change] = []
    for (rubric, version), pairs in sorted(human_judge_pairs(conn, project, since).items()):
        if len(pairs.judge) < config.agreement_min_items:
            continue
        levels = BINARY if set(pairs.judge + pairs.human) <= set(BINARY) else LEVELS
        report = agreement_report(
            pairs.judge,
            [[h] for h in pairs.human],
            levels,
            pairs.lengths,
            floor=config.agreement_floor,
        )
        _record(conn, project, rubric, version, report, now)
        slice_ = {"rubric": rubric, "judge_version": version}
        key = fingerprint(project, RULE, slice_)
        alert = _alert_change(project, slice_, key, report, firing.get(key), now)
        if alert is None:
            continue
        if alert.state == AlertState.RESOLVED:
            action = "resolve"
        else:
            action = "update" if key in firing else "trigger"
        saved = save_alert(conn, alert)
        change = Change(saved, action)
        if change.notifies and saved.alert_id is not None:
            enqueue_notifications(conn, saved.alert_id, list(notifiers), action, now)
        changed.append(change)
    return changed


def _record(
    conn: sa.Connection,
    project: str,
    rubric: str,
    version: str,
    report: AgreementReport,
    now: datetime,
) -> None:
    """A run per new comparison: only when the number of items changed since the last."""
    last = conn.execute(
        sa.select(calibration_runs.c.n)
        .where(
            calibration_runs.c.project == project,
            calibration_runs.c.rubric == rubric,
            calibration_runs.c.judge_version == version,
            calibration_runs.c.source == "review",
        )
        .order_by(calibration_runs.c.created_at.desc(), calibration_runs.c.run_id.desc())
        .limit(1)
    ).scalar()
    if last == report.n:
        return
    conn.execute(
        calibration_runs.insert().values(
            project=project,
            rubric=rubric,
            judge_version=version,
            model_reported=None,
            source="review",
            trigger="schedule",
            n=report.n,
            metrics=report_to_dict(report),
            floor=report.floor,
            passed=report.passed,
            created_at=now,
        )
    )


def _alert_change(
    project: str,
    slice_: dict[str, str],
    key: str,
    report: AgreementReport,
    current: Alert | None,
    now: datetime,
) -> Alert | None:
    kappa = report.kappa_quadratic.value
    summary = (
        f"judge agreement with reviewers ({slice_['rubric']}, {slice_['judge_version']}): "
        f"quadratic kappa {kappa:.2f} on {report.n} items, floor {report.floor:.2f}"
    )
    details = {"exact": report.exact.value, "spearman": report.spearman.rho, "n": report.n}
    if report.passed:
        if current is None:
            return None
        current.state = AlertState.RESOLVED
        current.resolved_at = now
        current.updated_at = now
        current.value = kappa
        current.summary = summary
        return current
    if current is not None:
        if current.value == kappa:
            return None
        current.value = kappa
        current.summary = summary
        current.details = details
        current.updated_at = now
        return current
    return Alert(
        project=project,
        rule=RULE,
        fingerprint=key,
        state=AlertState.FIRING,
        severity=Severity.WARNING,
        metric="judge_agreement",
        slice=slice_,
        value=kappa,
        baseline=None,
        threshold=report.floor,
        summary=summary,
        started_at=now,
        updated_at=now,
        details=details,
    )
