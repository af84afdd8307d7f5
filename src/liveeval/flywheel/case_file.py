"""Golden-set files: JSONL, one case a line, written so that export → import → export
gives the same bytes.

A line is the case as `liveeval.model.case.Case` validates it (docs/case.schema.json
is generated from that model): keys in the model's order, `null`s left out, UTF-8,
`\\n` after every line. A malformed line is an error naming its line number and the
field; nothing of a file with a bad line is imported.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import orjson
from pydantic import ValidationError

from liveeval.model.case import Case

SCHEMA_ID = "https://liveeval.dev/schemas/case.schema.json"


class CaseFileError(ValueError):
    """A case file could not be read; the message names the file and line."""


def case_line(case: Case) -> bytes:
    return orjson.dumps(case_document(case)) + b"\n"


def case_document(case: Case) -> dict[str, Any]:
    document: dict[str, Any] = case.model_dump(mode="json", by_alias=True, exclude_none=True)
    return document


def write_cases(cases: Iterable[Case], handle: IO[bytes]) -> int:
    written = 0
    for case in cases:
        handle.write(case_line(case))
        written += 1
    return written


def parse_case(line: bytes | str, where: str) -> Case:
    try:
        document = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise CaseFileError(f"{where}: not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise CaseFileError(f"{where}: a case is a JSON object, got {type(document).__name__}")
    try:
        return Case.model_validate(document)
    except ValidationError as exc:
        raise CaseFileError(f"{where}: {describe(exc)}") from None


def iter_case_lines(lines: Iterable[bytes], name: str) -> Iterator[Case]:
    for number, line in enumerate(lines, start=1):
        if line.strip():
            yield parse_case(line, f"{name}:{number}")


def read_cases(path: str | Path) -> list[Case]:
    """Every case in a JSONL file; raises CaseFileError at the first bad line, or on a
    case id that appears twice at the same version."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            cases = list(iter_case_lines(handle, str(path)))
    except OSError as exc:
        raise CaseFileError(f"{path}: {exc.strerror or exc}") from None
    seen: dict[tuple[str, int], int] = {}
    for index, case in enumerate(cases):
        key = (case.id, case.version)
        if key in seen:
            raise CaseFileError(
                f"{path}: case {case.id} version {case.version} appears twice "
                f"(cases {seen[key] + 1} and {index + 1})"
            )
        seen[key] = index
    return cases


def describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        location = ".".join(str(p) for p in error["loc"]) or "case"
        message = error["msg"].removeprefix("Value error, ")
        parts.append(f"{location}: {message}")
    return "; ".join(parts)


def case_json_schema() -> dict[str, Any]:
    """The JSON Schema of one line, from the model (docs/case.schema.json holds a copy)."""
    schema = Case.model_json_schema(by_alias=True, mode="validation")
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
    }
    schema["title"] = "liveeval golden-set case (one JSONL line)"
    return schema
