"""GET /api/v1/experiments/online: the online A/B over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from liveeval.config import Settings
from liveeval.gate.online_ab import compare_online
from liveeval.server import create_app
from liveeval.server import experiments as experiments_api
from liveeval.store.database import Store
from liveeval.store.rollups import refresh_rollups
from tests.conftest import Clock
from tests.monitor.traffic import Traffic, store_traffic
from tests.server.asgi import HOST, serve
from tests.telemetry import T0

pytestmark = pytest.mark.anyio
URL = "/api/v1/experiments/online"


def app_with_experiments(store: Store) -> FastAPI:
    settings = Settings(db=str(store.engine.url), allowed_hosts=[HOST])
    app = create_app(settings, store, clock=Clock(T0))
    if not any(getattr(r, "path", None) == URL for r in app.routes):  # until app.py has it
        app.include_router(experiments_api.router)
    return app


@asynccontextmanager
async def client(store: Store) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(app_with_experiments(store)) as http:
        yield http


@pytest.fixture
def scene(store: Store) -> Store:
    start = T0 - timedelta(hours=2)
    store_traffic(store, Traffic(prompt_version="v1"), start, 120, 3, seed=1, every=2)
    store_traffic(store, Traffic(prompt_version="v2"), start, 120, 2, seed=2, every=2)
    de = Traffic(prompt_version="v2", language="de")
    store_traffic(store, de, start, 120, 2, seed=3, every=2)
    with store.writing() as conn:
        refresh_rollups(conn)
    return store


def no_nan(text: str) -> Any:
    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


async def test_the_comparison_is_served_as_json_with_the_confounder_first(scene: Store) -> None:
    async with client(scene) as http:
        answer = await http.get(
            URL, params={"project": "shop", "a": "v1", "b": "v2", "window": "1d"}
        )
    assert answer.status_code == 200, answer.text
    body = no_nan(answer.text)
    with scene.reading() as conn:
        direct = compare_online(
            conn, "shop", "prompt_version", "v1", "v2", T0 - timedelta(days=1), T0
        )
    assert body == json.loads(json.dumps(direct.to_dict()))
    assert body["a"]["interactions"] == 180 and body["b"]["interactions"] == 240
    assert body["warnings"][0] == (
        "B's traffic is 50% German against 0% for A: the comparison is confounded"
    )
    assert [s["rubric"] for s in body["scores"]] == ["helpfulness"]


async def test_since_and_until_pick_the_period(scene: Store) -> None:
    params = {
        "project": "shop",
        "a": "v1",
        "b": "v2",
        "since": (T0 - timedelta(hours=1)).isoformat(),
        "until": T0.isoformat(),
    }
    async with client(scene) as http:
        body = (await http.get(URL, params=params)).json()
    assert body["since"] == (T0 - timedelta(hours=1)).isoformat()
    assert body["a"]["interactions"] == 90  # every other minute of the last hour, 3 each


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"dimension": "language"}, "dimension must be one of prompt_version, model_served"),
        ({"b": "v1"}, "nothing to compare"),
        ({"window": "5s"}, "window: "),
        (
            {"since": "2026-11-01T10:00:00"},
            "'loc': ['query', 'since'], 'msg': 'Input should have timezone info'",
        ),
        ({"since": T0.isoformat(), "until": T0.isoformat()}, "must be a minute or more after"),
    ],
)
async def test_bad_requests_are_422_with_the_reason(
    sqlite_store: Store, params: dict[str, str], message: str
) -> None:
    async with client(sqlite_store) as http:
        answer = await http.get(URL, params={"a": "v1", "b": "v2", **params})
    assert answer.status_code == 422
    assert message in str(answer.json()["detail"])


async def test_a_and_b_are_required(sqlite_store: Store) -> None:
    async with client(sqlite_store) as http:
        answer = await http.get(URL, params={"a": "v1"})
    assert answer.status_code == 422
