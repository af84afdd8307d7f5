"""The parts of an interaction a judge reads: the conversation, the response, the context.

Interactions arrive either as plain text (`input_text`, `output_text`) or as chat
messages; these functions give one view of both. `offline_interaction` builds one that
was never traffic (a golden case, a calibration item). Pure functions, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from liveeval.model import Interaction, Message, RetrievedDocument, ToolCall


def offline_interaction(
    project: str,
    name: str,
    *,
    input_text: str | None,
    output_text: str,
    input_messages: tuple[Message, ...] = (),
    context: tuple[RetrievedDocument, ...] = (),
    metadata: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> Interaction:
    """Text that was never traffic, as an interaction the judge can grade."""
    now = at or datetime.now(UTC)
    return Interaction(
        project=project,
        trace_id="0" * 32,
        span_id="0" * 16,
        parent_span_id=None,
        name=name,
        convention="liveeval",
        operation="chat",
        start_at=now,
        end_at=now,
        latency_ms=0.0,
        status="ok",
        input_text=input_text,
        input_messages=input_messages,
        output_text=output_text,
        retrieved_context=context,
        metadata=dict(metadata or {}),
    )


@dataclass(frozen=True, slots=True)
class Turn:
    role: str
    text: str


def conversation(interaction: Interaction) -> list[Turn]:
    """What the app's model was given: its input messages, else the input text as one turn."""
    turns = [
        Turn(message.role, text)
        for message in interaction.input_messages
        if (text := message_text(message))
    ]
    if not turns and interaction.input_text:
        turns.append(Turn("user", interaction.input_text))
    return turns


def response_text(interaction: Interaction) -> str:
    """What the app's model answered: its output messages, else the output text."""
    parts = [text for message in interaction.output_messages if (text := message_text(message))]
    if not parts and interaction.output_text:
        parts.append(interaction.output_text)
    if not parts and interaction.tool_calls:
        parts.append(_tool_calls_text(interaction.tool_calls))
    return "\n\n".join(parts)


def context_documents(interaction: Interaction) -> list[str]:
    """The retrieved documents that have text, in retrieval order."""
    return [doc.content for doc in interaction.retrieved_context if doc.content]


def message_text(message: Message) -> str:
    parts = [message.content] if message.content else []
    if message.tool_calls:
        parts.append(_tool_calls_text(message.tool_calls))
    return "\n".join(parts)


def _tool_calls_text(calls: tuple[ToolCall, ...]) -> str:
    return "\n".join(f"[tool call] {call.name}({call.arguments or ''})" for call in calls)


_REFUSAL = re.compile(
    r"\b(?:"
    r"I\s+(?:cannot|can[’']?t|won[’']?t|will\s+not|must\s+decline|am\s+(?:unable|not\s+able))"
    r"|I[’']m\s+(?:unable|not\s+able|sorry,?\s+but)"
    r"|I\s+am\s+sorry,?\s+but"
    r"|sorry,?\s+but\s+I\b"
    r"|as\s+an\s+AI\b"
    r")",
    re.IGNORECASE,
)


def looks_like_refusal(interaction: Interaction) -> bool:
    """A cheap guess that the response declines: a content filter, or a refusal phrase early on."""
    if "content_filter" in interaction.finish_reasons:
        return True
    return bool(_REFUSAL.search(response_text(interaction)[:400]))
