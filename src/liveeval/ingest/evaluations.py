"""`gen_ai.evaluation.result` events: scores an app's own evaluators sent with its telemetry.

The OpenTelemetry GenAI conventions define the event with `gen_ai.evaluation.name`,
`gen_ai.evaluation.score.value`, `gen_ai.evaluation.score.label` and
`gen_ai.evaluation.explanation`; it is parented to the span of the operation it
evaluates, or names that operation's `gen_ai.response.id`. It arrives as a span
event or as a log record; both become a score of kind `external`.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from liveeval.model import Interaction, LogEvent, Score, ScoreKind, ScoreStatus, Span

EVENT_NAME = "gen_ai.evaluation.result"
NAME = "gen_ai.evaluation.name"
VALUE = "gen_ai.evaluation.score.value"
LABEL = "gen_ai.evaluation.score.label"
EXPLANATION = "gen_ai.evaluation.explanation"
RESPONSE_ID = "gen_ai.response.id"
ERROR_TYPE = "error.type"


@dataclass(frozen=True, slots=True)
class EvaluationEvent:
    project: str
    trace_id: str
    span_id: str  # the span the event was recorded on
    at: datetime
    attributes: Mapping[str, Any]

    @property
    def fingerprint(self) -> str:
        """Identifies the event, so that a re-sent export replaces its score."""
        text = f"{self.span_id}|{self.at.isoformat()}|{sorted(self.attributes.items())!r}"
        return hashlib.sha256(text.encode()).hexdigest()[:24]


def evaluation_events(
    spans: Iterable[Span] = (), log_events: Iterable[LogEvent] = ()
) -> list[EvaluationEvent]:
    found = [
        EvaluationEvent(span.project, span.trace_id, span.span_id, event.at, event.attributes)
        for span in spans
        for event in span.events
        if event.name == EVENT_NAME
    ]
    found += [
        EvaluationEvent(e.project, e.trace_id, e.span_id, e.at, e.attributes)
        for e in log_events
        if e.name == EVENT_NAME
    ]
    return found


def target_of(event: EvaluationEvent, interactions: Sequence[Interaction]) -> Interaction | None:
    """The interaction an event evaluates: the one named by its response id, the one
    whose span carries it, or the trace's only interaction."""
    response_id = event.attributes.get(RESPONSE_ID)
    of_trace = [i for i in interactions if i.trace_id == event.trace_id]
    if isinstance(response_id, str):
        for interaction in interactions:
            if interaction.response_id == response_id:
                return interaction
    for interaction in of_trace:
        if interaction.span_id == event.span_id:
            return interaction
    return of_trace[0] if len(of_trace) == 1 else None


def score_of(event: EvaluationEvent, interaction_id: int, now: datetime) -> Score:
    """The event as a score; one without a name or a usable value or label is an error
    score that says what was wrong, so nothing the app sent disappears."""
    a = event.attributes
    name, value, label = a.get(NAME), a.get(VALUE), a.get(LABEL)
    problems = []
    if not isinstance(name, str) or not name:
        problems.append(f"{NAME} is missing")
        name = "unnamed"
    if isinstance(value, bool) or (value is not None and not isinstance(value, int | float)):
        problems.append(f"{VALUE} must be a number, got {value!r}")
        value = None
    elif isinstance(value, float) and not math.isfinite(value):
        problems.append(f"{VALUE} must be finite, got {value!r}")
        value = None
    if label is not None and not isinstance(label, str):
        label = str(label)
    if value is None and label is None and not problems:
        problems.append(f"neither {VALUE} nor {LABEL} is set")
    error_type = a.get(ERROR_TYPE)
    if error_type is not None:
        problems.append(f"the evaluator reported {ERROR_TYPE}={error_type}")
    explanation = a.get(EXPLANATION)
    return Score(
        project=event.project,
        interaction_id=interaction_id,
        name=name,
        kind=ScoreKind.EXTERNAL,
        value=float(value) if value is not None else None,
        label=label,
        explanation=explanation if isinstance(explanation, str) else None,
        status=ScoreStatus.ERROR if problems else ScoreStatus.OK,
        error="; ".join(problems) or None,
        evaluator_version="otel:" + EVENT_NAME,
        details={"span_id": event.span_id, "at": event.at.isoformat()},
        created_at=now,
    )


def dedup_key(event: EvaluationEvent) -> str:
    return f"event:{event.trace_id}:{event.fingerprint}"
