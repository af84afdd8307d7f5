from __future__ import annotations

import json
from pathlib import Path

import pytest

from liveeval.evaluators.schema import JsonSchemaParams, json_schema
from tests.evaluators.interactions import interaction

CONTRACT = {
    "type": "object",
    "required": ["answer", "confidence"],
    "properties": {
        "answer": {"type": "string"},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
    },
}


def params(**values: object) -> JsonSchemaParams:
    return JsonSchemaParams.model_validate({"schema": CONTRACT, **values})


def test_output_matching_the_contract_passes() -> None:
    result = json_schema(interaction("q", '{"answer": "Yes", "confidence": 0.9}'), params())
    assert result is not None and (result.passed, result.value, result.label) == (True, 1.0, "pass")


def test_json_in_a_code_fence_is_read() -> None:
    fenced = '```json\n{"answer": "Yes", "confidence": 0.9}\n```'
    assert json_schema(interaction("q", fenced), params()).passed  # type: ignore[union-attr]
    assert not json_schema(interaction("q", fenced), params(strip_code_fence=False)).passed  # type: ignore[union-attr]


def test_output_that_is_not_json_fails_as_invalid_json() -> None:
    result = json_schema(interaction("q", "Sure! The answer is yes."), params())
    assert result is not None
    assert (result.passed, result.value, result.label) == (False, 0.0, "invalid_json")
    assert "parse_error" in result.details


def test_schema_violations_are_listed_with_their_path() -> None:
    result = json_schema(interaction("q", '{"answer": 3, "confidence": 7}'), params())
    assert result is not None and result.label == "schema_mismatch"
    assert result.details["error_count"] == 2
    assert result.details["errors"] == [
        {"path": "$.answer", "message": "3 is not of type 'string'"},
        {"path": "$.confidence", "message": "7 is greater than the maximum of 1"},
    ]
    assert result.explanation == (
        "The output does not match the schema: $.answer: 3 is not of type 'string' (and 1 more)."
    )


def test_without_a_schema_the_check_does_not_apply() -> None:
    assert json_schema(interaction("q", "anything"), JsonSchemaParams()) is None


def test_schema_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "contract.json"
    path.write_text(json.dumps(CONTRACT))
    file_params = JsonSchemaParams(schema_file=path)
    assert not json_schema(interaction("q", '{"answer": "x"}'), file_params).passed  # type: ignore[union-attr]


def test_formats_are_checked_when_asked() -> None:
    schema = {"type": "object", "properties": {"email": {"type": "string", "format": "email"}}}
    output = '{"email": "not an email"}'
    loose = JsonSchemaParams.model_validate({"schema": schema})
    strict = JsonSchemaParams.model_validate({"schema": schema, "check_formats": True})
    assert json_schema(interaction("q", output), loose).passed  # type: ignore[union-attr]
    assert not json_schema(interaction("q", output), strict).passed  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"schema": {"type": "objekt"}}, r"not a valid JSON Schema at type: 'objekt' is not valid"),
        ({"schema": {"a": 1}, "schema_file": "x.json"}, "give `schema` or `schema_file`, not both"),
        ({"schema_file": "/nonexistent/contract.json"}, "schema_file /nonexistent/contract.json"),
    ],
)
def test_bad_schemas_are_config_errors(values: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        JsonSchemaParams.model_validate(values)
