"""Anthropic's Messages API, through the official `anthropic` client.

Structured output uses `output_config.format` (a JSON schema); "json_object" and
"prompt" both send instructions only, since the Messages API has no plain JSON mode.
No temperature is sent: the Messages API version that the `anthropic` 2.x client
speaks has no sampling parameters and answers 400 to any of them. The client never
retries (`max_retries=0`): the grader does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import anthropic

from liveeval.config.judge import StructuredOutput
from liveeval.judge.providers.base import Completion, JudgeRequest, ProviderError
from liveeval.judge.providers.openai_compatible import status_error


class AnthropicProvider:
    def __init__(
        self,
        model: str,
        *,
        api_key: str | None,
        base_url: str | None = None,
        headers: Mapping[str, str] | None = None,
        structured_output: StructuredOutput = "json_schema",
        name: str = "anthropic",
    ) -> None:
        self.name = name
        self.model = model
        self.structured_output = structured_output
        self._client = anthropic.AsyncAnthropic(
            api_key=api_key,
            base_url=base_url,
            default_headers=dict(headers or {}),
            max_retries=0,
        )

    def request_body(self, request: JudgeRequest) -> dict[str, Any]:
        """The keyword arguments for `messages.create`: system split from the turns."""
        system = "\n\n".join(m["content"] for m in request.messages if m["role"] == "system")
        turns = [
            {"role": m["role"], "content": m["content"]}
            for m in request.messages
            if m["role"] != "system"
        ]
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": request.max_tokens,
            "messages": turns,
        }
        if system:
            body["system"] = system
        if self.structured_output == "json_schema":
            body["output_config"] = {
                "format": {"type": "json_schema", "schema": request.output_schema}
            }
        return body

    async def complete(self, request: JudgeRequest) -> Completion:
        try:
            message = await self._client.messages.create(
                **self.request_body(request), timeout=request.timeout_s
            )
        except anthropic.APITimeoutError:
            raise ProviderError(f"timed out after {request.timeout_s:g}s", transient=True) from None
        except anthropic.APIConnectionError as exc:
            cause = exc.__cause__ or exc.__context__
            reason = f"connection failed: {exc}" + (f": {cause}" if cause else "")
            raise ProviderError(reason, transient=True) from None
        except anthropic.APIStatusError as exc:
            raise status_error(
                exc.status_code, exc.body, exc.message, exc.response.headers
            ) from None
        except anthropic.AnthropicError as exc:
            raise ProviderError(f"bad response: {exc}", transient=False) from None
        text = "".join(block.text for block in message.content if block.type == "text")
        usage = message.usage
        input_tokens = (
            usage.input_tokens
            + (usage.cache_creation_input_tokens or 0)
            + (usage.cache_read_input_tokens or 0)
        )
        refusal = None
        if message.stop_reason == "refusal":
            refusal = text or "the model declined to answer (stop_reason refusal)"
        return Completion(
            text=text,
            model=message.model,
            input_tokens=input_tokens,
            output_tokens=usage.output_tokens,
            finish_reason=message.stop_reason,
            refusal=refusal,
        )

    async def aclose(self) -> None:
        await self._client.close()
