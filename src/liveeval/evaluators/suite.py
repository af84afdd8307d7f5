"""The configured checks, per route, and running them on an interaction."""

from __future__ import annotations

import dataclasses
import importlib
import logging
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from liveeval.config.checks import CheckEntry, ChecksConfig, RouteChecks
from liveeval.config.settings import ConfigError
from liveeval.evaluators.registry import REGISTRY, CheckFunction, CheckRegistry
from liveeval.evaluators.result import CheckResult
from liveeval.model import Interaction

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ConfiguredCheck:
    name: str  # the name results carry
    check: str  # the registered check it runs
    function: CheckFunction
    params: BaseModel
    reads_content: bool = True


class CheckSuite:
    """Which checks run on which route; `run` applies them and never raises."""

    def __init__(
        self,
        default: Sequence[ConfiguredCheck],
        routes: Mapping[str, Sequence[ConfiguredCheck]] | None = None,
    ) -> None:
        self.default = tuple(default)
        self.routes = {route: tuple(checks) for route, checks in (routes or {}).items()}

    @classmethod
    def from_config(
        cls, config: ChecksConfig | None = None, registry: CheckRegistry = REGISTRY
    ) -> CheckSuite:
        """Import the plugins, then validate every check's params (all errors at once).

        Raises ConfigError naming the place (`checks.routes.support.checks[0]`),
        the check and the field of each problem.
        """
        config = config or ChecksConfig()
        errors: list[str] = []
        for position, module in enumerate(config.plugins):
            try:
                importlib.import_module(module)
            except Exception as exc:  # a plugin that cannot load is a config error
                errors.append(f"checks.plugins[{position}]: cannot import {module!r}: {_why(exc)}")
        for check in config.params:
            if check not in registry:
                errors.append(f"checks.params.{check}: {_unknown(check, registry)}")
        builder = _Builder(config, registry, errors)
        default = builder.build(config.default, "checks.default")
        routes = {
            route: builder.route(default, checks, f"checks.routes.{route}")
            for route, checks in config.routes.items()
        }
        if errors:
            raise ConfigError("invalid checks config: " + "; ".join(errors))
        return cls(default, routes)

    def checks_for(self, route: str | None) -> tuple[ConfiguredCheck, ...]:
        if route is None:
            return self.default
        return self.routes.get(route, self.default)

    def evaluate(self, interaction: Interaction) -> list[tuple[ConfiguredCheck, CheckResult]]:
        """Each applicable check of the interaction's route with its result."""
        captured = interaction.content_captured  # once, not once per check
        out: list[tuple[ConfiguredCheck, CheckResult]] = []
        for configured in self.checks_for(interaction.route):
            result = _run(configured, interaction, captured)
            if result is not None:
                out.append((configured, result))
        return out

    def run(self, interaction: Interaction) -> list[CheckResult]:
        """The results of the route's checks, in config order; checks that do not apply
        give none, and a check that raises gives an error result."""
        captured = interaction.content_captured
        out: list[CheckResult] = []
        for configured in self.checks_for(interaction.route):
            result = _run(configured, interaction, captured)
            if result is not None:
                out.append(result)
        return out


def run_check(configured: ConfiguredCheck, interaction: Interaction) -> CheckResult | None:
    """One check's result under its configured name; an exception becomes an error result.
    None where it does not apply, and for a content check where the span carried no
    content: not evaluated, rather than an empty answer failed."""
    return _run(configured, interaction, interaction.content_captured)


def _run(
    configured: ConfiguredCheck, interaction: Interaction, captured: bool
) -> CheckResult | None:
    """`run_check`, told whether the interaction's content was captured."""
    if configured.reads_content and not captured:
        return None
    try:
        result = configured.function(interaction, configured.params)
    except Exception as exc:  # a check's bug must not stop ingest: it is recorded instead
        logger.warning("check %r raised %s", configured.name, _why(exc))
        error = CheckResult.error(configured.name, exc)
        frames = traceback.extract_tb(exc.__traceback__)
        if frames:
            error.details["at"] = f"{frames[-1].filename}:{frames[-1].lineno} in {frames[-1].name}"
        return error
    if result is None:
        return None
    if not isinstance(result, CheckResult):
        return CheckResult.error(
            configured.name, f"returned {type(result).__name__}, not a CheckResult or None"
        )
    if result.name != configured.name:
        result = dataclasses.replace(result, name=configured.name)
    return result


class _Builder:
    """Turns config entries into ConfiguredChecks, collecting every error with its place."""

    def __init__(self, config: ChecksConfig, registry: CheckRegistry, errors: list[str]) -> None:
        self.config = config
        self.registry = registry
        self.errors = errors

    def build(self, entries: Sequence[CheckEntry], place: str) -> list[ConfiguredCheck]:
        built = (self.entry(entry, f"{place}[{i}]") for i, entry in enumerate(entries))
        return [configured for configured in built if configured is not None]

    def route(
        self, default: list[ConfiguredCheck], route: RouteChecks, place: str
    ) -> list[ConfiguredCheck]:
        own = self.build(route.checks, f"{place}.checks")
        if not route.extends_default:
            return own
        replacing = {configured.name: configured for configured in own}
        merged = [
            replacing.pop(configured.name, configured)
            for configured in default
            if configured.name not in route.exclude
        ]
        return merged + [configured for configured in own if configured.name in replacing]

    def entry(self, entry: CheckEntry, place: str) -> ConfiguredCheck | None:
        spec = self.registry.get(entry.check)
        if spec is None:
            self.errors.append(f"{place}: {_unknown(entry.check, self.registry)}")
            return None
        table = self.config.params.get(entry.check, {})
        try:
            params = spec.params.model_validate({**table, **entry.params})
        except ValidationError as exc:
            for error in exc.errors():
                self.errors.append(self._describe(error, entry, table, place))
            return None
        return ConfiguredCheck(
            entry.result_name, entry.check, spec.function, params, spec.reads_content
        )

    def _describe(self, error: Any, entry: CheckEntry, table: Mapping[str, Any], place: str) -> str:
        loc = [str(part) for part in error["loc"]]
        if loc and loc[0] not in entry.params and loc[0] in table:
            place = f"checks.params.{entry.check}"
        where = ".".join([place, *loc])
        message = str(error["msg"]).removeprefix("Value error, ")
        shown = f" (got {error['input']!r})" if loc and error["type"] != "extra_forbidden" else ""
        return f"{where} ({entry.result_name}): {message}{shown}"


def _unknown(check: str, registry: CheckRegistry) -> str:
    return f"unknown check {check!r} (known: {', '.join(registry.names())})"


def _why(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
