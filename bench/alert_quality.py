"""Alert quality: false alerts a month on traffic where nothing changed, and how fast
injected changes are caught, through the real rule code and alert lifecycle.

    python bench/alert_quality.py                    # 200, 2,000 and 20,000 a day, 8 weeks
    python bench/alert_quality.py --volumes 2000 --weeks 2 --seeds 1
    python bench/alert_quality.py --tick 1           # minutes between ticks (default 1)

Traffic: 30 slice combinations (3 served models, 4 prompt versions, 10 routes, 12
languages, each combination a fixed share) drawn minute by minute as counts:
interactions, regenerations (5%), schema failures (2%), errors (1%), answers from a
model other than the pinned one (0.5%), judged interactions (20%) with 1..5 scores,
latency in histogram buckets. Minutes are kept as rollup buckets in memory
(hours summed from them) and served to `evaluate_project` through a `BucketCache`, so
every tick runs the monitor's own planning, budget, detectors and `reconcile` with a
simulated clock, one tick a minute, with the default rules and budget.

1. Null: `--weeks` of stationary traffic after a week of warm-up per volume; every
   alert is false. Prints false alerts a month and per rule.
2. Changes, each injected on a fresh stream after the warm-up (`--change-days` to
   watch it): judge mean −0.3 on a 10% slice, regeneration 5% → 10% on a 10% slice, a
   new language at 5% of traffic, and a silent model swap (a new served model, whose
   answers in one language are worse: regeneration 5% → 20%, scores −1). Prints whether
   it was detected, the delay, and Lorden's bound for the optimal detector at the same
   false-alarm rate: log(ARL0) / KL(after || before) observations of the changed slice,
   turned into time at its volume.

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from liveeval.config.monitor import MonitorConfig
from liveeval.model.alert import Alert
from liveeval.model.rollup import Aggregate
from liveeval.model.slices import DIMENSIONS, SliceValues
from liveeval.monitor.alerting import reconcile
from liveeval.monitor.budget import Budget
from liveeval.monitor.evaluation import evaluate_project
from liveeval.stats.histogram import LATENCY_EDGES_MS
from liveeval.stats.means import Moments
from liveeval.stats.quality import ScoreSummary
from liveeval.stats.sequential import bernoulli_kl
from liveeval.store.rollups import HOUR, MINUTE, BucketCache

PROJECT = "bench"
START = datetime(2026, 1, 5, tzinfo=UTC)
MODELS = {"m-large": 0.6, "m-small": 0.3, "m-legacy": 0.1}
PROMPTS = {"v1": 0.4, "v2": 0.3, "v3": 0.2, "v4": 0.1}
ROUTES = {
    f"r{k}": w for k, w in enumerate((0.25, 0.15, 0.1, 0.1, 0.1, 0.08, 0.07, 0.06, 0.05, 0.04))
}
LANGUAGES = {
    "en": 0.4, "de": 0.12, "fr": 0.1, "es": 0.1, "pt": 0.06, "it": 0.05,
    "ja": 0.05, "ko": 0.04, "zh": 0.03, "nl": 0.02, "pl": 0.02, "sv": 0.01,
}  # fmt: skip
LEVELS = np.array([0.04, 0.06, 0.15, 0.35, 0.40])  # judge score 1..5
REGENERATION, SCHEMA_INVALID, JUDGED = 0.05, 0.02, 0.2
# Stationary failures the error-rate and model-mismatch rules watch: spans with status
# error, and answers from another model than the pinned one requested.
ERRORS, MODEL_MISMATCH = 0.01, 0.005
LATENCY_EDGES = np.array(LATENCY_EDGES_MS)


@dataclass
class Traffic:
    """Per minute: each slice combination's share and its rates (changes edit these)."""

    combos: list[SliceValues]
    shares: np.ndarray
    regeneration: np.ndarray
    levels: np.ndarray  # per combination, 5 probabilities
    per_day: float


def make_traffic(per_day: float, seed: int) -> Traffic:
    """30 combinations; every language gets its weight's share of the traffic, split over
    its combinations (the other dimensions cycle, so every value appears)."""
    rng = np.random.default_rng(seed)
    combos, shares = [], []
    languages = list(LANGUAGES)
    per_language = Counter(languages[k % 12] for k in range(30))
    for k in range(30):
        model = list(MODELS)[k % 3]
        prompt = list(PROMPTS)[k % 4]
        route = list(ROUTES)[k % 10]
        language = languages[k % 12]
        combos.append((model, model, prompt, route, None, language))
        shares.append(LANGUAGES[language] / per_language[language])
    weights = np.array(shares) * rng.uniform(0.9, 1.1, 30)
    n = len(combos)
    return Traffic(
        combos,
        weights / weights.sum(),
        np.full(n, REGENERATION),
        np.tile(LEVELS, (n, 1)),
        per_day,
    )


def minute_rows(traffic: Traffic, rng: np.random.Generator) -> list[tuple[SliceValues, Aggregate]]:
    counts = rng.poisson(traffic.per_day / 1440 * traffic.shares)
    out = []
    for index in np.flatnonzero(counts):
        n = int(counts[index])
        regenerated = int(rng.binomial(n, traffic.regeneration[index]))
        schema = int(rng.binomial(n, SCHEMA_INVALID))
        judged = int(rng.binomial(n, JUDGED))
        agg = Aggregate(interactions=n)
        agg.errors = int(rng.binomial(n, ERRORS))
        agg.model_mismatch = int(rng.binomial(n, MODEL_MISMATCH))
        agg.signals = {k: v for k, v in (("regenerated", regenerated),
                                          ("schema_invalid", schema)) if v}  # fmt: skip
        if judged:
            levels = rng.multinomial(judged, traffic.levels[index])
            values = np.arange(1, 6)
            total = float(levels @ values)
            squares = float(levels @ (values * values))
            agg.scores = {
                "quality": ScoreSummary(
                    Moments(judged, total, squares),
                    {v: int(c) for v, c in zip(values, levels, strict=True) if c},
                    int(levels[0] + levels[1]),
                )
            }
        latency = rng.lognormal(6.5, 0.4, n)
        for bucket in np.searchsorted(LATENCY_EDGES, latency, side="left"):
            agg.latency_hist[int(bucket)] = agg.latency_hist.get(int(bucket), 0) + 1
        out.append((traffic.combos[index], agg))
    return out


class MemoryBuckets(BucketCache):
    """Rollup buckets kept in memory: what the store's rollup tables would hold."""

    def __init__(self) -> None:
        super().__init__()
        self.hours: dict[datetime, dict[SliceValues, Aggregate]] = defaultdict(dict)

    def add_minute(self, at: datetime, rows: list[tuple[SliceValues, Aggregate]]) -> None:
        self.buckets[(PROJECT, MINUTE, at)] = rows
        hour = at.replace(minute=0)
        sums = self.hours[hour]
        for values, agg in rows:
            mine = sums.get(values)
            if mine is None:
                sums[values] = mine = Aggregate()
            mine.add(agg)
        if at.minute == 59:
            self.buckets[(PROJECT, HOUR, hour)] = list(sums.items())
            del self.hours[hour]

    def read_timed(self, conn: Any, project: str, grain_s: int, start: datetime, end: datetime):  # type: ignore[no-untyped-def, override]
        step = timedelta(seconds=grain_s)
        out, at = [], start
        while at < end:
            out.append((at, self.buckets.get((project, grain_s, at), [])))
            at += step
        return out


@dataclass
class Run:
    alerts: list[Alert] = field(default_factory=list)
    detectors: int = 0
    ticks: int = 0
    seconds: float = 0.0


def play(
    traffic: Traffic,
    minutes: int,
    seed: int,
    tick: int,
    change_at: int | None = None,
    change: Any = None,
    watch_from: int = 0,
) -> Run:
    """Minutes of traffic, ticking the monitor every `tick` minutes from `watch_from`."""
    rng = np.random.default_rng(seed)
    config = MonitorConfig()
    rules = config.active_rules()
    buckets = MemoryBuckets()
    firing: dict[str, Alert] = {}
    resolved: dict[str, datetime] = {}
    run = Run()
    clock = time.perf_counter()
    for minute in range(minutes):
        if change_at is not None and minute == change_at:
            change(traffic)
        at = START + timedelta(minutes=minute)
        buckets.add_minute(at, minute_rows(traffic, rng))
        if minute < watch_from or (minute - watch_from) % tick:
            continue
        now = at + timedelta(minutes=1)
        found = evaluate_project(None, PROJECT, rules, config.drift, now, buckets)  # type: ignore[arg-type]
        run.detectors = max(run.detectors, len(found))
        for c in reconcile(PROJECT, found, firing, resolved, now):
            if c.action == "trigger":
                firing[c.alert.fingerprint] = c.alert
                run.alerts.append(c.alert)
            elif c.action == "update":
                firing[c.alert.fingerprint] = c.alert
            else:
                firing.pop(c.alert.fingerprint, None)
                resolved[c.alert.fingerprint] = now
        run.ticks += 1
        buckets.drop_before(now - timedelta(days=29))  # the judge rules read 28 days back
    run.seconds = time.perf_counter() - clock
    return run


# Changes.


def _slice_of(traffic: Traffic, dimension: str, value: str) -> np.ndarray:
    position = DIMENSIONS.index(dimension)
    return np.array([c[position] == value for c in traffic.combos])


def _ten_percent(traffic: Traffic) -> tuple[str, str]:
    return "language", "es"  # 10% of traffic


def judge_drop(traffic: Traffic) -> None:
    """The judge mean of a 10% slice falls by 0.3: mass moves one level down."""
    chosen = _slice_of(traffic, *_ten_percent(traffic))
    shifted = np.array([0.04, 0.06, 0.15, 0.35, 0.40])
    for _ in range(30):  # move a share of every level one step down until the mean is −0.3
        mean = shifted @ np.arange(1, 6)
        if mean <= LEVELS @ np.arange(1, 6) - 0.3:
            break
        moved = shifted[1:] * 0.03
        shifted[1:] -= moved
        shifted[:-1] += moved
    traffic.levels[chosen] = shifted


def regeneration_rise(traffic: Traffic) -> None:
    traffic.regeneration[_slice_of(traffic, *_ten_percent(traffic))] = 0.10


def new_language(traffic: Traffic) -> None:
    """Tamil appears at 5% of traffic (a copy of every combination, in Tamil)."""
    extra = [(*c[:5], "ta") for c in traffic.combos]
    traffic.combos += extra
    traffic.shares = np.concatenate([traffic.shares * 0.95, traffic.shares * 0.05])
    traffic.regeneration = np.concatenate([traffic.regeneration, traffic.regeneration])
    traffic.levels = np.concatenate([traffic.levels, traffic.levels])


def model_swap(traffic: Traffic) -> None:
    """m-large is silently served as m-large-2: its Spanish answers (all of Spanish, 10%
    of traffic) get worse: regeneration 5% → 20%, judge mean −1."""
    swapped = []
    for c in traffic.combos:
        swapped.append((c[0], "m-large-2", *c[2:]) if c[1] == "m-large" else c)
    traffic.combos = swapped
    spanish = np.array([c[1] == "m-large-2" and c[5] == "es" for c in traffic.combos])
    traffic.regeneration[spanish] = 0.20
    traffic.levels[spanish] = np.array([0.20, 0.20, 0.25, 0.20, 0.15])


CHANGES = {
    "judge mean −0.3, 10% slice": (judge_drop, "judge-mean-drop", "es"),
    "regeneration 5%→10%, 10% slice": (regeneration_rise, "regeneration-rate-rise", "es"),
    "new language at 5%": (new_language, "input-language-drift", None),
    "silent model swap, one language": (model_swap, None, None),
}


def lorden_bound(name: str, per_day: float, budget: Budget) -> float | None:
    """Minutes the optimal detector needs on average at the same false-alarm rate."""
    share, before, after = {
        "judge mean −0.3, 10% slice": (0.1 * JUDGED, None, None),
        "regeneration 5%→10%, 10% slice": (0.1, 0.05, 0.10),
        "new language at 5%": (1.0, 0.0, 0.05),
        # the Spanish slice (10%): regeneration 5% → 20%, the first evidence to fire
        "silent model swap, one language": (0.1, 0.05, 0.20),
    }.get(name, (None, None, None))
    if share is None:
        return None
    per_minute = per_day / 1440 * share
    h = math.log(budget.run_length(per_minute))
    if before is None:
        values = np.arange(1, 6)
        sd = math.sqrt(LEVELS @ values**2 - (LEVELS @ values) ** 2)
        kl = 0.3**2 / (2 * sd * sd)
    else:
        kl = bernoulli_kl(after, max(before, 1e-4))
    return h / kl / per_minute


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--volumes", type=int, nargs="+", default=[200, 2000, 20000])
    parser.add_argument("--weeks", type=float, default=8.0)
    parser.add_argument("--warmup-days", type=float, default=10.0)
    parser.add_argument("--change-days", type=float, default=7.0)
    parser.add_argument("--seeds", type=int, default=3, help="change runs per change")
    parser.add_argument("--tick", type=int, default=1, help="minutes between ticks")
    parser.add_argument("--skip-null", action="store_true")
    parser.add_argument("--skip-changes", action="store_true")
    parser.add_argument("--changes", nargs="+", help="only the changes whose name starts so")
    args = parser.parse_args()
    warm = int(args.warmup_days * 1440)
    print(f"default rules, budget {MonitorConfig().false_alerts_per_month:g} a month, "
          f"a tick every {args.tick} min")  # fmt: skip
    for volume in args.volumes:
        if not args.skip_null:
            minutes = warm + int(args.weeks * 7 * 1440)
            run = play(make_traffic(volume, 0), minutes, 1, args.tick, watch_from=warm)
            months = args.weeks * 7 / 30
            per_rule = Counter(a.rule for a in run.alerts)
            print(
                f"\n{volume:,}/day null: {len(run.alerts)} false alerts in {args.weeks:g} weeks "
                f"= {len(run.alerts) / months:.2f} a month; {run.detectors} evaluations a tick, "
                f"{run.ticks:,} ticks in {run.seconds:.0f} s ({run.seconds / run.ticks * 1000:.0f} "
                f"ms a tick)"
            )
            for rule, count in per_rule.most_common():
                print(f"  {rule}: {count}")
            for alert in run.alerts[:5]:
                print(f"  e.g. {alert.summary[:160]}")
        if args.skip_changes:
            continue
        print(f"\n{volume:,}/day changes ({args.seeds} runs each, watched {args.change_days:g} d):")
        print(f"  {'change':36} {'detected':>9} {'median delay':>13} {'bound':>10} {'ratio':>6}")
        for name, (change, rule, value) in CHANGES.items():
            if args.changes and not any(name.startswith(c) for c in args.changes):
                continue
            delays = []
            for seed in range(args.seeds):
                minutes = warm + int(args.change_days * 1440)
                run = play(make_traffic(volume, seed + 10), minutes, seed + 100, args.tick,
                           change_at=warm, change=change, watch_from=warm - 60)  # fmt: skip
                change_time = START + timedelta(minutes=warm)
                hits = [a for a in run.alerts if _caught(a, change_time, rule, value)]
                if hits:
                    delays.append(
                        (min(a.started_at for a in hits) - change_time).total_seconds() / 60
                    )
            bound = lorden_bound(name, volume, Budget(1.0, max(1, run.detectors)))
            median = statistics.median(delays) if delays else None
            print(
                f"  {name:36} {len(delays)}/{args.seeds:<7} "
                f"{_minutes(median):>13} {_minutes(bound):>10} "
                f"{(median / bound if median and bound else math.nan):>6.2f}"
            )


def _caught(alert: Alert, since: datetime, rule: str | None, value: str | None) -> bool:
    """An alert after the change, of the rule meant to catch it, on the changed slice
    (any rule for the model swap)."""
    if alert.started_at < since:
        return False
    if rule is None:
        return True
    return alert.rule == rule and (value is None or value in alert.slice.values())


def _minutes(value: float | None) -> str:
    if value is None:
        return "—"
    if value < 120:
        return f"{value:.0f} min"
    if value < 2880:
        return f"{value / 60:.1f} h"
    return f"{value / 1440:.1f} d"


if __name__ == "__main__":
    main()
