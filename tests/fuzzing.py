"""How the fuzz tests run: derandomised, so CI sees the same inputs every time, with
LIVEEVAL_FUZZ_EXAMPLES examples a target (12 by default) for a longer look locally."""

from __future__ import annotations

import os

import hypothesis

EXAMPLES = int(os.environ.get("LIVEEVAL_FUZZ_EXAMPLES", "12"))


def fuzz_settings(examples: int = EXAMPLES) -> hypothesis.settings:
    return hypothesis.settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(hypothesis.HealthCheck),
    )
