"""A scripted model API on a real loopback socket, standing in for paid judge APIs.

It speaks OpenAI's `POST /v1/chat/completions` and Anthropic's `POST /v1/messages`
well enough for the official clients: each request takes the next scripted reply
(status, JSON body, headers, an optional delay) and is recorded with its body and
headers, so a test can check what the client really sent over HTTP.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from liveeval.model import Interaction, Message, RetrievedDocument


@dataclass
class Reply:
    status: int = 200
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


@dataclass
class Recorded:
    path: str
    body: dict[str, Any]
    headers: dict[str, str]


class ScriptedAPI:
    def __init__(self) -> None:
        self.replies: deque[Reply] = deque()
        self.requests: list[Recorded] = []
        self.url = ""
        self._closing = threading.Event()
        self.app = FastAPI()
        self.app.post("/v1/chat/completions")(self._handle)
        self.app.post("/v1/messages")(self._handle)

    def script(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    def reset(self) -> None:
        self.replies.clear()
        self.requests.clear()

    async def _handle(self, request: Request) -> JSONResponse:
        body = json.loads(await request.body())
        self.requests.append(Recorded(request.url.path, body, dict(request.headers)))
        if not self.replies:
            return JSONResponse({"error": {"message": "nothing scripted"}}, status_code=418)
        reply = self.replies.popleft()
        deadline = time.monotonic() + reply.delay_s
        while time.monotonic() < deadline and not self._closing.is_set():
            await asyncio.sleep(0.02)
        return JSONResponse(reply.body or {}, status_code=reply.status, headers=reply.headers)


@contextmanager
def run_api(port: int = 0) -> Iterator[ScriptedAPI]:
    """The scripted API served by uvicorn on a loopback port (default: a free one), in a
    thread."""
    api = ScriptedAPI()
    config = uvicorn.Config(
        api.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    api.url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    try:
        yield api
    finally:
        api._closing.set()
        server.should_exit = True
        thread.join(timeout=10)


def chat_reply(
    content: str | None = None,
    *,
    score: int | None = 4,
    model: str = "gpt-4o-mini-2024-07-18",
    refusal: str | None = None,
    finish_reason: str = "stop",
    usage: tuple[int, int] | None = (300, 40),
) -> Reply:
    """An OpenAI chat completion; by default a valid answer with `score`."""
    if content is None and refusal is None:
        content = json.dumps({"explanation": "Answers the question directly.", "score": score})
    body: dict[str, Any] = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": refusal},
                "finish_reason": finish_reason,
            }
        ],
    }
    if usage is not None:
        body["usage"] = {
            "prompt_tokens": usage[0],
            "completion_tokens": usage[1],
            "total_tokens": sum(usage),
        }
    return Reply(body=body)


def messages_reply(
    text: str | None = None,
    *,
    score: int = 4,
    model: str = "claude-haiku-4-5-20251001",
    stop_reason: str = "end_turn",
    usage: tuple[int, int] = (300, 40),
) -> Reply:
    """An Anthropic Messages API response; by default a valid answer with `score`."""
    if text is None:
        text = json.dumps({"explanation": "Answers the question directly.", "score": score})
    return Reply(
        body={
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": text}] if text else [],
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": {"input_tokens": usage[0], "output_tokens": usage[1]},
        }
    )


def error_reply(status: int, headers: dict[str, str] | None = None) -> Reply:
    message = {429: "Rate limit reached", 500: "The server had an error"}.get(status, "Error")
    return Reply(
        status=status,
        body={"error": {"message": message, "type": "error", "code": None}},
        headers=headers or {},
    )


def interaction(
    input_text: str | None = "What is the capital of France?",
    output_text: str | None = "The capital of France is Paris.",
    *,
    context: tuple[str, ...] = (),
    input_messages: tuple[Message, ...] = (),
) -> Interaction:
    now = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    return Interaction(
        project="default",
        trace_id="0" * 32,
        span_id="0" * 16,
        parent_span_id=None,
        name="chat",
        convention="liveeval",
        operation="chat",
        start_at=now,
        end_at=now,
        latency_ms=0.0,
        status="ok",
        input_text=input_text,
        input_messages=input_messages,
        output_text=output_text,
        retrieved_context=tuple(RetrievedDocument(content=text) for text in context),
    )
