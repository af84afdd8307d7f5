"""The routing core over the store: a task's snapshot, insights and logged decisions from
what is stored. The server's policy cache and the CLI both go through here.

Evidence is bounded: a snapshot learns from the decisions of the last `EVIDENCE` (the
posteriors forget within it too, see TaskConfig.discount and change_detection).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from liveeval.model.routing import Outcome
from liveeval.store.routing import (
    Kill,
    active_kills,
    decisions_between,
    kills_of,
    outcomes_between,
    spent_between,
)

from .config import TaskConfig
from .insights import Insights, insights
from .learn import learn, reward_of, usable
from .policy import Kills, PolicyInputs
from .replay import LoggedDecision
from .snapshot import Snapshot

EVIDENCE = timedelta(days=14)


def score_name(config: TaskConfig) -> str | None:
    """The judge score whose value is an outcome's quality, if the task's reward names one."""
    return config.reward.score_name


def policy_inputs(
    conn: sa.Connection, project: str, config: TaskConfig, kills: list[Kill], now: datetime
) -> PolicyInputs:
    """The kill switches of arms the task still has, and today's spend (UTC) if capped."""
    known = [kill for kill in kills if kill.arm in config.arm_names]
    arms, cells = kills_of(known)
    spent = 0.0
    if config.spend_cap_usd is not None:
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        spent = spent_between(conn, project, config.task, midnight, now)
    return PolicyInputs(kills=Kills(arms=arms, cells=cells), spent_today_usd=spent)


def compute_snapshot(
    conn: sa.Connection, project: str, config: TaskConfig, now: datetime, policy_version: int
) -> Snapshot:
    """The task's snapshot from the outcomes of the evidence window and its kill switches."""
    outcomes = rewarded(conn, project, config, now - EVIDENCE, now)
    inputs = policy_inputs(conn, project, config, active_kills(conn, project, config.task), now)
    return learn(
        outcomes, config, policy_version=policy_version, now=now, inputs=inputs, seed=policy_version
    )


def stored_insights(
    conn: sa.Connection,
    project: str,
    config: TaskConfig,
    now: datetime,
    lookback: timedelta,
    baseline: timedelta,
) -> Insights:
    """Insights over the outcomes of the window and its baseline."""
    since = now - lookback - baseline
    outcomes = rewarded(conn, project, config, since, now)
    return insights(outcomes, config, now=now, lookback=lookback, baseline=baseline)


def logged_decisions(
    conn: sa.Connection, project: str, config: TaskConfig, since: datetime, until: datetime
) -> list[LoggedDecision]:
    """The decisions of [since, until) that earned a reward, as `routing.replay` reads them."""
    probabilities = {
        d.decision_id: d.probability
        for d in decisions_between(conn, project, config.task, since, until)
    }
    outcomes = rewarded(conn, project, config, since, until)
    return [
        LoggedDecision(
            context=dict(outcome.context),
            arm=outcome.arm,
            probability=probabilities[outcome.decision_id],
            reward=reward_of(outcome, config.reward),
        )
        for outcome in outcomes
    ]


def rewarded(
    conn: sa.Connection, project: str, config: TaskConfig, since: datetime, until: datetime
) -> list[Outcome]:
    """The outcomes of the task's decisions in [since, until) that its reward can score."""
    name = score_name(config)
    found = outcomes_between(conn, project, config.task, since, until, score_name=name)
    return [outcome for outcome in found if usable(outcome, config.reward)]
