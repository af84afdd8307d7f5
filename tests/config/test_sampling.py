from __future__ import annotations

import re
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from liveeval.config.sampling import (
    DEFAULT_TRIGGER_SIGNALS,
    SamplingConfig,
    format_window,
    parse_window,
)
from liveeval.model import SignalKind

DOCS = Path(__file__).resolve().parents[2] / "docs" / "sampling.md"


def keys_of(model: type[BaseModel], prefix: str) -> set[str]:
    keys = set()
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys |= keys_of(annotation, f"{prefix}.{name}")
        else:
            keys.add(f"{prefix}.{name}")
    return keys


def test_every_sampling_key_is_documented_and_every_documented_key_exists() -> None:
    rows = [line for line in DOCS.read_text().splitlines() if line.startswith("| `sampling.")]
    documented = {row.split("`")[1] for row in rows}
    assert documented == keys_of(SamplingConfig, "sampling")


def test_the_documented_example_is_valid() -> None:
    example = re.search(r"```toml\n(.*?)```", DOCS.read_text(), re.DOTALL)
    assert example is not None
    config = SamplingConfig.model_validate(tomllib.loads(example.group(1))["sampling"])
    assert config.stratified.floor_for("route", "billing") == 30
    assert config.stratified.window == timedelta(hours=1)
    assert config.budget.max_cost_usd_per_day == 25.0


def test_defaults() -> None:
    config = SamplingConfig()
    assert config.policies == ("signal", "stratified", "uncertainty", "uniform")
    assert config.uniform.rate == 0.02
    assert config.signal.kinds == DEFAULT_TRIGGER_SIGNALS
    assert set(config.signal.kinds) == {
        "regenerated",
        "thumbs_down",
        "schema_invalid",
        "escalated",
        "abandoned",
    }
    assert config.signal.on_failed_checks
    assert config.stratified.window == timedelta(days=1)
    assert config.budget.max_judgments_per_day == 1000
    assert config.budget.max_cost_usd_per_day is None


def test_a_toml_section_is_read_into_typed_values() -> None:
    section = tomllib.loads(
        """
        [sampling]
        policies = ["uniform", "signal"]
        [sampling.signal]
        kinds = ["report", "thumbs_down"]
        [sampling.stratified]
        window = "15m"
        floors = { "segment" = 2 }
        [sampling.budget]
        max_judgments_per_day = "none"
        [sampling.budget.shares]
        uniform = 0.5
        """
    )["sampling"]
    config = SamplingConfig.model_validate(section)
    assert config.policies == ("uniform", "signal")
    assert config.signal.kinds == (SignalKind.REPORT, SignalKind.THUMBS_DOWN)
    assert config.stratified.window == timedelta(minutes=15)
    assert config.stratified.floor_for("segment", "enterprise") == 2
    assert config.budget.max_judgments_per_day is None
    assert config.budget.shares.uniform == 0.5


@pytest.mark.parametrize(
    ("text", "seconds", "label"),
    [("15m", 900, "15m"), ("1h", 3600, "1h"), (" 1d ", 86400, "1d"), ("90m", 5400, "90m")],
)
def test_windows_are_read_and_labelled(text: str, seconds: int, label: str) -> None:
    window = parse_window(text)
    assert window == timedelta(seconds=seconds)
    assert format_window(window) == label


@pytest.mark.parametrize(
    ("section", "location", "message"),
    [
        ({"uniform": {"rate": 1.5}}, "uniform.rate", "less than or equal to 1"),
        ({"uniform": {"rate": -0.1}}, "uniform.rate", "greater than or equal to 0"),
        ({"uniform": {"rat": 0.1}}, "uniform.rat", "Extra inputs are not permitted"),
        ({"uncertainty": {"threshold": 2}}, "uncertainty.threshold", "less than or equal to 1"),
        ({"uncertainty": {"rate": "often"}}, "uncertainty.rate", "valid number"),
        ({"stratified": {"window": "1 hour"}}, "stratified.window", "like '15m', '1h' or '1d'"),
        ({"stratified": {"window": "30s"}}, "stratified.window", "whole number of minutes"),
        ({"stratified": {"window": "8d"}}, "stratified.window", "at most 7d"),
        ({"stratified": {"window": "0m"}}, "stratified.window", "at least 1m"),
        ({"stratified": {"floor": -1}}, "stratified.floor", "greater than or equal to 0"),
        ({"stratified": {"dimensions": ["tenant"]}}, "stratified.dimensions.0", "'model'"),
        (
            {"stratified": {"dimensions": ["route", "route"]}},
            "stratified.dimensions",
            "must not repeat",
        ),
        (
            {"stratified": {"floors": {"langauge=fi": 3}}},
            "stratified.floors",
            "key 'langauge=fi' names no dimension",
        ),
        (
            {"stratified": {"dimensions": ["route"], "floors": {"model": 3}}},
            "stratified.floors",
            "key 'model' names no dimension of dimensions (route)",
        ),
        ({"stratified": {"floors": {"route=": 3}}}, "stratified.floors", "empty value"),
        (
            {"stratified": {"floors": {"route=billing": -2}}},
            "stratified.floors.route=billing",
            "greater than or equal to 0",
        ),
        ({"signal": {"kinds": ["thumbs_sideways"]}}, "signal.kinds.0", "'thumbs_up'"),
        ({"policies": ["uniform", "random"]}, "policies.1", "'signal'"),
        ({"policies": ["uniform", "uniform"]}, "policies", "must not repeat"),
        (
            {"budget": {"max_judgments_per_day": -5}},
            "budget.max_judgments_per_day",
            "greater than or equal to 0",
        ),
        (
            {"budget": {"max_cost_usd_per_day": "lots"}},
            "budget.max_cost_usd_per_day",
            "valid number",
        ),
        (
            {"budget": {"shares": {"uniform": 0.95}}},
            "budget.shares",
            "uniform (0.95) must not exceed uncertainty (0.8)",
        ),
        ({"budget": {"shares": {"signal": 1.2}}}, "budget.shares.signal", "less than or equal"),
    ],
)
def test_a_bad_value_is_refused_naming_its_field(
    section: dict[str, Any], location: str, message: str
) -> None:
    with pytest.raises(ValidationError) as error:
        SamplingConfig.model_validate(section)
    problems = {
        ".".join(str(part) for part in problem["loc"]): problem["msg"]
        for problem in error.value.errors()
    }
    assert location in problems, problems
    assert message in problems[location]


def test_the_config_is_immutable() -> None:
    config = SamplingConfig()
    with pytest.raises(ValidationError):
        config.uniform.rate = 0.5  # type: ignore[misc]
