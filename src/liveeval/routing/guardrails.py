"""Guardrails on a slice's action probabilities, each a pure function of arm → share.

`compute_snapshot` applies them in this order, each to the result of the one before:

1. kill switches: a killed arm gets 0;
2. canary: an unproven canary gets at most its initial share, a failed one 0;
3. spend cap: past the day's cap, all traffic goes to the fallback arm (and stops there);
4. exploration floor: each live arm gets at least its `min_share`;
5. conservative mode: mix toward control until the expected reward (posterior means) is
   at least control's minus the tolerance.

The floor comes before conservative mode (not after) so that conservative mode's promise
holds for the probabilities served: the floor yields to it, not the other way round.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

Shares = dict[str, float]


def normalise(shares: Mapping[str, float]) -> Shares:
    """Scale to add up to 1; ValueError when nothing has mass."""
    total = math.fsum(shares.values())
    if total <= 0.0:
        raise ValueError("no arm has any share left")
    return {arm: share / total for arm, share in shares.items()}


def kill(shares: Mapping[str, float], killed: set[str] | frozenset[str]) -> Shares:
    """Killed arms get 0; the rest keep their proportions (all of them 0: an equal split)."""
    live = {arm: share for arm, share in shares.items() if arm not in killed}
    if not live:
        raise ValueError("kill switches leave no live arm")
    if math.fsum(live.values()) <= 0.0:
        live = dict.fromkeys(live, 1.0)
    return {arm: live.get(arm, 0.0) for arm in shares} | normalise(live)


def cap(shares: Mapping[str, float], arm: str, limit: float, fallback: str) -> Shares:
    """At most `limit` for `arm`; what it loses goes to the other arms pro rata (to
    `fallback` when they have none)."""
    if shares[arm] <= limit:
        return dict(shares)
    return pin(shares, arm, limit, fallback)


def pin(shares: Mapping[str, float], arm: str, share: float, fallback: str) -> Shares:
    """Exactly `share` for `arm`; the other arms scale to fill the rest (all to `fallback`
    when they have nothing)."""
    others = {a: s for a, s in shares.items() if a != arm}
    rest = math.fsum(others.values())
    # s / rest first: (1 - share) * s underflows to 0 when s is subnormal (5e-324)
    out = {a: (1.0 - share) * (s / rest) if rest > 0 else 0.0 for a, s in others.items()}
    if rest <= 0:
        out[fallback] = 1.0 - share
    out[arm] = share
    return {a: out[a] for a in shares}


def only(shares: Mapping[str, float], arm: str) -> Shares:
    """Everything to `arm`."""
    return {a: 1.0 if a == arm else 0.0 for a in shares}


def floor(shares: Mapping[str, float], floors: Mapping[str, float]) -> Shares:
    """Each arm in `floors` gets at least its floor; the arms above their floors give up
    the difference in proportion to what they hold above it."""
    out = normalise(shares)
    need = {arm: f for arm, f in floors.items() if f > 0.0}
    if math.fsum(need.values()) > 1.0 + 1e-12:
        raise ValueError(f"floors add up to {math.fsum(need.values())}, above 1")
    pinned: set[str] = set()
    while True:
        low = {arm for arm, f in need.items() if arm not in pinned and out[arm] < f}
        if not low:
            return out
        pinned |= low
        fixed = math.fsum(need[arm] for arm in pinned)
        free = {arm: share for arm, share in out.items() if arm not in pinned}
        free_total = math.fsum(free.values())
        for arm in pinned:
            out[arm] = need[arm]
        for arm, share in free.items():
            out[arm] = (1.0 - fixed) * (share / free_total) if free_total > 0 else 0.0


def expected(shares: Mapping[str, float], means: Mapping[str, float]) -> float:
    """The expected reward of drawing by `shares` with these mean rewards."""
    return math.fsum(share * means[arm] for arm, share in shares.items())


def conservative(
    shares: Mapping[str, float], means: Mapping[str, float], control: str, tolerance: float
) -> tuple[Shares, float]:
    """Mix toward control, p' = w p + (1 - w) control, with the largest w in [0, 1] that
    keeps expected(p') >= means[control] - tolerance. Returns (p', w)."""
    gap = means[control] - expected(shares, means)
    if gap <= tolerance:
        return dict(shares), 1.0
    weight = tolerance / gap
    mixed = {arm: weight * share for arm, share in shares.items()}
    mixed[control] += 1.0 - weight
    return mixed, weight
