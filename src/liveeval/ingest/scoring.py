"""Online evaluation at ingest: what happens to every interaction once it is stored.

1. The cheap checks run on it (before the write lock: they are pure) and their
   results become scores; a failed `json_schema` check also records the
   `schema_invalid` signal.
2. `gen_ai.evaluation.result` events the app sent become scores.
3. The sampler decides, once, whether a judge grades it, and the decision is
   recorded with its reason; a sampled interaction gets one judge job per rubric.
   A check that fails on a re-assembled interaction, and a late signal that
   forces judging, decide again (recorded under their own trigger). An interaction
   whose span carried no content is not decided on: the judge could grade nothing,
   and content that arrives later (GenAI log events) gets its decision then.

The app's request never waits for a judge: jobs are rows in the store's queue.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property

import sqlalchemy as sa

import liveeval
from liveeval.config import Settings
from liveeval.config.checks import ChecksConfig
from liveeval.config.sampling import SamplingConfig
from liveeval.evaluators import CheckResult, CheckSuite, ConfiguredCheck
from liveeval.ingest.capture import CaptureWatch
from liveeval.ingest.evaluations import EvaluationEvent, dedup_key, score_of, target_of
from liveeval.ingest.features import IntentOf, features_of, intent_rules
from liveeval.judge.grading import judge_version
from liveeval.judge.rubrics import Rubric, applies, selected_rubrics
from liveeval.model import Interaction, Score, ScoreKind, ScoreStatus, Signal, SignalKind
from liveeval.sampling import (
    Candidate,
    Decision,
    SamplerState,
    confidence_from_metadata,
    day_start,
    decide,
    strata_of,
    trigger,
    window_start,
)
from liveeval.store import jobs
from liveeval.store.evaluation_queue import enqueue
from liveeval.store.features import Features, write_features
from liveeval.store.sampling import (
    RecordedDecision,
    first_slices,
    judge_cost_since,
    record_decisions,
    sampled_per_stratum,
    sampled_since,
    triggers_of,
)
from liveeval.store.scores import write_scores
from liveeval.store.signals import record_signal

INGEST = "ingest"
# What the app's own parser would have hit; a check that crashed is not the output's fault.
SCHEMA_FAILURES = ("invalid_json", "schema_mismatch")


@dataclass
class _Tally:
    strata: dict[tuple[str, str], int]
    today: int
    cost: float
    fetched_at: datetime
    window: datetime
    day: datetime


class SamplerStates:
    """Per project, the counts the sampler needs (judged per stratum this window, judged
    and spent today): read from the store at most every `refresh`, and kept current
    with this process's own decisions in between. Reading them for every batch would
    scan the window's decisions each time, inside the write lock. Another replica's
    decisions show up at the next refresh, so a floor may overshoot by a little."""

    def __init__(self, refresh: timedelta = timedelta(seconds=10)) -> None:
        self.refresh = refresh
        self._tallies: dict[str, _Tally] = {}
        self._lock = threading.Lock()

    def current(
        self, conn: sa.Connection, config: SamplingConfig, project: str, now: datetime
    ) -> SamplerState:
        with self._lock:
            tally = self._tallies.get(project)
            window = window_start(now, config.stratified.window)
            if (
                tally is None
                or now - tally.fetched_at >= self.refresh
                or now < tally.fetched_at
                or tally.window != window
                or tally.day != day_start(now)
            ):
                state = sampler_state(conn, config, project, now)
                tally = _Tally(
                    dict(state.judged_in_window),
                    state.judgments_today,
                    state.cost_today_usd,
                    now,
                    window,
                    day_start(now),
                )
                self._tallies[project] = tally
            return SamplerState(tally.strata, tally.today, tally.cost)

    def sampled(self, project: str, strata: Sequence[tuple[str, str]]) -> None:
        """Count one more interaction sampled by this process."""
        with self._lock:
            tally = self._tallies.get(project)
            if tally is None:
                return
            tally.today += 1
            for stratum in strata:
                tally.strata[stratum] = tally.strata.get(stratum, 0) + 1


@dataclass(frozen=True)
class OnlineEvaluation:
    """The checks, the sampler and the judge plan of one server or worker."""

    checks_config: ChecksConfig
    sampling: SamplingConfig
    rubrics: tuple[tuple[Rubric, str], ...]  # (rubric, pinned judge version) per job kind
    judge_enabled: bool
    background: bool = False  # ingest queues the checks and sampling for the evaluator
    states: SamplerStates = field(default_factory=SamplerStates, compare=False)
    capture: CaptureWatch = field(default_factory=CaptureWatch, compare=False)
    intent_of: IntentOf | None = field(default=None, compare=False)  # [monitor.drift] intents

    @classmethod
    def from_settings(cls, settings: Settings) -> OnlineEvaluation:
        judge = settings.judge
        enabled = judge.provider != "none"
        rubrics = tuple((r, judge_version(judge, r)) for r in selected_rubrics(judge))
        background = settings.evaluation == "background"
        intents = settings.monitor.drift.intents
        evaluation = cls(
            settings.checks,
            settings.sampling,
            rubrics,
            enabled,
            background,
            intent_of=intent_rules(intents) if intents else None,
        )
        if not background:
            evaluation.checks  # noqa: B018  (inline: build now, so bad config fails at start)
        return evaluation

    @cached_property
    def checks(self) -> CheckSuite:
        """The check suite, built on first use: in background mode only the evaluator
        process needs it (its language model takes ~80 MB a process)."""
        return CheckSuite.from_config(self.checks_config)


Checked = Sequence[tuple[ConfiguredCheck, CheckResult]]


def run_checks(evaluation: OnlineEvaluation, batch: Sequence[Interaction]) -> list[Checked]:
    """The checks' results for each interaction (pure; run before the write lock)."""
    return [evaluation.checks.evaluate(interaction) for interaction in batch]


@dataclass(frozen=True, slots=True)
class Evaluated:
    scores: int = 0
    sampled: int = 0
    jobs: int = 0


@dataclass
class Plan:
    """What evaluating a batch will write: worked out before the write lock."""

    scores: list[Score] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    schema_signals: list[Signal] = field(default_factory=list)
    decided: list[tuple[RecordedDecision, Interaction]] = field(default_factory=list)
    features: list[Features] = field(default_factory=list)


def plan_evaluation(
    conn: sa.Connection,
    evaluation: OnlineEvaluation,
    project: str,
    batch: Sequence[Interaction],
    results: Sequence[Checked],
    events: Sequence[EvaluationEvent],
    now: datetime,
    ids: Mapping[tuple[str, str], int],
    signals: Mapping[int, set[str]] | None = None,
) -> Plan:
    """The check scores, event scores, schema signals and sampling decisions of `batch`
    (stored interactions, whose ids `ids` gives by (trace_id, span_id)). Reads only: the
    background evaluator calls it outside the write lock. `signals`: the kinds of signal
    each interaction has drawn, by id."""
    stored = [(i, ids[(i.trace_id, i.span_id)], r) for i, r in zip(batch, results, strict=True)]
    plan = Plan()
    plan.scores, plan.keys = _check_scores(stored, now)
    event_scores, event_keys = _event_scores(events, batch, ids, now)
    plan.scores += event_scores
    plan.keys += event_keys
    for interaction, iid, checks in stored:
        for configured, result in checks:
            if configured.check == "json_schema" and result.label in SCHEMA_FAILURES:
                plan.schema_signals.append(_schema_invalid(interaction, iid, result))
    plan.decided = _decide(conn, evaluation, project, stored, signals or {}, now)
    plan.features = [features_of(i, iid, r, evaluation.intent_of) for i, iid, r in stored]
    return plan


def write_plan(
    conn: sa.Connection, evaluation: OnlineEvaluation, plan: Plan, now: datetime
) -> Evaluated:
    write_scores(conn, plan.scores, plan.keys)
    write_features(conn, plan.features)
    for signal in plan.schema_signals:
        record_signal(conn, signal, now)
    record_decisions(conn, [d for d, _ in plan.decided])
    queued = enqueue_judgments(conn, evaluation, plan.decided, now)
    return Evaluated(len(plan.scores), sum(1 for d, _ in plan.decided if d.sampled), queued)


def record_evaluation(
    conn: sa.Connection,
    evaluation: OnlineEvaluation,
    project: str,
    batch: Sequence[Interaction],
    results: Sequence[Checked],
    events: Sequence[EvaluationEvent],
    now: datetime,
    ids: Mapping[tuple[str, str], int],
    signals: Mapping[int, set[str]] | None = None,
) -> Evaluated:
    """Inline evaluation: plan and write in the ingest transaction."""
    plan = plan_evaluation(conn, evaluation, project, batch, results, events, now, ids, signals)
    return write_plan(conn, evaluation, plan, now)


def record_deferred(
    conn: sa.Connection,
    project: str,
    batch: Sequence[Interaction],
    events: Sequence[EvaluationEvent],
    now: datetime,
    ids: Mapping[tuple[str, str], int],
) -> Evaluated:
    """Background evaluation: store the app's own evaluation events now, and queue the
    interactions (`ids` by (trace_id, span_id)) for the evaluator (ingest/evaluator.py),
    which runs checks and sampling."""
    scores: list[Score] = []
    if events:
        scores, keys = _event_scores(events, batch, ids, now)
        write_scores(conn, scores, keys)
    enqueue(conn, project, ids.values(), now)
    return Evaluated(scores=len(scores))


def _event_scores(
    events: Sequence[EvaluationEvent],
    batch: Sequence[Interaction],
    ids: Mapping[tuple[str, str], int],
    now: datetime,
) -> tuple[list[Score], list[str]]:
    """The app's evaluation events as scores of the interactions they name, with keys."""
    scores, keys = [], []
    for event in events:
        target = target_of(event, batch)
        if target is not None:
            scores.append(score_of(event, ids[(target.trace_id, target.span_id)], now))
            keys.append(dedup_key(event))
    return scores, keys


def on_signal(
    conn: sa.Connection,
    evaluation: OnlineEvaluation,
    interaction: Interaction,
    kind: SignalKind,
    now: datetime,
) -> Decision | None:
    """A signal arrived for a stored interaction: judge it now if the signal forces it
    and it was not sampled before. The decision is recorded under `signal:<kind>`."""
    if not trigger(kind.value, evaluation.sampling) or interaction.interaction_id is None:
        return None
    if not interaction.content_captured:
        return None  # nothing to judge
    iid = interaction.interaction_id
    triggers = triggers_of(conn, [iid]).get(iid, {})
    if any(triggers.values()) or f"signal:{kind.value}" in triggers:
        return None  # already sampled: its judgment is queued or done
    language = first_slices(conn, [iid]).get(iid, {}).get("language")
    candidate = _candidate(interaction, language, (), frozenset({kind.value}))
    state = evaluation.states.current(conn, evaluation.sampling, interaction.project, now)
    decision = decide(candidate, evaluation.sampling, state)
    if decision.sampled:
        strata = strata_of(candidate, evaluation.sampling.stratified.dimensions)
        evaluation.states.sampled(interaction.project, strata)
    recorded = _recorded(interaction, iid, f"signal:{kind.value}", decision, candidate, now)
    record_decisions(conn, [recorded])
    enqueue_judgments(conn, evaluation, [(recorded, interaction)], now)
    return decision


def enqueue_judgments(
    conn: sa.Connection,
    evaluation: OnlineEvaluation,
    decided: Sequence[tuple[RecordedDecision, Interaction]],
    now: datetime,
) -> int:
    if not evaluation.judge_enabled:
        return 0
    new_jobs = [
        jobs.NewJob(
            project=d.project,
            interaction_id=d.interaction_id,
            rubric=rubric.name,
            judge_version=version,
            priority=d.priority,
            reason=d.reason,
        )
        for d, interaction in decided
        if d.sampled
        for rubric, version in evaluation.rubrics
        if applies(rubric, interaction)
    ]
    jobs.enqueue(conn, new_jobs, now)
    return len(new_jobs)


def sampler_state(
    conn: sa.Connection, config: SamplingConfig, project: str, now: datetime
) -> SamplerState:
    day = day_start(now)
    strata = {}
    if "stratified" in config.policies:
        since = window_start(now, config.stratified.window)
        strata = sampled_per_stratum(conn, project, config.stratified.dimensions, since)
    return SamplerState(
        judged_in_window=strata,
        judgments_today=sampled_since(conn, project, day),
        # Unpriced judge scores count as $0 against the spend limit, as SQL's SUM always
        # counted them: the judgment-count limit and `estimated_cost_per_judgment_usd`
        # are what bound a judge whose cost is unknown.
        cost_today_usd=judge_cost_since(conn, project, day) or 0.0,
    )


def _check_scores(
    stored: Sequence[tuple[Interaction, int, Checked]],
    now: datetime,
) -> tuple[list[Score], list[str]]:
    scores, keys = [], []
    for interaction, iid, results in stored:
        for configured, r in results:
            error = r.label == "error"
            scores.append(
                Score(
                    project=interaction.project,
                    interaction_id=iid,
                    name=r.name,
                    kind=ScoreKind.CHECK,
                    value=r.value,
                    label=r.label,
                    explanation=r.explanation,
                    status=ScoreStatus.ERROR if error else ScoreStatus.OK,
                    error=r.details.get("error") if error else None,
                    evaluator_version=f"liveeval/{configured.check}@{liveeval.__version__}",
                    details={"passed": r.passed, **r.details},
                    created_at=now,
                )
            )
            keys.append(f"check:{iid}:{r.name}")
    return scores, keys


def _schema_invalid(interaction: Interaction, iid: int, result: CheckResult) -> Signal:
    return Signal(
        project=interaction.project,
        kind=SignalKind.SCHEMA_INVALID,
        occurred_at=interaction.end_at,
        interaction_id=iid,
        trace_id=interaction.trace_id,
        response_id=interaction.response_id,
        text=result.explanation,
        details={"source": f"check:{result.name}", **result.details},
        idempotency_key=f"check:{iid}:{result.name}",
    )


def _decide(
    conn: sa.Connection,
    evaluation: OnlineEvaluation,
    project: str,
    stored: Sequence[tuple[Interaction, int, Checked]],
    signals: Mapping[int, set[str]],
    now: datetime,
) -> list[tuple[RecordedDecision, Interaction]]:
    """One decision per interaction not decided yet; and for one decided before and not
    sampled, one per new reason to judge it (a failed check, a signal attached now).
    The state counts this batch's own picks."""
    config = evaluation.sampling
    triggers = triggers_of(conn, [iid for _, iid, _ in stored])
    decided = []
    for interaction, iid, results in stored:
        if not interaction.content_captured:
            continue  # nothing to judge, yet
        seen = triggers.get(iid, {})
        failed = tuple(r.name for _, r in results if not r.passed)
        kinds = frozenset(signals.get(iid, ()))
        if INGEST not in seen:
            trigger_name = INGEST
        elif any(seen.values()):
            continue  # sampled before
        else:
            reasons = [f"check:{name}" for name in failed]
            reasons += [f"signal:{kind}" for kind in sorted(kinds) if trigger(kind, config)]
            fresh = [reason for reason in reasons if reason not in seen]
            if not fresh:
                continue
            trigger_name = fresh[0]
        candidate = _candidate(interaction, _language(results), failed, kinds)
        state = evaluation.states.current(conn, config, project, now)
        decision = decide(candidate, config, state)
        recorded = _recorded(interaction, iid, trigger_name, decision, candidate, now)
        decided.append((recorded, interaction))
        if decision.sampled:
            strata = strata_of(candidate, config.stratified.dimensions)
            evaluation.states.sampled(project, strata)
    return decided


def _language(results: Checked) -> str | None:
    """The input's language, as the language check detected it."""
    for configured, result in results:
        if configured.check == "language":
            found = result.details.get("input_language")
            return found if isinstance(found, str) else None
    return None


def _candidate(
    interaction: Interaction,
    language: str | None,
    failed_checks: Sequence[str],
    signals: frozenset[str],
) -> Candidate:
    return Candidate(
        trace_id=interaction.trace_id,
        span_id=interaction.span_id,
        project=interaction.project,
        slice=slice_of(interaction, language),
        signals=signals,
        failed_checks=frozenset(failed_checks),
        confidence=confidence_from_metadata(interaction.metadata),
    )


def slice_of(interaction: Interaction, language: str | None) -> dict[str, str | None]:
    return {
        "model": interaction.model_served or interaction.model_requested,
        "prompt_version": interaction.prompt_version,
        "route": interaction.route,
        "language": language,
        "segment": interaction.segment,
    }


def _recorded(
    interaction: Interaction,
    iid: int,
    trigger_name: str,
    decision: Decision,
    candidate: Candidate,
    now: datetime,
) -> RecordedDecision:
    return RecordedDecision(
        project=interaction.project,
        interaction_id=iid,
        trigger=trigger_name,
        sampled=decision.sampled,
        policy=decision.policy,
        priority=decision.priority,
        reason=decision.reason,
        slice=dict(candidate.slice),
        decided_at=now,
    )
