"""`liveeval review …` on a SQLite store: each step of the happy path, and one error each."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from liveeval.cli.main import cli
from liveeval.store.database import open_store
from tests.cli.test_cases import queue_one_failure

GRADER = '{"type": "contains", "values": ["5 business days"]}'


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_list_says_when_the_queue_is_empty(db: str) -> None:
    open_store(db).close()  # review list reads a store; it creates none
    done = run("review", "list", "--project", "shop", "--db", db)
    assert done.exit_code == 0 and done.stdout == "the queue is empty\n"


def test_review_happy_path_and_one_error_per_step(db: str) -> None:
    iid = queue_one_failure(db)
    groups = run("review", "list", "--project", "shop", "--db", db).stdout.splitlines()
    assert groups[0].split()[:3] == ["group", "items", "prio"]
    assert "Refund for <EMAIL_ADDRESS>?" in groups[1]
    items = run("review", "list", "--items", "--project", "shop", "--db", db).stdout
    item = items.splitlines()[1].split()[0]

    shown = json.loads(run("review", "show", item, "--db", db).stdout)
    assert shown["interaction_id"] == iid and shown["state"] == "open"
    missing = run("review", "show", "999", "--db", db)
    assert missing.exit_code == 2 and "review item 999 does not exist" in missing.stderr

    early = run("review", "promote", item, "--by", "bob", "--db", db)
    assert early.exit_code == 1 and "only a real failure is promoted" in early.stderr

    done = run("review", "triage", item, "real_failure", "--by", "alice", "--db", db)
    assert done.exit_code == 0 and done.stdout == f"item {item}: real_failure\n"
    bad = run("review", "triage", item, "duplicate", "--by", "alice", "--db", db)
    assert bad.exit_code == 1 and "needs `duplicate_of`" in bad.stderr
    unknown = run("review", "triage", "999", "open", "--by", "alice", "--db", db)
    assert unknown.exit_code == 2 and "review item 999 does not exist" in unknown.stderr

    done = run("review", "score", item, "2", "--rubric", "quality", "--by", "al", "--db", db)
    assert done.exit_code == 0 and done.stdout == f"item {item}: human quality = 2\n"
    bad = run("review", "score", item, "7", "--rubric", "quality", "--by", "al", "--db", db)
    assert bad.exit_code == 1 and "7 is not on the quality scale" in bad.stderr

    bad = run("review", "expect", item, "--grader", "{nope", "--by", "al", "--db", db)
    assert bad.exit_code == 2 and "--grader is not JSON" in bad.stderr
    bad = run("review", "expect", item, "--grader", '{"type": "exact"}', "--by", "al", "--db", db)
    assert bad.exit_code == 1 and "exact grader needs" in bad.stderr
    done = run(
        "review", "expect", item, "--behaviour", "Say 5 business days.", "--grader", GRADER,
        "--tag", "refunds", "--by", "alice", "--db", db,
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert done.stdout == f"item {item}: expected written, grader contains\n"

    done = run("review", "promote", item, "--case-id", "refund-1", "--by", "bob", "--db", db)
    assert done.exit_code == 0, done.output
    first, line = done.stdout.splitlines()
    assert first.startswith(f"promoted item {item} to frozen regression case refund-1 (sha256:")
    case = json.loads(line)
    assert case["id"] == "refund-1" and case["frozen"] and case["author"] == "bob"
    again = run("review", "promote", item, "--by", "bob", "--db", db)
    assert again.exit_code == 1 and "was promoted to case refund-1" in again.stderr

    events = json.loads(run("review", "show", item, "--db", db).stdout)["events"]
    assert [(e["action"], e["actor"]) for e in events] == [
        ("enqueued", "liveeval"),
        ("triaged", "alice"),
        ("scored", "al"),
        ("expected", "alice"),
        ("promoted", "bob"),
    ]
    listed = run("cases", "list", "--project", "shop", "--db", db).stdout
    assert "refund-1" in listed and "1 active" in listed
