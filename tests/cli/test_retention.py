"""`liveeval retention run` over a real store: a dry run counts and changes nothing, a run
purges and reports, `--project` narrows it, and a missing limit says so."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from liveeval.cli.main import cli
from liveeval.store.database import open_store
from tests.store.test_retention import NOW, History, purged_at, stored_history

AT = NOW.isoformat()


@pytest.fixture
def history(store_url: str) -> History:
    store = open_store(store_url)
    try:
        return stored_history(store)
    finally:
        store.close()


def marks(url: str) -> dict[int, datetime | None]:
    store = open_store(url)
    try:
        return purged_at(store)
    finally:
        store.close()


def config(tmp_path: Path, text: str, name: str = "liveeval.toml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def invoke(url: str, config_file: str, *args: str) -> Result:
    command = ["retention", "run", "--db", url, "--config", config_file, "--at", AT, *args]
    result = CliRunner().invoke(cli, command)
    assert result.exit_code == 0, result.output
    return result


def test_a_dry_run_counts_per_project_and_changes_nothing(
    store_url: str, history: History, tmp_path: Path
) -> None:
    settings = config(tmp_path, "[retention]\ninteractions_days = 30\n")
    before = marks(store_url)

    result = invoke(store_url, settings, "--dry-run")

    assert marks(store_url) == before
    lines = result.output.splitlines()
    assert lines[0] == "would purge as of 2026-10-31 00:00 UTC:"
    assert lines[1].split() == [
        "project", "before", "(UTC)", "interactions", "spans", "log", "events", "signals",
        "pending", "signals", "judge", "jobs", "queued", "evals",
    ]  # fmt: skip
    table = {line.split()[0]: line.split()[3:] for line in lines[2:4]}
    assert table == {
        "other": ["1", "2", "1", "2", "0", "1", "1"],
        "shop": ["2", "2", "1", "4", "0", "2", "2"],
    }
    assert lines[-1] == "judge cache: 0 cached verdicts would be deleted"


def test_a_run_purges_and_reports_as_json(store_url: str, history: History, tmp_path: Path) -> None:
    settings = config(tmp_path, "[retention]\ninteractions_days = 30\n")

    result = invoke(store_url, settings, "--json")

    report = json.loads(result.output)
    assert (report["dry_run"], report["complete"]) == (False, True)
    assert report["projects"]["shop"]["interactions"] == 2
    assert report["projects"]["other"]["before"] == "2026-10-01T00:00:00+00:00"
    purged = {iid for iid, at in marks(store_url).items() if at is not None}
    assert purged == {history.old, history.mixed_old, history.other_project}
    again = json.loads(invoke(store_url, settings, "--json").output)  # the lease was released
    assert again["projects"]["shop"]["interactions"] == 0


def test_project_narrows_the_run_to_one_project(
    store_url: str, history: History, tmp_path: Path
) -> None:
    settings = config(tmp_path, "[retention]\ninteractions_days = 30\n")

    result = invoke(store_url, settings, "--project", "other")

    assert result.output.splitlines()[2].split()[:4] == ["other", "2026-10-01", "00:00", "1"]
    purged = {iid for iid, at in marks(store_url).items() if at is not None}
    assert purged == {history.other_project}


def test_without_a_limit_the_command_says_so_and_purges_nothing(
    store_url: str, history: History, tmp_path: Path
) -> None:
    off = config(tmp_path, "")
    forever = config(tmp_path, '[retention.projects]\nshop = "none"\nother = 9\n', "forever.toml")

    assert invoke(store_url, off).output.startswith("retention is off")
    kept = invoke(store_url, forever, "--project", "shop").output
    assert kept == "project shop keeps its interactions forever: nothing to purge\n"
    assert {at for at in marks(store_url).values()} == {None}


def test_a_bad_limit_is_a_usage_error_naming_its_key(store_url: str, tmp_path: Path) -> None:
    settings = config(tmp_path, "[retention]\ninteractions_days = -3\n")
    command = ["retention", "run", "--db", store_url, "--config", settings]
    result = CliRunner().invoke(cli, command)
    assert result.exit_code == 2
    assert "retention.interactions_days" in result.output
