"""Golden-set JSONL files: export → import → export gives the same bytes, bad lines are
named by file and line and import nothing, the published JSON Schema is the model's,
and the import rules of flywheel/golden.py."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from liveeval.flywheel.case_file import (
    CaseFileError,
    case_json_schema,
    case_line,
    read_cases,
    write_cases,
)
from liveeval.flywheel.golden import CaseConflictError, apply_import, plan_import
from liveeval.model.case import Case, canonical_json
from liveeval.store import cases as stored
from liveeval.store.database import Store, open_store

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
SCHEMA_FILE = Path(__file__).resolve().parents[2] / "docs" / "case.schema.json"


def make(**fields: Any) -> Case:
    document: dict[str, Any] = {"author": "alice", "created_at": T0.isoformat(), **fields}
    return Case.model_validate(document)


def golden_set() -> list[Case]:
    """Every grader type, text and chat input, a retired case, two versions, unicode."""
    return [
        make(
            id="exact-1",
            input={"text": "2+2?"},
            expected={"output": "4"},
            grader={"type": "exact", "strip": True},
            tags=["math"],
        ),
        make(
            id="exact-1",
            version=2,
            input={"text": "2+2?"},
            expected={"output": "4"},
            grader={"type": "exact", "value": "four", "case_sensitive": False},
            tags=["math"],
            author="bob",
        ),
        make(
            id="contains-chat",
            input={
                "messages": [
                    {"role": "system", "content": "You answer refunds."},
                    {"role": "user", "content": "When is my refund due?"},
                ],
                "context": ["Refunds take 5 business days.", "Shipping takes 2 days."],
            },
            expected={"behaviour": "Cite the 5-day rule."},
            grader={"type": "contains", "values": ["5", "business days"], "mode": "all"},
        ),
        make(
            id="regex-1",
            input={"text": "Give me an order number"},
            grader={"type": "regex", "pattern": r"^ORD-\d{6}$", "flags": ["m", "i"]},
        ),
        make(
            id="schema-1",
            input={"text": "JSON please"},
            grader={
                "type": "json_schema",
                "schema": {"type": "object", "properties": {"days": {"type": "integer"}}},
            },
        ),
        make(
            id="semantic-1",
            input={"text": "Summarise"},
            grader={"type": "semantic", "threshold": 0.85, "reference": "A short summary."},
        ),
        make(
            id="judge-regression",
            input={"text": "Is it safe?"},
            expected={"behaviour": "Refer to a doctor."},
            grader={"type": "judge", "rubric": "helpfulness", "threshold": 4},
            tags=["regression", "safety"],
            regression=True,
            frozen=True,
            source={"project": "shop", "interaction_id": 7, "trace_id": "ab" * 16},
        ),
        make(
            id="retired-1",
            input={"text": "Old policy?"},
            expected={"output": "30 days"},
            grader={"type": "exact"},
            retired={"at": "2026-11-21T10:30:00.123456+00:00", "by": "carol", "reason": "policy"},
        ),
        make(
            id="unicode-1",
            input={"text": 'Größe? 日本語 🚀 "quoted" \\ back\nline'},
            expected={"output": "Ça va — très bien ✓"},
            grader={"type": "contains", "values": ["très", "✓"], "case_sensitive": True},
            tags=["ümlaut", "日本"],
            author="Zoë",
        ),
    ]


def file_bytes(cases: list[Case]) -> bytes:
    ordered = sorted(cases, key=lambda c: (c.id.encode(), c.version))
    return b"".join(case_line(c) for c in ordered)


def import_file(store: Store, path: Path, project: str = "shop") -> dict[str, int]:
    incoming = read_cases(path)
    with store.writing() as conn:
        plan = plan_import(conn, project, incoming)
        apply_import(conn, project, plan)
    return dict(plan.outcome)


def export(store: Store, project: str = "shop") -> bytes:
    with store.reading() as conn:
        found = stored.all_versions(conn, project)
    return file_bytes(found)


@pytest.fixture
def fresh_store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path / 'fresh.db'}")
    yield opened
    opened.close()


def test_export_import_export_gives_identical_bytes(
    store: Store, fresh_store: Store, tmp_path: Path
) -> None:
    original = file_bytes(golden_set())
    path = tmp_path / "golden.jsonl"
    path.write_bytes(original)
    assert import_file(store, path) == {"added": len(golden_set())}

    first = export(store)
    assert first == original
    (tmp_path / "first.jsonl").write_bytes(first)
    assert import_file(fresh_store, tmp_path / "first.jsonl") == {"added": len(golden_set())}
    assert export(fresh_store) == first
    # and importing the export into the store it came from changes nothing
    assert import_file(store, tmp_path / "first.jsonl") == {"unchanged": len(golden_set())}
    assert export(store) == first
    assert "日本語".encode() in first and b"\\u" not in first  # UTF-8, not escaped


def test_write_cases_writes_one_line_per_case(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    with path.open("wb") as handle:
        assert write_cases(golden_set(), handle) == len(golden_set())
    assert read_cases(path) == golden_set()


def test_a_stored_case_loads_back_equal(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "golden.jsonl"
    path.write_bytes(file_bytes(golden_set()))
    import_file(store, path)
    with store.reading() as conn:
        back = stored.all_versions(conn, "shop")
    assert sorted(back, key=lambda c: (c.id, c.version)) == sorted(
        golden_set(), key=lambda c: (c.id, c.version)
    )


BAD_LINES = [
    (b"{not json", r"golden\.jsonl:2: not JSON"),
    (b"[1, 2]", r"golden\.jsonl:2: a case is a JSON object, got list"),
    (
        b'{"id": "x", "input": {"text": "q"}, "grader": {"type": "regex", "pattern": "("}, '
        b'"author": "a", "created_at": "2026-11-20T09:00:00Z"}',
        r"golden\.jsonl:2: grader\.regex\.pattern: pattern does not compile",
    ),
    (
        b'{"id": "x", "input": {"text": "q"}, "grader": {"type": "contains", "values": ["a"]}, '
        b'"author": "", "created_at": "2026-11-20T09:00:00Z"}',
        r"golden\.jsonl:2: author: String should have at least 1 character",
    ),
    (
        b'{"id": "x", "input": {}, "grader": {"type": "contains", "values": ["a"]}, '
        b'"author": "a", "created_at": "2026-11-20T09:00:00Z"}',
        r"golden\.jsonl:2: input: input needs `text` or `messages`",
    ),
    (
        b'{"id": "x", "input": {"text": "q"}, "grader": {"type": "contains", "values": ["a"]}, '
        b'"author": "a", "created_at": "2026-11-20T09:00:00"}',
        r"golden\.jsonl:2: created_at: Input should have timezone info",
    ),
    (
        b'{"id": "x", "input": {"text": "q"}, "grader": {"type": "contains", "values": ["a"]}, '
        b'"author": "a", "created_at": "2026-11-20T09:00:00Z", "colour": "red"}',
        r"golden\.jsonl:2: colour: Extra inputs are not permitted",
    ),
]


@pytest.mark.parametrize(("line", "message"), BAD_LINES)
def test_a_bad_line_names_file_line_and_field_and_nothing_is_imported(
    sqlite_store: Store, tmp_path: Path, line: bytes, message: str
) -> None:
    good = file_bytes(golden_set()[:1])
    path = tmp_path / "golden.jsonl"
    path.write_bytes(good + line + b"\n" + file_bytes(golden_set()[2:3]))
    with pytest.raises(CaseFileError, match=message) as raised:
        import_file(sqlite_store, path)
    assert str(raised.value).startswith(f"{path}:2: ")
    with sqlite_store.reading() as conn:
        assert stored.all_versions(conn, "shop") == []


def test_a_changed_line_with_its_old_hash_is_an_error(tmp_path: Path) -> None:
    document = json.loads(case_line(golden_set()[0]))
    document["expected"]["output"] = "5"
    path = tmp_path / "golden.jsonl"
    path.write_text("\n" + json.dumps(document) + "\n")
    with pytest.raises(
        CaseFileError, match=r"golden\.jsonl:2: case: hash sha256:\w+ does not match"
    ):
        read_cases(path)


def test_the_same_id_and_version_twice_is_an_error(tmp_path: Path) -> None:
    cases = golden_set()
    path = tmp_path / "golden.jsonl"
    path.write_bytes(case_line(cases[0]) + case_line(cases[2]) + case_line(cases[0]))
    with pytest.raises(
        CaseFileError, match=r"case exact-1 version 1 appears twice \(cases 1 and 3\)"
    ):
        read_cases(path)


def test_a_missing_file_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(CaseFileError, match=r"nope\.jsonl: No such file"):
        read_cases(tmp_path / "nope.jsonl")


def test_the_committed_schema_is_the_models() -> None:
    assert SCHEMA_FILE.read_text() == json.dumps(case_json_schema(), indent=2) + "\n"


def test_every_exported_line_validates_against_the_committed_schema() -> None:
    schema = json.loads(SCHEMA_FILE.read_text())
    validator = jsonschema.Draft202012Validator(schema)
    validator.check_schema(schema)
    for line in file_bytes(golden_set()).splitlines():
        errors = list(validator.iter_errors(json.loads(line)))
        assert errors == [], line
    no_grader = {"id": "x", "input": {"text": "q"}, "author": "a", "created_at": T0.isoformat()}
    assert not validator.is_valid(no_grader)
    assert not validator.is_valid({**no_grader, "grader": {"type": "llm"}})


def test_a_hand_written_case_needs_only_an_id_an_input_and_a_grader(
    store: Store, tmp_path: Path
) -> None:
    line = {"id": "refund-days", "input": {"text": "Refund time?"}}
    line["grader"] = {"type": "contains", "values": ["5 days"]}
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text()))
    assert validator.is_valid(line)
    path = write_lines(tmp_path / "golden.jsonl", [line])
    before = datetime.now(UTC)
    [case] = read_cases(path)
    assert case.author == "unknown"
    assert before <= case.created_at <= datetime.now(UTC)
    assert import_file(store, path)["added"] == 1
    with store.reading() as conn:
        [back] = stored.all_versions(conn, "shop")
    assert (back.id, back.author) == ("refund-days", "unknown")


# -- import rules ------------------------------------------------------------------------


def seed(store: Store, tmp_path: Path) -> list[dict[str, Any]]:
    path = tmp_path / "seed.jsonl"
    path.write_bytes(file_bytes(golden_set()))
    import_file(store, path)
    return [json.loads(line) for line in path.read_bytes().splitlines()]


def line_of(documents: list[dict[str, Any]], case_id: str, version: int = 1) -> dict[str, Any]:
    return next(d for d in documents if d["id"] == case_id and d.get("version", 1) == version)


def write_lines(path: Path, documents: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in documents))
    return path


def test_reimporting_unchanged_lines_changes_nothing(store: Store, tmp_path: Path) -> None:
    documents = seed(store, tmp_path)
    without_hash = {k: v for k, v in line_of(documents, "regex-1").items() if k != "hash"}
    path = write_lines(tmp_path / "again.jsonl", [line_of(documents, "semantic-1"), without_hash])
    assert import_file(store, path) == {"unchanged": 2}


def test_a_hand_edit_without_hash_becomes_the_next_version(store: Store, tmp_path: Path) -> None:
    documents = seed(store, tmp_path)
    edited = {k: v for k, v in line_of(documents, "regex-1").items() if k != "hash"}
    edited["grader"] = {"type": "regex", "pattern": r"^ORD-\d{8}$"}
    edited["author"] = "dave"
    path = write_lines(tmp_path / "edit.jsonl", [edited])
    assert import_file(store, path) == {"new version": 1}
    with store.reading() as conn:
        versions = stored.case_versions(conn, "shop", "regex-1")
    assert [v.version for v in versions] == [1, 2]
    assert versions[1].author == "dave"
    assert versions[1].grader.model_dump()["pattern"] == r"^ORD-\d{8}$"
    assert versions[0].hash != versions[1].hash


def test_a_hand_edit_of_a_frozen_case_is_an_error_naming_it(store: Store, tmp_path: Path) -> None:
    documents = seed(store, tmp_path)
    edited = {k: v for k, v in line_of(documents, "judge-regression").items() if k != "hash"}
    edited["expected"] = {"behaviour": "Anything goes."}
    new = {"id": "brand-new", "input": {"text": "q"}, "author": "a"}
    new |= {"grader": {"type": "contains", "values": ["a"]}, "created_at": T0.isoformat()}
    path = write_lines(tmp_path / "edit.jsonl", [new, edited])
    with pytest.raises(
        CaseConflictError, match="nothing imported: case judge-regression is frozen"
    ):
        import_file(store, path)
    with store.reading() as conn:
        assert stored.case_versions(conn, "shop", "brand-new") == []
        assert len(stored.case_versions(conn, "shop", "judge-regression")) == 1


def test_other_content_under_a_stored_version_number_is_a_conflict(
    store: Store, tmp_path: Path
) -> None:
    documents = seed(store, tmp_path)
    changed = {k: v for k, v in line_of(documents, "semantic-1").items() if k != "hash"}
    changed["grader"] = {"type": "semantic", "threshold": 0.5, "reference": "x"}
    changed["hash"] = Case.model_validate(changed).hash  # a self-consistent line
    path = write_lines(tmp_path / "conflict.jsonl", [changed])
    with pytest.raises(
        CaseConflictError, match="case semantic-1 version 1 differs from the stored"
    ):
        import_file(store, path)
    changed["version"] = 3
    changed["hash"] = Case.model_validate({**changed, "hash": None}).hash
    write_lines(path, [changed])
    with pytest.raises(CaseConflictError, match="version 3 does not follow the stored version 1"):
        import_file(store, path)
    changed["version"] = 2
    write_lines(path, [changed])
    assert import_file(store, path) == {"new version": 1}


def test_a_line_that_retires_a_stored_case_retires_it(store: Store, tmp_path: Path) -> None:
    documents = seed(store, tmp_path)
    line = line_of(documents, "schema-1")
    line["retired"] = {"at": "2026-12-01T00:00:00Z", "by": "erin", "reason": "gone"}
    path = write_lines(tmp_path / "retire.jsonl", [line])
    assert import_file(store, path) == {"retired": 1}
    with store.reading() as conn:
        [case] = stored.case_versions(conn, "shop", "schema-1")
        active = {c.id for c in stored.latest_cases(conn, "shop")}
    assert case.retired is not None and case.retired.by == "erin"
    assert "schema-1" not in active


def test_a_hand_written_case_without_an_id_gets_one_from_its_input_and_imports_once(
    store: Store, tmp_path: Path
) -> None:
    line = {"input": {"text": "Refund time?"}, "grader": {"type": "contains", "values": ["5"]}}
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text()))
    assert validator.is_valid(line)
    path = write_lines(tmp_path / "golden.jsonl", [line])
    [first] = read_cases(path)
    [again] = read_cases(path)
    digest = hashlib.sha256(canonical_json({"text": "Refund time?", "context": []})).hexdigest()
    assert first.id == again.id == "case-" + digest[:12]
    # the same input written another way (context spelled out) is the same case
    spelled = {**line, "input": {"context": [], "text": "Refund time?"}}
    assert Case.model_validate(spelled).id == first.id
    assert Case.model_validate({**line, "id": "mine"}).id == "mine"
    assert import_file(store, path) == {"added": 1}
    assert import_file(store, path) == {"unchanged": 1}
