"""The `[checks]` section of `liveeval.toml`: the cheap checks run on every interaction.

This model holds the shape only: which checks run where, with which params.
The params themselves are validated against each check's own params model by
`liveeval.evaluators.CheckSuite.from_config`, after the plugin modules that
register user checks are imported. docs/checks.md describes every key.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DEFAULT_CHECKS: tuple[str, ...] = ("not_empty", "refusal", "length", "language", "grounding")

_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:-]{0,63}")
_ENTRY_KEYS = frozenset({"check", "name", "params"})


def _check_name(value: str) -> str:
    if not _NAME.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a check name: use 1-64 letters, digits, '_', '.', ':' or '-'"
        )
    return value


class CheckEntry(BaseModel):
    """One configured check: the registered check to run, its result name and its params.

    In TOML the params sit beside `check` and `name` (`check = "regex"`,
    `pattern = "..."`); a bare string is an entry with default params.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    check: str = Field(description="The registered check to run (built-in or plugin).")
    name: str | None = Field(
        default=None, description="The name its results carry; defaults to `check`."
    )
    params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _gather_params(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"check": data}
        if not isinstance(data, dict):
            return data
        inline = {key: value for key, value in data.items() if key not in _ENTRY_KEYS}
        if not inline:
            return data
        nested = data.get("params") or {}
        if not isinstance(nested, dict):
            return data
        twice = sorted(set(inline) & set(nested))
        if twice:
            raise ValueError(f"params given both inline and in `params`: {', '.join(twice)}")
        gathered = {key: value for key, value in data.items() if key in _ENTRY_KEYS}
        gathered["params"] = {**nested, **inline}
        return gathered

    @field_validator("check", "name")
    @classmethod
    def _valid_name(cls, value: str | None) -> str | None:
        return None if value is None else _check_name(value)

    @property
    def result_name(self) -> str:
        return self.name or self.check


def _unique_names(entries: tuple[CheckEntry, ...]) -> tuple[CheckEntry, ...]:
    seen: set[str] = set()
    for entry in entries:
        if entry.result_name in seen:
            raise ValueError(
                f"two checks are named {entry.result_name!r}; give one a different `name`"
            )
        seen.add(entry.result_name)
    return entries


class RouteChecks(BaseModel):
    """The checks of one route (`Interaction.route`).

    `[[checks.routes.NAME]]` entries alone extend the default set; the table form
    `[checks.routes.NAME]` with `extends_default = false` replaces it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    extends_default: bool = Field(
        default=True,
        description="Run the default checks too (true) or only this route's (false). A "
        "route check named like a default one takes its place.",
    )
    exclude: tuple[str, ...] = Field(
        default=(), description="Default checks, by name, that do not run on this route."
    )
    checks: tuple[CheckEntry, ...] = Field(default=(), description="This route's checks.")

    @model_validator(mode="before")
    @classmethod
    def _from_list(cls, data: Any) -> Any:
        if isinstance(data, list | tuple):
            return {"checks": data}
        return data

    @field_validator("checks")
    @classmethod
    def _unique(cls, checks: tuple[CheckEntry, ...]) -> tuple[CheckEntry, ...]:
        return _unique_names(checks)

    @model_validator(mode="after")
    def _exclude_needs_default(self) -> RouteChecks:
        if self.exclude and not self.extends_default:
            raise ValueError("`exclude` only applies when extends_default = true")
        return self


class ChecksConfig(BaseModel):
    """`[checks]`: plugins to import, the default checks, params per check, routes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    plugins: tuple[str, ...] = Field(
        default=(),
        description="Python modules to import at start-up; their @register_check "
        "functions become checks.",
    )
    default: tuple[CheckEntry, ...] = Field(
        default=tuple(CheckEntry(check=name) for name in DEFAULT_CHECKS),
        description="Checks run on every interaction (and on routes that extend them).",
    )
    params: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Params per registered check, wherever it runs: [checks.params.length] "
        "max_output_chars = 8000. An entry's own params win.",
    )
    routes: dict[str, RouteChecks] = Field(
        default_factory=dict, description="Checks per route, by `Interaction.route`."
    )

    @field_validator("default")
    @classmethod
    def _unique(cls, default: tuple[CheckEntry, ...]) -> tuple[CheckEntry, ...]:
        return _unique_names(default)

    @field_validator("plugins")
    @classmethod
    def _modules(cls, plugins: tuple[str, ...]) -> tuple[str, ...]:
        for module in plugins:
            if not all(part.isidentifier() for part in module.split(".")):
                raise ValueError(f"{module!r} is not a Python module path")
        return plugins

    @model_validator(mode="after")
    def _excluded_checks_exist(self) -> ChecksConfig:
        names = {entry.result_name for entry in self.default}
        for route, checks in self.routes.items():
            unknown = [name for name in checks.exclude if name not in names]
            if unknown:
                raise ValueError(
                    f"routes.{route}.exclude: {', '.join(map(repr, unknown))} "
                    f"not among the default checks ({', '.join(sorted(names)) or 'none'})"
                )
        return self
