"""`liveeval drift`: the window against the baseline before it, as a table or JSON.

The store holds two hours of English traffic on one model, then a half hour where a
new model answers German inputs next to the old one; expected shares are counted from
what was written.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from liveeval.cli.main import cli
from liveeval.store.database import open_store
from tests.monitor.traffic import Traffic, store_traffic
from tests.telemetry import T0

NOW = T0  # 2026-11-01 12:00 UTC
OLD_MODEL, NEW_MODEL = "gpt-4o-2024-08-06", "gpt-4o-2024-11-20"
N_BASELINE, N_OLD, N_NEW = 200, 60, 120


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('drift') / 'liveeval.db'}"
    store = open_store(url)
    try:
        old, new = Traffic(model_served=OLD_MODEL), Traffic(model_served=NEW_MODEL, language="de")
        store_traffic(store, old, NOW - timedelta(hours=2), 40, N_BASELINE // 40, seed=1)
        store_traffic(store, old, NOW - timedelta(minutes=30), 30, N_OLD // 30, seed=2)
        store_traffic(store, new, NOW - timedelta(minutes=30), 30, N_NEW // 30, seed=3)
    finally:
        store.close()
    yield url


def drift(db: str, *args: str) -> Result:
    base = ["drift", "--project", "shop", "--window", "1h", "--baseline", "1d"]
    return CliRunner().invoke(
        cli, [*base, "--until", NOW.isoformat(), "--db", db, *args], catch_exceptions=False
    )


def strict_json(text: str) -> Any:
    """JSON as the RFC has it: NaN and Infinity are not JSON."""

    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def share(n: int, of: int) -> str:
    return f"{round(100 * n / of)}%"


def table_rows(text: str) -> dict[str, list[str]]:
    """feature -> its row's cells, for each table in `text` (later tables win)."""
    rows: dict[str, list[str]] = {}
    for line in text.splitlines():
        cells = line.split()
        if len(cells) >= 8 and cells[1] in ("numeric", "categorical", "embedding"):
            rows[cells[0]] = cells
    return rows


def test_drift_prints_a_table_with_the_drifted_feature_and_its_sentence(db: str) -> None:
    result = drift(db, "--no-topics")
    assert result.exit_code == 0, result.output
    first, _, summary, header, *_ = result.output.splitlines()
    assert first == (
        "Input drift of shop: 2026-11-01 11:00 → 2026-11-01 12:00 UTC "
        f"({N_OLD + N_NEW} interactions) against 2026-10-31 11:00 → 2026-11-01 11:00 UTC "
        f"({N_BASELINE})"
    )
    english = share(N_OLD, N_OLD + N_NEW)
    assert f"language drifted: English fell from 100% to {english} of inputs" in summary
    assert header.split()[:4] == ["feature", "kind", "status", "decided"]
    rows = table_rows(result.output)
    assert rows["language"][2] == "DRIFT"
    assert rows["language"][6:8] == [str(N_BASELINE), str(N_OLD + N_NEW)]
    assert rows["prompt_version"][2] == "ok"
    assert "topic" not in rows


def test_drift_json_is_the_same_report(db: str) -> None:
    table = drift(db, "--no-topics")
    result = drift(db, "--no-topics", "--json")
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = strict_json(result.stdout)
    assert (report["project"], report["n_window"], report["n_baseline"]) == (
        "shop",
        N_OLD + N_NEW,
        N_BASELINE,
    )
    assert report["window"] == [(NOW - timedelta(hours=1)).isoformat(), NOW.isoformat()]
    assert report["overall"]["summary"] == table.output.splitlines()[2]
    drifted = [name for name, row in table_rows(table.output).items() if row[2] == "DRIFT"]
    assert report["overall"]["drifted"] == drifted
    [language] = [f for f in report["overall"]["features"] if f["feature"] == "language"]
    assert f"German is new ({share(N_NEW, N_OLD + N_NEW)} of inputs)" in language["moved"]
    assert report["slices"] == [] and report["encoder"] == ""


def test_drift_slice_adds_a_section_per_model(db: str) -> None:
    result = drift(db, "--no-topics", "--slice", "model_served")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    sections = [line for line in lines if line.startswith("— model_served = ")]
    assert sections == [
        f"— model_served = {NEW_MODEL} ({N_NEW} in the window)",
        f"— model_served = {OLD_MODEL} ({N_OLD} in the window)",
    ]
    new_at = lines.index(sections[0])
    assert lines[new_at + 1] == "  (only 0 in the baseline: compared with all of it)"
    assert lines[new_at + 2].startswith("language drifted: ")
    assert "English vanished (was 100% of inputs)" in lines[new_at + 2]
    assert lines[lines.index(sections[1]) + 1].startswith("No input drift in ")
    as_json = strict_json(drift(db, "--no-topics", "--slice", "model_served", "--json").stdout)
    assert [(s["value"], s["n_window"]) for s in as_json["slices"]] == [
        (NEW_MODEL, N_NEW),
        (OLD_MODEL, N_OLD),
    ]
    assert as_json["slice_by"] == "model_served"


def test_drift_of_an_empty_window_says_there_is_nothing_to_compare(db: str) -> None:
    before_any = ["--until", "2026-01-01T00:00:00Z", "--no-topics"]
    result = CliRunner().invoke(cli, ["drift", "--project", "shop", *before_any, "--db", db])
    assert result.exit_code == 0, result.output
    assert "(0 interactions)" in result.output.splitlines()[0]
    assert result.output.rstrip().endswith("no interactions in the window: nothing to compare")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--window", "2x"], "Invalid value for '--window': window must be a duration like"),
        (["--window", "91d"], "Invalid value for '--window': window must be at most 90d"),
        (["--baseline", "0m"], "Invalid value for '--baseline': window must be a whole number"),
        (["--slice", "country"], "Invalid value for '--slice': 'country' is not one of"),
        (["--until", "2026-11-01T12:00:00"], "has no timezone; add Z or +00:00"),
    ],
)
def test_drift_with_a_bad_option_exits_2_with_a_clear_message(
    tmp_path: Path, args: list[str], message: str
) -> None:
    db = f"sqlite:///{tmp_path / 'never-opened.db'}"
    result = CliRunner().invoke(cli, ["drift", *args, "--db", db])
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "never-opened.db").exists()
