"""Which Host names an open server answers: a guard against DNS rebinding.

An open server (require_keys off) gives every project's data to whoever can reach it,
which on loopback means this machine's processes, and also any web page the user
opens: the page's own host name can be re-pointed at 127.0.0.1 (DNS rebinding), and
the browser then sends requests to liveeval as same-origin ones, with the attacker's
name in the Host header. So an open server answers only the names it was told about:
localhost, 127.0.0.1, [::1], the address it binds, and `allowed_hosts`. With keys
required the key is the protection and any Host is answered.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from liveeval.config import Settings
from liveeval.server.errors import send_error

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def host_name(value: str) -> str:
    """The name of a Host header or allowed_hosts entry, without port, brackets, case or
    trailing dot: '[::1]:7318' is '::1', 'Example.COM.:80' is 'example.com'."""
    value = value.strip().lower()
    if value.startswith("["):
        value = value[1 : value.find("]")] if "]" in value else value[1:]
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]
    return value.rstrip(".")


def allowed_hosts(settings: Settings) -> tuple[str, ...] | None:
    """The names the server answers; None when it answers any (keys required, or '*')."""
    if settings.require_keys or "*" in settings.allowed_hosts:
        return None
    names = (*LOOPBACK_NAMES, settings.host, *settings.allowed_hosts)
    return tuple(dict.fromkeys(host_name(name) for name in names))


def is_allowed(name: str, allowed: frozenset[str]) -> bool:
    if name in allowed:
        return True
    return any(
        pattern.startswith("*.") and name.endswith(pattern[1:]) and len(name) > len(pattern) - 1
        for pattern in allowed
    )


class HostCheck:
    """Answers 400 to a request whose Host is not one of `allowed`."""

    def __init__(self, app: ASGIApp, allowed: tuple[str, ...]) -> None:
        self.app = app
        self.allowed = frozenset(allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan; the app has no websockets
            await self.app(scope, receive, send)
            return
        header = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
        if is_allowed(host_name(header), self.allowed):
            await self.app(scope, receive, send)
            return
        await send_error(send, 400, refusal(header))


def refusal(header: str) -> str:
    shown = repr(header[:100]) if header else "(none)"
    return (
        f"Host {shown} is not a name this server answers: without API keys it answers only "
        "localhost, 127.0.0.1, [::1] and the address it listens on, so that no web page can "
        "read it through DNS rebinding. To use another name, add it to allowed_hosts "
        "(LIVEEVAL_ALLOWED_HOSTS or 'liveeval serve --allowed-host NAME'), or require API "
        "keys (require_keys)."
    )
