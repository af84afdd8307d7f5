"""Fixtures: the scripted model API (a real local HTTP server) and a time that never waits."""

from __future__ import annotations

from collections.abc import Iterator

import anyio.lowlevel
import pytest

from tests.judge.api import ScriptedAPI, run_api


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def _running_api() -> Iterator[ScriptedAPI]:
    with run_api() as api:
        yield api


@pytest.fixture
def api(_running_api: ScriptedAPI) -> Iterator[ScriptedAPI]:
    """The scripted API, with no replies queued and no requests recorded."""
    _running_api.reset()
    yield _running_api
    _running_api.reset()


class FakeTime:
    """A monotonic clock and a sleep that moves it instead of waiting."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(seconds, 0.0)
        await anyio.lowlevel.checkpoint()


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()
