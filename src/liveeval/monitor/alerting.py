"""The alert lifecycle: which evaluations open, update or resolve an alert.

Pure. One alert per fingerprint (project, rule, slice) at a time: a breach opens
it (trigger), a breach while it fires updates it (no new notification), a clear
evaluation with enough samples resolves it (resolve). After a resolve the same
fingerprint stays quiet for the rule's cooldown. An evaluation without enough
samples changes nothing: missing data neither fires nor resolves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from liveeval.model.alert import Alert, AlertState
from liveeval.monitor.rules import Evaluation


@dataclass(frozen=True, slots=True)
class Change:
    alert: Alert
    action: str  # trigger | update | resolve

    @property
    def notifies(self) -> bool:
        return self.action in ("trigger", "resolve")


def reconcile(
    project: str,
    evaluations: Sequence[Evaluation],
    firing: Mapping[str, Alert],
    resolved_at: Mapping[str, datetime],
    now: datetime,
    link: Callable[[Evaluation], str | None] = lambda _: None,
    active_rules: frozenset[str] | None = None,
) -> list[Change]:
    """The alert changes that `evaluations` make, given the firing alerts (by
    fingerprint) and when each recently resolved fingerprint was resolved."""
    changes: list[Change] = []
    seen: set[str] = set()
    for evaluation in evaluations:
        key = evaluation.fingerprint(project)
        seen.add(key)
        m = evaluation.measurement
        open_alert = firing.get(key)
        if m.breached and open_alert is not None:
            changes.append(Change(_updated(open_alert, evaluation, now), "update"))
        elif m.breached:
            quiet_since = resolved_at.get(key)
            if quiet_since is not None and now - quiet_since < evaluation.rule.cooldown:
                continue
            changes.append(
                Change(_opened(project, key, evaluation, now, link(evaluation)), "trigger")
            )
        elif open_alert is not None and m.sufficient:
            changes.append(Change(_resolved(open_alert, now, m.summary), "resolve"))
    if active_rules is not None:
        for key, open_alert in firing.items():
            if key not in seen and open_alert.rule not in active_rules:
                changes.append(
                    Change(_resolved(open_alert, now, "the rule was removed"), "resolve")
                )
    return changes


def _opened(
    project: str, key: str, evaluation: Evaluation, now: datetime, link: str | None
) -> Alert:
    m, rule = evaluation.measurement, evaluation.rule
    return Alert(
        project=project,
        rule=rule.name,
        fingerprint=key,
        state=AlertState.FIRING,
        severity=rule.severity,
        metric=rule.metric,
        slice=dict(evaluation.slice),
        value=m.value,
        baseline=m.baseline,
        threshold=rule.threshold if rule.threshold is not None else m.details["threshold"],
        summary=f"{rule.name}: {m.summary} for {evaluation.slice_text}",
        started_at=now,
        updated_at=now,
        link=link,
        details={"n": m.n, "baseline_n": m.baseline_n, **m.details},
    )


def _updated(alert: Alert, evaluation: Evaluation, now: datetime) -> Alert:
    m = evaluation.measurement
    return replace(
        alert,
        value=m.value,
        baseline=m.baseline,
        summary=f"{alert.rule}: {m.summary} for {evaluation.slice_text}",
        updated_at=now,
        details={"n": m.n, "baseline_n": m.baseline_n, **m.details},
    )


def _resolved(alert: Alert, now: datetime, why: str) -> Alert:
    return replace(
        alert,
        state=AlertState.RESOLVED,
        updated_at=now,
        resolved_at=now,
        details={**alert.details, "resolved_because": why},
    )
