"""The input-language drift rule on real sentences (shared/datasets/languages), their
language detected as ingest detects it: a few points of shift are found at the default
thresholds on a few thousand interactions, and identical mixes rarely alert."""

from __future__ import annotations

import random
from collections import Counter
from functools import cache

from liveeval.config.monitor import DriftConfig, RuleConfig
from liveeval.ingest.features import input_language
from liveeval.model.rollup import Aggregate
from liveeval.monitor.rules import evaluate_rule
from tests.conftest import DATASETS

LANGUAGES = DATASETS / "languages"
RULE = RuleConfig(name="language", metric="language_drift", min_samples=100)
# A support assistant's mix: mostly English, a long tail of others.
MIX = {"en": 0.55, "de": 0.08, "fr": 0.07, "es": 0.07, "pt": 0.05, "it": 0.04, "nl": 0.03,
       "pl": 0.03, "sv": 0.02, "tr": 0.02, "ru": 0.01, "ja": 0.01, "zh": 0.01, "ko": 0.005,
       "ar": 0.005, "hi": 0.005}  # fmt: skip


@cache
def detected(code: str) -> tuple[str, ...]:
    """The languages detected for 300 real sentences of `code` (None as "(none)")."""
    lines = (LANGUAGES / f"{code}.txt").read_text(encoding="utf-8").splitlines()[:300]
    return tuple(input_language(line, []) or "(none)" for line in lines)


def window(mix: dict[str, float], n: int, rng: random.Random) -> list[tuple[tuple, Aggregate]]:
    """Rollup rows of `n` interactions drawn from `mix`, one row per detected language."""
    codes, weights = zip(*mix.items(), strict=True)
    counts = Counter(rng.choice(detected(c)) for c in rng.choices(codes, weights, k=n))
    return [((None,) * 5 + (lang,), Aggregate(interactions=k)) for lang, k in counts.items()]


def breached(current: list, reference: list) -> bool:
    (evaluation,) = evaluate_rule(RULE, current, reference, DriftConfig())
    return evaluation.measurement.breached


def test_german_up_five_points_is_found_and_named() -> None:
    rng = random.Random(1)
    shifted = {**MIX, "de": MIX["de"] + 0.05, "en": MIX["en"] - 0.05}
    found = 0
    for _ in range(10):
        current, reference = window(shifted, 3000, rng), window(MIX, 3000, rng)
        found += breached(current, reference)
    assert found >= 9
    (evaluation,) = evaluate_rule(RULE, window(shifted, 3000, rng), window(MIX, 3000, rng),
                                  DriftConfig())  # fmt: skip
    assert "German rose" in evaluation.measurement.summary


def test_identical_mixes_rarely_alert() -> None:
    rng = random.Random(2)
    alarms = sum(breached(window(MIX, 3000, rng), window(MIX, 3000, rng)) for _ in range(200))
    assert alarms / 200 <= 0.08  # the test's level is 0.05
