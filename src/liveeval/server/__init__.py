"""The ASGI app: OTLP endpoint, REST API and the dashboard.

`create_app` is imported on first use, so that the dashboard and the app's own modules
can import `liveeval.server.*` helpers without a cycle through the app.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from liveeval.server.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from liveeval.server.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
