"""Thompson sampling's action probabilities: P(an arm's draw is the highest) under
independent Beta posteriors, by Monte Carlo (no closed form beyond two arms)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class BetaArgmax:
    """Seeded Monte Carlo of which of several Beta variables is the largest; one
    generator serves every slice of a snapshot, so a snapshot is reproducible."""

    def __init__(self, seed: int) -> None:
        self._rng = np.random.default_rng(seed)

    def shares(self, a: Sequence[float], b: Sequence[float], draws: int) -> list[float]:
        """The share of `draws` joint draws in which each Beta(a_i, b_i) is the largest."""
        samples = self._rng.beta(np.asarray(a), np.asarray(b), size=(draws, len(a)))
        wins = np.bincount(samples.argmax(axis=1), minlength=len(a))
        return [float(count) / draws for count in wins]
