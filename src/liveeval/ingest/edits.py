"""How much a user changed a generated text before keeping it."""

from __future__ import annotations

from rapidfuzz.distance import Levenshtein


def edit_ratio(draft: str, final: str) -> float:
    """Levenshtein distance over the longer length: 0 kept as is, 1 entirely rewritten."""
    if not draft and not final:
        return 0.0
    return float(Levenshtein.normalized_distance(draft, final))
