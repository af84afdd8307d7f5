"""JSON request bodies of the REST API, checked before any route reads them.

A body is read under the server's size limit (after gzip or deflate, which are
inflated here), must be UTF-8, and may not carry a lone UTF-16 surrogate (`"\\ud800"`):
JSON's grammar lets one through, but it is not text, and no store can keep it. Each
failure is a 4xx that says where; the route then sees the plain body.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from liveeval.server.body import BadEncoding, BodyTooLarge, UnsupportedEncoding, read_body
from liveeval.server.errors import send_error

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})


class JsonBodies:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _applies(scope):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            body = await read_body(request, scope["app"].state.settings.max_body_bytes)
        except BodyTooLarge as exc:
            await send_error(send, 413, str(exc))
            return
        except UnsupportedEncoding as exc:
            await send_error(send, 415, str(exc))
            return
        except BadEncoding as exc:
            await send_error(send, 400, str(exc))
            return
        problem = body_problem(body)
        if problem is not None:
            await send_error(send, 422, [problem])
            return
        headers = [(k, v) for k, v in scope["headers"] if k != b"content-encoding"]
        await self.app({**scope, "headers": headers}, _replay(body, receive), send)


def _applies(scope: Scope) -> bool:
    if scope["type"] != "http" or scope["method"] not in _WITH_BODY:
        return False
    if not scope["path"].startswith("/api/"):
        return False  # OTLP and the dashboard's forms read their own bodies
    content_type = dict(scope["headers"]).get(b"content-type", b"")
    return content_type.split(b";")[0].strip().lower() == b"application/json"


def body_problem(body: bytes) -> dict[str, Any] | None:
    """A validation error in FastAPI's shape for a body that is not text, else None."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return {
            "type": "unicode_decode",
            "loc": ["body"],
            "msg": f"the body is not UTF-8 at byte {exc.start}",
        }
    if not _SURROGATE_ESCAPE.search(body):
        return None
    try:
        document = json.loads(body)
    except ValueError:
        return None  # the route answers malformed JSON as it always has
    where = _surrogate_at(document, ["body"])
    if where is None:
        return None
    return {
        "type": "string_unicode",
        "loc": where,
        "msg": "a string holds a lone UTF-16 surrogate (\\ud800-\\udfff), which is not text",
    }


def _surrogate_at(value: Any, loc: list[str | int]) -> list[str | int] | None:
    if isinstance(value, str):
        return loc if _has_lone_surrogate(value) else None
    if isinstance(value, list):
        for index, item in enumerate(value):
            if (found := _surrogate_at(item, [*loc, index])) is not None:
                return found
    if isinstance(value, dict):
        for key, item in value.items():
            if _has_lone_surrogate(key):
                return [*loc, printable(key)]
            if (found := _surrogate_at(item, [*loc, key])) is not None:
                return found
    return None


def _has_lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def printable(text: str) -> str:
    """`text` with each lone surrogate replaced by U+FFFD, so it can be sent back."""
    if not _has_lone_surrogate(text):
        return text
    return "".join("\ufffd" if "\ud800" <= char <= "\udfff" else char for char in text)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body in one message, then the client's own messages (its disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed

    return receive
