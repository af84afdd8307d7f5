"""The last line of defence: an unexpected exception becomes a logged 500, not a reset.

Starlette's own error middleware answers 500 and then re-raises, and uvicorn closes
the connection of a request whose handler raised: a keep-alive client then loses its
next request as well. This middleware sits inside Starlette's, answers for the
request that failed, logs the traceback under an id the client is given, and keeps
the connection open.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("liveeval.server")


class UnexpectedErrors:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception:
            error_id = secrets.token_hex(6)
            log.exception("unexpected error %s on %s %s", error_id, scope["method"], scope["path"])
            if started:
                raise  # half a response is out: only closing the connection can say so
            detail = f"internal error {error_id}; the server log has its traceback"
            await send_error(send, 500, detail)


async def send_error(send: Send, status: int, detail: Any) -> None:
    """Answer `{"detail": detail}` with `status` from ASGI middleware, below any route."""
    body = orjson.dumps({"detail": detail})
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
