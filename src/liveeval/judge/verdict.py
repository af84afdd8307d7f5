"""Reading the judge's answer: a pure function from text to a verdict or the reason it is not one.

The answer is a JSON object with an explanation and a score (or a label), checked
against the rubric's scale. A score off the scale is an error, never clamped. Text
around the object (code fences, a sentence before it) is tolerated; anything else is
a `ParseFailure` that says what was wrong, which the grader can show the judge once.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from liveeval.judge.rubrics import Scale

_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Verdict:
    value: float | None  # the score; None on a labels scale
    label: str | None  # the label on a labels scale; None otherwise
    explanation: str | None


@dataclass(frozen=True, slots=True)
class ParseFailure:
    reason: str


def parse_verdict(text: str, scale: Scale) -> Verdict | ParseFailure:
    """The judge's verdict in `text`, validated against `scale`."""
    found = find_json_object(text)
    if isinstance(found, ParseFailure):
        return found
    return _validate(found, scale)


def find_json_object(text: str) -> dict[str, Any] | ParseFailure:
    """The JSON object in `text`: the whole text, a fenced block, or the first `{…}` in it."""
    stripped = text.strip()
    if not stripped:
        return ParseFailure("the answer is empty")
    candidates = [stripped, *(match.group(1).strip() for match in _FENCE.finditer(stripped))]
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    decoder = json.JSONDecoder()
    for start in (index for index, char in enumerate(stripped) if char == "{"):
        try:
            value, _ = decoder.raw_decode(stripped, start)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return ParseFailure(f"no JSON object found in the answer: {_preview(stripped)}")


def _validate(answer: dict[str, Any], scale: Scale) -> Verdict | ParseFailure:
    explanation = answer.get("explanation")
    if explanation is not None and not isinstance(explanation, str):
        explanation = json.dumps(explanation, ensure_ascii=False)
    if scale.kind == "labels":
        return _label(answer, scale, explanation)
    if "score" not in answer:
        return ParseFailure(f'the answer has no "score" (keys: {", ".join(answer) or "none"})')
    raw = answer["score"]
    score = _number(raw, allow_bool=scale.kind == "binary")
    if score is None:
        return ParseFailure(f'"score" is not a number: {raw!r}')
    if score not in scale.scores:
        allowed = ", ".join(str(s) for s in scale.scores)
        return ParseFailure(f"score {raw!r} is not on the {scale.kind} scale ({allowed})")
    return Verdict(value=float(score), label=None, explanation=explanation)


def _label(answer: dict[str, Any], scale: Scale, explanation: str | None) -> Verdict | ParseFailure:
    if "label" not in answer:
        return ParseFailure(f'the answer has no "label" (keys: {", ".join(answer) or "none"})')
    raw = answer["label"]
    if isinstance(raw, str):
        for label in scale.labels:
            if raw.strip().casefold() == label.casefold():
                return Verdict(value=None, label=label, explanation=explanation)
    allowed = ", ".join(scale.labels)
    return ParseFailure(f"label {raw!r} is not one of the rubric's labels ({allowed})")


def _number(raw: object, allow_bool: bool) -> float | None:
    """A JSON number, a string holding one, or (if allowed) a bool as 0/1; None otherwise."""
    if isinstance(raw, bool):
        return float(raw) if allow_bool else None
    if isinstance(raw, int | float):
        return float(raw)
    if isinstance(raw, str):
        try:
            return float(raw.strip())
        except ValueError:
            return None
    return None


def _preview(text: str, limit: int = 120) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")
