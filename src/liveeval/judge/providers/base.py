"""The seam between the grader and a model API: one request in, one completion out.

A provider does one HTTP call per `complete` and never retries: the grader owns
retries, backoff, rate limits and timeouts, the same for every provider. Failures are
`ProviderError`s that say whether another try could help.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass
class JudgeRequest:
    messages: list[dict[str, str]]  # OpenAI-style chat messages; "system" first
    output_schema: dict[str, Any]  # JSON Schema of the answer
    max_tokens: int
    timeout_s: float


@dataclass
class Completion:
    text: str
    model: str  # the model id as the provider reported it in its response
    input_tokens: int | None
    output_tokens: int | None
    finish_reason: str | None
    refusal: str | None  # set when the model declined to answer


class ProviderError(Exception):
    """A request that got no usable completion: HTTP status, timeout, connection, protocol."""

    def __init__(
        self,
        reason: str,
        *,
        transient: bool,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient
        self.status = status
        self.retry_after = retry_after


class JudgeProvider(Protocol):
    name: str  # "openai", "anthropic", "local", ...
    model: str  # the pinned model from config

    async def complete(self, request: JudgeRequest) -> Completion: ...

    async def aclose(self) -> None: ...
