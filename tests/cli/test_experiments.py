"""`liveeval ab-online`: the online A/B as a table (warnings first) or JSON.

Prompt v2 answers worse, is regenerated more, and a third of its traffic is German.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from click.testing import CliRunner, Result

from liveeval.cli.experiments import ab_online
from liveeval.gate.online_ab import compare_online
from liveeval.store.database import open_store
from liveeval.store.rollups import refresh_rollups
from tests.monitor.traffic import Traffic, store_traffic
from tests.telemetry import T0

V2 = Traffic(prompt_version="v2", regenerated=0.2, score=lambda rng: rng.choice((2, 3, 3, 4)))


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('ab') / 'liveeval.db'}"
    store = open_store(url)
    try:
        start = T0 - timedelta(hours=1)
        store_traffic(store, Traffic(prompt_version="v1"), start, 60, 6, seed=1)
        store_traffic(store, V2, start, 60, 4, seed=2)
        store_traffic(store, Traffic(prompt_version="v2", language="de"), start, 60, 2, seed=3)
        with store.writing() as conn:
            refresh_rollups(conn)
    finally:
        store.close()
    yield url


def ab(db: str, *args: str) -> Result:
    base = ["--db", db, "--project", "shop", "--until", T0.isoformat(), "--window", "1h"]
    return CliRunner().invoke(ab_online, [*base, *args], catch_exceptions=False)


def test_the_table_starts_with_the_confounder_then_numbers_and_verdicts(db: str) -> None:
    result = ab(db, "--a", "v1", "--b", "v2")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == (
        "Online A/B of shop by prompt_version: A = v1, B = v2, "
        "2026-11-01 11:00 → 2026-11-01 12:00 UTC"
    )
    assert lines[1] == (
        "warning: B's traffic is 33% German against 0% for A: the comparison is confounded"
    )
    a_row = next(line for line in lines if line.startswith("A "))
    assert a_row.split()[1:4] == ["v1", "360", "0"]
    judged = next(line for line in lines if line.startswith("helpfulness"))
    assert judged.rstrip().endswith("A better")
    regenerated = next(line for line in lines if line.startswith("regenerated rate"))
    assert regenerated.rstrip().endswith("A better")


def test_json_is_the_comparison_itself(db: str) -> None:
    result = ab(db, "--a", "v1", "--b", "v2", "--rubric", "helpfulness", "--json")
    assert result.exit_code == 0, result.output
    store = open_store(db)
    try:
        with store.reading() as conn:
            direct = compare_online(
                conn, "shop", "prompt_version", "v1", "v2", T0 - timedelta(hours=1), T0
            )
    finally:
        store.close()
    assert json.loads(result.output) == json.loads(json.dumps(direct.to_dict()))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--a", "v1", "--b", "v1"], "nothing to compare"),
        (["--a", "v1", "--b", "v2", "--dimension", "language"], "'language' is not one of"),
        (["--a", "v1", "--b", "v2", "--since", "2026-11-01T10:00"], "has no timezone"),
        (["--a", "v1"], "Missing option '--b'"),
    ],
)
def test_usage_errors_exit_2_with_the_reason(db: str, args: list[str], message: str) -> None:
    result = CliRunner().invoke(ab_online, ["--db", db, *args])
    assert result.exit_code == 2
    assert message in result.output
