"""An in-process HTTP client for liveeval's app (httpx over ASGI, no socket)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI

from liveeval.config import Settings
from liveeval.server import create_app
from liveeval.store.database import Store
from tests.conftest import Clock

# The name these clients reach the app by. An open server answers only names it was
# told about (server/hosts.py), so the apps built here declare it in allowed_hosts.
HOST = "liveeval"


@asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=f"http://{HOST}") as http:
        yield http


@asynccontextmanager
async def client(store: Store, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The app over `store` with these settings and a clock that stands still."""
    settings.setdefault("allowed_hosts", [HOST])
    app = create_app(Settings(db=str(store.engine.url), **settings), store, clock=Clock())
    async with serve(app) as http:
        yield http
