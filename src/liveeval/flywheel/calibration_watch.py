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
from liveeval.store.calibration import latest_run, save_run
from liveeval.store.schema import interactions, scores

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
        last = latest_run(conn, project, rubric, version, None, "review")
        if last is None or last.n != report.n:  # a run per new comparison
            record_run(conn, project, rubric, version, None, report, "review", "schedule", now)
        slice_ = {"rubric": rubric, "judge_version": version}
        what = f"judge agreement with reviewers ({rubric}, {version})"
        change = judge_alert(conn, project, RULE, slice_, what, report, notifiers, now)
        if change is not None:
            changed.append(change)
    return changed


def record_run(
    conn: sa.Connection,
    project: str,
    rubric: str,
    version: str,
    model_reported: str | None,
    report: AgreementReport,
    source: str,
    trigger: str,
    now: datetime,
) -> None:
    save_run(
        conn,
        project,
        rubric,
        version,
        model_reported,
        source=source,
        trigger=trigger,
        n=report.n,
        metrics=report_to_dict(report),
        floor=report.floor,
        passed=report.passed,
        now=now,
    )


def judge_alert(
    conn: sa.Connection,
    project: str,
    rule: str,
    slice_: dict[str, str],
    what: str,
    report: AgreementReport,
    notifiers: Sequence[str],
    now: datetime,
) -> Change | None:
    """Fire (report below its floor), update, or resolve (back above) the alert of one
    judge version; notifications go to the outbox with the change."""
    key = fingerprint(project, rule, slice_)
    current = firing_alerts(conn, project).get(key)
    kappa = report.kappa_quadratic.value
    summary = f"{what}: quadratic kappa {kappa:.2f} on {report.n} items, floor {report.floor:.2f}"
    details = {"exact": report.exact.value, "spearman": report.spearman.rho, "n": report.n}
    if report.passed:
        if current is None:
            return None
        current.state = AlertState.RESOLVED
        current.resolved_at = now
        action = "resolve"
    elif current is not None:
        if current.value == kappa:
            return None
        action = "update"
    else:
        current = Alert(
            project=project,
            rule=rule,
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
        )
        action = "trigger"
    current.value = kappa
    current.summary = summary
    current.details = details
    current.updated_at = now
    saved = save_alert(conn, current)
    change = Change(saved, action)
    if change.notifies and saved.alert_id is not None:
        enqueue_notifications(conn, saved.alert_id, list(notifiers), action, now)
    return change
