from __future__ import annotations

import pytest
from pydantic import BaseModel

from liveeval.evaluators import REGISTRY, CheckParams, CheckRegistry, CheckResult, register_check
from liveeval.model import Interaction

BUILT_IN = {
    "json_schema",
    "not_empty",
    "refusal",
    "length",
    "language",
    "grounding",
    "regex",
    "contains",
    "not_contains",
}


def test_built_ins_register_through_the_same_registry() -> None:
    assert set(REGISTRY.names()) >= BUILT_IN
    for name in BUILT_IN:
        spec = REGISTRY.get(name)
        assert spec is not None and spec.description
        assert spec.params.model_config.get("extra") == "forbid"


def test_register_check_uses_the_function_name_by_default() -> None:
    registry = CheckRegistry()

    @register_check(registry=registry)
    def polite(interaction: Interaction, params: CheckParams) -> CheckResult | None:
        """Says please."""
        return None

    spec = registry.get("polite")
    assert spec is not None
    assert (spec.function, spec.params, spec.description) == (polite, CheckParams, "Says please.")


def test_a_name_cannot_be_taken_twice_unless_replaced() -> None:
    registry = CheckRegistry()

    def first(interaction: Interaction, params: CheckParams) -> None:
        return None

    def second(interaction: Interaction, params: CheckParams) -> None:
        return None

    registry.register("mine", first)
    with pytest.raises(ValueError, match="a check named 'mine' is already registered by"):
        registry.register("mine", second)
    registry.register("mine", second, replace=True)
    assert registry.get("mine").function is second  # type: ignore[union-attr]


def test_params_models_must_forbid_unknown_keys() -> None:
    class Loose(BaseModel):
        threshold: float = 0.5

    with pytest.raises(TypeError, match="must forbid unknown keys"):
        CheckRegistry().register("loose", lambda i, p: None, Loose)
