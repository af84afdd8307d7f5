"""Cheap checks run on every interaction at ingest: pure functions, no model calls.

Each check is a function `(interaction, params) -> CheckResult | None` registered
under a name with the pydantic model of its params; built-ins register the
same way a user's plugin does (`register_check`). `CheckSuite.from_config`
builds the per-route selection from `[checks]` in liveeval.toml.
"""

from liveeval.evaluators import (  # noqa: F401  (importing registers the built-in checks)
    empty,
    grounding,
    language,
    length,
    patterns,
    refusal,
    schema,
)
from liveeval.evaluators.registry import (
    REGISTRY,
    CheckFunction,
    CheckParams,
    CheckRegistry,
    CheckSpec,
    register_check,
)
from liveeval.evaluators.result import CheckResult
from liveeval.evaluators.suite import CheckSuite, ConfiguredCheck, run_check
from liveeval.evaluators.texts import estimate_tokens, full_input, model_output, user_input

__all__ = [
    "REGISTRY",
    "CheckFunction",
    "CheckParams",
    "CheckRegistry",
    "CheckResult",
    "CheckSpec",
    "CheckSuite",
    "ConfiguredCheck",
    "estimate_tokens",
    "full_input",
    "model_output",
    "register_check",
    "run_check",
    "user_input",
]
