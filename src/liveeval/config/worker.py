"""The `[worker]` section of `liveeval.toml`: how judge workers take jobs from the queue."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class WorkerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    in_process: bool = Field(
        default=True,
        description="`liveeval serve` runs a judge worker in a thread of its own (when a "
        "judge provider is configured). Turn off when `liveeval worker` processes do the work.",
    )
    max_job_attempts: int = Field(
        default=5,
        ge=1,
        le=100,
        description="A job whose judge stayed unreachable this many times, or whose worker "
        "died holding it, is dead-lettered with an error score.",
    )
    lease_s: float = Field(
        default=60.0,
        gt=0,
        description="How long a claimed job stays with its worker without a sign of life. "
        "A working worker renews its leases every lease_s / 3, however long the judge "
        "takes; a job whose lease expires (its worker died or hung) is claimed again.",
    )
    poll_interval_s: float = Field(
        default=1.0, gt=0, description="How often an idle worker looks for new jobs."
    )
    retry_base_s: float = Field(
        default=5.0,
        gt=0,
        description="First delay before a job whose judge was unreachable runs again; "
        "it doubles each attempt, up to 10 minutes.",
    )
