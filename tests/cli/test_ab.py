"""`liveeval ab --server`: the run stored on a real liveeval server, what a refused or
unreachable server does (exit 2, the report still shown), and the pairwise judge's flip
rate stored with its rubric (the scripted local API stands in for a paid judge)."""

from __future__ import annotations

import json
import sys
import textwrap
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import orjson
import pytest
from click.testing import CliRunner, Result

from liveeval.cli.main import cli
from liveeval.config import Settings
from liveeval.model import Role
from liveeval.model.case import Case, snapshot_hash
from liveeval.store.database import Store
from liveeval.store.keys import create_key
from tests.cli.test_regress import closed_port
from tests.conftest import RunningServer, run_server
from tests.judge.api import Reply, ScriptedAPI, chat_reply
from tests.store.test_ab_runs import T0

APP = """
def good(text):
    return "Refunds reach your card within 5 business days."

def bad(text):
    return "I am not sure, please ask again later."

def mixed(text):
    return good(text) if int(text.split()[-1]) % 4 else bad(text)
"""
PATH = "/api/v1/experiments/ab"
ANY_GRADER = '{"type": "contains", "values": ["5 business"]}'


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """`python:<module>:` for an app module on sys.path (good, bad and mixed answers)."""
    name = f"ab_app_{uuid.uuid4().hex}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(APP), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("GITHUB_SHA", raising=False)
    monkeypatch.delenv("LIVEEVAL_API_KEY", raising=False)
    yield f"python:{name}:"
    sys.modules.pop(name, None)


def case_documents(count: int) -> list[dict[str, object]]:
    return [
        {
            "id": f"refund-{k}",
            "input": {"text": f"How long do refunds take? case {k}"},
            "grader": {"type": "contains", "values": ["5 business days"]},
            "author": "alice",
            "created_at": "2026-11-30T09:00:00Z",
        }
        for k in range(count)
    ]


def write_cases(path: Path, count: int) -> str:
    path.write_bytes(b"".join(orjson.dumps(d) + b"\n" for d in case_documents(count)))
    return str(path)


def ab(*args: str) -> Result:
    return CliRunner().invoke(cli, ["ab", *args], catch_exceptions=False)


def test_server_stores_the_run_as_the_json_reports_it(
    app: str, tmp_path: Path, live_server: RunningServer
) -> None:
    cases = write_cases(tmp_path / "cases.jsonl", 40)
    sides = ["--a", f"{app}mixed", "--b", f"{app}good"]
    done = ab(cases, *sides, "--json", "--server", live_server.url, "--commit", "abc")
    assert done.exit_code == 0, done.output
    assert f"stored as A/B run 1 on {live_server.url}" in done.stderr
    printed = json.loads(done.stdout)  # stdout stays the JSON alone

    response = httpx.get(f"{live_server.url}{PATH}", params={"report": "true"})
    assert response.status_code == 200, response.text
    [run] = response.json()
    active = [Case.model_validate(d) for d in case_documents(40)]
    assert run["snapshot"] == printed["snapshot"] == snapshot_hash(active)
    assert (run["target_a"], run["target_b"]) == (f"{app}mixed", f"{app}good")
    assert (run["project"], run["git_commit"], run["grader"]) == ("default", "abc", None)
    assert (run["cases"], run["compared"], run["verdict"]) == (40, 40, "b_wins")
    assert (run["mean_a"], run["mean_b"]) == (pytest.approx(0.75), 1.0)
    assert run["p_value"] == pytest.approx(printed["comparison"]["mcnemar"]["p_value"])
    assert run["pairwise_flip_rate"] is None
    report = run["report"]
    for name in ("started_at", "finished_at"):
        assert datetime.fromisoformat(report.pop(name)) == datetime.fromisoformat(printed.pop(name))
    assert report == printed

    elsewhere = ["--server", live_server.url, "--project", "shop"]
    graded = ab(cases, *sides, "--grader", ANY_GRADER, *elsewhere)
    assert graded.exit_code == 0, graded.output
    assert "B WINS" in graded.stdout  # the console report, as without --server
    [shop] = httpx.get(f"{live_server.url}{PATH}", params={"project": "shop"}).json()
    assert shop["grader"] == {
        "type": "contains",
        "values": ["5 business"],
        "mode": "all",
        "case_sensitive": False,
    }


def test_an_unreachable_server_exits_2_after_the_report(app: str, tmp_path: Path) -> None:
    cases = write_cases(tmp_path / "cases.jsonl", 4)
    server = f"http://127.0.0.1:{closed_port()}"
    done = ab(cases, "--a", f"{app}good", "--b", f"{app}good", "--server", server)
    assert done.exit_code == 2
    assert f"could not store the run at {server}" in done.stderr
    assert "NO SIGNIFICANT DIFFERENCE" in done.stdout  # the comparison is still shown


def test_the_key_decides_whether_and_where_the_run_is_stored(
    app: str, tmp_path: Path, sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    with sqlite_store.writing() as conn:
        read = create_key(conn, "shop", Role.READ, None, T0)[1]
        ingest = create_key(conn, "shop", Role.INGEST, None, T0)[1]
    cases = write_cases(tmp_path / "cases.jsonl", 4)
    sides = ["--a", f"{app}bad", "--b", f"{app}good"]
    settings = Settings(db=str(sqlite_store.engine.url), require_keys=True)
    with run_server(sqlite_store, settings) as server:
        monkeypatch.setenv("LIVEEVAL_API_KEY", read)
        refused = ab(cases, *sides, "--server", server.url)
        assert refused.exit_code == 2
        assert f"{server.url} refused the run: 403" in refused.stderr
        assert "this read key cannot ingest" in refused.stderr

        monkeypatch.setenv("LIVEEVAL_API_KEY", ingest)
        stored = ab(cases, *sides, "--server", server.url)
        assert stored.exit_code == 0, stored.output
        listed = httpx.get(f"{server.url}{PATH}", headers={"authorization": f"Bearer {read}"})
    [run] = listed.json()
    assert (run["project"], run["compared"]) == ("shop", 4)


def test_a_pairwise_run_stores_its_rubric_and_flip_rate(
    app: str,
    tmp_path: Path,
    sqlite_store: Store,
    api: ScriptedAPI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JUDGE_KEY", "sk-test")
    config = tmp_path / "liveeval.toml"
    config.write_text(
        f'[judge]\nprovider = "openai"\nmodel = "gpt-4o-mini"\nbase_url = "{api.url}/v1"\n'
        'api_key_env = "JUDGE_KEY"\nmax_attempts = 1\nconcurrency = 1\n',
        encoding="utf-8",
    )
    cases = write_cases(tmp_path / "cases.jsonl", 6)

    def winner(w: str) -> Reply:
        return chat_reply(json.dumps({"explanation": "because", "winner": w}))

    # four pairs consistent (B, then A when swapped), two flip (A both times)
    api.script(*[winner("B"), winner("A")] * 4, *[winner("A"), winner("A")] * 2)
    with run_server(sqlite_store, Settings(db=str(sqlite_store.engine.url))) as server:
        done = ab(
            cases,
            *("--a", f"{app}bad", "--b", f"{app}good", "--pairwise", "quality"),
            *("--concurrency", "1", "--config", str(config), "--server", server.url),
        )
        assert done.exit_code == 0, done.output
        [run] = httpx.get(f"{server.url}{PATH}").json()
    assert (run["pairwise_rubric"], run["pairwise_pairs"], run["pairwise_flips"]) == (
        "quality",
        6,
        2,
    )
    assert run["pairwise_flip_rate"] == pytest.approx(2 / 6)
