"""A calibration set: items with human scores, read from a JSONL file to check the judge.

One JSON object a line (blank lines are skipped):

    {"id": "q1", "input": "...", "output": "...", "human_scores": [4, 5, 4],
     "raters": ["ana", "bo", "cy"], "judge_score": 4, "context": ["..."],
     "rubric": "quality", "metadata": {"source": "support"}}

`human_score` (one number) may stand for `human_scores`. A `judge_score` is a score a
judge gave already; when every item has one, calibrating calls no model. An unknown
field is an error naming it and its line, so that a typo (`human_socre`) cannot pass
silently; so are a duplicate id and a score off the rubric's scale. Every error in the
file is reported at once, each with file:line.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from liveeval.judge.material import offline_interaction
from liveeval.model import Interaction, RetrievedDocument

MAX_ERRORS_SHOWN = 20

CALIBRATION_ITEM_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://liveeval.dev/schemas/calibration-item.json",
    "title": "liveeval calibration item",
    "description": "One line of a calibration set: an output with human scores, and "
    "optionally the score a judge already gave it.",
    "type": "object",
    "properties": {
        "id": {"type": "string", "minLength": 1, "description": "Unique in the file."},
        "input": {"type": "string", "description": "What the app was asked."},
        "output": {"type": "string", "description": "What the app answered."},
        "human_scores": {
            "type": "array",
            "items": {"type": "number"},
            "minItems": 1,
            "description": "Each rater's score, on the rubric's scale.",
        },
        "human_score": {"type": "number", "description": "One rater's score."},
        "raters": {
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "minItems": 1,
            "uniqueItems": True,
            "description": "Who gave each of human_scores, in the same order (as many "
            "names as scores: the reader checks what JSON Schema cannot).",
        },
        "judge_score": {"type": "number", "description": "A judge's score, given already."},
        "context": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Retrieved documents the output was grounded on.",
        },
        "rubric": {"type": "string", "minLength": 1, "description": "The rubric scored."},
        "metadata": {"type": "object", "description": "Anything else; kept, not read."},
    },
    "required": ["id", "input", "output"],
    "oneOf": [{"required": ["human_scores"]}, {"required": ["human_score"]}],
    "dependentRequired": {"raters": ["human_scores"]},
    "additionalProperties": False,
}

FIELDS = tuple(CALIBRATION_ITEM_SCHEMA["properties"])


class CalibrationSetError(ValueError):
    """The calibration file cannot be used; `errors` holds one "file:line: what" each."""

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = list(errors)
        shown = self.errors[:MAX_ERRORS_SHOWN]
        more = len(self.errors) - len(shown)
        super().__init__("\n".join(shown + ([f"… and {more} more"] if more > 0 else [])))


@dataclass(frozen=True, slots=True)
class CalibrationItem:
    id: str
    input: str
    output: str
    human_scores: tuple[float, ...]
    line: int  # where it is in the file, for messages
    raters: tuple[str, ...] | None = None
    judge_score: float | None = None
    context: tuple[str, ...] = ()
    rubric: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


class _ItemLine(BaseModel):
    """One line as it crosses the file boundary; strict, so "4" is not a 4."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

    id: str = Field(min_length=1)
    input: str
    output: str
    human_scores: list[float] | None = Field(default=None, min_length=1)
    human_score: float | None = None
    raters: list[str] | None = Field(default=None, min_length=1)
    judge_score: float | None = None
    context: list[str] = Field(default_factory=list)
    rubric: str | None = Field(default=None, min_length=1)
    metadata: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_way_to_give_scores(self) -> _ItemLine:
        if (self.human_scores is None) == (self.human_score is None):
            raise ValueError("give exactly one of human_scores (a list) or human_score")
        if self.raters is not None:
            if self.human_scores is None:
                raise ValueError("raters: goes with human_scores, not human_score")
            if len(self.raters) != len(self.human_scores):
                raise ValueError(
                    f"raters: {len(self.raters)} names for {len(self.human_scores)} human_scores"
                )
            if len(set(self.raters)) != len(self.raters):
                raise ValueError("raters: a rater is named twice")
            if any(not name.strip() for name in self.raters):
                raise ValueError("raters: a name is blank")
        return self


def read_calibration_set(
    path: str | Path, levels: Sequence[float] | None = None
) -> list[CalibrationItem]:
    """The items of a calibration JSONL file, in file order.

    With `levels` (the rubric's scale), every score is also checked against it (see
    `check_scale`). Raises CalibrationSetError listing every problem with file:line.
    """
    source = Path(path)
    try:
        raw = source.read_bytes()
    except FileNotFoundError:
        raise CalibrationSetError([f"{source}: no such file"]) from None
    except OSError as exc:
        raise CalibrationSetError([f"{source}: cannot read it: {exc.strerror}"]) from None
    items: list[CalibrationItem] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(raw.splitlines(), start=1):
        where = f"{source}:{number}"
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            errors.append(f"{where}: not UTF-8 (byte {exc.start})")
            continue
        if not text.strip():
            continue
        parsed = _parse_line(text, where)
        if isinstance(parsed, list):
            errors.extend(parsed)
            continue
        if parsed.id in seen:
            errors.append(f"{where}: id {parsed.id!r} is already used on line {seen[parsed.id]}")
            continue
        seen[parsed.id] = number
        items.append(_item(parsed, number))
    if not items and not errors:
        errors.append(f"{source}: no items (the file is empty)")
    if levels is not None:
        errors.extend(_scale_errors(items, levels, source))
    if errors:
        raise CalibrationSetError(errors)
    return items


def check_scale(
    items: Sequence[CalibrationItem], levels: Sequence[float], source: str | Path
) -> None:
    """Every score is a number from the scale's lowest level to its highest.

    A score between two levels (an average of several ratings) is allowed: statistics
    that need levels round it. Raises CalibrationSetError with file:line.
    """
    errors = _scale_errors(items, levels, Path(source))
    if errors:
        raise CalibrationSetError(errors)


def item_interaction(item: CalibrationItem, at: datetime | None = None) -> Interaction:
    """The item as an interaction a judge can grade: input, output and context as text."""
    return offline_interaction(
        "calibration",
        "calibration",
        input_text=item.input or None,
        output_text=item.output,
        context=tuple(RetrievedDocument(content=text) for text in item.context),
        metadata={"calibration_id": item.id, **item.metadata},
        at=at,
    )


def _parse_line(text: str, where: str) -> _ItemLine | list[str]:
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except ValueError as exc:
        return [f"{where}: not valid JSON: {exc}"]
    if not isinstance(value, dict):
        return [f"{where}: expected a JSON object, got {type(value).__name__}"]
    try:
        return _ItemLine.model_validate(value)
    except ValidationError as exc:
        return [f"{where}: {_describe(error)}" for error in exc.errors()]


def _describe(error: Any) -> str:
    loc = error["loc"]
    name = ".".join(str(part) for part in loc)
    if error["type"] == "extra_forbidden":
        return f"unknown field {name!r} (known: {', '.join(FIELDS)})"
    if error["type"] == "missing":
        return f"field {name!r} is missing"
    message = str(error["msg"]).removeprefix("Value error, ")
    if not loc:
        return message
    return f"field {name!r}: {message} (got {json.dumps(error.get('input'))[:60]})"


def _refuse_constant(constant: str) -> None:
    raise ValueError(f"{constant} is not a number JSON allows")


def _item(line: _ItemLine, number: int) -> CalibrationItem:
    scores = line.human_scores if line.human_scores is not None else [line.human_score]
    return CalibrationItem(
        id=line.id,
        input=line.input,
        output=line.output,
        human_scores=tuple(float(s) for s in scores if s is not None),
        line=number,
        raters=tuple(line.raters) if line.raters is not None else None,
        judge_score=line.judge_score,
        context=tuple(line.context),
        rubric=line.rubric,
        metadata=dict(line.metadata),
    )


def _scale_errors(
    items: Sequence[CalibrationItem], levels: Sequence[float], source: Path
) -> list[str]:
    low, high = min(levels), max(levels)
    scale = f"the scale {low:g}-{high:g}"
    errors = []
    for item in items:
        where = f"{source}:{item.line}"
        for index, score in enumerate(item.human_scores):
            if not low <= score <= high:
                field_name = (
                    f"human_scores[{index}]" if len(item.human_scores) > 1 else "human score"
                )
                errors.append(f"{where}: {field_name} is {score:g}, outside {scale}")
        if item.judge_score is not None and not low <= item.judge_score <= high:
            errors.append(f"{where}: judge_score is {item.judge_score:g}, outside {scale}")
    return errors
