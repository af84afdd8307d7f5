"""Grading one output of the app under test with its case's grader.

`grade` gives a `Grade` (passed, a score, one line of why) for a quality verdict, and
raises `GradeError` only when no verdict could be had (the judge unreachable or its
answer unusable, no judge configured, an unknown rubric): that is an infrastructure
error, never a silent fail.

Texts are compared in Unicode NFC, so "é" typed as one code point or as "e" and a
combining accent are the same text; case-insensitive comparisons use `str.casefold`
("Straße" equals "STRASSE").

The judge grader grades through `liveeval.judge.grading.Grader` and its usual prompt,
which has no slot for a reference answer: the expected behaviour (and the expected
output, when the case has one) goes to the judge as the last retrieved-context document,
whose text begins with the title "Expected behaviour". The case's own retrieved context
comes before it. Rubrics that read the context (faithfulness) therefore also see it.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from liveeval.features.encoder import TextEncoder, load_encoder_or_fallback
from liveeval.judge import grading
from liveeval.judge.material import offline_interaction
from liveeval.judge.rubrics import Rubric
from liveeval.model import Interaction, Message, RetrievedDocument
from liveeval.model.case import (
    Case,
    ContainsGrader,
    ExactGrader,
    JsonSchemaGrader,
    JudgeGrader,
    RegexGrader,
    SemanticGrader,
)

__all__ = ["Grade", "GradeError", "GradingContext", "case_interaction", "grade"]

EXPECTED_TITLE = "Expected behaviour"
_SHOWN = 80
_REGEX_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL}


@dataclass(frozen=True, slots=True)
class Grade:
    passed: bool
    # 0..1 for exact/contains/regex/json_schema (1.0/0.0), the cosine for semantic,
    # the judge's score for judge
    score: float | None
    detail: str  # why, one line


class GradeError(Exception):
    """No verdict could be had (judge unreachable or unparseable): infrastructure."""


@dataclass
class GradingContext:
    """What graders share across a run: the encoder, the judge and its rubrics."""

    encoder: TextEncoder | None = None  # loaded lazily by semantic graders when None
    judge: grading.Grader | None = None  # None: judge graders raise GradeError
    rubrics: Mapping[str, Rubric] = field(default_factory=dict)
    _encoder_lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False, compare=False)


async def grade(case: Case, output: str, context: GradingContext) -> Grade:
    """The case's grader applied to `output`."""
    grader = case.grader
    if isinstance(grader, ExactGrader):
        return grade_exact(grader, output, _reference(grader.value, case))
    if isinstance(grader, ContainsGrader):
        return grade_contains(grader, output)
    if isinstance(grader, RegexGrader):
        return grade_regex(grader, output)
    if isinstance(grader, JsonSchemaGrader):
        return grade_json_schema(grader, output)
    if isinstance(grader, SemanticGrader):
        encoder = await _encoder(context)
        reference = _reference(grader.reference, case)
        return await asyncio.to_thread(grade_semantic, grader, output, reference, encoder)
    return await grade_judge(case, grader, output, context)


def grade_exact(grader: ExactGrader, output: str, expected: str) -> Grade:
    got, want = _nfc(output), _nfc(expected)
    if grader.strip:
        got, want = got.strip(), want.strip()
    if not grader.case_sensitive:
        got, want = got.casefold(), want.casefold()
    if got == want:
        return Grade(True, 1.0, "equal to the expected output")
    return Grade(False, 0.0, f"expected {_show(want)}, got {_show(got)}")


def grade_contains(grader: ContainsGrader, output: str) -> Grade:
    fold = (lambda text: text) if grader.case_sensitive else str.casefold
    haystack = fold(_nfc(output))
    found = [value for value in grader.values if fold(_nfc(value)) in haystack]
    missing = [value for value in grader.values if value not in found]
    if grader.mode == "all":
        passed, detail = not missing, f"missing {_listed(missing)}"
    elif grader.mode == "any":
        passed, detail = bool(found), f"none of {_listed(grader.values)}"
    else:
        passed, detail = not found, f"contains {_listed(found)}"
    if passed:
        detail = {
            "all": "contains all of them",
            "any": f"contains {_listed(found)}",
            "none": "contains none of them",
        }[grader.mode]
    return Grade(passed, 1.0 if passed else 0.0, detail)


def grade_regex(grader: RegexGrader, output: str) -> Grade:
    flags = 0
    for flag in grader.flags:
        flags |= _REGEX_FLAGS[flag]
    match = re.search(grader.pattern, output, flags)
    if grader.must_match:
        if match:
            return Grade(True, 1.0, f"matches at {match.start()}: {_show(match.group(0))}")
        return Grade(False, 0.0, f"no match for /{grader.pattern}/")
    if match:
        return Grade(
            False, 0.0, f"must not match /{grader.pattern}/, matches {_show(match.group(0))}"
        )
    return Grade(True, 1.0, f"no match for /{grader.pattern}/, as required")


def grade_json_schema(grader: JsonSchemaGrader, output: str) -> Grade:
    """The output parses as strict JSON (no NaN) and is valid; the detail names where not."""
    import jsonschema  # imported here: only JSON-schema graders need it

    try:
        instance = json.loads(output, parse_constant=_refuse_constant)
    except ValueError as exc:
        return Grade(False, 0.0, f"not JSON: {exc}")
    validator_class = jsonschema.validators.validator_for(grader.schema_)
    validator = validator_class(grader.schema_, format_checker=validator_class.FORMAT_CHECKER)
    error = jsonschema.exceptions.best_match(validator.iter_errors(instance))
    if error is None:
        return Grade(True, 1.0, "valid JSON under the schema")
    return Grade(False, 0.0, f"at {error.json_path}: {_one_line(error.message)}")


def grade_semantic(
    grader: SemanticGrader, output: str, reference: str, encoder: TextEncoder
) -> Grade:
    """Cosine of the two embeddings against the threshold; an empty text has cosine 0.

    The score is the cosine clipped to the grader's scale 0..1: rounding puts a text and
    itself a hair above 1 (1.0000000000000002), and unrelated texts can have a negative
    cosine. The detail shows the cosine as computed.
    """
    vectors = np.asarray(encoder.encode([output, reference]), dtype=np.float64)
    norms = np.linalg.norm(vectors, axis=1)
    if norms[0] == 0 or norms[1] == 0:
        cosine = 0.0
    else:
        cosine = float(vectors[0] @ vectors[1] / (norms[0] * norms[1]))
    if not math.isfinite(cosine):
        raise GradeError(f"the encoder {encoder.name} gave a vector that is not finite")
    score = min(1.0, max(0.0, cosine))
    passed = score >= grader.threshold
    sign = ">=" if passed else "<"
    return Grade(passed, score, f"similarity {cosine:.2f} {sign} {grader.threshold:g}")


async def grade_judge(
    case: Case, grader: JudgeGrader, output: str, context: GradingContext
) -> Grade:
    """The judge's score on the rubric, passing at `threshold` or above."""
    if context.judge is None:
        raise GradeError(f"case {case.id}: a judge grader needs a judge, and none is configured")
    rubric = context.rubrics.get(grader.rubric)
    if rubric is None:
        known = ", ".join(sorted(context.rubrics)) or "none"
        raise GradeError(f"case {case.id}: no rubric {grader.rubric!r} (known: {known})")
    if rubric.scale.kind == "labels":
        raise GradeError(
            f"case {case.id}: rubric {rubric.name!r} answers with labels, not a score to "
            "compare with a threshold"
        )
    judgment = await context.judge.grade(rubric, case_interaction(case, output))
    if judgment.status != "ok" or judgment.value is None:
        raise GradeError(f"case {case.id}: the judge gave no verdict: {judgment.error}")
    score = judgment.value
    passed = score >= grader.threshold
    sign = ">=" if passed else "<"
    why = f": {_one_line(judgment.explanation)}" if judgment.explanation else ""
    return Grade(passed, score, f"judge {rubric.name} {score:g} {sign} {grader.threshold:g}{why}")


def case_interaction(case: Case, output: str, at: datetime | None = None) -> Interaction:
    """The case and the output as an interaction for the judge, the expectation as context."""
    request = case.input
    messages = tuple(Message(role=m.role, content=m.content) for m in request.messages or ())
    documents = [RetrievedDocument(content=text) for text in request.context]
    expectation = expected_document(case)
    if expectation is not None:
        documents.append(RetrievedDocument(content=expectation, id=EXPECTED_TITLE))
    return offline_interaction(
        "gate",
        "regression",
        input_text=request.text,
        input_messages=messages,
        output_text=output,
        context=tuple(documents),
        metadata={"case_id": case.id, "case_version": case.version},
        at=at,
    )


def expected_document(case: Case) -> str | None:
    """The expected behaviour and output as one titled document; None when neither is set."""
    parts = []
    if case.expected.behaviour is not None:
        parts.append(case.expected.behaviour)
    if case.expected.output is not None:
        parts.append(f"A reference answer:\n{case.expected.output}")
    if not parts:
        return None
    return f"{EXPECTED_TITLE} (what a reviewer expects of the response):\n" + "\n\n".join(parts)


async def _encoder(context: GradingContext) -> TextEncoder:
    """The context's encoder, loading the default once (in a thread: it may take minutes)."""
    if context.encoder is not None:
        return context.encoder
    async with context._encoder_lock:
        if context.encoder is None:
            context.encoder = await asyncio.to_thread(load_encoder_or_fallback, "static")
        return context.encoder


def _reference(value: str | None, case: Case) -> str:
    reference = value if value is not None else case.expected.output
    if reference is None:  # Case validation rules this out
        raise GradeError(f"case {case.id}: the grader has no reference to compare with")
    return reference


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _show(text: str) -> str:
    """A text for a one-line detail: quoted, escaped, cut."""
    shown = repr(text[:_SHOWN])
    return shown + ("…" if len(text) > _SHOWN else "")


def _listed(values: Any) -> str:
    return ", ".join(_show(value) for value in values)


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= 200 else line[:200] + "…"


def _refuse_constant(constant: str) -> None:
    raise ValueError(f"{constant} is not a number JSON allows")
