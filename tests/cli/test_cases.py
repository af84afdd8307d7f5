"""`liveeval cases …` on a SQLite store: export/import round trip, retire, candidates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from liveeval.cli.main import cli
from liveeval.store.database import open_store
from tests.flywheel.test_case_file import file_bytes, golden_set
from tests.flywheel.test_review_flow import run_intake, store_interactions, thumbs_down


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_export_import_round_trip_gives_the_same_bytes(db: str, tmp_path: Path) -> None:
    source = tmp_path / "golden.jsonl"
    source.write_bytes(file_bytes(golden_set()))
    done = run("cases", "import", str(source), "--project", "shop", "--db", db, "--dry-run")
    assert done.exit_code == 0 and done.stdout.startswith("would import: 9 added;")
    done = run("cases", "import", str(source), "--project", "shop", "--db", db)
    assert done.exit_code == 0, done.output
    assert done.stdout.startswith("imported: 9 added; snapshot sha256:")

    out = tmp_path / "out.jsonl"
    args = ["--project", "shop", "--db", db, "--all-versions", "--include-retired"]
    done = run("cases", "export", str(out), *args)
    assert done.exit_code == 0 and "9 cases; snapshot sha256:" in done.stderr
    assert out.read_bytes() == source.read_bytes()

    other = f"sqlite:///{tmp_path / 'other.db'}"
    assert run("cases", "import", str(out), "--project", "shop", "--db", other).exit_code == 0
    done = run("cases", "export", "-", *args[:2], "--db", other, *args[4:])
    assert done.stdout_bytes == source.read_bytes()

    again = run("cases", "import", str(out), "--project", "shop", "--db", db)
    assert again.stdout.startswith("imported: 9 unchanged;")


def test_import_of_a_bad_file_says_where_and_imports_nothing(db: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(file_bytes(golden_set()[:1]) + b'{"id": "x"}\n')
    done = run("cases", "import", str(path), "--db", db)
    assert done.exit_code == 1
    assert f"Error: {path}:2: input: Field required" in done.stderr
    assert run("cases", "list", "--db", db).stderr.startswith("Error: no store at")


def test_list_show_and_retire(db: str, tmp_path: Path) -> None:
    source = tmp_path / "golden.jsonl"
    source.write_bytes(file_bytes(golden_set()))
    run("cases", "import", str(source), "--db", db)
    listing = run("cases", "list", "--db", db).stdout
    assert "7 active; snapshot sha256:" in listing and "retired-1" not in listing

    shown = run("cases", "show", "exact-1", "--db", db)
    assert [json.loads(x)["version"] for x in shown.stdout.splitlines()] == [1, 2]

    done = run("cases", "retire", "regex-1", "--reason", "obsolete", "--by", "carol", "--db", db)
    assert done.exit_code == 0 and done.stdout == "retired regex-1 v1: obsolete\n"
    done = run("cases", "retire", "regex-1", "--reason", "again", "--by", "carol", "--db", db)
    assert done.exit_code == 1 and "case regex-1 was already retired by carol" in done.stderr
    done = run("cases", "retire", "nope", "--reason", "x", "--by", "carol", "--db", db)
    assert done.exit_code == 2 and "no case nope" in done.stderr
    assert "6 active" in run("cases", "list", "--db", db).stdout
    assert run("cases", "show", "nope", "--db", db).exit_code == 2


def queue_one_failure(db: str) -> int:
    store = open_store(db)
    try:
        [iid] = store_interactions(store, [("Refund for jo@example.com?", "90 days.")])
        thumbs_down(store, iid)
        run_intake(store)
    finally:
        store.close()
    return iid


def test_candidates_edited_by_hand_become_a_frozen_case(db: str, tmp_path: Path) -> None:
    queue_one_failure(db)
    listed = run("review", "list", "--items", "--project", "shop", "--db", db).stdout
    item_id = int(listed.splitlines()[1].split()[0])
    run("review", "triage", str(item_id), "real_failure", "--by", "alice", "--db", db)

    path = tmp_path / "candidates.jsonl"
    done = run("cases", "candidates", str(path), "--project", "shop", "--db", db)
    assert done.exit_code == 0 and "1 candidates" in done.stderr
    [candidate] = [json.loads(x) for x in path.read_bytes().splitlines()]
    assert candidate["grader"] is None and candidate["review_item"] == item_id

    imported = run(
        "review", "import-candidates", str(path), "--project", "shop", "--by", "bob", "--db", db
    )
    assert imported.exit_code == 0 and imported.stdout == "promoted 0: -\n"
    assert "no grader yet" in imported.stderr

    edited: dict[str, Any] = {
        **candidate,
        "expected": {"output": None, "behaviour": "Say 5 business days."},
        "grader": {"type": "contains", "values": ["5 business days"]},
        "tags": ["refunds"],
    }
    path.write_text(json.dumps(edited) + "\n")
    done = run(
        "review", "import-candidates", str(path), "--project", "shop", "--by", "bob", "--db", db
    )
    assert done.exit_code == 0, done.output
    assert done.stdout == f"promoted 1: review-{item_id}\n"
    shown = run("cases", "show", f"review-{item_id}", "--project", "shop", "--db", db).stdout
    case = json.loads(shown)
    assert case["frozen"] is True and case["regression"] is True
    assert case["tags"] == ["refunds", "regression"]
    assert case["expected"] == {"behaviour": "Say 5 business days."}

    # importing it again is an error naming the line: the item was promoted
    again = run(
        "review", "import-candidates", str(path), "--project", "shop", "--by", "bob", "--db", db
    )
    assert again.exit_code == 1 and f"{path}:1: review item {item_id} was promoted" in again.stderr


def test_a_candidate_whose_input_was_changed_is_refused(db: str, tmp_path: Path) -> None:
    queue_one_failure(db)
    path = tmp_path / "candidates.jsonl"
    run("cases", "candidates", str(path), "--state", "open", "--project", "shop", "--db", db)
    [candidate] = [json.loads(x) for x in path.read_bytes().splitlines()]
    candidate["input"] = {"text": "something else"}
    candidate["grader"] = {"type": "contains", "values": ["x"]}
    path.write_text(json.dumps(candidate) + "\n")
    done = run(
        "review", "import-candidates", str(path), "--project", "shop", "--by", "bob", "--db", db
    )
    assert done.exit_code == 1 and "`input` differs from the review item's" in done.stderr
    assert run("cases", "list", "--project", "shop", "--db", db).stdout.startswith("no cases")
