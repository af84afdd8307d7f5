from __future__ import annotations

import math
from typing import Any

import pytest

from liveeval.config.settings import ConfigError
from liveeval.routing.config import from_mapping


def task(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "arms": [
            {"name": "small", "model": "gpt-4o-mini", "role": "control"},
            {"name": "large", "model": "gpt-4o", "prompt_version": "v2", "params": {"t": 0.2}},
            {"name": "new", "model": "claude", "role": "canary"},
        ],
        "default": "small",
        "slices": ["language", "segment"],
        "min_share": 0.02,
        "half_life_outcomes": 100,
        "reward": {"quality_weight": 1.0, "score_name": "helpfulness", "quality_high": 5.0},
    }
    return base | changes


def error_of(**changes: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        from_mapping("support_answer", task(**changes))
    return str(caught.value)


def test_a_task_reads_from_its_toml_table() -> None:
    config = from_mapping("support_answer", task())
    assert config.task == "support_answer"
    assert config.arm_names == ("small", "large", "new")
    assert config.control == "small"
    assert config.canaries == ("new",)
    assert config.arms[1].params == {"t": 0.2}
    assert config.slices == ("language", "segment")
    assert config.decay == pytest.approx(math.pow(0.5, 1 / 100))
    assert config.floor_of("large") == 0.02
    assert config.reward.score_name == "helpfulness"


def test_an_unknown_key_is_named_with_its_place() -> None:
    message = error_of(arms=[{"name": "a", "model": "m", "temperature": 1}], default="a")
    assert "routing.tasks.support_answer.arms.0.temperature: Extra inputs" in message


def test_a_default_that_is_no_arm_is_an_error() -> None:
    assert "default 'huge' is not an arm (small, large, new)" in error_of(default="huge")


def test_a_canary_needs_a_control() -> None:
    arms = [{"name": "a", "model": "m"}, {"name": "b", "model": "n", "role": "canary"}]
    assert "a canary arm needs an arm with role 'control'" in error_of(arms=arms, default="a")


def test_repeated_arm_names_are_named() -> None:
    arms = [{"name": "a", "model": "m"}, {"name": "a", "model": "n"}]
    assert "arm names must be unique, repeated: a" in error_of(arms=arms, default="a")


def test_floors_must_fit_in_the_traffic() -> None:
    assert "min_share adds up to 1.2" in error_of(min_share=0.4)
    assert "min_share names unknown arms: nope" in error_of(min_share={"nope": 0.1})


def test_a_canary_floor_cannot_exceed_its_cap() -> None:
    message = error_of(min_share={"new": 0.1}, canary={"initial_share": 0.05})
    assert "min_share of canary 'new' (0.1) is above canary.initial_share (0.05)" in message


def test_forgetting_is_given_one_way() -> None:
    assert "give discount or half_life_outcomes, not both" in error_of(discount=0.99)


def test_penalties_need_a_score_reward() -> None:
    message = error_of(reward={"kind": "success", "cost_penalty_per_usd": 1.0})
    assert "penalties need kind 'score'" in message


def test_strings_are_not_numbers() -> None:
    assert "routing.tasks.support_answer.min_share" in error_of(min_share="0.1")
    assert "routing.tasks.support_answer.reward.kind" in error_of(reward={"kind": "stars"})
