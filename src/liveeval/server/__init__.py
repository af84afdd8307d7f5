"""The ASGI app: OTLP endpoint, REST API, and (later) the dashboard."""

from liveeval.server.app import create_app

__all__ = ["create_app"]
