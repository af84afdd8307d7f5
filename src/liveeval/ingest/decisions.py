"""Routing decisions carried on spans: the SDK's `route <task>` span names its decision
with `liveeval.routing.*` attributes (docs/routing.md). Pure.

A span whose attributes do not make a valid decision is still stored as it is; the
decision is not recorded, and the problem is logged with the span's ids and returned
to the exporter as an OTLP partial-success warning (0 spans rejected, a message).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable
from typing import Any

from liveeval.model import Span
from liveeval.store.routing import Decision

PREFIX = "liveeval.routing."
CONTEXT = PREFIX + "context."
_HEX32 = re.compile(r"[0-9a-f]{32}")

log = logging.getLogger(__name__)


def decision_of(span: Span) -> Decision | str | None:
    """The decision on the span, a sentence saying why its attributes are not one, or
    None for a span without `liveeval.routing.decision_id`."""
    attributes = span.attributes
    raw_id = attributes.get(PREFIX + "decision_id")
    if raw_id is None:
        return None
    where = f"span {span.name!r} ({span.trace_id}/{span.span_id})"
    decision_id = raw_id.lower() if isinstance(raw_id, str) else None
    if decision_id is None or not _HEX32.fullmatch(decision_id):
        return f"{where}: {PREFIX}decision_id must be 32 hex digits, got {raw_id!r}"
    texts = {}
    for name, longest in (("task", 200), ("arm", 200), ("slice", 1000)):
        value = attributes.get(PREFIX + name)
        if not isinstance(value, str) or not 0 < len(value) <= longest:
            return f"{where}: {PREFIX}{name} must be a string of 1 to {longest} characters"
        texts[name] = value
    raw_probability = attributes.get(PREFIX + "probability")
    probability = _probability(raw_probability)
    if probability is None:
        return f"{where}: {PREFIX}probability must be a number in (0, 1], got {raw_probability!r}"
    version = attributes.get(PREFIX + "policy_version")
    if not isinstance(version, int) or isinstance(version, bool) or not 0 <= version < 2**63:
        return f"{where}: {PREFIX}policy_version must be an integer, got {version!r}"
    optional = {}
    for name in ("session_id", "goal_id"):
        value = attributes.get(PREFIX + name)
        if value is not None and (not isinstance(value, str) or not 0 < len(value) <= 200):
            return f"{where}: {PREFIX}{name} must be a string of 1 to 200 characters"
        optional[name] = value
    context = {
        key.removeprefix(CONTEXT): str(value)
        for key, value in attributes.items()
        if key.startswith(CONTEXT)
    }
    return Decision(
        decision_id=decision_id,
        project=span.project,
        task=texts["task"],
        arm=texts["arm"],
        probability=probability,
        policy_version=version,
        slice=texts["slice"],
        decided_at=span.start_at,
        context=context,
        session_id=optional["session_id"],
        goal_id=optional["goal_id"],
        trace_id=span.trace_id,
    )


def decisions_in(spans: Iterable[Span]) -> list[Decision]:
    """The valid decisions on the spans; each invalid one is logged as a warning."""
    found = []
    for span in spans:
        decision = decision_of(span)
        if isinstance(decision, str):
            log.warning("routing decision not recorded: %s", decision)
        elif decision is not None:
            found.append(decision)
    return found


def decision_problems(records: Iterable[object]) -> list[str]:
    """Why the decisions on these spans (other records are skipped) are not recorded."""
    return [
        problem
        for record in records
        if isinstance(record, Span) and isinstance(problem := decision_of(record), str)
    ]


def _probability(value: Any) -> float | None:
    """A number in (0, 1], else None."""
    if not isinstance(value, int | float) or isinstance(value, bool) or math.isnan(value):
        return None
    return float(value) if 0.0 < value <= 1.0 else None
