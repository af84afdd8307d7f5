"""Any OpenAI-compatible chat endpoint, through the official `openai` client.

OpenAI itself, vLLM, Ollama, llama.cpp's servers and LiteLLM all speak
`POST {base_url}/chat/completions`. The client never retries (`max_retries=0`): the
grader decides about retries, the same way for every provider.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import openai

from liveeval.config.judge import StructuredOutput
from liveeval.judge.providers.base import Completion, JudgeRequest, ProviderError
from liveeval.judge.retries import is_transient_status, retry_after_from_headers


class OpenAICompatibleProvider:
    def __init__(
        self,
        model: str,
        *,
        api_key: str | None,
        base_url: str | None = None,
        headers: Mapping[str, str] | None = None,
        structured_output: StructuredOutput = "json_schema",
        temperature: float | None = 0.0,
        name: str = "openai",
        schema_in_json_object: bool = False,
    ) -> None:
        """`schema_in_json_object`: send the schema with json_object (llama-cpp-python's way)."""
        self.name = name
        self.model = model
        self.structured_output = structured_output
        self.temperature = temperature
        self.schema_in_json_object = schema_in_json_object
        # OpenAI proper wants max_completion_tokens (reasoning models refuse max_tokens);
        # compatible servers know max_tokens best.
        self._tokens_param = "max_completion_tokens" if base_url is None else "max_tokens"
        self._client = openai.AsyncOpenAI(
            api_key=api_key or "unused",
            base_url=base_url,
            default_headers=dict(headers or {}),
            max_retries=0,
        )

    def request_body(self, request: JudgeRequest) -> dict[str, Any]:
        """The keyword arguments for `chat.completions.create`."""
        body: dict[str, Any] = {
            "model": self.model,
            "messages": request.messages,
            self._tokens_param: request.max_tokens,
        }
        if self.temperature is not None:
            body["temperature"] = self.temperature
        if self.structured_output == "json_schema":
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {
                    "name": "judgment",
                    "schema": request.output_schema,
                    "strict": True,
                },
            }
        elif self.structured_output == "json_object":
            response_format: dict[str, Any] = {"type": "json_object"}
            if self.schema_in_json_object:
                response_format["schema"] = request.output_schema
            body["response_format"] = response_format
        return body

    async def complete(self, request: JudgeRequest) -> Completion:
        try:
            response = await self._client.chat.completions.create(
                **self.request_body(request), timeout=request.timeout_s
            )
        except openai.APITimeoutError:
            raise ProviderError(f"timed out after {request.timeout_s:g}s", transient=True) from None
        except openai.APIConnectionError as exc:
            raise ProviderError(f"connection failed: {_cause(exc)}", transient=True) from None
        except openai.APIStatusError as exc:
            raise status_error(
                exc.status_code, exc.body, exc.message, exc.response.headers
            ) from None
        except openai.OpenAIError as exc:  # a malformed response, for one
            raise ProviderError(f"bad response: {exc}", transient=False) from None
        if not response.choices:
            raise ProviderError("the response has no choices", transient=False)
        choice = response.choices[0]
        usage = response.usage
        refusal = choice.message.refusal
        if refusal is None and choice.finish_reason == "content_filter":
            refusal = "stopped by the provider's content filter"
        return Completion(
            text=choice.message.content or "",
            model=response.model,
            input_tokens=usage.prompt_tokens if usage else None,
            output_tokens=usage.completion_tokens if usage else None,
            finish_reason=choice.finish_reason,
            refusal=refusal,
        )

    async def aclose(self) -> None:
        await self._client.close()


def status_error(
    status: int, body: object, fallback: str, headers: Mapping[str, str]
) -> ProviderError:
    """A ProviderError for an HTTP error status, with the server's Retry-After if any."""
    return ProviderError(
        f"HTTP {status}: {_error_message(body) or fallback}",
        transient=is_transient_status(status),
        status=status,
        retry_after=retry_after_from_headers(headers, datetime.now(UTC)),
    )


def _error_message(body: object) -> str | None:
    """The message of an error body: {"message": …} or {"error": {"message": …}}."""
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            body = error
        message = body.get("message") if isinstance(body, dict) else None
        if isinstance(message, str) and message:
            return message[:500]
    return None


def _cause(exc: BaseException) -> str:
    cause = exc.__cause__ or exc.__context__
    return f"{exc}: {cause}" if cause else str(exc)
