from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from liveeval.config.judge import JudgeConfig

DOCS = Path(__file__).resolve().parents[2] / "docs" / "judge.md"


def from_toml(text: str) -> JudgeConfig:
    return JudgeConfig.model_validate(tomllib.loads(text).get("judge", {}))


def problems(values: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        JudgeConfig.model_validate(values)
    return "; ".join(
        ".".join(str(part) for part in error["loc"]) + ": " + error["msg"]
        for error in caught.value.errors()
    )


def test_every_judge_setting_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("\n## Settings\n")[1].split("\n## ")[0]
    rows = {line.split("`")[1] for line in section.splitlines() if line.startswith("| `")}
    assert rows == set(JudgeConfig.model_fields)


def test_by_default_nothing_is_judged() -> None:
    config = JudgeConfig()
    assert (config.provider, config.enabled, config.run) == ("none", False, ("quality",))
    assert (config.temperature, config.concurrency, config.max_attempts) == (0.0, 8, 4)
    assert (config.rpm, config.tpm, config.price) == (None, None, None)


def test_a_full_section_is_read_from_toml() -> None:
    config = from_toml(
        """
[judge]
provider = "openai"
model = "gpt-4o-mini-2024-07-18"
base_url = "http://localhost:8000/v1"
api_key_env = "VLLM_KEY"
headers = { "X-Team" = "evals" }
run = ["quality", "faithfulness", "tone"]
max_tokens = 300
timeout_s = 20
max_attempts = 5
concurrency = 4
rpm = 500
tpm = 200000
structured_output = "json_object"

[judge.price]
input_per_mtok = 0.15
output_per_mtok = 0.6

[judge.rubrics.tone]
template = "Is the tone friendly and professional?"
scale = "labels"
labels = ["friendly", "neutral", "rude"]
version = "2"
"""
    )
    assert config.enabled
    assert config.pinned_model == "gpt-4o-mini-2024-07-18"
    assert config.resolved_api_key_env == "VLLM_KEY"
    assert config.headers == {"X-Team": "evals"}
    assert config.run == ("quality", "faithfulness", "tone")
    assert (config.rpm, config.tpm, config.resolved_structured_output) == (
        500,
        200_000,
        "json_object",
    )
    assert config.price is not None and config.price.output_per_mtok == 0.6
    assert config.rubrics["tone"].labels == ("friendly", "neutral", "rude")


def test_provider_defaults() -> None:
    assert JudgeConfig(provider="openai", model="m").resolved_api_key_env == "OPENAI_API_KEY"
    assert JudgeConfig(provider="anthropic", model="m").resolved_api_key_env == "ANTHROPIC_API_KEY"
    local = JudgeConfig(provider="local")
    assert local.pinned_model == "SmolLM2-135M-Instruct"
    assert local.resolved_structured_output == "json_object"
    assert local.resolved_api_key_env is None
    assert JudgeConfig(provider="openai", model="m").resolved_structured_output == "json_schema"


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"provider": "openai"}, "model: required when provider = 'openai'"),
        ({"provider": "gemini", "model": "m"}, "provider: Input should be 'none', 'openai'"),
        ({"provider": "openai", "model": "m", "api_key_env": "sk-proj-abc123"}, "api_key_env: "),
        ({"modle": "m"}, "modle: Extra inputs are not permitted"),
        ({"concurrency": 0}, "concurrency: Input should be greater than or equal to 1"),
        ({"rpm": 0}, "rpm: Input should be greater than 0"),
        ({"temperature": 3}, "temperature: Value error, must be between 0 and 2"),
        ({"temperature": "hot"}, "temperature.literal['default']: Input should be 'default'"),
        ({"structured_output": "xml"}, "structured_output: Input should be 'json_schema'"),
        ({"run": ["quality", "tone"]}, "run: unknown rubric 'tone'"),
        ({"run": ["quality", "quality"]}, "run: a rubric is listed twice"),
        ({"price": {"input_per_mtok": -1, "output_per_mtok": 1}}, "price.input_per_mtok"),
        (
            {"rubrics": {"quality": {"template": "x"}}},
            "rubrics: Value error, 'quality' is a built-in",
        ),
        (
            {"rubrics": {"Tone!": {"template": "x"}}},
            "rubrics: Value error, 'Tone!': use lower-case",
        ),
        ({"rubrics": {"tone": {"template": ""}}}, "rubrics.tone.template: String should have"),
        ({"rubrics": {"tone": {"template": "x", "scale": "labels"}}}, 'labels: scale "labels"'),
        (
            {"rubrics": {"tone": {"template": "x", "labels": ["a", "b"]}}},
            "labels: only allowed with",
        ),
        (
            {"rubrics": {"tone": {"template": "x", "scale": "labels", "labels": ["A", "a"]}}},
            "labels: labels must differ",
        ),
        ({"provider": "local", "base_url": "http://x"}, "base_url: not used with provider"),
    ],
)
def test_errors_name_the_field(values: dict[str, Any], expected: str) -> None:
    assert expected in problems(values)


def test_the_api_key_itself_is_refused_with_advice() -> None:
    message = problems({"provider": "openai", "model": "m", "api_key_env": "sk-proj-abc123"})
    assert "not the key itself" in message
