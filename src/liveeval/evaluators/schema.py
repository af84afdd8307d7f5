"""json_schema: the output is JSON that validates against the route's response contract."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import orjson
from jsonschema import exceptions, validators
from jsonschema.protocols import Validator
from pydantic import Field, PrivateAttr, model_validator

from liveeval.evaluators.registry import CheckParams, register_check
from liveeval.evaluators.result import CheckResult
from liveeval.evaluators.texts import model_output
from liveeval.model import Interaction

NAME = "json_schema"
_FENCE = re.compile(r"\A\s*```[\w-]*\s*\n(.*?)\n?\s*```\s*\Z", re.DOTALL)


class JsonSchemaParams(CheckParams):
    contract: dict[str, Any] | None = Field(
        default=None, alias="schema", description="The JSON Schema, inline."
    )
    schema_file: Path | None = Field(
        default=None, description="A JSON file holding the schema (relative to the working dir)."
    )
    strip_code_fence: bool = Field(
        default=True, description="Accept JSON wrapped in a ``` fence (```json ... ```)."
    )
    check_formats: bool = Field(default=False, description='Enforce "format" (email, date, …).')
    max_errors: int = Field(default=5, ge=1, description="Validation errors listed in details.")
    _validator: Validator | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _compile(self) -> JsonSchemaParams:
        if self.contract is not None and self.schema_file is not None:
            raise ValueError("give `schema` or `schema_file`, not both")
        schema = self.contract
        if self.schema_file is not None:
            try:
                schema = json.loads(self.schema_file.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise ValueError(f"schema_file {self.schema_file}: {exc}") from None
            if not isinstance(schema, dict):
                raise ValueError(f"schema_file {self.schema_file}: not a JSON object")
        if schema is None:
            return self
        cls = validators.validator_for(schema)
        try:
            cls.check_schema(schema)
        except exceptions.SchemaError as exc:
            where = "/".join(str(p) for p in exc.absolute_path) or "(root)"
            raise ValueError(f"not a valid JSON Schema at {where}: {exc.message}") from None
        checker = cls.FORMAT_CHECKER if self.check_formats else None
        self._validator = cls(schema, format_checker=checker)
        return self

    @property
    def validator(self) -> Validator | None:
        return self._validator


def parse_output(text: str, strip_code_fence: bool) -> Any:
    if strip_code_fence and "```" in text:
        fenced = _FENCE.match(text)
        if fenced:
            text = fenced.group(1)
    return orjson.loads(text)


@register_check(NAME, params=JsonSchemaParams)
def json_schema(interaction: Interaction, params: JsonSchemaParams) -> CheckResult | None:
    """The output parses as JSON and validates against the schema (no schema: not run)."""
    validator = params.validator
    if validator is None:
        return None
    try:
        document = parse_output(model_output(interaction), params.strip_code_fence)
    except orjson.JSONDecodeError as exc:
        return CheckResult.fail(
            NAME, f"The output is not JSON: {exc}.", {"parse_error": str(exc)}, "invalid_json"
        )
    errors = sorted(validator.iter_errors(document), key=lambda e: e.json_path)
    if not errors:
        return CheckResult.pass_(NAME, "The output is JSON that matches the schema.")
    listed = [{"path": e.json_path, "message": e.message} for e in errors[: params.max_errors]]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return CheckResult.fail(
        NAME,
        f"The output does not match the schema: {listed[0]['path']}: {listed[0]['message']}{more}.",
        {"errors": listed, "error_count": len(errors)},
        "schema_mismatch",
    )
