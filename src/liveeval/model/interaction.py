"""The normalized interaction: one LLM call, whichever convention reported it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class ToolCall:
    name: str
    arguments: str | None = None  # JSON text as the model produced it
    id: str | None = None


@dataclass(frozen=True, slots=True)
class Message:
    role: str
    content: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None
    finish_reason: str | None = None


@dataclass(frozen=True, slots=True)
class RetrievedDocument:
    content: str | None
    id: str | None = None
    score: float | None = None
    metadata: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class TokenUsage:
    input: int | None = None
    output: int | None = None
    total: int | None = None
    cache_read: int | None = None
    cache_creation: int | None = None
    reasoning: int | None = None


@dataclass(slots=True)
class Interaction:
    """One LLM request of the user's app, as liveeval stores and evaluates it."""

    project: str
    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    convention: str  # "genai" | "openinference" | "liveeval"
    operation: str | None
    start_at: datetime
    end_at: datetime
    latency_ms: float
    status: str  # "ok" | "error" | "unset"
    error: str | None = None
    provider: str | None = None
    model_requested: str | None = None
    model_served: str | None = None
    response_id: str | None = None
    finish_reasons: tuple[str, ...] = ()
    prompt_version: str | None = None
    route: str | None = None
    segment: str | None = None
    session_id: str | None = None
    user_id: str | None = None
    input_text: str | None = None
    input_messages: tuple[Message, ...] = ()
    output_text: str | None = None
    output_messages: tuple[Message, ...] = ()
    retrieved_context: tuple[RetrievedDocument, ...] = ()
    tool_calls: tuple[ToolCall, ...] = ()
    usage: TokenUsage = field(default_factory=TokenUsage)
    cost_usd: float | None = None
    cost_source: str | None = None  # "span" | "price_table" | None when unknown
    tags: tuple[str, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)
    interaction_id: int | None = None

    @property
    def content_captured(self) -> bool:
        """Whether the span carried the call's content: some input (a text or a message)
        and some output (a text, a message even without text, or a tool call).

        OpenTelemetry GenAI instrumentations record no message content unless told to,
        and OpenInference's hide settings drop it: such an interaction is not evaluated
        (no checks, no judge, no review), where a captured empty answer (a message with
        no text) is one the model gave.
        """
        has_input = self.input_text is not None or bool(self.input_messages)
        has_output = (
            self.output_text is not None or bool(self.output_messages) or bool(self.tool_calls)
        )
        return has_input and has_output
