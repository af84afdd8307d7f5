from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from liveeval.config.checks import DEFAULT_CHECKS, CheckEntry, ChecksConfig
from liveeval.evaluators import REGISTRY, CheckSuite

DOCS = Path(__file__).resolve().parents[2] / "docs" / "checks.md"


def load(toml: str) -> ChecksConfig:
    return ChecksConfig.model_validate(tomllib.loads(toml).get("checks", {}))


def test_defaults_need_no_config() -> None:
    config = ChecksConfig()
    assert [entry.check for entry in config.default] == list(DEFAULT_CHECKS)
    assert DEFAULT_CHECKS == ("not_empty", "refusal", "length", "language", "grounding")
    assert (config.plugins, config.params, config.routes) == ((), {}, {})


def test_entries_take_a_string_or_a_table_with_params_beside_the_keys() -> None:
    config = load(
        '[checks]\ndefault = ["not_empty", '
        '{ check = "regex", name = "ticket", pattern = "T-\\\\d+" }]'
    )
    assert config.default[0] == CheckEntry(check="not_empty")
    ticket = config.default[1]
    assert (ticket.check, ticket.name, ticket.result_name) == ("regex", "ticket", "ticket")
    assert ticket.params == {"pattern": "T-\\d+"}
    nested = CheckEntry.model_validate({"check": "regex", "params": {"pattern": "x"}})
    assert nested.params == {"pattern": "x"}


def test_routes_take_a_list_or_a_table() -> None:
    config = load(
        """
        [[checks.routes.support]]
        check = "length"
        max_output_chars = 10
        [checks.routes.search]
        extends_default = false
        checks = [{ check = "not_empty" }]
        """
    )
    support, search = config.routes["support"], config.routes["search"]
    assert (support.extends_default, support.checks[0].params) == (True, {"max_output_chars": 10})
    assert (search.extends_default, search.checks[0].check) == (False, "not_empty")


@pytest.mark.parametrize(
    ("toml", "location", "message"),
    [
        ("[checks]\nplugin = []", "plugin", "Extra inputs are not permitted"),
        ('[checks]\ndefault = "not_empty"', "default", "valid tuple"),
        ('[checks]\ndefault = ["length", "length"]', "default", "two checks are named 'length'"),
        ('[checks]\ndefault = [{ name = "x" }]', "default.0.check", "Field required"),
        ('[checks]\ndefault = ["not empty"]', "default.0.check", "is not a check name"),
        (
            '[checks]\ndefault = [{ check = "regex", pattern = "a", params = { pattern = "b" } }]',
            "default.0",
            "params given both inline and in `params`: pattern",
        ),
        ('[checks]\nplugins = ["my-checks"]', "plugins", "'my-checks' is not a Python module path"),
        (
            '[checks.routes.support]\nexclude = ["langauge"]',
            "",
            "routes.support.exclude: 'langauge' not among the default checks",
        ),
        (
            '[checks.routes.support]\nextends_default = false\nexclude = ["language"]',
            "routes.support",
            "`exclude` only applies when extends_default = true",
        ),
        (
            '[[checks.routes.support]]\ncheck = "regex"\n'
            '[[checks.routes.support]]\ncheck = "regex"',
            "routes.support.checks",
            "two checks are named 'regex'",
        ),
    ],
)
def test_shape_errors_name_their_location(toml: str, location: str, message: str) -> None:
    with pytest.raises(ValidationError) as raised:
        load(toml)
    errors = raised.value.errors()
    places = [".".join(str(part) for part in error["loc"]) for error in errors]
    assert location in places, places
    assert any(message in error["msg"] for error in errors), errors


def _docs_example() -> dict[str, Any]:
    text = DOCS.read_text(encoding="utf-8")
    block = re.search(r"```toml\n(.*?)```", text, re.DOTALL)
    assert block is not None
    return tomllib.loads(block.group(1))["checks"]


def test_the_documented_example_is_valid() -> None:
    example = _docs_example()
    assert example["plugins"] == ["mycompany.checks"]
    example["plugins"] = []  # the example's plugin module does not exist here
    suite = CheckSuite.from_config(ChecksConfig.model_validate(example))
    assert [c.name for c in suite.checks_for("support")][-2:] == ["no_competitors", "contract"]
    assert [c.name for c in suite.checks_for("search")] == ["has_link"]
    assert "grounding" not in [c.name for c in suite.checks_for("smalltalk")]


@pytest.mark.parametrize(
    "name",
    [
        "not_empty",
        "refusal",
        "length",
        "language",
        "grounding",
        "json_schema",
        "regex",
        "contains",
        "not_contains",
    ],
)
def test_every_param_of_a_built_in_check_is_documented(name: str) -> None:
    text = DOCS.read_text(encoding="utf-8")
    spec = REGISTRY.get(name)
    assert spec is not None
    assert f"`{name}`" in text
    for field_name, field in spec.params.model_fields.items():
        key = field.alias or field_name
        assert f"| `{key}` |" in text, f"{name}.{key} is missing from docs/checks.md"
