"""The tables. Changes here need a migration in `migrations/versions/`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Timezone-aware UTC on both dialects (SQLite stores naive text, we add UTC back)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: liveeval stores UTC-aware times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Timestamp = UTCDateTime()
Json = sa.JSON().with_variant(JSONB(), "postgresql")
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

interactions = sa.Table(
    "interactions",
    metadata,
    sa.Column("interaction_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("project", sa.String(200), nullable=False),
    sa.Column("trace_id", sa.String(32), nullable=False),
    sa.Column("span_id", sa.String(16), nullable=False),
    sa.Column("parent_span_id", sa.String(16)),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("convention", sa.String(20), nullable=False),
    sa.Column("operation", sa.String(50)),
    sa.Column("start_at", Timestamp, nullable=False),
    sa.Column("end_at", Timestamp, nullable=False),
    sa.Column("latency_ms", sa.Float, nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("provider", sa.String(100)),
    sa.Column("model_requested", sa.String(200)),
    sa.Column("model_served", sa.String(200)),
    sa.Column("response_id", sa.String(200)),
    sa.Column("finish_reasons", Json),
    sa.Column("prompt_version", sa.String(200)),
    sa.Column("route", sa.String(200)),
    sa.Column("segment", sa.String(200)),
    sa.Column("session_id", sa.String(200)),
    sa.Column("user_id", sa.String(200)),
    sa.Column("input_text", sa.Text),
    sa.Column("input_messages", Json),
    sa.Column("output_text", sa.Text),
    sa.Column("output_messages", Json),
    sa.Column("retrieved_context", Json),
    sa.Column("tool_calls", Json),
    sa.Column("input_tokens", sa.Integer),
    sa.Column("output_tokens", sa.Integer),
    sa.Column("total_tokens", sa.Integer),
    sa.Column("cache_read_tokens", sa.Integer),
    sa.Column("cache_creation_tokens", sa.Integer),
    sa.Column("reasoning_tokens", sa.Integer),
    sa.Column("cost_usd", sa.Float),
    sa.Column("cost_source", sa.String(20)),
    sa.Column("tags", Json),
    sa.Column("metadata", Json),
    sa.Column("received_at", Timestamp, nullable=False),
    # Set when retention deleted the content (texts, messages, context, user ids, spans).
    sa.Column("content_purged_at", Timestamp),
    sa.UniqueConstraint("project", "trace_id", "span_id"),
    sa.Index(None, "project", "start_at"),
    sa.Index(None, "project", "response_id"),
    sa.Index(None, "project", "session_id"),
    # What retention still has to purge: one probe, not a walk over purged rows.
    sa.Index(
        "ix_interactions_unpurged",
        "project",
        "start_at",
        sqlite_where=sa.text("content_purged_at IS NULL"),
        postgresql_where=sa.text("content_purged_at IS NULL"),
    ),
)

# Every trace seen, so that ingest learns which traces of a batch have earlier pieces
# with the insert itself (index-checked), not with a query the planner might scan for.
traces = sa.Table(
    "traces",
    metadata,
    sa.Column("project", sa.String(200), nullable=False),
    sa.Column("trace_id", sa.String(32), nullable=False),
    sa.Column("first_seen_at", Timestamp, nullable=False),
    sa.PrimaryKeyConstraint("project", "trace_id"),
)

spans = sa.Table(
    "spans",
    metadata,
    sa.Column("span_pk", BigId, primary_key=True, autoincrement=True),
    sa.Column("project", sa.String(200), nullable=False),
    sa.Column("trace_id", sa.String(32), nullable=False),
    sa.Column("span_id", sa.String(16), nullable=False),
    sa.Column("parent_span_id", sa.String(16)),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("span_type", sa.String(30)),  # llm, retriever, tool, chain, agent, embedding, ...
    sa.Column("start_at", Timestamp, nullable=False),
    sa.Column("end_at", Timestamp, nullable=False),
    sa.Column("status_code", sa.String(10), nullable=False),
    sa.Column("status_message", sa.Text),
    # The span as OTLP protobuf (attributes, events, links), long values truncated.
    sa.Column("payload", sa.LargeBinary, nullable=False),
    sa.Column("resource", Json, nullable=False),
    sa.Column("scope", sa.String(200)),
    sa.Column("received_at", Timestamp, nullable=False),
    sa.UniqueConstraint("project", "trace_id", "span_id"),
)

log_events = sa.Table(
    "log_events",
    metadata,
    sa.Column("log_event_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("project", sa.String(200), nullable=False),
    sa.Column("trace_id", sa.String(32), nullable=False),
    sa.Column("span_id", sa.String(16), nullable=False),
    sa.Column("fingerprint", sa.String(32), nullable=False),  # a retried export is stored once
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("at", Timestamp, nullable=False),
    sa.Column("attributes", Json, nullable=False),
    sa.Column("body", Json),
    sa.Column("received_at", Timestamp, nullable=False),
    sa.UniqueConstraint("project", "trace_id", "span_id", "fingerprint"),
)

signals = sa.Table(
    "signals",
    metadata,
    sa.Column("signal_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("project", sa.String(200), nullable=False),
    sa.Column(
        "interaction_id",
        BigId,
        sa.ForeignKey("interactions.interaction_id", ondelete="CASCADE"),
    ),
    sa.Column("trace_id", sa.String(32)),
    sa.Column("response_id", sa.String(200)),
    sa.Column("kind", sa.String(30), nullable=False),
    sa.Column("value", sa.Float),
    sa.Column("text", sa.Text),
    sa.Column("details", Json, nullable=False),
    sa.Column("user_id", sa.String(200)),
    sa.Column("idempotency_key", sa.String(200)),
    sa.Column("occurred_at", Timestamp, nullable=False),
    sa.Column("received_at", Timestamp, nullable=False),
    sa.UniqueConstraint("project", "idempotency_key"),
    sa.Index(None, "interaction_id", "kind"),
    sa.Index(None, "project", "kind", "occurred_at"),
    # Signals that arrived before their span: few rows, looked up on every ingest batch.
    sa.Index(
        "ix_signals_pending",
        "project",
        "trace_id",
        "response_id",
        sqlite_where=sa.text("interaction_id IS NULL"),
        postgresql_where=sa.text("interaction_id IS NULL"),
    ),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("key_id", sa.String(32), primary_key=True),
    sa.Column("project", sa.String(200), nullable=False),
    sa.Column("role", sa.String(10), nullable=False),
    sa.Column("name", sa.String(200)),
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("revoked_at", Timestamp),
)

# A dashboard sign-in: the SHA-256 of the random id in the browser's cookie, never the
# id or the key itself; it ends at logout, at expires_at, or when its key is revoked.
dashboard_sessions = sa.Table(
    "dashboard_sessions",
    metadata,
    sa.Column("session_hash", sa.String(64), primary_key=True),
    sa.Column(
        "key_id",
        sa.String(32),
        sa.ForeignKey("api_keys.key_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("expires_at", Timestamp, nullable=False),
    sa.Index(None, "expires_at"),
)


def _interaction_fk() -> sa.ForeignKey:
    return sa.ForeignKey("interactions.interaction_id", ondelete="CASCADE")


# The partial unique indexes of scores, as an upsert names them in its conflict target.
KEYED = "dedup_key IS NOT NULL"
CHECK = "kind = 'check'"
# The partial index of sampled decisions, as each dialect writes `WHERE sampled`.
SAMPLED = {"sqlite": "sampled = 1", "postgresql": "sampled"}

scores = sa.Table(
    "scores",
    metadata,
    sa.Column("score_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("project", sa.String(200), nullable=False),
    sa.Column("interaction_id", BigId, _interaction_fk(), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(10), nullable=False),  # check | judge | human | external
    sa.Column("value", sa.Float),
    sa.Column("label", sa.String(200)),
    sa.Column("explanation", sa.Text),
    sa.Column("status", sa.String(10), nullable=False),  # ok | error
    sa.Column("error", sa.Text),
    sa.Column("evaluator_version", sa.String(400)),
    sa.Column("details", Json, nullable=False),
    sa.Column("cost_usd", sa.Float),
    sa.Column("latency_ms", sa.Float),
    sa.Column("author", sa.String(200)),
    # What makes a score the same score when written again: a retried judge job, a
    # re-sent span event or REST post. A check has none stored: it is the same check when
    # re-run on a re-assembled interaction by its (interaction_id, name).
    sa.Column("dedup_key", sa.String(500)),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Index(
        "uq_scores_project_dedup_key",
        "project",
        "dedup_key",
        unique=True,
        sqlite_where=sa.text(KEYED),
        postgresql_where=sa.text(KEYED),
    ),
    sa.Index(
        "uq_scores_check",
        "interaction_id",
        "name",
        unique=True,
        sqlite_where=sa.text(CHECK),
        postgresql_where=sa.text(CHECK),
    ),
    sa.Index(None, "interaction_id", "kind"),
    sa.Index(None, "project", "kind", "name", "created_at"),
)

# One row per sampling decision: made at ingest, and again when a late signal or a
# failed check forces judging. The slice values are copied so strata counts need no join.
sampling_decisions = sa.Table(
    "sampling_decisions",
    metadata,
    sa.Column("decision_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("project", sa.String(200), nullable=False),
    sa.Column("interaction_id", BigId, _interaction_fk(), nullable=False),
    sa.Column("trigger", sa.String(100), nullable=False),  # ingest | signal:<kind> | check:<name>
    sa.Column("sampled", sa.Boolean, nullable=False),
    sa.Column("policy", sa.String(50)),
    sa.Column("priority", sa.Integer, nullable=False),
    sa.Column("reason", sa.LargeBinary, nullable=False),  # store/decision_reasons.py
    sa.Column("slice", Json, nullable=False),
    sa.Column("decided_at", Timestamp, nullable=False),
    sa.UniqueConstraint("interaction_id", "trigger"),
    # Strata and budget count the sampled ones: a few in a hundred, the only ones indexed.
    sa.Index(
        None,
        "project",
        "decided_at",
        sqlite_where=sa.text(SAMPLED["sqlite"]),
        postgresql_where=sa.text(SAMPLED["postgresql"]),
    ),
)

# The durable judge queue. One job per (interaction, rubric, pinned judge version).
judge_jobs = sa.Table(
    "judge_jobs",
    metadata,
    sa.Column("job_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("project", sa.String(200), nullable=False),
    sa.Column("interaction_id", BigId, _interaction_fk(), nullable=False),
    sa.Column("rubric", sa.String(100), nullable=False),
    sa.Column("judge_version", sa.String(400), nullable=False),
    sa.Column("priority", sa.Integer, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("state", sa.String(10), nullable=False),  # queued | leased | done | dead
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("available_at", Timestamp, nullable=False),
    sa.Column("lease_expires_at", Timestamp),
    sa.Column("leased_by", sa.String(200)),
    sa.Column("last_error", sa.Text),
    sa.Column("score_id", BigId),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("finished_at", Timestamp),
    sa.UniqueConstraint("interaction_id", "rubric", "judge_version"),
    sa.Index(None, "state", "priority", "available_at"),
    sa.Index(None, "project", "created_at"),
)

# What a judge said about an exact (input, output, context, rubric, judge version):
# the same question is never paid for twice.
judge_cache = sa.Table(
    "judge_cache",
    metadata,
    sa.Column("cache_key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Float),
    sa.Column("label", sa.String(200)),
    sa.Column("explanation", sa.Text),
    sa.Column("model_reported", sa.String(200)),
    sa.Column("input_tokens", sa.Integer),
    sa.Column("output_tokens", sa.Integer),
    sa.Column("cost_usd", sa.Float),
    sa.Column("created_at", Timestamp, nullable=False),
)

# Interactions waiting for their checks and sampling decision, when evaluation runs in
# the background (the default for `serve`): ingest adds them, the evaluator takes them.
# Re-assembly moves `enqueued_at`, so a taken row changed since is evaluated again.
evaluation_queue = sa.Table(
    "evaluation_queue",
    metadata,
    sa.Column("interaction_id", BigId, _interaction_fk(), primary_key=True),
    sa.Column("project", sa.String(200), nullable=False),
    sa.Column("enqueued_at", Timestamp, nullable=False),
)

# What the monitor compares across windows, per interaction: written by the evaluator.
# `feature_id` grows with every write, so the rollup job finds new rows by it.
interaction_features = sa.Table(
    "interaction_features",
    metadata,
    sa.Column("feature_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("interaction_id", BigId, _interaction_fk(), nullable=False, unique=True),
    sa.Column("project", sa.String(200), nullable=False),
    sa.Column("start_at", Timestamp, nullable=False),
    sa.Column("input_chars", sa.Integer, nullable=False),
    sa.Column("output_chars", sa.Integer, nullable=False),
    sa.Column("language", sa.String(16)),
    sa.Column("intent", sa.String(100)),
    sa.Index(None, "project", "start_at"),
    sqlite_autoincrement=True,  # a rewritten row needs a new id, never a reused one
)

# Per-minute and per-hour sums of every interaction, signal and judge score by slice, so
# that alert rules and /metrics read a few thousand rows instead of millions. Rebuilt
# bucket by bucket from the raw rows (idempotent), never incremented.
rollups = sa.Table(
    "rollups",
    metadata,
    sa.Column("rollup_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("project", sa.String(200), nullable=False),
    sa.Column("grain_s", sa.Integer, nullable=False),  # 60 or 3600
    sa.Column("bucket_at", Timestamp, nullable=False),
    sa.Column("slice_key", sa.String(32), nullable=False),  # hash of the dimension values
    sa.Column("model_requested", sa.String(200)),
    sa.Column("model_served", sa.String(200)),
    sa.Column("prompt_version", sa.String(200)),
    sa.Column("route", sa.String(200)),
    sa.Column("segment", sa.String(200)),
    sa.Column("language", sa.String(16)),
    sa.Column("interactions", sa.Integer, nullable=False),
    sa.Column("errors", sa.Integer, nullable=False),
    sa.Column("latency_ms_sum", sa.Float, nullable=False),
    sa.Column("latency_hist", Json, nullable=False),  # {bucket index: count}
    sa.Column("cost_usd_sum", sa.Float, nullable=False),
    sa.Column("cost_n", sa.Integer, nullable=False),
    sa.Column("model_mismatch", sa.Integer, nullable=False),
    sa.Column("check_failed", sa.Integer, nullable=False),
    sa.Column("judge_errors", sa.Integer, nullable=False),
    sa.Column("signals", Json, nullable=False),  # {kind: interactions with one}
    sa.Column("edit_ratio_sum", sa.Float, nullable=False),
    sa.Column("edit_ratio_n", sa.Integer, nullable=False),
    sa.Column("scores", Json, nullable=False),  # {name: [n, sum, sum_sq, bad, {level: count}]}
    sa.UniqueConstraint("project", "grain_s", "bucket_at", "slice_key"),
)

# How far the rollup job has read each source table (by its growing id).
rollup_watermarks = sa.Table(
    "rollup_watermarks",
    metadata,
    sa.Column("source", sa.String(50), primary_key=True),
    sa.Column("last_id", sa.BigInteger, nullable=False),
    # Ids below last_id not yet visible when it was read (JSON [[id, first seen], …]): on
    # PostgreSQL a transaction that took an id earlier may commit later.
    sa.Column("gaps", sa.Text, nullable=False, server_default="[]"),
)

alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("alert_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("project", sa.String(200), nullable=False),
    sa.Column("rule", sa.String(100), nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("state", sa.String(10), nullable=False),  # firing | resolved
    sa.Column("severity", sa.String(10), nullable=False),
    sa.Column("metric", sa.String(100), nullable=False),
    sa.Column("slice", Json, nullable=False),
    sa.Column("value", sa.Float),
    sa.Column("baseline", sa.Float),
    sa.Column("threshold", sa.Float, nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("details", Json, nullable=False),
    sa.Column("link", sa.Text),
    sa.Column("started_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("resolved_at", Timestamp),
    sa.Column("acknowledged_by", sa.String(200)),  # who took it (someone is on it)
    sa.Column("acknowledged_at", Timestamp),
    sa.Index(None, "project", "state", "started_at"),
    sa.Index(None, "fingerprint", "started_at"),
)

# A rule silenced until a time: it still evaluates and its alerts are stored, but no
# notification is sent for them meanwhile.
silences = sa.Table(
    "silences",
    metadata,
    sa.Column("silence_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("project", sa.String(200), nullable=False),
    sa.Column("rule", sa.String(100), nullable=False),
    sa.Column("until_at", Timestamp, nullable=False),
    sa.Column("silenced_by", sa.String(200), nullable=False),
    sa.Column("silenced_at", Timestamp, nullable=False),
    sa.Index(None, "project", "rule", "until_at"),
)

# The notification outbox: written with the alert change, sent after, retried until sent
# or dead, so an alert is never lost to a notifier that was down.
notifications = sa.Table(
    "notifications",
    metadata,
    sa.Column("notification_id", BigId, primary_key=True, autoincrement=True),
    sa.Column(
        "alert_id",
        BigId,
        sa.ForeignKey("alerts.alert_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("notifier", sa.String(100), nullable=False),
    sa.Column("action", sa.String(10), nullable=False),  # trigger | resolve
    sa.Column("state", sa.String(10), nullable=False),  # pending | sent | dead
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", Timestamp, nullable=False),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("sent_at", Timestamp),
    sa.Index(None, "state", "next_attempt_at"),
)

# Periodic tasks run once per cluster: whoever holds the lease runs the tick.
scheduler_leases = sa.Table(
    "scheduler_leases",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("holder", sa.String(200), nullable=False),
    sa.Column("expires_at", Timestamp, nullable=False),
)


# The review queue. One item per interaction that failed in some way (its reasons
# merge); items with the same failure and a near-identical input share a group, so a
# reviewer sees a failure pattern once, with its count. Texts are stored scrubbed.
review_groups = sa.Table(
    "review_groups",
    metadata,
    sa.Column("group_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("project", sa.String(200), nullable=False),
    sa.Column("failure", sa.String(200), nullable=False),  # thumbs_down, low_score:<rubric>, …
    sa.Column("label", sa.Text, nullable=False),  # the first item's input, shortened
    sa.Column("embedding", sa.LargeBinary, nullable=False),  # the first item's input, float32
    sa.Column("items", sa.Integer, nullable=False),
    sa.Column("first_at", Timestamp, nullable=False),
    sa.Column("last_at", Timestamp, nullable=False),
    sa.Index(None, "project", "failure", "last_at"),
)

review_items = sa.Table(
    "review_items",
    metadata,
    sa.Column("item_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("project", sa.String(200), nullable=False),
    sa.Column("interaction_id", BigId, _interaction_fk(), nullable=False, unique=True),
    sa.Column(
        "group_id",
        BigId,
        sa.ForeignKey("review_groups.group_id", ondelete="SET NULL"),
    ),
    sa.Column("state", sa.String(20), nullable=False),  # open | real_failure | … | promoted
    sa.Column("priority", sa.Integer, nullable=False),
    sa.Column("failure", sa.String(200), nullable=False),  # the highest-priority reason
    sa.Column("reasons", Json, nullable=False),  # [{kind, detail, priority, at}]
    sa.Column("input", Json, nullable=False),  # scrubbed {text | messages, context}
    sa.Column("output_text", sa.Text),  # scrubbed
    sa.Column("pii", Json, nullable=False),  # {entity type: count} replaced by placeholders
    sa.Column("judge_score", sa.Float),
    sa.Column("rubric", sa.String(100)),
    sa.Column("human_score", sa.Float),
    sa.Column("expected", Json),
    sa.Column("grader", Json),
    sa.Column("tags", Json, nullable=False),
    sa.Column("duplicate_of", BigId),
    sa.Column("note", sa.Text),
    sa.Column("case_id", sa.String(200)),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("updated_by", sa.String(200)),
    sa.Index(None, "project", "state", "priority"),
    sa.Index(None, "group_id"),
)

# Who did what to a review item, and when: every triage step is an event.
review_events = sa.Table(
    "review_events",
    metadata,
    sa.Column("event_id", BigId, primary_key=True, autoincrement=True),
    sa.Column(
        "item_id",
        BigId,
        sa.ForeignKey("review_items.item_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("project", sa.String(200), nullable=False),
    sa.Column("action", sa.String(30), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("at", Timestamp, nullable=False),
    sa.Column("details", Json, nullable=False),
    sa.Index(None, "item_id", "at"),
)

# The golden set: every version of every case, never updated except to retire it.
cases = sa.Table(
    "cases",
    metadata,
    sa.Column("case_pk", BigId, primary_key=True, autoincrement=True),
    sa.Column("project", sa.String(200), nullable=False),
    sa.Column("case_id", sa.String(200), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("content", Json, nullable=False),  # the Case as its JSONL line holds it
    sa.Column("hash", sa.String(80), nullable=False),
    sa.Column("regression", sa.Boolean, nullable=False),
    sa.Column("frozen", sa.Boolean, nullable=False),
    sa.Column("tags", Json, nullable=False),
    sa.Column("author", sa.String(200), nullable=False),
    sa.Column("source_interaction_id", sa.BigInteger),  # no FK: a case outlives its source
    sa.Column("review_item_id", sa.BigInteger),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("retired_at", Timestamp),
    sa.Column("retired_by", sa.String(200)),
    sa.Column("retired_reason", sa.Text),
    sa.UniqueConstraint("project", "case_id", "version"),
)

# A labelled calibration set per rubric (input, output, human scores), imported from JSONL.
calibration_items = sa.Table(
    "calibration_items",
    metadata,
    sa.Column("calibration_item_pk", BigId, primary_key=True, autoincrement=True),
    sa.Column("project", sa.String(200), nullable=False),
    sa.Column("rubric", sa.String(100), nullable=False),
    sa.Column("item_id", sa.String(200), nullable=False),
    sa.Column("input", sa.Text, nullable=False),
    sa.Column("output", sa.Text, nullable=False),
    sa.Column("context", Json, nullable=False),
    sa.Column("human_scores", Json, nullable=False),
    sa.Column("imported_at", Timestamp, nullable=False),
    sa.UniqueConstraint("project", "rubric", "item_id"),
)

# Each comparison of a judge version with human labels: on the calibration set (after a
# judge model change, or on demand) or on the human scores given in review.
calibration_runs = sa.Table(
    "calibration_runs",
    metadata,
    sa.Column("run_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("project", sa.String(200), nullable=False),
    sa.Column("rubric", sa.String(100), nullable=False),
    sa.Column("judge_version", sa.String(400), nullable=False),
    sa.Column("model_reported", sa.String(200)),
    sa.Column("source", sa.String(20), nullable=False),  # calibration_set | review
    sa.Column("trigger", sa.String(20), nullable=False),  # manual | model_change | schedule
    sa.Column("n", sa.Integer, nullable=False),
    sa.Column("metrics", Json, nullable=False),
    sa.Column("floor", sa.Float, nullable=False),
    sa.Column("passed", sa.Boolean, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Index(None, "project", "rubric", "judge_version", "created_at"),
)

# Each golden-set regression run reported to the server (`liveeval regress --server`):
# against which snapshot of the set, for which commit and release, with what result.
regression_runs = sa.Table(
    "regression_runs",
    metadata,
    sa.Column("run_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("project", sa.String(200), nullable=False),
    sa.Column("snapshot", sa.String(80), nullable=False),
    sa.Column("git_commit", sa.String(64)),
    sa.Column("prompt_version", sa.String(200)),
    sa.Column("target", sa.Text, nullable=False),
    sa.Column("started_at", Timestamp, nullable=False),
    sa.Column("finished_at", Timestamp, nullable=False),
    sa.Column("cases", sa.Integer, nullable=False),
    sa.Column("passed", sa.Integer, nullable=False),
    sa.Column("failed", sa.Integer, nullable=False),
    sa.Column("errors", sa.Integer, nullable=False),
    sa.Column("pass_rate", sa.Float),
    sa.Column("mean_score", sa.Float),
    sa.Column("gate_passed", sa.Boolean, nullable=False),
    sa.Column("results", Json, nullable=False),  # per case: id, version, status, score, detail
    sa.Column("received_at", Timestamp, nullable=False),
    sa.Index(None, "project", "started_at"),
    sa.Index(None, "project", "prompt_version", "started_at"),
)

# Each paired offline A/B run reported to the server (`liveeval ab --server`): the two
# variants on one snapshot of the set, the paired comparison's figures, the pairwise
# judge's position-bias flip rate, and the whole report.
ab_runs = sa.Table(
    "ab_runs",
    metadata,
    sa.Column("run_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("project", sa.String(200), nullable=False),
    sa.Column("started_at", Timestamp, nullable=False),
    sa.Column("snapshot", sa.String(80), nullable=False),
    sa.Column("target_a", sa.Text, nullable=False),
    sa.Column("target_b", sa.Text, nullable=False),
    sa.Column("grader", Json),  # the one grader of the run; null: each case's own
    sa.Column("cases", sa.Integer, nullable=False),
    sa.Column("compared", sa.Integer, nullable=False),  # pairs without an error on a side
    sa.Column("verdict", sa.String(20)),  # b_wins, a_wins, no_difference; null: too few pairs
    sa.Column("mean_a", sa.Float),
    sa.Column("mean_b", sa.Float),
    sa.Column("difference", sa.Float),  # B - A
    sa.Column("ci_low", sa.Float),
    sa.Column("ci_high", sa.Float),
    sa.Column("p_value", sa.Float),  # McNemar's for pass/fail graders, the paired t-test's else
    sa.Column("pairwise_rubric", sa.String(200)),
    sa.Column("pairwise_pairs", sa.Integer),  # pairs judged in both orders
    sa.Column("pairwise_flips", sa.Integer),
    sa.Column("pairwise_flip_rate", sa.Float),
    sa.Column("git_commit", sa.String(64)),
    sa.Column("report", Json, nullable=False),  # the whole `liveeval ab --json` document
    sa.Column("received_at", Timestamp, nullable=False),
    sa.Index(None, "project", "started_at"),
)

# Each routed decision (issue 18): the arm served, the probability it was drawn with (what
# lets `routing replay` evaluate another policy on the same traffic) and the context.
# Recorded from the SDK's `route <task>` span or by POST .../choose; once per decision_id.
routing_decisions = sa.Table(
    "routing_decisions",
    metadata,
    sa.Column("decision_id", sa.String(32), primary_key=True),
    sa.Column("project", sa.String(200), nullable=False),
    sa.Column("task", sa.String(200), nullable=False),
    sa.Column("arm", sa.String(200), nullable=False),
    sa.Column("probability", sa.Float, nullable=False),
    sa.Column("policy_version", sa.BigInteger, nullable=False),
    sa.Column("slice", sa.String(1000), nullable=False),
    sa.Column("context", Json, nullable=False),
    sa.Column("session_id", sa.String(200)),
    sa.Column("goal_id", sa.String(200)),
    sa.Column("trace_id", sa.String(32)),
    sa.Column("decided_at", Timestamp, nullable=False),
    sa.Index(None, "project", "task", "decided_at"),
    sa.Index(None, "project", "trace_id"),
    sa.Index(None, "project", "goal_id"),
)

# Kill switches: an arm gets no traffic in a slice (and the slices inside it) from the next
# policy refresh on. Lifting one keeps the row, so the history stays auditable.
routing_kills = sa.Table(
    "routing_kills",
    metadata,
    sa.Column("kill_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("project", sa.String(200), nullable=False),
    sa.Column("task", sa.String(200), nullable=False),
    sa.Column("arm", sa.String(200), nullable=False),
    sa.Column("slice", sa.String(1000), nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("killed_at", Timestamp, nullable=False),
    sa.Column("lifted_at", Timestamp),
    sa.Index(None, "project", "task", "lifted_at"),
)
