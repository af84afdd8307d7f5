"""What `/metrics` shows: SLIs per slice, firing alerts, traffic, signal rates, queues.

Built from the same evaluations the scheduler makes, so a Prometheus alert on
`liveeval_sli_breached` agrees with liveeval's own alerts. Slice values come from
user data (model names, routes): each rule keeps, per slice dimension, its
`max_label_values` busiest values (dropping the rest: an SLI of "all others" would
mean nothing), and traffic counts fold the rest into "__other__".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from liveeval.model.rollup import Aggregate
from liveeval.monitor.prometheus import Gauge, Sample, cap_cardinality
from liveeval.monitor.rules import Evaluation


def _labels(project: str, evaluation: Evaluation) -> dict[str, str]:
    slice_ = {k: v for k, v in evaluation.slice.items() if k != "score"}
    return {
        "project": project,
        "rule": evaluation.rule.name,
        "metric": evaluation.rule.metric,
        "slice_dimension": "+".join(slice_) or "all",
        "slice": "+".join(slice_.values()) or "all",
        "score": evaluation.slice.get("score", ""),
    }


def busiest(evaluations: Sequence[Evaluation], max_values: int) -> list[Evaluation]:
    """For each rule and slice dimension, the `max_values` slices with the most samples."""
    groups: dict[tuple[str, str], list[Evaluation]] = defaultdict(list)
    for evaluation in evaluations:
        dimensions = "+".join(k for k in evaluation.slice if k != "score")
        groups[(evaluation.rule.name, dimensions)].append(evaluation)
    kept: list[Evaluation] = []
    for (_, dimensions), found in groups.items():
        if not dimensions:
            kept += found  # the whole project: one series per score
            continue
        by_value: dict[tuple[str, ...], list[Evaluation]] = defaultdict(list)
        for e in found:
            by_value[tuple(v for k, v in e.slice.items() if k != "score")].append(e)
        ranked = sorted(by_value.values(), key=lambda es: -max(e.measurement.n for e in es))
        kept += [e for es in ranked[:max_values] for e in es]
    return kept


def sli_families(evaluations: Mapping[str, Sequence[Evaluation]], max_values: int) -> list[Gauge]:
    values, baselines, breached, samples = [], [], [], []
    for project, found in sorted(evaluations.items()):
        for e in busiest(found, max_values):
            labels, m = _labels(project, e), e.measurement
            if m.value is not None:
                values.append(Sample(labels, m.value))
            if m.baseline is not None:
                baselines.append(Sample(labels, m.baseline))
            breached.append(Sample(labels, 1.0 if m.breached else 0.0))
            samples.append(Sample(labels, float(m.n)))
    return [
        Gauge("liveeval_sli", "An alert rule's metric over its window, per slice.", values),
        Gauge("liveeval_sli_baseline", "The same metric over the rule's baseline.", baselines),
        Gauge(
            "liveeval_sli_breached",
            "1 when the slice breaches its rule now (liveeval alerts on it), else 0.",
            breached,
        ),
        Gauge("liveeval_sli_samples", "Samples behind the window's value.", samples),
    ]


def traffic_families(
    last_hour: Mapping[str, Mapping[str | None, Aggregate]], max_values: int
) -> list[Gauge]:
    """Interactions and signal rates over the last hour, by served model."""
    counts, rates = [], []
    for project, by_model in sorted(last_hour.items()):
        total = Aggregate()
        for model, agg in by_model.items():
            total.add(agg)
            labels = {"project": project, "model_served": model or "(none)"}
            counts.append(Sample(labels, float(agg.interactions)))
        for kind, count in sorted(total.signals.items()):
            share = count / total.interactions if total.interactions else 0.0
            rates.append(Sample({"project": project, "signal": kind}, share))
    return [
        Gauge(
            "liveeval_interactions_last_hour",
            "Interactions started in the last hour.",
            cap_cardinality(counts, "model_served", max_values),
        ),
        Gauge(
            "liveeval_signal_rate_last_hour",
            "Share of the last hour's interactions with at least one such signal.",
            rates,
        ),
    ]


def alert_family(firing: Mapping[tuple[str, str, str], int]) -> Gauge:
    samples = [
        Sample({"project": p, "rule": r, "severity": s}, float(n))
        for (p, r, s), n in sorted(firing.items())
    ]
    return Gauge("liveeval_alerts_firing", "Alerts firing now.", samples)


def queue_families(
    judge_jobs: Mapping[str, int],
    evaluation_backlog: int,
    notifications: Mapping[str, int],
    evaluation_lag_s: float = 0.0,
) -> list[Gauge]:
    return [
        Gauge(
            "liveeval_judge_jobs",
            "Judge jobs by state.",
            [Sample({"state": s}, float(n)) for s, n in sorted(judge_jobs.items())],
        ),
        Gauge(
            "liveeval_evaluation_backlog",
            "Interactions waiting for their checks and sampling decision.",
            [Sample({}, float(evaluation_backlog))],
        ),
        Gauge(
            "liveeval_evaluation_lag_seconds",
            "How long the first interaction still waiting for its checks has waited "
            "(0: none waits).",
            [Sample({}, evaluation_lag_s)],
        ),
        Gauge(
            "liveeval_notifications",
            "Alert notifications by state (pending ones are being retried).",
            [Sample({"state": s}, float(n)) for s, n in sorted(notifications.items())],
        ),
    ]
