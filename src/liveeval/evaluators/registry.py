"""The check registry: a name → a pure function and the pydantic model of its params.

Built-in checks register here exactly as a user's own do::

    from liveeval.evaluators import CheckParams, CheckResult, register_check

    class OrderIdParams(CheckParams):
        prefix: str = "ORD-"

    @register_check("order_id", params=OrderIdParams)
    def order_id(interaction, params):
        ...  # return a CheckResult, or None where the check does not apply

and `[checks] plugins = ["mycompany.checks"]` imports that module at start-up.

A check reads the call's content unless registered with `reads_content=False` (one that
looks only at metadata: tokens, cost, the model): on an interaction whose span carried
no content (`Interaction.content_captured`), a content check is not run at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict

from liveeval.evaluators.result import CheckResult
from liveeval.model import Interaction

CheckFunction = Callable[[Interaction, Any], CheckResult | None]
F = TypeVar("F", bound=Callable[..., CheckResult | None])


class CheckParams(BaseModel):
    """Base of every check's params: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True, slots=True)
class CheckSpec:
    name: str
    function: CheckFunction
    params: type[BaseModel]
    description: str
    reads_content: bool = True


def _origin(function: Callable[..., Any]) -> str:
    return f"{function.__module__}.{function.__qualname__}"


class CheckRegistry:
    """Registered checks by name."""

    def __init__(self) -> None:
        self._checks: dict[str, CheckSpec] = {}

    def register(
        self,
        name: str,
        function: CheckFunction,
        params: type[BaseModel] = CheckParams,
        *,
        replace: bool = False,
        reads_content: bool = True,
    ) -> CheckSpec:
        if params.model_config.get("extra") != "forbid":
            raise TypeError(
                f"params model of check {name!r} must forbid unknown keys: subclass "
                "CheckParams or set model_config = ConfigDict(extra='forbid')"
            )
        known = self._checks.get(name)
        if known is not None and not replace and _origin(known.function) != _origin(function):
            raise ValueError(
                f"a check named {name!r} is already registered by {_origin(known.function)}"
            )
        doc = (function.__doc__ or "").strip()
        description = doc.splitlines()[0] if doc else ""
        spec = CheckSpec(name, function, params, description, reads_content)
        self._checks[name] = spec
        return spec

    def get(self, name: str) -> CheckSpec | None:
        return self._checks.get(name)

    def names(self) -> list[str]:
        return sorted(self._checks)

    def __contains__(self, name: object) -> bool:
        return name in self._checks

    def __iter__(self) -> Iterator[CheckSpec]:
        return iter(list(self._checks.values()))


REGISTRY = CheckRegistry()


def register_check(
    name: str | None = None,
    *,
    params: type[BaseModel] = CheckParams,
    registry: CheckRegistry = REGISTRY,
    replace: bool = False,
    reads_content: bool = True,
) -> Callable[[F], F]:
    """Register the decorated function as a check called `name` (default: its own name)."""

    def decorator(function: F) -> F:
        registry.register(
            name or function.__name__,
            function,
            params,
            replace=replace,
            reads_content=reads_content,
        )
        return function

    return decorator
