"""The Prometheus text exposition format 0.0.4, rendered from plain values.

Pure: a caller builds metric families (SLIs, signal rates, queue depths labelled by
slice), caps the label values that come from user data with `cap_cardinality`, and
serves `render(...)` at `/metrics` with `CONTENT_TYPE`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


@dataclass(frozen=True)
class Sample:
    """One time series of a family: its labels and current value."""

    labels: Mapping[str, str]
    value: float


@dataclass(frozen=True)
class Gauge:
    """A metric family: a gauge by default, or a counter with `kind="counter"`."""

    name: str
    help: str
    samples: Sequence[Sample]
    kind: Literal["gauge", "counter"] = "gauge"


def render(families: Sequence[Gauge]) -> str:
    """The families as exposition text: `# HELP` and `# TYPE` lines, then one line per
    sample, its labels sorted by name (as prometheus_client writes them).

    Raises ValueError on an invalid or repeated metric name, an invalid or reserved
    (`__`) label name, or two samples of a family with the same labels.
    """
    lines: list[str] = []
    seen_names: set[str] = set()
    for family in families:
        check_metric_name(family.name)
        if family.name in seen_names:
            raise ValueError(f"metric family {family.name!r} appears twice")
        seen_names.add(family.name)
        if family.kind not in ("gauge", "counter"):
            raise ValueError(f"metric family {family.name!r} has unknown kind {family.kind!r}")
        lines.append(f"# HELP {family.name} {escape_help(family.help)}")
        lines.append(f"# TYPE {family.name} {family.kind}")
        seen_labels: set[frozenset[tuple[str, str]]] = set()
        for sample in family.samples:
            key = frozenset(sample.labels.items())
            if key in seen_labels:
                raise ValueError(f"metric {family.name!r} has two samples with labels {key!r}")
            seen_labels.add(key)
            lines.append(f"{family.name}{_label_set(sample.labels)} {format_value(sample.value)}")
    return "".join(line + "\n" for line in lines)


def cap_cardinality(
    samples: Sequence[Sample],
    label: str,
    max_values: int,
    weight: Mapping[str, float] | None = None,
    other: str = "__other__",
    combine: Callable[[Iterable[float]], float] = math.fsum,
) -> list[Sample]:
    """Keep the `max_values` values of `label` with the most weight; fold the samples of
    every other value into `other`, combining the values of samples that then share all
    labels with `combine` (a sum by default: right for counts and depths; pass another
    function, e.g. a traffic-weighted mean, for rates).

    `weight` maps a label value to its importance (e.g. traffic); without it a value
    weighs the sum of its samples. Ties go to the value that sorts first. Samples
    without `label` pass through unchanged; the order of the rest is kept, folded
    samples last.
    """
    if max_values < 0:
        raise ValueError(f"max_values must be >= 0, not {max_values}")
    totals: dict[str, float] = {}
    for sample in samples:
        value = sample.labels.get(label)
        if value is not None and value != other:
            totals[value] = totals.get(value, 0.0) + sample.value
    if len(totals) <= max_values and not any(s.labels.get(label) == other for s in samples):
        return list(samples)
    weights = totals if weight is None else {v: weight.get(v, 0.0) for v in totals}
    ranked = sorted(weights, key=lambda v: (-_rank_weight(weights[v]), v))
    kept = set(ranked[:max_values])
    result: list[Sample] = []
    folded: dict[tuple[tuple[str, str], ...], tuple[dict[str, str], list[float]]] = {}
    for sample in samples:
        value = sample.labels.get(label)
        if value is None or value in kept:
            result.append(sample)
            continue
        labels = {**sample.labels, label: other}
        folded.setdefault(tuple(sorted(labels.items())), (labels, []))[1].append(sample.value)
    result.extend(Sample(labels, combine(values)) for labels, values in folded.values())
    return result


def check_metric_name(name: str) -> None:
    if not METRIC_NAME.fullmatch(name):
        raise ValueError(f"invalid Prometheus metric name {name!r}")


def check_label_name(name: str) -> None:
    if not LABEL_NAME.fullmatch(name):
        raise ValueError(f"invalid Prometheus label name {name!r}")
    if name.startswith("__"):
        raise ValueError(f"label name {name!r} is reserved (starts with '__')")


def sanitize_metric_name(text: str) -> str:
    """A valid metric name made from any text: invalid characters become `_`, and a
    leading digit gets a `_` in front ("p95 latency (ms)" → "p95_latency__ms_")."""
    name = re.sub(r"[^a-zA-Z0-9_:]", "_", text)
    return name if name and not name[0].isdigit() else "_" + name


def sanitize_label_name(text: str) -> str:
    """A valid, unreserved label name from any text ("model.version" → "model_version")."""
    name = re.sub(r"[^a-zA-Z0-9_]", "_", text)
    if not name or name[0].isdigit():
        name = "_" + name
    return "x" + name if name.startswith("__") else name


def escape_label_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def format_value(value: float) -> str:
    """A sample value as the format spells it: `NaN`, `+Inf`, `-Inf`, or the shortest
    decimal that reads back as the same float."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def _label_set(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    for name in labels:
        check_label_name(name)
    pairs = sorted(labels.items())
    return "{" + ",".join(f'{k}="{escape_label_value(v)}"' for k, v in pairs) + "}"


def _rank_weight(weight: float) -> float:
    return weight if not math.isnan(weight) else -math.inf
