"""Offline vs online end to end: regression runs stored through the REST API, live traffic
in the store; the monitor's tick raises the divergence alert, REST and CLI show the series."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import httpx
from click.testing import CliRunner

from liveeval.cli.main import cli
from liveeval.config import Settings
from liveeval.config.monitor import MonitorConfig
from liveeval.monitor.scheduler import Monitor
from liveeval.store.alerts import firing_alerts
from liveeval.store.database import Store
from tests.conftest import run_server
from tests.monitor.traffic import Traffic, store_traffic

NOW = datetime.now(UTC).replace(microsecond=0)
VERSIONS = ("v1", "v2", "v3")


def poor(rng: random.Random) -> float:
    return rng.choice((1, 2, 4, 5, 2))  # 60% bad


def run_document(version: str, at: datetime) -> dict[str, object]:
    results = [
        {"id": f"c{k}", "version": 1, "tags": [], "status": "passed", "detail": "ok", "score": 1.0}
        for k in range(19)
    ] + [{"id": "c19", "version": 1, "tags": [], "status": "failed", "detail": "no", "score": 0.0}]
    return {
        "target": "openai:http://app/v1",
        "snapshot": "sha256:" + "0" * 64,
        "git_commit": "abc123",
        "prompt_version": version,
        "started_at": at.isoformat(),
        "finished_at": (at + timedelta(minutes=1)).isoformat(),
        "cases": 20,
        "passed": 19,
        "failed": 1,
        "errors": 0,
        "pass_rate": 0.95,
        "mean_score": 0.95,
        "results": results,
        "exit_code": 0,
        "verdict": ["pass rate 95.0% ≥ 90%"],
    }


def test_runs_posted_and_poor_live_quality_raise_the_divergence_alert(
    sqlite_store: Store,
) -> None:
    start = NOW - timedelta(hours=6)
    for k, version in enumerate(VERSIONS):
        traffic = Traffic(prompt_version=version, judged=1.0, score=poor)
        store_traffic(sqlite_store, traffic, start + timedelta(hours=k), 20, 3, seed=k)
    settings = Settings(
        db=str(sqlite_store.engine.url),
        monitor=MonitorConfig(notifiers=[{"name": "log", "type": "log"}]),
    )
    with run_server(sqlite_store, settings) as server:
        for k, version in enumerate(VERSIONS):
            posted = httpx.post(
                f"{server.url}/api/v1/runs",
                params={"project": "shop"},
                json=run_document(version, start + timedelta(hours=k) - timedelta(minutes=30)),
            )
            assert posted.status_code == 201, posted.text
        monitor = Monitor(sqlite_store, settings)
        tick = monitor.tick(NOW)
        monitor.release()
        series = httpx.get(
            f"{server.url}/api/v1/experiments/divergence", params={"project": "shop"}
        ).json()
    assert tick is not None
    [change] = [c for c in tick.changes if c.alert.rule == "offline-online-divergence"]
    assert change.action == "trigger"
    with sqlite_store.reading() as conn:
        assert [a.rule for a in firing_alerts(conn, "shop").values()] == [
            "offline-online-divergence"
        ]
    assert series["persistent"] is True
    assert [p["prompt_version"] for p in series["series"]] == list(VERSIONS)

    shown = CliRunner().invoke(
        cli, ["divergence", "--project", "shop", "--db", str(sqlite_store.engine.url), "--json"]
    )
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["persistent"] is True
    table = CliRunner().invoke(
        cli, ["divergence", "--project", "shop", "--db", str(sqlite_store.engine.url)]
    )
    assert "DIVERGED" in table.output and "95%" in table.output
