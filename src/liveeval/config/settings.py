"""Settings: one table for TOML keys, environment variables, CLI help and the docs.

Each field of `Settings` is a top-level key of `liveeval.toml`; its environment
variable is `LIVEEVAL_` + the key in upper case. The docs page
`docs/configuration.md` lists every field (a test keeps them in sync).
Precedence, lowest first: defaults, the TOML file, environment, CLI flags.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from liveeval.config.checks import ChecksConfig
from liveeval.config.judge import JudgeConfig
from liveeval.config.monitor import MonitorConfig
from liveeval.config.privacy import PrivacyConfig
from liveeval.config.retention import RetentionConfig
from liveeval.config.review import ReviewConfig
from liveeval.config.routing import RoutingConfig
from liveeval.config.sampling import SamplingConfig
from liveeval.config.worker import WorkerConfig
from liveeval.store.location import store_url

ENV_PREFIX = "LIVEEVAL_"
DEFAULT_CONFIG_FILE = "liveeval.toml"


class ConfigError(ValueError):
    """The config file or an environment variable is invalid; the message says where."""


class ModelPrice(BaseModel):
    """USD per million tokens for one model."""

    model_config = ConfigDict(extra="forbid")

    input_per_mtok: float = Field(ge=0)
    output_per_mtok: float = Field(ge=0)
    cache_read_per_mtok: float | None = Field(default=None, ge=0)
    cache_creation_per_mtok: float | None = Field(default=None, ge=0)


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    db: str = Field(
        default="sqlite:///liveeval.db",
        description="The store: a path means a SQLite file there (app.db); URLs as they are "
        "(sqlite:///path.db, postgresql+psycopg://user@host/db).",
    )
    host: str = Field(default="127.0.0.1", description="Address the server binds to.")
    port: int = Field(default=7318, ge=0, le=65535, description="Port the server listens on.")
    workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Server processes sharing the port. Decoding is CPU-bound Python, so "
        "more workers ingest faster on more cores; on SQLite they take turns writing.",
    )
    require_keys: bool = Field(
        default=False,
        description="Require an API key on every request. Off by default on loopback; the "
        "server refuses to bind any other address unless this is on.",
    )
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Host names an open server (require_keys off) answers besides localhost, "
        "127.0.0.1, [::1] and its own address; any other Host header is answered 400, so a "
        'web page cannot read it through DNS rebinding. "*" answers any, "*.example.com" '
        "its subdomains. Comma-separated in the environment.",
    )
    default_project: str = Field(
        default="default",
        min_length=1,
        description="Project for data sent without a key and without a service.name.",
    )
    max_body_bytes: int = Field(
        default=16 * 1024 * 1024,
        gt=0,
        description="Largest request body accepted, in bytes, measured after decompression.",
    )
    max_attribute_chars: int = Field(
        default=65_536,
        gt=64,
        description="Longer string attribute values are truncated to this many characters "
        "with a marker.",
    )
    hash_user_ids: bool = Field(
        default=False,
        description="Store a keyed hash of user ids instead of the ids themselves.",
    )
    user_id_salt: str = Field(
        default="",
        description="Secret key for hashing user ids (set it when hash_user_ids is on).",
    )
    max_pending_writes: int = Field(
        default=64,
        gt=0,
        description="Ingest requests waiting for the store beyond this are answered 503 "
        "with Retry-After.",
    )
    prices: dict[str, ModelPrice] = Field(
        default_factory=dict,
        description='Per-model prices, a TOML table per model: [prices."gpt-4o-mini"] '
        "input_per_mtok = 0.15, output_per_mtok = 0.6 (cache_read_per_mtok, "
        "cache_creation_per_mtok optional). Matched on the served model, then the "
        "requested one; a dated suffix matches its base name.",
    )
    evaluation: Literal["background", "inline", "off"] = Field(
        default="background",
        description="When the cheap checks and the sampling decision run. background: "
        "right after ingest, in a low-priority process `serve` starts, so ingest never "
        "slows (under a burst scores lag, then catch up); inline: in the ingest "
        "transaction; off: ingest only (no scores, no judging).",
    )
    checks: ChecksConfig = Field(
        default_factory=ChecksConfig,
        description="[checks]: the cheap checks run on every interaction at ingest, per "
        "route if needed. See docs/checks.md.",
    )
    sampling: SamplingConfig = Field(
        default_factory=SamplingConfig,
        description="[sampling]: which interactions the judge grades, and the daily budget. "
        "See docs/sampling.md.",
    )
    judge: JudgeConfig = Field(
        default_factory=JudgeConfig,
        description="[judge]: the LLM judge's provider, pinned model, rubrics and limits. "
        "See docs/judge.md.",
    )
    worker: WorkerConfig = Field(
        default_factory=WorkerConfig,
        description="[worker]: how judge workers lease, retry and dead-letter jobs. "
        "See docs/judge.md.",
    )
    monitor: MonitorConfig = Field(
        default_factory=MonitorConfig,
        description="[monitor]: alert rules (SLIs), drift thresholds and notifiers. "
        "See docs/monitor.md.",
    )
    review: ReviewConfig = Field(
        default_factory=ReviewConfig,
        description="[review]: what enters the review queue and how failures are grouped. "
        "See docs/review.md.",
    )
    privacy: PrivacyConfig = Field(
        default_factory=PrivacyConfig,
        description="[privacy]: the PII scrubbed before anything enters the review queue or "
        "the golden set, and at ingest for the projects named. See docs/privacy.md.",
    )
    retention: RetentionConfig = Field(
        default_factory=RetentionConfig,
        description="[retention]: how long raw interaction content is kept. See docs/retention.md.",
    )
    routing: RoutingConfig = Field(
        default_factory=RoutingConfig,
        description="[routing]: the routed tasks ([routing.tasks.<task>]: arms, reward, "
        "guardrails) and refresh_s, how old a policy snapshot may get. See docs/routing.md.",
    )

    @field_validator("db")
    @classmethod
    def _db_url(cls, value: str) -> str:
        """A plain path is a SQLite file; one convention for the TOML, env and --db."""
        return store_url(value)

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: Any) -> Any:
        """The environment gives one string: names separated by commas."""
        if isinstance(value, str):
            return [name.strip() for name in value.split(",") if name.strip()]
        return value


def env_var(field_name: str) -> str:
    return ENV_PREFIX + field_name.upper()


# TOML tables, no environment variable
SECTIONS = (
    "prices",
    "checks",
    "sampling",
    "judge",
    "worker",
    "monitor",
    "review",
    "privacy",
    "retention",
    "routing",
)
SCALAR_FIELDS = tuple(name for name in Settings.model_fields if name not in SECTIONS)


def load_settings(
    config_file: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Read defaults ← TOML file ← environment ← overrides (CLI flags, None = not given)."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    path = config_file or environ.get(ENV_PREFIX + "CONFIG")
    if path is not None:
        values.update(_read_toml(Path(path)))
    elif Path(DEFAULT_CONFIG_FILE).is_file():
        values.update(_read_toml(Path(DEFAULT_CONFIG_FILE)))
    for name in SCALAR_FIELDS:
        if env_var(name) in environ:
            values[name] = environ[env_var(name)]
    for name, value in (overrides or {}).items():
        if value is not None:
            values[name] = value
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def _describe(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        cause = error.get("ctx", {}).get("error")
        if isinstance(cause, ConfigError):  # a section's reader named the key itself
            lines.append(str(cause))
            continue
        location = ".".join(str(part) for part in error["loc"])
        lines.append(f"{location}: {error['msg']} (got {error.get('input')!r})")
    return "invalid settings: " + "; ".join(lines)
