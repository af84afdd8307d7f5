"""The `[monitor]` section of `liveeval.toml`: alert rules (SLIs), drift thresholds, notifiers.

A rule compares a metric over a recent *window* with a *baseline* (the period right
before the window, or a pinned period) for each slice. Most rules are sequential: a
CUSUM tuned to the rule's minimum effect (`threshold`), whose boundary follows from
the project's false-alarm budget (`false_alerts_per_month`). docs/monitor.md
describes every key and metric.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
    model_validator,
)

from liveeval.config.sampling import format_window, parse_window
from liveeval.model.alert import Severity
from liveeval.model.slices import DIMENSIONS

# Rates over all traffic: the share of interactions with at least one such signal.
SIGNAL_RATES = {
    "regenerated_rate": "regenerated",
    "edited_rate": "edited",
    "abandoned_rate": "abandoned",
    "rephrased_rate": "rephrased",
    "escalated_rate": "escalated",
    "schema_invalid_rate": "schema_invalid",
    "thumbs_down_rate": "thumbs_down",
    "thumbs_up_rate": "thumbs_up",
    "report_rate": "report",
}
OTHER_RATES = ("error_rate", "check_failure_rate", "judge_error_rate", "model_mismatch_rate")
JUDGE_METRICS = ("judge_mean", "judge_p10", "judge_bad_share", "judge_step")
VALUE_METRICS = ("latency_p50", "latency_p95", "cost_mean", "edit_ratio_mean")
DRIFT_METRICS = tuple(f"{dimension}_drift" for dimension in DIMENSIONS)
METRICS = (
    *JUDGE_METRICS,
    *SIGNAL_RATES,
    *OTHER_RATES,
    *VALUE_METRICS,
    *DRIFT_METRICS,
)
# Decided by the move beyond the threshold alone (no variance is rolled up for them).
THRESHOLD_METRICS = ("judge_p10", "cost_mean", "edit_ratio_mean")
# Which way is bad, unless a rule says otherwise.
_RISES_ARE_GOOD = {"thumbs_up_rate"}


def _duration(value: Any) -> timedelta:
    return parse_window(value, maximum=timedelta(days=90))


# The documented range of a rule's window (docs/monitor.md); checked with the rule's name.
WINDOW_MIN, WINDOW_MAX = timedelta(minutes=15), timedelta(days=90)


def _any_duration(value: Any) -> timedelta:
    return parse_window(value, maximum=timedelta(days=100 * 365))


Duration = Annotated[
    timedelta,
    BeforeValidator(_duration),
    PlainSerializer(format_window, return_type=str, when_used="json"),
]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RuleConfig(_Section):
    """One SLI with its alert: `metric` per slice, window against baseline."""

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")
    metric: str = Field(description="What is measured; see docs/monitor.md for the list.")
    score: str | None = Field(
        default=None,
        description="For judge_* metrics: the score name (rubric). Default: each judge "
        "score separately.",
    )
    slice_by: tuple[str, ...] = Field(
        default=("all",),
        description='Slices to watch: "all" (the whole project), a dimension '
        '("language"), or dimensions joined by "+" ("model_served+language").',
    )
    window: Annotated[
        timedelta,
        BeforeValidator(_any_duration),
        PlainSerializer(format_window, return_type=str, when_used="json"),
    ] = Field(
        default=timedelta(hours=1),
        description="The recent period: for sequential rules, how far back a change may "
        "have begun (the detector looks at it batch by batch, an hour or a minute each).",
    )
    baseline: Duration = Field(
        default=timedelta(days=7), description="The period right before the window."
    )
    baseline_start: AwareDatetime | None = Field(
        default=None, description="A pinned baseline instead (e.g. the week after a deploy)."
    )
    baseline_end: AwareDatetime | None = None
    threshold: float | None = Field(
        default=None,
        ge=0,
        description="The minimum effect worth an alert: how far the metric must move "
        "against the baseline, absolute or a fraction of the baseline when `relative`. "
        "The detector is tuned to it; whether a move is real is decided by the false-alarm "
        "budget. Drift metrics: the share a category must gain or lose (default 0.05); "
        "judge_step: the step in score units (default 0.3).",
    )
    relative: bool = False
    direction: Literal["drop", "rise", "either"] | None = Field(
        default=None, description="Which move is bad; default: the metric's usual one."
    )
    min_samples: int = Field(
        default=30,
        ge=1,
        description="Threshold rules (judge_p10, cost_mean, edit_ratio_mean): fewer in the "
        "window or the baseline, no decision. Sequential rules decide on any volume and "
        "say what it lets them detect.",
    )
    confidence: float = Field(
        default=0.95, gt=0.5, lt=1, description="Of the intervals shown in alert messages."
    )
    pending: Duration = Field(
        default=timedelta(minutes=10),
        description="A breach must last this long before the alert fires (Prometheus' `for`).",
    )
    keep_firing_for: Duration = Field(
        default=timedelta(hours=1),
        description="An open alert resolves once its evidence has stayed below half the "
        "threshold this long (Prometheus' `keep_firing_for`): an incident whose evidence "
        "wavers is one alert, not several.",
    )
    severity: Severity = Severity.WARNING
    cooldown: Duration = Field(
        default=timedelta(minutes=30),
        description="After a resolve, the same slice does not fire again for this long.",
    )
    notify: tuple[str, ...] | None = Field(
        default=None, description="Notifier names; default: all of them."
    )

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, value: str) -> str:
        if value not in METRICS:
            raise ValueError(f"unknown metric {value!r}; known: {', '.join(METRICS)}")
        return value

    @field_validator("slice_by")
    @classmethod
    def _known_dimensions(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for group in value:
            if group == "all":
                continue
            unknown = [d for d in group.split("+") if d not in DIMENSIONS]
            if unknown:
                raise ValueError(
                    f"slice {group!r} names unknown dimension(s) {', '.join(unknown)}; "
                    f"known: all, {', '.join(DIMENSIONS)}"
                )
        if not value:
            raise ValueError('give at least one slice ("all" for the whole project)')
        return value

    @model_validator(mode="after")
    def _complete(self) -> RuleConfig:
        if not WINDOW_MIN <= self.window <= WINDOW_MAX:
            raise ValueError(
                f"rule {self.name!r}: window {format_window(self.window)} is outside "
                f"{format_window(WINDOW_MIN)} … {format_window(WINDOW_MAX)}"
            )
        if self.metric not in (*DRIFT_METRICS, "judge_step") and self.threshold is None:
            raise ValueError(f"rule {self.name!r}: metric {self.metric} needs a threshold")
        if (self.baseline_start is None) != (self.baseline_end is None):
            raise ValueError(f"rule {self.name!r}: give both baseline_start and baseline_end")
        if self.baseline_start and self.baseline_end and self.baseline_end <= self.baseline_start:
            raise ValueError(f"rule {self.name!r}: baseline_end must be after baseline_start")
        if self.score is not None and self.metric not in JUDGE_METRICS:
            raise ValueError(f"rule {self.name!r}: score applies to judge_* metrics only")
        return self

    @property
    def bad_direction(self) -> str:
        if self.direction is not None:
            return self.direction
        if (
            self.metric in ("judge_mean", "judge_p10", "judge_step")
            or self.metric in _RISES_ARE_GOOD
        ):
            return "drop"
        return "rise"

    @property
    def min_effect(self) -> float:
        """The threshold, or the default of a drift or step rule."""
        if self.threshold is not None:
            return self.threshold
        return 0.3 if self.metric == "judge_step" else 0.05

    @property
    def sequential(self) -> bool:
        """Decided by a budgeted CUSUM (all but the threshold rules)."""
        return self.metric not in THRESHOLD_METRICS

    def baseline_range(self, window_start: datetime) -> tuple[datetime, datetime]:
        if self.baseline_start is not None and self.baseline_end is not None:
            return self.baseline_start, self.baseline_end
        return window_start - self.baseline, window_start


DEFAULT_RULES: tuple[RuleConfig, ...] = tuple(
    RuleConfig.model_validate(rule)
    for rule in (
        {
            "name": "judge-mean-drop",
            "metric": "judge_mean",
            "slice_by": ("all", "model_served", "prompt_version", "route", "language"),
            "window": "14d",
            "baseline": "14d",
            "threshold": 0.3,
            "severity": "critical",
        },
        {
            "name": "judge-bad-share-rise",
            "metric": "judge_bad_share",
            "slice_by": ("all", "model_served", "prompt_version", "route", "language"),
            "window": "14d",
            "baseline": "14d",
            "threshold": 0.1,
        },
        {
            "name": "regeneration-rate-rise",
            "metric": "regenerated_rate",
            "slice_by": ("all", "model_served", "prompt_version", "route", "language"),
            "window": "7d",
            "threshold": 0.05,
        },
        {
            "name": "schema-failure-rate-rise",
            "metric": "schema_invalid_rate",
            "slice_by": ("all", "model_served", "prompt_version", "route"),
            "window": "7d",
            "threshold": 0.02,
        },
        {
            "name": "error-rate-rise",
            "metric": "error_rate",
            "slice_by": ("all", "model_served", "route"),
            "window": "1d",
            "threshold": 0.02,
            "severity": "critical",
        },
        {
            "name": "model-mismatch",
            "metric": "model_mismatch_rate",
            "slice_by": ("all", "model_requested"),
            "window": "1d",
            "threshold": 0.05,
            "severity": "critical",
        },
        {
            "name": "latency-p95-rise",
            "metric": "latency_p95",
            "slice_by": ("all", "model_served", "route"),
            "window": "1d",
            "threshold": 0.5,
            "relative": True,
        },
        {
            "name": "input-language-drift",
            "metric": "language_drift",
            "slice_by": ("all", "route"),
            "window": "1d",
            "threshold": 0.05,
        },
    )
)


class DriftConfig(_Section):
    """Thresholds of the input-drift statistics (Evidently's conventions by default)."""

    p_value: float = Field(default=0.05, gt=0, lt=1, description="Test level, small samples.")
    large_sample: int = Field(
        default=30_000,
        ge=1,
        description="From this many rows on either side, distances decide instead of "
        "p-values (with millions of rows every tiny shift is significant).",
    )
    wasserstein: float = Field(default=0.1, gt=0, description="Normalized Wasserstein, large.")
    js: float = Field(default=0.1, gt=0, description="Jensen–Shannon distance, large.")
    psi_warn: float = Field(default=0.1, gt=0, description="PSI that warns.")
    psi_alert: float = Field(default=0.25, gt=0, description="PSI that counts as drift.")
    domain_auc: float = Field(
        default=0.55, gt=0.5, lt=1, description="Domain-classifier ROC AUC above this: drift."
    )
    mmd_p_value: float = Field(default=0.05, gt=0, lt=1)
    min_samples: int = Field(default=30, ge=1, description="Fewer rows: not tested.")
    encoder: Literal["static", "minilm", "hashing"] = Field(
        default="static",
        description="Text embeddings for topics: static (distilled from all-MiniLM-L6-v2, "
        "fast), minilm (the exact model, slower) or hashing (no model needed).",
    )
    embed_sample: int = Field(
        default=2000, ge=50, le=100_000, description="Texts embedded per side."
    )
    topics: int | None = Field(
        default=None, ge=2, le=200, description="Topic clusters; default: chosen from data."
    )
    attributes: tuple[str, ...] = Field(
        default=(), description="Metadata keys whose values are compared as categories."
    )
    intents: dict[str, tuple[str, ...]] = Field(
        default_factory=dict,
        description="Intent keyword rules: intent name -> keywords or regexes "
        "(case-insensitive, first match wins, else 'other'), applied at ingest.",
    )
    intent_examples: dict[str, tuple[str, ...]] = Field(
        default_factory=dict,
        description="Labelled examples: intent name -> example inputs. The drift report "
        "gives each sampled input the intent of the nearest examples (by embedding), or "
        "'other'; this replaces the keyword rules' intent there.",
    )

    @model_validator(mode="after")
    def _ordered(self) -> DriftConfig:
        if self.psi_warn > self.psi_alert:
            raise ValueError("psi_warn must not exceed psi_alert")
        return self


class NotifierConfig(_Section):
    """Where alerts go. Secrets can come from the environment (`*_env` keys)."""

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")
    type: Literal["webhook", "slack", "pagerduty", "log"]
    url: str | None = Field(default=None, description="webhook and slack: where to POST.")
    url_env: str | None = Field(default=None, description="…or the variable holding it.")
    headers: dict[str, str] = Field(default_factory=dict, description="webhook: extra headers.")
    routing_key: str | None = Field(default=None, description="pagerduty: integration key.")
    routing_key_env: str | None = None
    events_url: str = Field(
        default="https://events.pagerduty.com/v2/enqueue", description="pagerduty: endpoint."
    )
    min_severity: Severity = Field(
        default=Severity.INFO, description="Alerts below this severity are not sent here."
    )
    timeout_s: float = Field(default=10.0, gt=0, le=120)

    @model_validator(mode="after")
    def _has_target(self) -> NotifierConfig:
        if self.type in ("webhook", "slack") and not (self.url or self.url_env):
            raise ValueError(f"notifier {self.name!r} ({self.type}) needs url or url_env")
        if self.type == "pagerduty" and not (self.routing_key or self.routing_key_env):
            raise ValueError(f"notifier {self.name!r} needs routing_key or routing_key_env")
        return self


class MonitorConfig(_Section):
    """`[monitor]`: the scheduler, the rules, drift thresholds and notifiers."""

    enabled: bool = Field(
        default=True,
        description="`serve` runs the scheduler (rollups, rules, notifications) each "
        "interval; once per cluster.",
    )
    interval_s: float = Field(default=60.0, ge=1, le=3600, description="Seconds between ticks.")
    false_alerts_per_month: float = Field(
        default=1.0,
        gt=0,
        le=1000,
        description="The false-alarm budget: how many alerts a month, over every rule and "
        "slice, may fire on traffic where nothing changed. Every sequential rule's "
        "boundary follows from it (docs/monitor.md).",
    )
    default_rules: bool = Field(
        default=True, description="Ship the default rules (a rule of the same name replaces one)."
    )
    rules: tuple[RuleConfig, ...] = ()
    drift: DriftConfig = Field(default_factory=DriftConfig)
    notifiers: tuple[NotifierConfig, ...] = Field(
        default=(NotifierConfig(name="log", type="log"),),
        description="Default: the log only.",
    )
    max_notify_attempts: int = Field(
        default=20, ge=1, le=1000, description="A notification failing this often is dead."
    )
    max_label_values: int = Field(
        default=50,
        ge=1,
        le=10_000,
        description="/metrics keeps this many values per slice label (by traffic), "
        'folding the rest into "__other__".',
    )
    public_url: str | None = Field(
        default=None, description="The server's URL as users reach it, for links in alerts."
    )

    @field_validator("rules", "notifiers")
    @classmethod
    def _unique_names(cls, value: tuple[Any, ...]) -> tuple[Any, ...]:
        names = [item.name for item in value]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"names must be unique, repeated: {', '.join(repeated)}")
        return value

    @field_validator("public_url")
    @classmethod
    def _site_root(cls, value: str | None) -> str | None:
        """The site's root: "https://x/", "https://x/ui" and "https://x/ui/" all give
        "https://x", so links built on it reach /ui/… and /api/… alike."""
        if value is None:
            return None
        root = value.strip().rstrip("/")
        root = root.removesuffix("/ui").rstrip("/")
        if not root.startswith(("https://", "http://")):
            raise ValueError(f"public_url must start with http:// or https://, not {value!r}")
        return root

    @model_validator(mode="after")
    def _known_notifiers(self) -> MonitorConfig:
        names = {notifier.name for notifier in self.notifiers}
        for rule in self.rules:
            unknown = [name for name in rule.notify or () if name not in names]
            if unknown:
                raise ValueError(
                    f"rule {rule.name!r}: notify names no notifier called "
                    f"{', '.join(map(repr, unknown))} (configured: {', '.join(sorted(names))})"
                )
        return self

    def active_rules(self) -> tuple[RuleConfig, ...]:
        """The configured rules, after the defaults they do not replace."""
        own = {rule.name for rule in self.rules}
        defaults = [r for r in DEFAULT_RULES if r.name not in own] if self.default_rules else []
        return (*defaults, *self.rules)
