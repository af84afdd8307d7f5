"""How sure the model was: read from span attributes, lowered by failed checks.

Attributes, first usable one wins (they are kept in `Interaction.metadata`):

- `liveeval.confidence`: a confidence in [0, 1], as the app computed it;
- `liveeval.mean_logprob`, then `gen_ai.response.mean_logprob`: the mean
  log-probability of the output tokens (≤ 0); the confidence is its exp, the
  geometric mean of the token probabilities.

Numbers may come as strings ("0.8"). A value out of range, not finite or not a
number is skipped, so the next attribute is tried.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

CONFIDENCE_ATTRIBUTES = ("liveeval.confidence",)
MEAN_LOGPROB_ATTRIBUTES = ("liveeval.mean_logprob", "gen_ai.response.mean_logprob")
# A mean logprob a hair above 0 is rounding, not a probability above 1.
_LOGPROB_TOLERANCE = 1e-6


def confidence_from_metadata(metadata: Mapping[str, Any]) -> float | None:
    """The confidence in [0, 1] from the attributes above, or None when none is usable."""
    for name in CONFIDENCE_ATTRIBUTES:
        value = _number(metadata.get(name))
        if value is not None and 0.0 <= value <= 1.0:
            return value
    for name in MEAN_LOGPROB_ATTRIBUTES:
        value = _number(metadata.get(name))
        if value is not None and value <= _LOGPROB_TOLERANCE:
            return math.exp(min(value, 0.0))
    return None


def lowered_by_checks(confidence: float | None, failed_checks: int, factor: float) -> float | None:
    """Each failed check multiplies the confidence by `factor`.

    An unknown confidence stays unknown while no check failed; once one has,
    it counts as 1.0 before lowering (a failed check is evidence of doubt).
    """
    if failed_checks <= 0:
        return confidence
    base = 1.0 if confidence is None else confidence
    return base * factor**failed_checks


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None
