"""A policy snapshot: the action probabilities of a task per slice, and why.

The server computes it (`routing.policy.compute_snapshot`) and the SDK draws from it
in-process (`routing.choose.choose`), so it holds nothing that needs numpy: dataclasses
and a JSON form with a format version. Each slice carries the evidence behind its
probabilities (posterior means and intervals per arm) and notes naming each guardrail
that acted, so a user can audit why traffic moved.
"""

from __future__ import annotations

import json
import math
from bisect import bisect_right
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from .slices import TASK

FORMAT = 1
# Probabilities add up to 1 within this (they are rounded floats from the server).
_TOTAL_TOLERANCE = 1e-6


@dataclass(frozen=True, slots=True)
class ArmEvidence:
    """An arm's posterior mean reward in a slice, its credible interval, the discounted
    outcomes behind it, every outcome ever counted there, and the changes detected."""

    arm: str
    mean: float
    low: float
    high: float
    weight: float
    outcomes: int
    changes: int = 0


@dataclass(frozen=True, slots=True)
class SliceDecision:
    """The probabilities of the arms (in the snapshot's arm order) in one slice."""

    key: str
    probabilities: tuple[float, ...]
    evidence: tuple[ArmEvidence, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A task's policy at one version: `slices["*"]` serves contexts no slice matches."""

    task: str
    policy_version: int
    arms: tuple[str, ...]
    default: str
    dimensions: tuple[str, ...]
    sticky: bool
    created_at: datetime
    slices: dict[str, SliceDecision]
    # Cumulative probabilities per slice, for choose(); built once, not serialised.
    cumulative: dict[str, tuple[float, ...]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        if self.default not in self.arms:
            raise ValueError(f"default {self.default!r} is not an arm of {list(self.arms)}")
        if TASK not in self.slices:
            raise ValueError(f'snapshot of {self.task!r} has no fallback slice "{TASK}"')
        for key, decision in self.slices.items():
            _check_probabilities(key, decision.probabilities, len(self.arms))
            self.cumulative[key] = _cumulative(decision.probabilities)

    def probabilities(self, key: str) -> dict[str, float]:
        """Arm → probability in slice `key`."""
        return dict(zip(self.arms, self.slices[key].probabilities, strict=True))

    def arm_at(self, key: str, u: float) -> tuple[str, float]:
        """The arm a uniform draw `u` in [0, 1) picks in slice `key`, and its probability."""
        index = bisect_right(self.cumulative[key], u)
        probabilities = self.slices[key].probabilities
        index = min(index, len(probabilities) - 1)
        while probabilities[index] == 0.0:  # u at the very top: the last arm with mass
            index -= 1
        return self.arms[index], probabilities[index]

    def to_json(self) -> str:
        body = {
            "format": FORMAT,
            "task": self.task,
            "policy_version": self.policy_version,
            "arms": list(self.arms),
            "default": self.default,
            "dimensions": list(self.dimensions),
            "sticky": self.sticky,
            "created_at": self.created_at.isoformat(),
            "slices": {key: asdict(decision) for key, decision in self.slices.items()},
        }
        return json.dumps(body, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> Snapshot:
        """Read `to_json`'s form; ValueError says what is wrong."""
        body = json.loads(text)
        if not isinstance(body, dict):
            raise ValueError("a snapshot is a JSON object")
        if body.get("format") != FORMAT:
            raise ValueError(f"snapshot format {body.get('format')!r}, this reads {FORMAT}")
        try:
            slices = {key: _decision(key, value) for key, value in body["slices"].items()}
            created_at = datetime.fromisoformat(body["created_at"])
            if created_at.tzinfo is None:
                raise ValueError("created_at must carry its UTC offset")
            return cls(
                task=str(body["task"]),
                policy_version=int(body["policy_version"]),
                arms=tuple(str(arm) for arm in body["arms"]),
                default=str(body["default"]),
                dimensions=tuple(str(d) for d in body["dimensions"]),
                sticky=bool(body["sticky"]),
                created_at=created_at,
                slices=slices,
            )
        except KeyError as exc:
            raise ValueError(f"snapshot lacks {exc.args[0]!r}") from None
        except (TypeError, AttributeError) as exc:
            raise ValueError(f"snapshot has a malformed field: {exc}") from None


def _decision(key: str, value: dict[str, Any]) -> SliceDecision:
    return SliceDecision(
        key=key,
        probabilities=tuple(float(p) for p in value["probabilities"]),
        evidence=tuple(ArmEvidence(**item) for item in value.get("evidence", ())),
        notes=tuple(str(note) for note in value.get("notes", ())),
    )


def _check_probabilities(key: str, probabilities: tuple[float, ...], arms: int) -> None:
    if len(probabilities) != arms:
        raise ValueError(f"slice {key!r} has {len(probabilities)} probabilities for {arms} arms")
    if any(not (math.isfinite(p) and 0.0 <= p <= 1.0) for p in probabilities):
        raise ValueError(f"slice {key!r} has a probability outside [0, 1]: {probabilities}")
    if abs(math.fsum(probabilities) - 1.0) > _TOTAL_TOLERANCE:
        raise ValueError(f"slice {key!r} probabilities add up to {math.fsum(probabilities)}")


def _cumulative(probabilities: tuple[float, ...]) -> tuple[float, ...]:
    total = math.fsum(probabilities)
    running = 0.0
    out = []
    for p in probabilities:
        running += p / total
        out.append(running)
    return tuple(out)
