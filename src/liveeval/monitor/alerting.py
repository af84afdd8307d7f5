"""The alert lifecycle: which evaluations open, update or resolve an alert.

Pure. One alert per fingerprint (project, rule, slice) at a time, one alert per
incident:
- pending: a breach opens an alert only once it has lasted the rule's `pending`
  period (Prometheus' `for`), counted from when the detector crossed its threshold,
  unless its evidence is already twice the threshold;
- firing: while the alert is open, every evaluation updates it (no new notification),
  including one whose evidence has fallen below the threshold but not below half of
  it (hysteresis: the same incident, fading, neither resolves nor fires again);
- resolved: the evidence has stayed below half the threshold for the rule's
  `keep_firing_for` (a threshold rule: no longer breached) with enough samples. After
  a resolve the same fingerprint stays quiet for the rule's cooldown.
An evaluation without enough samples changes nothing: missing data neither fires nor
resolves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from liveeval.config.monitor import RuleConfig
from liveeval.model.alert import Alert, AlertState
from liveeval.monitor.metrics import Measurement
from liveeval.monitor.rules import Evaluation

# Evidence this many times the threshold fires without waiting for the pending period:
# a false alarm that far above the threshold is as unlikely as the square of one at it.
FIRE_AT_ONCE = 2.0


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
        if open_alert is not None:
            if m.sufficient and m.clear and _quiet_long_enough(m, evaluation.rule, now):
                changes.append(Change(_resolved(open_alert, now, m.summary), "resolve"))
            elif m.breached or m.sufficient:
                changes.append(Change(_updated(open_alert, evaluation, now), "update"))
        elif m.breached:
            overwhelming = m.evidence is not None and m.evidence >= FIRE_AT_ONCE
            if m.since is not None and now - m.since < evaluation.rule.pending and not overwhelming:
                continue  # pending: not yet lasted long enough
            quiet_since = resolved_at.get(key)
            if quiet_since is not None and now - quiet_since < evaluation.rule.cooldown:
                continue
            changes.append(
                Change(_opened(project, key, evaluation, now, link(evaluation)), "trigger")
            )
    if active_rules is not None:
        for key, open_alert in firing.items():
            if key not in seen and open_alert.rule not in active_rules:
                changes.append(
                    Change(_resolved(open_alert, now, "the rule was removed"), "resolve")
                )
    return changes


def _quiet_long_enough(m: Measurement, rule: RuleConfig, now: datetime) -> bool:
    return m.high_until is None or now - m.high_until >= rule.keep_firing_for


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
        threshold=rule.min_effect,
        summary=f"{rule.name}: {m.summary} for {evaluation.slice_text}",
        started_at=now,
        updated_at=now,
        link=link,
        details={"n": m.n, "baseline_n": m.baseline_n, **m.details},
    )


def _updated(alert: Alert, evaluation: Evaluation, now: datetime) -> Alert:
    """The latest numbers; the summary keeps saying what moved while the evidence fades
    (the latest sentence is in details)."""
    m = evaluation.measurement
    latest = f"{alert.rule}: {m.summary} for {evaluation.slice_text}"
    return replace(
        alert,
        value=m.value,
        baseline=m.baseline,
        summary=latest if m.breached else alert.summary,
        updated_at=now,
        details={"n": m.n, "baseline_n": m.baseline_n, **m.details, "latest": m.summary},
    )


def _resolved(alert: Alert, now: datetime, why: str) -> Alert:
    return replace(
        alert,
        state=AlertState.RESOLVED,
        updated_at=now,
        resolved_at=now,
        details={**alert.details, "resolved_because": why},
    )
