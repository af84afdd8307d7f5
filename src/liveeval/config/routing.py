"""The `[routing]` section of `liveeval.toml`: routed tasks and how fresh their policy is.

Each `[routing.tasks.<task>]` table is read by `liveeval.routing.config.from_mapping`,
whose errors name the key they are about. That module imports this package's
`ConfigError`, so it is imported here only when a table is read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

if TYPE_CHECKING:
    from liveeval.routing.config import TaskConfig


class UnknownTask(LookupError):
    """A task that `[routing.tasks]` does not configure; the message lists those that are."""


class RoutingConfig(BaseModel):
    """`[routing]`: `refresh_s` and one `[routing.tasks.<task>]` table per routed task."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    refresh_s: float = Field(
        default=30.0,
        gt=0,
        le=86_400,
        description="How old a policy snapshot may get, in seconds, before the server "
        "recomputes it (and the SDK's refresh period).",
    )
    # Values are routing.config.TaskConfig (typed by `task`); see the module docstring.
    tasks: dict[str, Any] = Field(
        default_factory=dict, description="[routing.tasks.<task>]: the arms of each task."
    )

    @field_validator("tasks", mode="before")
    @classmethod
    def _tasks(cls, value: Any) -> Any:
        from liveeval.routing.config import TaskConfig, from_mapping

        if not isinstance(value, Mapping):
            raise ValueError(f"[routing.tasks] must be a table of tasks, got {value!r}")
        tasks = {}
        for name, table in value.items():
            if isinstance(table, TaskConfig):
                tasks[name] = table
            elif isinstance(table, Mapping):
                tasks[name] = from_mapping(name, table)
            else:
                raise ValueError(f"[routing.tasks.{name}] must be a table, got {table!r}")
        return tasks

    def task(self, name: str) -> TaskConfig:
        """The task's config; UnknownTask names the configured ones."""
        config = self.tasks.get(name)
        if config is None:
            configured = ", ".join(sorted(self.tasks)) or (
                f"none (a [routing.tasks.{name}] table in liveeval.toml routes one: "
                "see docs/routing.md)"
            )
            raise UnknownTask(f"no routing task {name!r}; configured: {configured}")
        task: TaskConfig = config
        return task
