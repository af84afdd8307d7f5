"""The `[retention]` section of `liveeval.toml`: how long raw interaction content is kept.

Production samples are user data. Past the configured age, a scheduled job deletes the
content of an interaction (texts, messages, context, tool calls, user and session ids,
raw spans) and keeps what the monitor and the golden set need (ids, times, slices,
tokens, cost, scores, signal kinds and values, rollups, review items, cases).
docs/retention.md describes what goes and what stays.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

MAX_DAYS = 36_500


def _forever(value: Any) -> Any:
    """TOML has no null: the word "none" (or "forever") means keep forever."""
    if isinstance(value, str) and value.strip().lower() in ("none", "forever"):
        return None
    return value


Days = Annotated[Annotated[int, Field(ge=1, le=MAX_DAYS)] | None, BeforeValidator(_forever)]


class RetentionConfig(BaseModel):
    """`[retention]`: the age past which interaction content is purged, per project."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    interactions_days: Days = Field(
        default=None,
        description="Purge the content of interactions that started more than this many "
        'days ago. Default: keep forever ("none").',
    )
    projects: dict[str, Days] = Field(
        default_factory=dict,
        description="Per-project overrides of interactions_days, e.g. [retention.projects] "
        'shop = 30, audit = "none" (keep forever).',
    )
    interval_s: float = Field(
        default=3600.0,
        ge=1,
        le=7 * 86_400,
        description="Seconds between retention runs of `serve` (once per cluster).",
    )
    batch_size: int = Field(
        default=1000,
        ge=1,
        le=100_000,
        description="Interactions purged per write transaction; SQLite has one writer, so "
        "small batches keep ingest flowing during a large purge.",
    )

    def days_for(self, project: str) -> int | None:
        """The project's own setting if it has one, else interactions_days."""
        return self.projects.get(project, self.interactions_days)

    def cutoff_for(self, project: str, now: datetime) -> datetime | None:
        """Interactions that started before this lose their content; None: kept forever."""
        days = self.days_for(project)
        return None if days is None else now - timedelta(days=days)

    @property
    def enabled(self) -> bool:
        """Some project has a limit: there is something to run."""
        return self.interactions_days is not None or any(
            days is not None for days in self.projects.values()
        )

    def shortest_days(self) -> int | None:
        """The shortest limit configured anywhere (for data shared by all projects)."""
        limits = [d for d in (self.interactions_days, *self.projects.values()) if d is not None]
        return min(limits) if limits else None
