from __future__ import annotations

import logging
import tomllib
from typing import Any

import pytest

from liveeval.config.checks import ChecksConfig
from liveeval.config.settings import ConfigError
from liveeval.evaluators import REGISTRY, CheckParams, CheckRegistry, CheckResult, CheckSuite
from liveeval.evaluators.empty import NotEmptyParams, not_empty
from liveeval.model import Interaction
from tests.evaluators.interactions import interaction, sentences

ENGLISH = " ".join(sentences("en", 3, start=40))
QUESTION = sentences("en", 1, start=50)[0]


def suite(toml: str = "", registry: CheckRegistry = REGISTRY) -> CheckSuite:
    data = tomllib.loads(toml).get("checks", {})
    return CheckSuite.from_config(ChecksConfig.model_validate(data), registry)


def names(results: list[CheckResult]) -> list[str]:
    return [result.name for result in results]


def test_no_config_runs_the_default_set() -> None:
    default = CheckSuite.from_config()
    assert [c.name for c in default.default] == [
        "not_empty",
        "refusal",
        "length",
        "language",
        "grounding",
    ]
    results = default.run(interaction(QUESTION, ENGLISH))
    assert names(results) == ["not_empty", "refusal", "length", "language"]  # no context
    assert all(result.passed for result in results)
    with_context = default.run(interaction(QUESTION, ENGLISH, documents=(ENGLISH,)))
    assert names(with_context)[-1] == "grounding"


ROUTES = """
[checks]
default = ["not_empty", "length"]

[checks.params.length]
max_output_chars = 2000

[[checks.routes.support]]
check = "json_schema"
name = "contract"
schema = { type = "object", required = ["answer"] }

[[checks.routes.support]]
check = "length"
max_output_chars = 50

[checks.routes.search]
extends_default = false
[[checks.routes.search.checks]]
check = "contains"
values = ["http"]

[checks.routes.chitchat]
exclude = ["length"]
"""


def test_each_route_gets_its_checks() -> None:
    routed = suite(ROUTES)
    long_json = '{"answer": "' + "x" * 100 + '"}'
    support = routed.run(interaction("q", long_json, route="support"))
    assert names(support) == ["not_empty", "length", "contract"]  # length replaced in place
    assert [r.passed for r in support] == [True, False, True]  # the route's max of 50 applies
    assert names(routed.run(interaction("q", "see https://x", route="search"))) == ["contains"]
    assert names(routed.run(interaction("q", "hi", route="chitchat"))) == ["not_empty"]
    for route in (None, "unknown"):
        results = routed.run(interaction("q", long_json, route=route))
        assert names(results) == ["not_empty", "length"]
        assert results[1].passed  # the [checks.params.length] max of 2000


def test_a_failing_contract_is_named_and_typed() -> None:
    routed = suite(ROUTES)
    evaluated = routed.evaluate(interaction("q", "not json", route="support"))
    contract = [(c, r) for c, r in evaluated if c.name == "contract"]
    assert len(contract) == 1
    configured, result = contract[0]
    assert (configured.check, result.name, result.label) == (
        "json_schema",
        "contract",
        "invalid_json",
    )


def test_a_plugin_check_is_registered_by_importing_its_module() -> None:
    toml = """
    [checks]
    plugins = ["tests.evaluators.plugin_checks"]
    default = ["not_empty"]
    [[checks.routes.orders]]
    check = "test_order_id"
    name = "order_id"
    prefix = "ORD-"
    """
    routed = suite(toml)
    results = routed.run(
        interaction("Where is my order?", "Order ORD-42 ships today.", route="orders")
    )
    assert [(r.name, r.passed) for r in results] == [("not_empty", True), ("order_id", True)]
    missing = routed.run(interaction("Where is my order?", "It ships today.", route="orders"))
    assert missing[1].explanation == "No ORD- id in the answer."


def test_content_checks_do_not_run_where_the_span_carried_no_content() -> None:
    """Not evaluated is not failed: without content, not_empty used to fail every call."""
    registry = CheckRegistry()

    def tokens(item: Interaction, params: CheckParams) -> CheckResult:
        return CheckResult.pass_("tokens", f"{item.usage.output} tokens.")

    registry.register("not_empty", not_empty, NotEmptyParams)
    registry.register("tokens", tokens, reads_content=False)
    checks = suite('[checks]\ndefault = ["not_empty", "tokens"]', registry)
    bare = interaction(None, None, input_messages=())
    assert not bare.content_captured
    assert names(checks.run(bare)) == ["tokens"]  # a metadata check still runs
    assert names(CheckSuite.from_config().run(bare)) == []
    empty = interaction(QUESTION, "")
    assert [(r.name, r.passed) for r in checks.run(empty)] == [
        ("not_empty", False),
        ("tokens", True),
    ]


def test_a_check_that_raises_becomes_an_error_result(caplog: pytest.LogCaptureFixture) -> None:
    registry = CheckRegistry()

    def broken(item: Interaction, params: CheckParams) -> CheckResult:
        raise KeyError("answer")

    def confused(item: Interaction, params: CheckParams) -> Any:
        return 0.5

    def fine(item: Interaction, params: CheckParams) -> CheckResult:
        return CheckResult.pass_("whatever", "fine.")

    registry.register("broken", broken)
    registry.register("confused", confused)
    registry.register("fine", fine)
    checks = suite('[checks]\ndefault = ["broken", "confused", "fine"]', registry)
    with caplog.at_level(logging.WARNING, logger="liveeval.evaluators.suite"):
        results = checks.run(interaction("q", "a"))
    assert [(r.name, r.passed, r.value, r.label) for r in results] == [
        ("broken", False, None, "error"),
        ("confused", False, None, "error"),
        ("fine", True, 1.0, "pass"),  # renamed to its configured name
    ]
    assert results[0].details["error"] == "KeyError: 'answer'"
    assert results[0].details["at"].endswith("in broken")
    assert results[1].details["error"] == "returned float, not a CheckResult or None"
    assert "check 'broken' raised KeyError" in caplog.text


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            '[checks]\ndefault = ["not_empty", "refsual"]',
            "checks.default[1]: unknown check 'refsual' (known: ",
        ),
        (
            '[checks]\n[[checks.routes.support]]\ncheck = "json_schema"\nname = "contract"\n'
            'shcema = { type = "object" }',
            "checks.routes.support.checks[0].shcema (contract): Extra inputs are not permitted",
        ),
        (
            '[checks]\n[[checks.routes.support]]\ncheck = "json_schema"\nschema = { type = 3 }',
            "checks.routes.support.checks[0] (json_schema): not a valid JSON Schema at type",
        ),
        (
            '[checks.params.length]\nmax_output_chars = "lots"',
            "checks.params.length.max_output_chars (length): Input should be a valid integer, "
            "unable to parse string as an integer (got 'lots')",
        ),
        (
            "[checks.params.lenght]\nmax_output_chars = 10",
            "checks.params.lenght: unknown check 'lenght'",
        ),
        (
            '[checks]\nplugins = ["tests.evaluators.no_such_module"]',
            "checks.plugins[0]: cannot import 'tests.evaluators.no_such_module': "
            "ModuleNotFoundError",
        ),
        (
            '[checks]\ndefault = ["language"]\n[checks.params.language]\nlanguages = ["en", "xx"]',
            "checks.params.language.languages (language): unknown language code(s): xx",
        ),
    ],
)
def test_config_errors_name_the_place_the_check_and_the_field(toml: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        suite(toml)
    assert message in str(raised.value)
    assert str(raised.value).startswith("invalid checks config: ")


def test_every_error_is_reported_at_once() -> None:
    toml = '[checks]\ndefault = ["nope", "length"]\n[checks.params.length]\nmax_input_chars = -1'
    with pytest.raises(ConfigError) as raised:
        suite(toml)
    text = str(raised.value)
    assert "checks.default[0]: unknown check 'nope'" in text
    assert (
        "checks.params.length.max_input_chars (length): Input should be greater than or equal to 0"
        in text
    )
