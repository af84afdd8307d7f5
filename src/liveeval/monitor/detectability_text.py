"""How a rule's detectability reads: each slice's status word and what it can detect.

Pure. One place for the words that `GET /api/v1/slis`, the dashboard's overview and
`liveeval monitor slis` show for an evaluation: "breached", "watching", "too thin" (at
today's volume the detector cannot see the rule's minimum effect within its window and
false-alarm budget, so it says so instead of pretending to watch) or "no data"; what
it detects ("+0.05 in ~9 h", "≥ 0.12 within window", "too thin"); and the rows of a
project grouped by rule, the quiet slices folded away.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

from liveeval.monitor.metrics import Measurement
from liveeval.monitor.rules import Evaluation

Status = Literal["breached", "watching", "too thin", "no data"]
STATUSES: tuple[Status, ...] = ("breached", "watching", "too thin", "no data")
SHOWN: tuple[Status, ...] = ("breached", "watching")  # the rest is folded away
SIGNS = {"rise": "+", "drop": "−", "either": "±"}


def status_of(measurement: Measurement) -> Status:
    """A breach first; then a detector that cannot see its minimum effect within the
    window ("too thin", whether or not the window has data); then no decision."""
    if measurement.breached:
        return "breached"
    found = measurement.detectability
    if found is not None and not found.detects:
        return "too thin"
    if not measurement.sufficient:
        return "no data"
    return "watching"


def detects_text(evaluation: Evaluation) -> str | None:
    """What the detector sees: the minimum effect and the expected time to detect it
    ("+0.05 in ~9 h"); when that does not fit in the window, the smallest change it
    detects there ("≥ 0.12 within window"); "too thin" when not even that. None for a
    threshold rule (no detector)."""
    found = evaluation.measurement.detectability
    if found is None:
        return None
    if found.detects and found.delay is not None:
        sign = SIGNS.get(evaluation.rule.bad_direction, "±")
        return f"{sign}{number_text(found.min_effect)} in {duration_text(found.delay)}"
    if found.smallest is not None:
        return f"≥ {number_text(found.smallest)} within window"
    return "too thin"


def delay_text(measurement: Measurement) -> str | None:
    """The expected time to detect the minimum effect ("~9 h", "never"); None for a
    threshold rule."""
    found = measurement.detectability
    return None if found is None else duration_text(found.delay)


def duration_text(delay: timedelta | None) -> str:
    """About how long: "~40 min", "~1.5 h", "~9 h", "~3 d"; None is "never"."""
    if delay is None:
        return "never"
    seconds = delay.total_seconds()
    if seconds < 60:
        return "< 1 min"
    if seconds < 3600:
        return _about(seconds / 60, "min")
    if seconds < 2 * 86400:
        return _about(seconds / 3600, "h")
    return _about(seconds / 86400, "d")


def volume_text(per_minute: float) -> str:
    """How much the detector sees: "6 a minute", "30 an hour", "2 a day"."""
    if per_minute >= 1:
        return f"{_figure(per_minute)} a minute"
    if per_minute * 60 >= 1:
        return f"{_figure(per_minute * 60)} an hour"
    return f"{_figure(per_minute * 1440)} a day"


def number_text(value: float) -> str:
    """Two significant figures: 0.05, 0.3, 0.12, 0.046; whole numbers from 100 on."""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2g}"


def _about(value: float, unit: str) -> str:
    return f"~{_figure(value)} {unit}"


def _figure(value: float) -> str:
    """One decimal below 10 (none when it is 0), whole numbers from 10 on."""
    return f"{value:.1f}".rstrip("0").rstrip(".") if value < 10 else f"{value:,.0f}"


@dataclass(frozen=True, slots=True)
class RuleGroup:
    """One rule's slices: the breached and watched ones shown, the others folded."""

    rule: str
    shown: list[Evaluation] = field(default_factory=list)  # breached first, then watching
    folded: list[Evaluation] = field(default_factory=list)  # too thin first, then no data

    @property
    def breached(self) -> bool:
        return any(e.measurement.breached for e in self.shown)

    @property
    def folded_text(self) -> str:
        """What the fold holds: "12 slices too thin to detect their minimum effect, 2 with
        no data"."""
        thin = sum(status_of(e.measurement) == "too thin" for e in self.folded)
        empty = len(self.folded) - thin
        parts = []
        if thin:
            its = "its" if thin == 1 else "their"
            parts.append(f"{_slices(thin)} too thin to detect {its} minimum effect")
        if empty:
            parts.append(f"{empty} with no data" if thin else f"{_slices(empty)} with no data")
        return ", ".join(parts)


def _slices(count: int) -> str:
    return f"{count} slice" if count == 1 else f"{count} slices"


def group_by_rule(evaluations: Sequence[Evaluation]) -> list[RuleGroup]:
    """Rules in the order given, those with a breach first; within a rule, slices by
    status (breached, watching | too thin, no data), otherwise in the order given."""
    groups: dict[str, RuleGroup] = {}
    for e in sorted(evaluations, key=lambda e: STATUSES.index(status_of(e.measurement))):
        group = groups.setdefault(e.rule.name, RuleGroup(e.rule.name))
        shown = status_of(e.measurement) in SHOWN
        (group.shown if shown else group.folded).append(e)
    first = {e.rule.name: i for i, e in reversed(list(enumerate(evaluations)))}
    return sorted(groups.values(), key=lambda g: (not g.breached, first[g.rule]))
