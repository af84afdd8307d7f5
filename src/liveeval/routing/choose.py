"""Choose an arm for one request from a snapshot, in-process and in microseconds.

The probability logged with a choice is exactly the one the draw used: that is what lets
`routing.replay` evaluate another policy on past decisions. With a session id (and a
sticky task) the draw is a hash of (task, session id) instead of a random number, so a
conversation keeps its arm as long as the probabilities around its draw stay put.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from .slices import slice_chain
from .snapshot import Snapshot

_SCALE = float(1 << 64)


@dataclass(frozen=True, slots=True)
class Choice:
    """The arm served, the probability it had, and the decision id outcomes refer to."""

    task: str
    arm: str
    probability: float
    slice_key: str
    policy_version: int
    decision_id: str


def choose(
    snapshot: Snapshot,
    context: Mapping[str, object],
    *,
    session_id: str | None = None,
    u: float | None = None,
) -> Choice:
    """Draw an arm for `context` from the most specific slice of the snapshot it matches
    ("*" when none does). `u` in [0, 1) fixes the draw (tests, replays)."""
    key = slice_for(snapshot, context)
    if u is None:
        u = session_draw(snapshot.task, session_id) if session_id and snapshot.sticky else None
        u = random.random() if u is None else u
    elif not 0.0 <= u < 1.0:
        raise ValueError(f"u must be in [0, 1), got {u!r}")
    arm, probability = snapshot.arm_at(key, u)
    return Choice(snapshot.task, arm, probability, key, snapshot.policy_version, uuid.uuid4().hex)


def slice_for(snapshot: Snapshot, context: Mapping[str, object]) -> str:
    """The most specific slice of the snapshot that the context falls in."""
    chain = slice_chain(context, snapshot.dimensions)
    return next(key for key in reversed(chain) if key in snapshot.slices)


def session_draw(task: str, session_id: str) -> float:
    """A fixed number in [0, 1) for (task, session id)."""
    digest = hashlib.blake2b(f"{task}\x00{session_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / _SCALE
