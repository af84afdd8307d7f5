"""Offline against online: does the golden set still predict how a release does live?

Per prompt version (a release) the golden-set pass rate of its regression run stands
next to the judged quality of its live traffic. One release where they disagree is
noise or a bad week; the same disagreement over the last few releases means the
golden set tests a world the product no longer lives in, and that is an alert through
the monitor's outbox: refresh the set from production failures.

The detection is pure (`divergence_series`, `detect_divergence`); `online_points`
reads the rollups, `divergence_alert` writes the alert. Offline points come from the
caller (the stored regression runs), so this module does not depend on their table.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from liveeval.gate.online_ab import score_span
from liveeval.model.alert import Alert, AlertState, Severity
from liveeval.model.regression import OfflinePoint
from liveeval.monitor.alerting import Change
from liveeval.monitor.rollup import sum_by
from liveeval.monitor.rules import fingerprint
from liveeval.stats.quality import ScoreSummary
from liveeval.store.alerts import enqueue_notifications, firing_alerts, save_alert
from liveeval.store.regression_runs import offline_points
from liveeval.store.rollups import read_range

RULE = "offline-online-divergence"
ADVICE = "the offline set no longer matches reality — refresh it from production failures"


@dataclass(frozen=True, slots=True)
class OnlinePoint:
    """A release's judged live traffic: `level` is the mean on a 0..1 scale."""

    prompt_version: str
    judged: int
    mean: float
    level: float
    bad_share: float


@dataclass(frozen=True, slots=True)
class DivergenceConfig:
    releases: int = 3  # the last K releases must all diverge
    high_pass_rate: float = 0.9  # offline "all good" …
    max_bad_share: float = 0.2  # … while more than this share of live answers is bad
    max_gap: float = 0.25  # or offline level - online level beyond this (0..1 scale)
    min_judged: int = 30  # a release with fewer judged live answers is not evidence

    def __post_init__(self) -> None:
        if self.releases < 1:
            raise ValueError(f"releases must be at least 1, got {self.releases}")
        for name in ("high_pass_rate", "max_bad_share", "max_gap"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {value}")


@dataclass(frozen=True, slots=True)
class ReleasePoint:
    """A release's offline run (its latest) next to its live quality."""

    prompt_version: str
    released_at: datetime  # its first regression run
    offline: OfflinePoint
    online: OnlinePoint | None
    gap: float | None  # offline level - online level
    diverged: bool
    reason: str


@dataclass(frozen=True, slots=True)
class Divergence:
    rubric: str | None
    series: list[ReleasePoint]
    considered: list[str]  # the releases the decision looked at (last K with evidence)
    persistent: bool
    decided: bool  # enough releases with evidence to decide either way
    summary: str
    config: DivergenceConfig = field(default_factory=DivergenceConfig)


def online_points(
    conn: sa.Connection,
    project: str,
    since: datetime,
    until: datetime,
    rubric: str | None = None,
) -> tuple[str | None, dict[str, OnlinePoint]]:
    """(rubric, prompt version → its judged live quality) over [since, until), from rollups.

    `rubric` None takes the rubric with the most judged interactions.
    """
    by_version = sum_by(read_range(conn, project, since, until), ["prompt_version"])
    if rubric is None:
        totals: dict[str, int] = {}
        for agg in by_version.values():
            for name, summary in agg.scores.items():
                totals[name] = totals.get(name, 0) + summary.n
        if not totals:
            return None, {}
        rubric = max(sorted(totals), key=lambda name: totals[name])
    summaries = {
        key[0]: agg.scores[rubric]
        for key, agg in by_version.items()
        if key[0] is not None and rubric in agg.scores
    }
    span = score_span(*summaries.values())
    return rubric, {v: online_point(v, s, span) for v, s in summaries.items()}


def online_point(prompt_version: str, summary: ScoreSummary, span: float) -> OnlinePoint:
    """A summary on the 0..1 scale: 1..5 scores as (mean - 1) / 4, 0/1 scores as they are."""
    mean = summary.moments.mean
    if span == 1.0:
        level, bad = mean, summary.level_counts.get(0, 0)
    else:
        level, bad = (mean - 1.0) / span, summary.bad
    share = bad / summary.n if summary.n else math.nan
    return OnlinePoint(prompt_version, summary.n, mean, level, share)


def divergence_series(
    offline: Sequence[OfflinePoint],
    online: Mapping[str, OnlinePoint],
    config: DivergenceConfig = DivergenceConfig(),
) -> list[ReleasePoint]:
    """One point per release, in release order (its first regression run), with its
    latest run's numbers, its live quality, and whether the two diverge."""
    runs: dict[str, list[OfflinePoint]] = {}
    for point in sorted(offline, key=lambda p: (p.at, p.prompt_version)):
        runs.setdefault(point.prompt_version, []).append(point)
    out = []
    for version, points in runs.items():
        latest = points[-1]
        live = online.get(version)
        gap = None if live is None else offline_level(latest) - live.level
        diverged, reason = _diverged(latest, live, gap, config)
        out.append(ReleasePoint(version, points[0].at, latest, live, gap, diverged, reason))
    return out


def offline_level(point: OfflinePoint) -> float:
    """The offline quality on 0..1: the graders' mean score, else the pass rate."""
    return point.pass_rate if point.mean_score is None else point.mean_score


def _diverged(
    offline: OfflinePoint, live: OnlinePoint | None, gap: float | None, config: DivergenceConfig
) -> tuple[bool, str]:
    if live is None or gap is None:
        return False, "no judged live traffic"
    if live.judged < config.min_judged:
        return False, f"only {live.judged} judged live answers, need {config.min_judged}"
    passed, bad = f"{offline.pass_rate:.0%}", f"{live.bad_share:.0%}"
    if offline.pass_rate >= config.high_pass_rate and live.bad_share > config.max_bad_share:
        return True, f"golden set passed {passed} while {bad} of judged live answers were bad"
    if gap > config.max_gap:
        return True, f"offline level {offline_level(offline):.2f} is {gap:.2f} above live"
    return False, f"golden set passed {passed}, {bad} of judged live answers bad: consistent"


def detect_divergence(
    series: Sequence[ReleasePoint],
    rubric: str | None = None,
    config: DivergenceConfig = DivergenceConfig(),
) -> Divergence:
    """Persistent when each of the last `config.releases` releases with enough judged live
    traffic diverged; undecided when fewer releases have that evidence."""
    evidenced = [p for p in series if p.online is not None and p.online.judged >= config.min_judged]
    last = evidenced[-config.releases :]
    decided = len(last) == config.releases
    persistent = decided and all(p.diverged for p in last)
    names = ", ".join(p.prompt_version for p in last)
    if not decided:
        summary = (
            f"{len(evidenced)} release(s) with judged live traffic, need {config.releases} "
            "to decide"
        )
    elif persistent:
        passed = _range([p.offline.pass_rate for p in last])
        bad = _range([p.online.bad_share for p in last if p.online is not None])
        on = f" ({rubric})" if rubric else ""
        summary = (
            f"{ADVICE}: over the last {len(last)} releases ({names}) the golden set passed "
            f"{passed} while {bad} of judged live answers were bad{on}"
        )
    else:
        summary = f"offline and online agree on at least one of the last releases ({names})"
    return Divergence(
        rubric, list(series), [p.prompt_version for p in last], persistent, decided, summary, config
    )


def _range(values: Sequence[float]) -> str:
    low, high = min(values), max(values)
    return f"{low:.0%}" if round(low, 2) == round(high, 2) else f"{low:.0%}–{high:.0%}"


def divergence_alert(
    conn: sa.Connection,
    project: str,
    found: Divergence,
    notifiers: Sequence[str],
    now: datetime,
) -> Change | None:
    """Fire (persistent divergence), update, or resolve (the releases agree again) the
    alert of one rubric; undecided changes nothing. Notifications go to the outbox
    with the change, in the caller's transaction."""
    slice_ = {"rubric": found.rubric or "-"}
    key = fingerprint(project, RULE, slice_)
    current = firing_alerts(conn, project).get(key)
    latest = next((p for p in reversed(found.series) if p.prompt_version in found.considered), None)
    value = latest.gap if latest is not None else None
    if not found.decided:
        return None
    if not found.persistent:
        if current is None:
            return None
        current.state = AlertState.RESOLVED
        current.resolved_at = now
        action = "resolve"
    elif current is not None:
        if current.summary == found.summary and current.value == value:
            return None
        action = "update"
    else:
        current = Alert(
            project=project,
            rule=RULE,
            fingerprint=key,
            state=AlertState.FIRING,
            severity=Severity.WARNING,
            metric="offline_online_gap",
            slice=slice_,
            value=value,
            baseline=None,
            threshold=found.config.max_gap,
            summary=found.summary,
            started_at=now,
            updated_at=now,
        )
        action = "trigger"
    current.value = value
    current.summary = found.summary
    current.details = _details(found)
    current.updated_at = now
    saved = save_alert(conn, current)
    change = Change(saved, action)
    if change.notifies and saved.alert_id is not None:
        enqueue_notifications(conn, saved.alert_id, list(notifiers), action, now)
    return change


def _details(found: Divergence) -> dict[str, object]:
    return {
        "releases": [
            {
                "prompt_version": p.prompt_version,
                "snapshot": p.offline.snapshot,
                "pass_rate": p.offline.pass_rate,
                "online_mean": p.online.mean if p.online else None,
                "online_bad_share": p.online.bad_share if p.online else None,
                "judged": p.online.judged if p.online else 0,
                "gap": p.gap,
                "reason": p.reason,
            }
            for p in found.series
            if p.prompt_version in found.considered
        ]
    }


def watch_divergence(
    conn: sa.Connection,
    project: str,
    offline: Sequence[OfflinePoint],
    notifiers: Sequence[str],
    now: datetime,
    since: datetime,
    rubric: str | None = None,
    config: DivergenceConfig = DivergenceConfig(),
) -> tuple[Divergence, Change | None]:
    """Read the live side since `since`, detect, and fire/resolve the alert."""
    name, online = online_points(conn, project, since, now, rubric)
    found = detect_divergence(divergence_series(offline, online, config), name, config)
    return found, divergence_alert(conn, project, found, notifiers, now)


def divergence_now(
    conn: sa.Connection,
    project: str,
    since: datetime,
    until: datetime,
    rubric: str | None = None,
    config: DivergenceConfig = DivergenceConfig(),
) -> Divergence:
    """The series from the stored regression runs and the live rollups, and its verdict."""
    name, online = online_points(conn, project, since, until, rubric)
    offline = offline_points(conn, project, since)
    return detect_divergence(divergence_series(offline, online, config), name, config)


def divergence_to_dict(found: Divergence) -> dict[str, object]:
    """JSON-ready (for REST and `--json`)."""

    def number(value: float | None) -> float | None:
        return value if value is not None and math.isfinite(value) else None

    return {
        "rubric": found.rubric,
        "persistent": found.persistent,
        "decided": found.decided,
        "considered": found.considered,
        "summary": found.summary,
        "series": [
            {
                "prompt_version": p.prompt_version,
                "released_at": p.released_at.isoformat(),
                "offline_at": p.offline.at.isoformat(),
                "snapshot": p.offline.snapshot,
                "pass_rate": p.offline.pass_rate,
                "offline_mean_score": p.offline.mean_score,
                "online_judged": p.online.judged if p.online else 0,
                "online_mean": number(p.online.mean) if p.online else None,
                "online_bad_share": number(p.online.bad_share) if p.online else None,
                "gap": number(p.gap),
                "diverged": p.diverged,
                "reason": p.reason,
            }
            for p in found.series
        ],
    }
