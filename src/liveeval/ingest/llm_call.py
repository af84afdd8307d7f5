"""What a convention extractor reads off one LLM span, before assembly.

`genai.extract_genai` and `openinference.extract_openinference` each return an
`LLMCall` (or None when the span is not an LLM call of theirs); `assemble`
adds what needs the whole trace, the config and the span's timing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from liveeval.model import Message, TokenUsage, ToolCall


@dataclass(slots=True)
class LLMCall:
    convention: str  # "genai" | "openinference"
    operation: str | None = None  # "chat", "text_completion", "generate_content", ...
    provider: str | None = None
    model_requested: str | None = None
    model_served: str | None = None
    response_id: str | None = None
    finish_reasons: tuple[str, ...] = ()
    input_text: str | None = None
    input_messages: tuple[Message, ...] = ()
    output_text: str | None = None
    output_messages: tuple[Message, ...] = ()
    tool_calls: tuple[ToolCall, ...] = ()
    usage: TokenUsage = field(default_factory=TokenUsage)
    cost_usd: float | None = None  # only when the span itself reports a cost
    prompt_version: str | None = None
    session_id: str | None = None
    user_id: str | None = None
    tags: tuple[str, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)
