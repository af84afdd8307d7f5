"""Case validation, its content hash and the snapshot hash of a set of cases."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from liveeval.model.case import (
    Case,
    FrozenCaseError,
    Retirement,
    content_hash,
    snapshot_hash,
    with_changes,
)

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def document(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "refund-1",
        "input": {"text": "When is my refund due?"},
        "expected": {"output": "Within 5 business days.", "behaviour": "Give the 5-day rule."},
        "grader": {"type": "contains", "values": ["5 business days"]},
        "author": "alice",
        "created_at": T0.isoformat(),
    }
    base.update(changes)
    return base


def case(**changes: Any) -> Case:
    return Case.model_validate(document(**changes))


VALID_GRADERS = [
    {"type": "exact"},
    {"type": "exact", "value": "Within 5 business days.", "case_sensitive": False},
    {"type": "contains", "values": ["5", "days"], "mode": "any"},
    {"type": "regex", "pattern": r"\b5\b", "flags": ["i"], "must_match": True},
    {"type": "json_schema", "schema": {"type": "object", "required": ["days"]}},
    {"type": "semantic", "threshold": 0.8},
    {"type": "semantic", "threshold": 1, "reference": "five days"},
    {"type": "judge", "rubric": "helpfulness", "threshold": 4},
]


@pytest.mark.parametrize("grader", VALID_GRADERS, ids=lambda g: str(g["type"]))
def test_every_grader_type_accepts_a_valid_spec(grader: dict[str, Any]) -> None:
    made = case(grader=grader)
    assert made.grader.type == grader["type"]
    assert made.hash == content_hash(made)


INVALID_GRADERS = [
    ({"type": "exact"}, {"output": None}, "an exact grader needs `value` or an expected output"),
    ({"type": "contains", "values": []}, None, "grader.contains.values"),
    ({"type": "contains", "values": [""]}, None, "at least 1 character"),
    ({"type": "contains", "values": ["x"], "mode": "some"}, None, "grader.contains.mode"),
    ({"type": "regex", "pattern": "("}, None, "pattern does not compile"),
    ({"type": "regex", "pattern": "a", "flags": ["x"]}, None, "grader.regex.flags"),
    ({"type": "json_schema", "schema": {"type": "nonsense"}}, None, "not a valid JSON Schema"),
    ({"type": "semantic", "threshold": 0}, None, "greater than 0"),
    ({"type": "semantic", "threshold": 1.5}, None, "less than or equal to 1"),
    (
        {"type": "semantic", "threshold": 0.5},
        {"output": None},
        "a semantic grader needs `reference` or an expected output",
    ),
    ({"type": "judge", "rubric": "", "threshold": 3}, None, "at least 1 character"),
    (
        {"type": "judge", "rubric": "helpfulness", "threshold": 3},
        {"output": None, "behaviour": None},
        "a judge grader needs the expected behaviour or an expected output",
    ),
    ({"type": "llm"}, None, "does not match any of the expected tags"),
    ({"values": ["x"]}, None, "Unable to extract tag using discriminator 'type'"),
    ({"type": "exact", "value": "x", "extra": 1}, None, "Extra inputs are not permitted"),
]


@pytest.mark.parametrize(("grader", "expected", "message"), INVALID_GRADERS)
def test_an_invalid_grader_is_refused_with_a_message(
    grader: dict[str, Any], expected: dict[str, Any] | None, message: str
) -> None:
    changes: dict[str, Any] = {"grader": grader}
    if expected is not None:
        changes["expected"] = {k: v for k, v in expected.items() if v is not None}
    with pytest.raises(ValidationError, match=message):
        case(**changes)


def test_input_needs_text_or_messages() -> None:
    with pytest.raises(ValidationError, match="input needs `text` or `messages`"):
        case(input={"context": ["doc"]})
    made = case(input={"messages": [{"role": "user", "content": "hi"}], "context": ["doc"]})
    assert made.input.messages is not None and made.input.context == ("doc",)


def test_a_bad_case_id_is_refused() -> None:
    with pytest.raises(ValidationError, match="id"):
        case(id="-starts with a dash")


def test_a_regression_case_must_be_frozen() -> None:
    with pytest.raises(ValidationError, match="a regression case is always frozen"):
        case(regression=True)
    assert case(regression=True, frozen=True).frozen


def test_a_hash_that_does_not_match_a_changed_line_is_an_error() -> None:
    written = case()
    assert written.hash is not None
    assert case(hash=written.hash) == written
    with pytest.raises(ValidationError, match="does not match the content"):
        case(hash=written.hash, tags=["edited"])
    with pytest.raises(ValidationError, match="does not match the content"):
        case(hash=written.hash, input={"text": "When is my refund due??"})


def test_content_hash_is_stable_and_covers_only_the_content() -> None:
    first = case()
    assert content_hash(first) == content_hash(case())
    # a pinned value: the hash must not drift between releases for the same content
    assert content_hash(first) == first.hash and first.hash.startswith("sha256:")
    assert len(first.hash) == len("sha256:") + 64
    # author, time, version and id are not content
    other = case(id="other", version=3, author="bob", created_at="2027-01-01T00:00:00+00:00")
    assert content_hash(other) == content_hash(first)
    assert content_hash(case(tags=["x"])) != content_hash(first)
    assert content_hash(case(expected={"output": "Other."})) != content_hash(first)


def test_snapshot_hash_ignores_order_and_changes_on_retirement_and_new_versions() -> None:
    a, b = case(id="a"), case(id="b", input={"text": "other"})
    before = snapshot_hash([a, b])
    assert snapshot_hash([b, a]) == before
    retired = b.model_copy(update={"retired": Retirement(at=T0, by="al", reason="obsolete")})
    assert snapshot_hash([a, retired]) == snapshot_hash([a]) != before
    b2 = with_changes(b, {"tags": ["new"]}, "bob", T0)
    assert b2.version == 2
    assert snapshot_hash([a, b2]) != before
    assert snapshot_hash([]) != before


def test_with_changes_makes_the_next_version_with_a_fresh_hash() -> None:
    first = case()
    second = with_changes(first, {"expected": {"output": "In 5 days."}}, "bob", T0)
    assert (second.version, second.author, second.id) == (2, "bob", first.id)
    assert second.hash == content_hash(second) != first.hash


def test_with_changes_on_a_frozen_case_raises() -> None:
    frozen = case(regression=True, frozen=True)
    with pytest.raises(FrozenCaseError, match="case refund-1 is frozen"):
        with_changes(frozen, {"tags": ["x"]}, "bob", T0)


def test_with_changes_that_break_the_case_raise() -> None:
    with pytest.raises(ValidationError, match="pattern does not compile"):
        with_changes(case(), {"grader": {"type": "regex", "pattern": "("}}, "bob", T0)
