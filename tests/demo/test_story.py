"""The demo's story: deterministic given its seed, and every incident is in it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import pytest

from liveeval.demo.story import PINNED_MODEL, UPDATED_MODEL, Timeline, Turn, build_story

START = datetime(2026, 11, 1, tzinfo=UTC)


def _share(turns: Sequence[Turn], predicate: Callable[[Turn], bool]) -> float:
    return sum(1 for t in turns if predicate(t)) / len(turns)


def test_same_seed_plays_the_same_story() -> None:
    assert build_story(START, seed=3).turns == build_story(START, seed=3).turns
    assert build_story(START, seed=3).turns != build_story(START, seed=4).turns


def test_turns_stay_inside_their_days_in_order() -> None:
    story = build_story(START, days=21, per_day=100)
    for turn in story.turns:
        assert 0 <= (turn.at - START).total_seconds() // 86400 == turn.day
    assert [t.at for t in story.turns] == sorted(t.at for t in story.turns)


def test_prompt_v2_ships_on_the_rollout_day_and_answers_better() -> None:
    story = build_story(START)
    rollout = story.timeline.rollout_day
    assert {t.prompt_version for t in story.turns if t.day < rollout} == {"v1"}
    assert {t.prompt_version for t in story.turns if t.day >= rollout} == {"v2"}
    before = [t for t in story.turns if t.day < rollout]
    after = [t for t in story.turns if rollout <= t.day < story.timeline.update_day]
    assert (
        _share(after, lambda t: t.tier == "good")
        > _share(before, lambda t: t.tier == "good") + 0.15
    )


def test_the_model_update_is_silent_and_hurts_german_only() -> None:
    story = build_story(START)
    update = story.timeline.update_day
    assert {t.model_requested for t in story.turns} == {PINNED_MODEL}
    assert {t.model_served for t in story.turns if t.day < update} == {PINNED_MODEL}
    assert {t.model_served for t in story.turns if t.day >= update} == {UPDATED_MODEL}
    late = [t for t in story.turns if t.day >= update]
    german = [t for t in late if t.language == "de"]
    others = [t for t in late if t.language != "de"]
    assert _share(german, lambda t: t.tier in ("bad", "wrong_language")) > 0.5
    assert _share(others, lambda t: t.tier in ("bad", "wrong_language")) < 0.1

    def regenerated(turn: Turn) -> bool:
        return any(s.kind == "regenerated" for s in turn.signals)

    assert _share(german, regenerated) > 3 * _share(others, regenerated)


def test_input_drifts_to_spanish_and_the_acme_card_in_the_last_week() -> None:
    story = build_story(START)
    drift = story.timeline.drift_day
    before = [t for t in story.turns if t.day < drift]
    after = [t for t in story.turns if t.day >= drift]
    assert _share(before, lambda t: t.language == "es") < 0.06
    assert _share(after, lambda t: t.language == "es") > 0.18
    assert not any(t.topic == "acme_card" for t in before)
    assert _share(after, lambda t: t.topic == "acme_card") > 0.2


def test_signals_follow_the_answer_and_stay_in_the_story() -> None:
    story = build_story(START)
    kinds = Counter(s.kind for t in story.turns for s in t.signals)
    assert set(kinds) <= {"thumbs_up", "thumbs_down", "regenerated", "escalated"}
    assert all(t.at < s.at for t in story.turns for s in t.signals)


def test_a_few_thousand_requests_over_three_weeks() -> None:
    story = build_story(START)
    assert 2500 <= len(story.turns) <= 5000
    assert story.end == datetime(2026, 11, 22, tzinfo=UTC)


def test_timeline_scales_with_days() -> None:
    assert Timeline.for_days(21) == Timeline(21, 7, 14, 15)
    short = Timeline.for_days(8)
    assert 0 < short.rollout_day < short.update_day < short.drift_day < 8
    with pytest.raises(ValueError, match="at least 4"):
        Timeline.for_days(3)


def test_start_must_be_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        build_story(datetime(2026, 11, 1))
