"""`interactions list --server URL` and the like: the CLI reads a running liveeval over its
REST API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from liveeval.cli.main import cli
from liveeval.config import Settings
from liveeval.ingest.assemble import AssemblyRules
from liveeval.ingest.pipeline import write_spans
from liveeval.model import Score, ScoreKind, ScoreStatus
from liveeval.model.alert import AlertState
from liveeval.model.keys import Role
from liveeval.store.alerts import save_alert
from liveeval.store.database import Store, open_store
from liveeval.store.keys import create_key
from liveeval.store.scores import insert_score
from tests.conftest import RunningServer, run_server
from tests.server.test_monitor import stored_alert
from tests.telemetry import T0, genai_attributes, model_span, span_id, trace_id


@pytest.fixture
def stored(tmp_path: Path) -> Iterator[Store]:
    """Three interactions in project `shop`, on a store in its own folder."""
    store = open_store(f"sqlite:///{tmp_path / 'data' / 'served.db'}")
    spans = [
        model_span(
            genai_attributes(model="gpt-4o", served="gpt-4o-2024"),
            trace=trace_id(),
            span=span_id(),
            start=T0 + timedelta(minutes=minutes),
            project="shop",
        )
        for minutes in range(3)
    ]
    write_spans(store, spans, AssemblyRules(), T0)
    yield store
    store.close()


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with no store and no liveeval.toml, where the CLI runs."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    monkeypatch.chdir(folder)
    for name in ("LIVEEVAL_DB", "LIVEEVAL_CONFIG", "LIVEEVAL_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    return folder


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


def serving(store: Store, require_keys: bool = False) -> AbstractContextManager[RunningServer]:
    return run_server(store, Settings(db=str(store.engine.url), require_keys=require_keys))


def test_list_reads_a_server_from_a_folder_without_a_store(stored: Store, elsewhere: Path) -> None:
    local = run("interactions", "list", "--project", "shop", "--db", str(stored.engine.url))
    with serving(stored) as server:
        remote = run("interactions", "list", "--project", "shop", "--server", server.url)
        paged = run(
            "interactions", "list", "--project", "shop", "--server", server.url, "--limit", "2"
        )
        as_json = run("interactions", "list", "--project", "shop", "--server", server.url, "--json")
    assert remote.exit_code == 0, remote.output
    assert remote.output == local.output
    assert len(paged.output.splitlines()) == 1 + 2  # the header, two rows
    assert len(as_json.output.splitlines()) == 3
    assert list(elsewhere.iterdir()) == []


def test_show_reads_a_server_as_it_reads_the_store(stored: Store, elsewhere: Path) -> None:
    db = str(stored.engine.url)
    local = [run("interactions", "show", "2", *extra, "--db", db) for extra in ([], ["--json"])]
    with serving(stored) as server:
        remote = [
            run("interactions", "show", "2", *extra, "--server", server.url)
            for extra in ([], ["--json"])
        ]
        missing = run("interactions", "show", "99", "--server", server.url)
    assert [r.output for r in remote] == [r.output for r in local]
    assert "interaction_id" in remote[0].output
    assert missing.exit_code == 1
    assert missing.output == f"Error: {server.url} answered 404: interaction 99 does not exist\n"


def test_scores_list_reads_a_server_as_it_reads_the_store(stored: Store, elsewhere: Path) -> None:
    with stored.writing() as conn:
        for interaction_id, value in ((1, 1.0), (2, None), (3, 0.5)):
            status = ScoreStatus.OK if value is not None else ScoreStatus.ERROR
            score = Score(
                "shop", interaction_id, "not_empty", ScoreKind.CHECK, value=value,
                status=status, error=None if value is not None else "no output",
                created_at=T0,
            )  # fmt: skip
            insert_score(conn, score, None)
    db = str(stored.engine.url)
    query = ["scores", "list", "--project", "shop"]
    local = [run(*query, *extra, "--db", db) for extra in ([], ["--json"])]
    with serving(stored) as server:
        remote = [run(*query, *extra, "--server", server.url) for extra in ([], ["--json"])]
    assert [r.output for r in remote] == [r.output for r in local]
    assert "no output" in remote[0].output and len(remote[1].output.splitlines()) == 3


def test_a_server_that_wants_keys_takes_one_from_the_environment(
    stored: Store, elsewhere: Path
) -> None:
    with stored.writing() as conn:
        _, secret = create_key(conn, "shop", Role.READ, "cli", T0)
    with serving(stored, require_keys=True) as server:
        refused = run("interactions", "list", "--server", server.url)
        read = run("interactions", "list", "--server", server.url, env={"LIVEEVAL_API_KEY": secret})
    assert refused.exit_code == 1
    assert refused.output.startswith(f"Error: {server.url} wants an API key: pass --api-key")
    assert read.exit_code == 0, read.output
    assert len(read.output.splitlines()) == 1 + 3


def test_an_unreachable_server_is_one_line(elsewhere: Path) -> None:
    done = run("interactions", "list", "--server", "http://127.0.0.1:1")
    assert done.exit_code == 1
    assert done.output.startswith("Error: cannot reach liveeval at http://127.0.0.1:1: ")
    assert len(done.output.splitlines()) == 1


def test_db_and_server_together_are_a_usage_error(elsewhere: Path) -> None:
    done = run("interactions", "list", "--db", "x.db", "--server", "http://127.0.0.1:1")
    assert done.exit_code == 2
    assert "give --db or --server, not both" in done.output


def test_alerts_list_reads_a_server_as_it_reads_the_store(stored: Store, elsewhere: Path) -> None:
    with stored.writing() as conn:
        for minutes_ago, state in ((30, AlertState.RESOLVED), (5, AlertState.FIRING)):
            save_alert(conn, stored_alert("shop", "error_rate_rise", state, minutes_ago))
    db = str(stored.engine.url)
    local = run("alerts", "list", "--project", "shop", "--db", db)
    local_firing = run("alerts", "list", "--project", "shop", "--db", db, "--state", "firing")
    with serving(stored) as server:
        remote = run("alerts", "list", "--project", "shop", "--server", server.url)
        firing = run(
            "alerts", "list", "--project", "shop", "--server", server.url, "--state", "firing"
        )
        as_json = run("alerts", "list", "--project", "shop", "--server", server.url, "--json")
    assert remote.exit_code == 0, remote.output
    assert remote.output == local.output
    assert "moved 5 minutes ago" in remote.output and "moved 30 minutes ago" in remote.output
    assert firing.output == local_firing.output
    assert "moved 30 minutes ago" not in firing.output
    assert [json.loads(line)["state"] for line in as_json.output.splitlines()] == [
        "firing",
        "resolved",
    ]
    assert list(elsewhere.iterdir()) == []
