"""The core records of liveeval. Plain dataclasses; nothing here does I/O."""

from liveeval.model.interaction import (
    Interaction,
    Message,
    RetrievedDocument,
    TokenUsage,
    ToolCall,
)
from liveeval.model.keys import ApiKey, Role
from liveeval.model.score import Score, ScoreKind, ScoreStatus
from liveeval.model.signal import EXPLICIT_KINDS, Signal, SignalKind
from liveeval.model.span import LogEvent, Span, SpanEvent, StoredSpan

__all__ = [
    "EXPLICIT_KINDS",
    "ApiKey",
    "Interaction",
    "LogEvent",
    "Message",
    "RetrievedDocument",
    "Role",
    "Score",
    "ScoreKind",
    "ScoreStatus",
    "Signal",
    "SignalKind",
    "Span",
    "SpanEvent",
    "StoredSpan",
    "TokenUsage",
    "ToolCall",
]
