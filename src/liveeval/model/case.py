"""Golden-set cases: what the app was asked, what it should do, and how to grade it.

A case is immutable. Editing one makes a new *version* with the same id; a case
promoted from a production failure is a *regression* case and is *frozen*: it
can be retired with a reason, never changed or deleted. `content_hash` covers
what a run depends on (input, expected, grader, tags, regression), so a CI run
can state exactly which cases it ran; `snapshot_hash` does the same for a set.

The same model validates a JSONL line, a REST body and a stored row; the JSON
Schema published in docs/case.schema.json is generated from it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

CASE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$"
MAX_TEXT_CHARS = 1_000_000
UNKNOWN_AUTHOR = "unknown"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChatMessage(_Strict):
    role: Literal["system", "user", "assistant", "tool"]
    content: str = Field(max_length=MAX_TEXT_CHARS)


class CaseInput(_Strict):
    """The request: plain text, or the chat messages, plus retrieved context when there was some."""

    text: str | None = Field(default=None, max_length=MAX_TEXT_CHARS)
    messages: tuple[ChatMessage, ...] | None = Field(default=None, min_length=1)
    context: tuple[str, ...] = Field(default=(), description="Retrieved documents, in order.")

    @model_validator(mode="after")
    def _has_a_request(self) -> CaseInput:
        if self.text is None and self.messages is None:
            raise ValueError("input needs `text` or `messages`")
        return self


class Expected(_Strict):
    """What a good answer is: a reference output, the expected behaviour in words, or both."""

    output: str | None = Field(default=None, max_length=MAX_TEXT_CHARS)
    behaviour: str | None = Field(
        default=None,
        max_length=20_000,
        description="The expected behaviour as a reviewer wrote it (the judge grader's reference).",
    )


class ExactGrader(_Strict):
    """The output equals `value` (default: the expected output)."""

    type: Literal["exact"]
    value: str | None = None
    case_sensitive: bool = True
    strip: bool = True


class ContainsGrader(_Strict):
    """The output contains all / any / none of `values`."""

    type: Literal["contains"]
    values: tuple[Annotated[str, Field(min_length=1)], ...] = Field(min_length=1)
    mode: Literal["all", "any", "none"] = "all"
    case_sensitive: bool = False


class RegexGrader(_Strict):
    """The output matches `pattern` (Python `re.search`), or must not when `must_match` is false."""

    type: Literal["regex"]
    pattern: str = Field(min_length=1, max_length=10_000)
    flags: tuple[Literal["i", "m", "s"], ...] = ()
    must_match: bool = True

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str) -> str:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"pattern does not compile: {exc}") from None
        return pattern


class JsonSchemaGrader(_Strict):
    """The output parses as JSON and is valid under `schema`."""

    type: Literal["json_schema"]
    schema_: dict[str, Any] = Field(alias="schema")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("schema_")
    @classmethod
    def _valid_schema(cls, schema: dict[str, Any]) -> dict[str, Any]:
        import jsonschema  # imported here: only JSON-schema graders need it

        try:
            jsonschema.validators.validator_for(schema).check_schema(schema)
        except jsonschema.SchemaError as exc:
            raise ValueError(f"not a valid JSON Schema: {exc.message}") from None
        return schema


class SemanticGrader(_Strict):
    """Cosine similarity of output and reference embeddings is at least `threshold`."""

    type: Literal["semantic"]
    threshold: float = Field(gt=0, le=1)
    reference: str | None = Field(default=None, description="Default: the expected output.")


class JudgeGrader(_Strict):
    """The judge's score on `rubric`, given the expected behaviour, is at least `threshold`."""

    type: Literal["judge"]
    rubric: str = Field(min_length=1, max_length=100)
    threshold: float


Grader = Annotated[
    ExactGrader | ContainsGrader | RegexGrader | JsonSchemaGrader | SemanticGrader | JudgeGrader,
    Field(discriminator="type"),
]
GRADER_TYPES = ("exact", "contains", "regex", "json_schema", "semantic", "judge")


class CaseSource(_Strict):
    """The production interaction a case came from."""

    project: str
    interaction_id: int | None = None
    trace_id: str | None = None
    review_item_id: int | None = None


class Retirement(_Strict):
    at: AwareDatetime
    by: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=2_000)


def _no_default(schema: dict[str, Any]) -> None:
    """The empty default only means "derive it"; the schema says so in words instead."""
    schema.pop("default", None)


def input_case_id(case_input: CaseInput) -> str:
    """The id of a case written without one: stable for the same input however spelled."""
    document = case_input.model_dump(mode="json", exclude_none=True)
    return "case-" + hashlib.sha256(canonical_json(document)).hexdigest()[:12]


class Case(_Strict):
    """One version of one golden-set case."""

    id: str = Field(
        default="",
        pattern=CASE_ID_PATTERN,
        description="A hand-written line may leave it out: then `case-` and the first 12 hex "
        "digits of the sha256 of the input's canonical JSON, the same on every read.",
        json_schema_extra=_no_default,
    )
    version: int = Field(default=1, ge=1)
    input: CaseInput
    expected: Expected = Expected()
    grader: Grader
    tags: tuple[Annotated[str, Field(min_length=1, max_length=100)], ...] = ()
    regression: bool = Field(
        default=False, description="Promoted from a production failure: frozen, must keep passing."
    )
    frozen: bool = Field(default=False, description="No new version may be made; only retired.")
    source: CaseSource | None = None
    author: str = Field(
        default=UNKNOWN_AUTHOR,
        min_length=1,
        max_length=200,
        description="Who wrote this version; a hand-written line may leave it out.",
    )
    created_at: AwareDatetime = Field(
        default_factory=lambda: datetime.now(UTC),
        description="When this version was written; a hand-written line may leave it out "
        "(then: when it was read).",
    )
    retired: Retirement | None = None
    hash: str | None = Field(
        default=None, description="sha256 of the content; checked on import when present."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Case:
        if not self.id:
            object.__setattr__(self, "id", input_case_id(self.input))
        if self.regression and not self.frozen:
            raise ValueError("a regression case is always frozen")
        _check_reference(self)
        expected_hash = content_hash(self)
        if self.hash is not None and self.hash != expected_hash:
            raise ValueError(
                f"hash {self.hash} does not match the content ({expected_hash}): "
                "the case was changed after it was written; give it a new version instead"
            )
        if self.hash is None:
            object.__setattr__(self, "hash", expected_hash)
        return self

    @property
    def active(self) -> bool:
        return self.retired is None


def _check_reference(case: Case) -> None:
    grader = case.grader
    if isinstance(grader, ExactGrader) and grader.value is None and case.expected.output is None:
        raise ValueError("an exact grader needs `value` or an expected output")
    if (
        isinstance(grader, SemanticGrader)
        and grader.reference is None
        and case.expected.output is None
    ):
        raise ValueError("a semantic grader needs `reference` or an expected output")
    if (
        isinstance(grader, JudgeGrader)
        and case.expected.behaviour is None
        and (case.expected.output is None)
    ):
        raise ValueError("a judge grader needs the expected behaviour or an expected output")


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no spaces: the bytes every hash is taken over."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def content_hash(case: Case) -> str:
    content = case.model_dump(
        mode="json",
        by_alias=True,
        include={"input", "expected", "grader", "tags", "regression"},
        exclude_none=True,
    )
    return "sha256:" + hashlib.sha256(canonical_json(content)).hexdigest()


def snapshot_hash(cases: Iterable[Case]) -> str:
    """One hash for a set of cases: which ids, at which versions, with which content.

    Retired cases are left out (a run does not run them), so retiring one changes
    the snapshot. Order does not matter.
    """
    entries = sorted(f"{c.id}\t{c.version}\t{c.hash}" for c in cases if c.active)
    return "sha256:" + hashlib.sha256("\n".join(entries).encode()).hexdigest()


def with_changes(case: Case, changes: dict[str, Any], author: str, at: datetime) -> Case:
    """The next version of `case` with `changes` applied; a frozen case has no next version."""
    if case.frozen:
        raise FrozenCaseError(case.id)
    if case.retired is not None:
        raise ValueError(f"case {case.id} is retired")
    data = case.model_dump(mode="json", by_alias=True, exclude_none=True)
    data.update(changes)
    data.update(version=case.version + 1, author=author, created_at=at.isoformat())
    data.pop("hash", None)
    return Case.model_validate(data)


class FrozenCaseError(ValueError):
    def __init__(self, case_id: str) -> None:
        super().__init__(
            f"case {case_id} is frozen (a regression case): it can be retired with a reason, "
            "never changed"
        )
        self.case_id = case_id
