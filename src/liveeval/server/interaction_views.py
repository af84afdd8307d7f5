"""What the query API returns, as pydantic models (for the OpenAPI schema)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel

from liveeval.ingest.otlp import decode_span
from liveeval.model import Interaction, Signal, Span
from liveeval.server.score_bodies import ScoreView
from liveeval.store.jobs import jobs_of
from liveeval.store.sampling import RecordedDecision, decisions_of
from liveeval.store.scores import scores_of
from liveeval.store.signals import list_signals
from liveeval.store.telemetry import load_stored_spans


class ToolCallView(BaseModel):
    id: str | None
    name: str
    arguments: str | None


class MessageView(BaseModel):
    role: str
    content: str | None
    tool_calls: list[ToolCallView] = []
    tool_call_id: str | None = None
    name: str | None = None
    finish_reason: str | None = None


class DocumentView(BaseModel):
    id: str | None
    content: str | None
    score: float | None
    metadata: dict[str, Any] | None


class UsageView(BaseModel):
    input_tokens: int | None
    output_tokens: int | None
    total_tokens: int | None
    cache_read_tokens: int | None
    cache_creation_tokens: int | None
    reasoning_tokens: int | None


class InteractionView(BaseModel):
    interaction_id: int
    project: str
    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    convention: str
    operation: str | None
    start_at: datetime
    end_at: datetime
    latency_ms: float
    status: str
    error: str | None
    provider: str | None
    model_requested: str | None
    model_served: str | None
    response_id: str | None
    finish_reasons: list[str]
    prompt_version: str | None
    route: str | None
    segment: str | None
    session_id: str | None
    user_id: str | None
    input_text: str | None
    input_messages: list[MessageView]
    output_text: str | None
    output_messages: list[MessageView]
    retrieved_context: list[DocumentView]
    tool_calls: list[ToolCallView]
    usage: UsageView
    cost_usd: float | None
    cost_source: str | None
    tags: list[str]
    metadata: dict[str, Any]

    @classmethod
    def of(cls, i: Interaction) -> InteractionView:
        u = i.usage
        return cls(
            interaction_id=i.interaction_id or 0,
            project=i.project,
            trace_id=i.trace_id,
            span_id=i.span_id,
            parent_span_id=i.parent_span_id,
            name=i.name,
            convention=i.convention,
            operation=i.operation,
            start_at=i.start_at,
            end_at=i.end_at,
            latency_ms=i.latency_ms,
            status=i.status,
            error=i.error,
            provider=i.provider,
            model_requested=i.model_requested,
            model_served=i.model_served,
            response_id=i.response_id,
            finish_reasons=list(i.finish_reasons),
            prompt_version=i.prompt_version,
            route=i.route,
            segment=i.segment,
            session_id=i.session_id,
            user_id=i.user_id,
            input_text=i.input_text,
            input_messages=[_message(m) for m in i.input_messages],
            output_text=i.output_text,
            output_messages=[_message(m) for m in i.output_messages],
            retrieved_context=[
                DocumentView(id=d.id, content=d.content, score=d.score, metadata=d.metadata)
                for d in i.retrieved_context
            ],
            tool_calls=[
                ToolCallView(id=t.id, name=t.name, arguments=t.arguments) for t in i.tool_calls
            ],
            usage=UsageView(
                input_tokens=u.input,
                output_tokens=u.output,
                total_tokens=u.total,
                cache_read_tokens=u.cache_read,
                cache_creation_tokens=u.cache_creation,
                reasoning_tokens=u.reasoning,
            ),
            cost_usd=i.cost_usd,
            cost_source=i.cost_source,
            tags=list(i.tags),
            metadata=i.metadata,
        )


def _message(m: Any) -> MessageView:
    return MessageView(
        role=m.role,
        content=m.content,
        tool_calls=[
            ToolCallView(id=t.id, name=t.name, arguments=t.arguments) for t in m.tool_calls
        ],
        tool_call_id=m.tool_call_id,
        name=m.name,
        finish_reason=m.finish_reason,
    )


class SignalView(BaseModel):
    signal_id: int
    kind: str
    interaction_id: int | None
    trace_id: str | None
    response_id: str | None
    value: float | None
    text: str | None
    details: dict[str, Any]
    user_id: str | None
    occurred_at: datetime
    received_at: datetime | None

    @classmethod
    def of(cls, s: Signal) -> SignalView:
        return cls(
            signal_id=s.signal_id or 0,
            kind=s.kind.value,
            interaction_id=s.interaction_id,
            trace_id=s.trace_id,
            response_id=s.response_id,
            value=s.value,
            text=s.text,
            details=s.details,
            user_id=s.user_id,
            occurred_at=s.occurred_at,
            received_at=s.received_at,
        )


class SpanEventView(BaseModel):
    name: str
    at: datetime
    attributes: dict[str, Any]


class SpanView(BaseModel):
    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    kind: str
    start_at: datetime
    end_at: datetime
    duration_ms: float
    status_code: str
    status_message: str | None
    attributes: dict[str, Any]
    events: list[SpanEventView]
    resource: dict[str, Any]
    scope: str | None

    @classmethod
    def of(cls, s: Span) -> SpanView:
        return cls(
            trace_id=s.trace_id,
            span_id=s.span_id,
            parent_span_id=s.parent_span_id,
            name=s.name,
            kind=s.kind,
            start_at=s.start_at,
            end_at=s.end_at,
            duration_ms=s.duration_ms,
            status_code=s.status_code,
            status_message=s.status_message,
            attributes=s.attributes,
            events=[SpanEventView(name=e.name, at=e.at, attributes=e.attributes) for e in s.events],
            resource=s.resource,
            scope=s.scope,
        )


class DecisionView(BaseModel):
    """A sampling decision: why the interaction was, or was not, sent to the judge."""

    trigger: str
    sampled: bool
    policy: str | None
    priority: int
    reason: str
    slice: dict[str, Any]
    decided_at: datetime

    @classmethod
    def of(cls, d: RecordedDecision) -> DecisionView:
        return cls(
            trigger=d.trigger,
            sampled=d.sampled,
            policy=d.policy,
            priority=d.priority,
            reason=d.reason,
            slice=d.slice,
            decided_at=d.decided_at,
        )


class JudgeJobView(BaseModel):
    job_id: int
    rubric: str
    judge_version: str
    state: str
    attempts: int
    priority: int
    reason: str
    last_error: str | None
    score_id: int | None
    created_at: datetime
    finished_at: datetime | None


class InteractionDetail(BaseModel):
    interaction: InteractionView
    spans: list[SpanView]
    signals: list[SignalView]
    scores: list[ScoreView]
    sampling: list[DecisionView]
    judge_jobs: list[JudgeJobView]

    @classmethod
    def read(cls, conn: sa.Connection, interaction: Interaction) -> InteractionDetail:
        """`interaction` with every span of its trace, its signals, scores, sampling
        decisions and judge jobs, as stored."""
        ident, trace = interaction.interaction_id, interaction.trace_id
        assert ident is not None
        return cls(
            interaction=InteractionView.of(interaction),
            spans=[
                SpanView.of(decode_span(s))
                for s in load_stored_spans(conn, interaction.project, [trace])
            ],
            signals=[SignalView.of(s) for s in list_signals(conn, [ident])],
            scores=[ScoreView.of(s) for s in scores_of(conn, [ident])],
            sampling=[DecisionView.of(d) for d in decisions_of(conn, ident)],
            judge_jobs=[JudgeJobView(**job) for job in jobs_of(conn, ident)],
        )


class InteractionPage(BaseModel):
    items: list[InteractionView]
    next_cursor: str | None


class SliceCount(BaseModel):
    slice: dict[str, str | None]
    count: int
    errors: int
    mean_latency_ms: float | None
    cost_usd: float | None
