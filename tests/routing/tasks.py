"""Tasks, outcomes and bandits for the routing tests."""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from liveeval.model.routing import Outcome
from liveeval.routing.config import TaskConfig, from_mapping

START = datetime(2026, 3, 1, tzinfo=UTC)


def task(arms: Mapping[str, str], **changes: Any) -> TaskConfig:
    """A task of arms {name: role}; the first is the default."""
    names = list(arms)
    table: dict[str, Any] = {
        "arms": [
            {"name": name, "model": f"model-{name}", "role": role} for name, role in arms.items()
        ],
        "default": names[0],
        "min_share": 0.0,
    }
    return from_mapping("answer", table | changes)


def bernoulli_outcomes(
    rates: Mapping[str, float],
    per_arm: int,
    seed: int,
    context: Mapping[str, str] | None = None,
    start: datetime = START,
) -> list[Outcome]:
    """`per_arm` outcomes of each arm, success with the arm's rate, interleaved in time."""
    rng = random.Random(seed)
    outcomes = []
    for i in range(per_arm):
        for arm, rate in rates.items():
            at = start + timedelta(seconds=len(outcomes))
            outcomes.append(
                Outcome(f"{arm}-{i}", arm, at, dict(context or {}), success=rng.random() < rate)
            )
    return outcomes
