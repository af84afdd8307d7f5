"""The demo's story: a few weeks of Acme Support traffic with incidents, as plain data.

Pure and deterministic given the seed: `build_story` returns every turn (question,
answer, model, prompt version, time) and every signal a user sent, and the player
sends them through the real paths. The incidents, by day of the story:
- the prompt rollout: v1 until `rollout_day`, v2 (better answers) after;
- a silent provider model update at `update_day`: the provider serves another model
  than the pinned one, and German answers degrade (often English, or unhelpful);
- input drift from `drift_day`: the new Acme Card topic, and Spanish from 3% to 25%.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from liveeval.demo.phrasebook import ANSWERS, BAD_ANSWERS, DOCUMENTS, ITEMS, QUESTIONS, TOPICS

PROJECT = "acme-support"
PINNED_MODEL = "northwind-chat-2024-08-06"
UPDATED_MODEL = "northwind-chat-2025-01-15"  # what the provider silently serves later
PROVIDER = "northwind"
ROUTE = "support.answer"

# Quality tiers of the answers, by prompt version (and for German after the update).
TIER_WEIGHTS: dict[str, dict[str, float]] = {
    "v1": {"good": 0.55, "ok": 0.35, "bad": 0.10},
    "v2": {"good": 0.82, "ok": 0.15, "bad": 0.03},
    "v2-degraded": {"good": 0.25, "ok": 0.12, "bad": 0.15, "wrong_language": 0.48},
}
# What users do about an answer of each tier: (kind, probability).
SIGNAL_ODDS: dict[str, tuple[tuple[str, float], ...]] = {
    "good": (("thumbs_up", 0.15), ("regenerated", 0.02), ("thumbs_down", 0.02)),
    "ok": (("thumbs_up", 0.04), ("regenerated", 0.08), ("thumbs_down", 0.06)),
    "bad": (("regenerated", 0.35), ("thumbs_down", 0.30), ("escalated", 0.10)),
    "wrong_language": (("regenerated", 0.45), ("thumbs_down", 0.35), ("escalated", 0.05)),
}
BASE_LANGUAGES = {"en": 0.50, "de": 0.22, "fr": 0.25, "es": 0.03}
DRIFT_LANGUAGES = {"en": 0.38, "de": 0.20, "fr": 0.17, "es": 0.25}
BASE_TOPICS = {"order_status": 0.35, "returns": 0.25, "password": 0.20, "invoice": 0.20}
DRIFT_TOPICS = {"order_status": 0.25, "returns": 0.17, "password": 0.14, "invoice": 0.14,
                "acme_card": 0.30}  # fmt: skip
# Share of a day's traffic in each UTC hour (a support desk: busy in the day).
HOURLY = (1, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 8, 7, 7, 7, 7, 6, 5, 4, 3, 3, 2, 2, 1)
SEGMENTS = {"free": 0.7, "plus": 0.3}


@dataclass(frozen=True, slots=True)
class UserSignal:
    kind: str  # a liveeval signal or feedback kind
    at: datetime


@dataclass(frozen=True, slots=True)
class Turn:
    """One request of the Acme Support assistant and what its user did about it."""

    index: int
    day: int
    at: datetime
    language: str
    topic: str
    question: str
    answer: str
    documents: tuple[str, ...]
    prompt_version: str
    model_requested: str
    model_served: str
    tier: str  # good, ok, bad, wrong_language: hidden, the judge finds it from the text
    latency_ms: float
    input_tokens: int
    output_tokens: int
    user_id: str
    segment: str
    signals: tuple[UserSignal, ...] = ()


@dataclass(frozen=True, slots=True)
class Timeline:
    """The days the incidents begin, for a story of `days` days."""

    days: int
    rollout_day: int
    update_day: int
    drift_day: int

    @classmethod
    def for_days(cls, days: int) -> Timeline:
        if days < 4:
            raise ValueError(f"days must be at least 4 for every incident to happen, not {days}")
        rollout = round(days / 3)
        update = round(2 * days / 3)
        return cls(days, rollout, update, min(days - 1, update + 1))


@dataclass(frozen=True)
class Story:
    start: datetime
    timeline: Timeline
    seed: int
    turns: tuple[Turn, ...] = field(repr=False)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=self.timeline.days)

    def day_turns(self, day: int) -> list[Turn]:
        return [turn for turn in self.turns if turn.day == day]


def build_story(start: datetime, days: int = 21, per_day: int = 180, seed: int = 0) -> Story:
    """The whole story from `start` (UTC, aware) over `days` days, ~`per_day` turns a day."""
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware (UTC)")
    if per_day < 1:
        raise ValueError(f"per_day must be at least 1, not {per_day}")
    timeline = Timeline.for_days(days)
    rng = random.Random(seed)
    turns: list[Turn] = []
    for day in range(days):
        day_start = start + timedelta(days=day)
        weekend = day_start.weekday() >= 5
        count = max(1, round(per_day * (0.75 if weekend else 1.0) * rng.uniform(0.9, 1.1)))
        offsets = sorted(_offset_in_day(rng) for _ in range(count))
        for offset in offsets:
            turns.append(_turn(rng, len(turns), day, day_start + offset, timeline))
    return Story(start, timeline, seed, tuple(turns))


def answer_for(topic: str, language: str) -> str:
    """What the healthy assistant (prompt v2, pinned model) answers: the good tier."""
    return ANSWERS[(topic, language, "good")].format(**_DEFAULT_SLOTS)


_DEFAULT_SLOTS = {"order": "A-10000", "item": ITEMS[0], "days": 3}


def _offset_in_day(rng: random.Random) -> timedelta:
    hour = rng.choices(range(24), weights=HOURLY)[0]
    return timedelta(hours=hour, seconds=rng.uniform(0, 3599))


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _turn(rng: random.Random, index: int, day: int, at: datetime, timeline: Timeline) -> Turn:
    drifted = day >= timeline.drift_day
    language = _pick(rng, DRIFT_LANGUAGES if drifted else BASE_LANGUAGES)
    topic = _pick(rng, DRIFT_TOPICS if drifted else BASE_TOPICS)
    version = "v2" if day >= timeline.rollout_day else "v1"
    updated = day >= timeline.update_day
    served = UPDATED_MODEL if updated else PINNED_MODEL
    weights = TIER_WEIGHTS["v2-degraded" if updated and language == "de" else version]
    tier = _pick(rng, weights)
    slots = {
        "order": f"A-{rng.randrange(10000, 99999)}",
        "item": rng.choice(ITEMS),
        "days": rng.randrange(2, 6),
    }
    question = rng.choice(QUESTIONS[(topic, language)]).format(**slots)
    answer = _answer(tier, topic, language, slots)
    other = rng.choice([t for t in TOPICS if t != topic])
    documents = (DOCUMENTS[topic], DOCUMENTS[other])
    latency = rng.lognormvariate(7.0, 0.35) * (1.25 if updated else 1.0)  # ms, ~1.1 s median
    signals = tuple(
        UserSignal(kind, at + timedelta(seconds=rng.uniform(5, 180)))
        for kind, odds in SIGNAL_ODDS[tier]
        if rng.random() < odds
    )
    return Turn(
        index=index,
        day=day,
        at=at,
        language=language,
        topic=topic,
        question=question,
        answer=answer,
        documents=documents,
        prompt_version=version,
        model_requested=PINNED_MODEL,
        model_served=served,
        tier=tier,
        latency_ms=round(latency, 1),
        input_tokens=180 + len(question) // 4 + sum(len(d) for d in documents) // 4,
        output_tokens=max(8, len(answer) // 4),
        user_id=f"user-{rng.randrange(1, 1500):04d}",
        segment=_pick(rng, SEGMENTS),
        signals=signals,
    )


def _answer(tier: str, topic: str, language: str, slots: dict[str, object]) -> str:
    if tier == "bad":
        return BAD_ANSWERS[language]
    if tier == "wrong_language":  # the updated model answers German questions in English
        return ANSWERS[(topic, "en", "ok")].format(**slots)
    return ANSWERS[(topic, language, tier)].format(**slots)
