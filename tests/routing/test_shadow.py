"""The pure parts of shadow runs: which interaction a decision served, the sample, the
request sent to the candidate, the win rate (checked against scipy and statsmodels on
the same pairs) and the canary arm's TOML."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from liveeval.judge.pairwise import MIRROR, PairVerdict
from liveeval.model import Interaction, Message
from liveeval.routing.config import from_mapping
from liveeval.routing.shadow import (
    canary_arm_toml,
    has_content,
    match_decisions,
    pair_outcome,
    pick_sample,
    shadow_input,
    shadow_item,
    win_rate,
)
from liveeval.store.shadow import RoutedDecision

T0 = datetime(2026, 12, 1, 9, tzinfo=UTC)
WIN = PairVerdict("B", "A")  # the candidate (answer 2) preferred in both orders
LOSS = PairVerdict("A", "B")
TIE = PairVerdict("tie", "tie")
FLIP = PairVerdict("A", "A")  # the first position won both times


def interaction(trace: str, k: int, *, output: str | None = "answer") -> Interaction:
    return Interaction(
        project="p",
        trace_id=trace,
        span_id=f"{k:016x}",
        parent_span_id=None,
        name="chat",
        convention="genai",
        operation="chat",
        start_at=T0 + timedelta(seconds=k),
        end_at=T0 + timedelta(seconds=k + 1),
        latency_ms=1000.0,
        status="ok",
        input_text=f"question {k}",
        output_text=output,
        interaction_id=k,
    )


def test_outcomes_count_a_flip_as_a_tie() -> None:
    assert [pair_outcome(v) for v in (WIN, LOSS, TIE, FLIP)] == ["win", "loss", "tie", "tie"]


def test_win_rate_and_its_test_match_scipy_on_the_same_pairs() -> None:
    verdicts = [WIN] * 14 + [LOSS] * 6 + [TIE] * 3 + [FLIP] * 2
    found = win_rate(verdicts)
    candidate = np.array([1.0] * 14 + [0.0] * 6 + [0.5] * 5)
    production = 1.0 - candidate
    assert (found.n, found.wins, found.ties, found.losses) == (25, 14, 5, 6)
    assert found.rate == pytest.approx(candidate.mean())
    assert found.comparison is not None
    assert found.comparison.t_p_value == pytest.approx(
        stats.ttest_rel(candidate, production).pvalue
    )
    assert found.comparison.wilcoxon_p_value == pytest.approx(
        stats.wilcoxon(candidate - production).pvalue
    )
    # the interval is the paired differences' percentile bootstrap, mapped onto the rate
    reference = stats.bootstrap(
        ((candidate - production) / 2 + 0.5,),
        np.mean,
        method="percentile",
        n_resamples=10_000,
        random_state=np.random.default_rng(1),
    ).confidence_interval
    assert found.interval == pytest.approx((reference.low, reference.high), abs=0.03)
    low, high = proportion_confint(2, 25, method="wilson")
    assert found.flips.interval == pytest.approx((low, high))
    assert (found.flips.flips, found.flips.first_position) == (2, 2)


def test_identical_answers_are_ties_outside_the_flip_rate() -> None:
    found = win_rate([WIN] * 6 + [FLIP] * 2, identical=4)
    assert (found.n, found.wins, found.ties, found.losses) == (12, 6, 6, 0)
    assert found.rate == pytest.approx((6 + 0.5 * 6) / 12)
    assert (found.flips.n, found.flips.flips) == (8, 2)
    with pytest.raises(ValueError, match="identical"):
        win_rate([WIN], identical=-1)


def test_a_clear_winner_is_named_and_a_balanced_run_is_not() -> None:
    assert win_rate([WIN] * 18 + [LOSS] * 2).verdict == "candidate_wins"
    assert win_rate([LOSS] * 18 + [WIN] * 2).verdict == "production_wins"
    balanced = win_rate([WIN, LOSS] * 10 + [TIE] * 4)
    assert balanced.verdict == "no_difference" and balanced.rate == 0.5
    assert "The candidate" in win_rate([WIN] * 18 + [LOSS] * 2).reason


def test_fewer_than_two_pairs_give_no_comparison() -> None:
    one = win_rate([WIN])
    assert (one.verdict, one.interval, one.comparison, one.rate) == (
        "too_few_pairs",
        None,
        None,
        1.0,
    )
    assert np.isnan(win_rate([]).rate)


verdict_st = st.sampled_from(["A", "B", "tie"])


@settings(deadline=None, max_examples=30)  # each example bootstraps 10,000 resamples
@given(st.lists(st.tuples(verdict_st, verdict_st), min_size=2, max_size=40))
def test_swapping_the_two_answers_mirrors_the_win_rate(pairs: list[tuple[str, str]]) -> None:
    verdicts = [PairVerdict(a, b) for a, b in pairs]  # type: ignore[arg-type]
    swapped = [PairVerdict(MIRROR[a], MIRROR[b]) for a, b in pairs]  # type: ignore[index]
    found, mirrored = win_rate(verdicts), win_rate(swapped)
    assert 0.0 <= found.rate <= 1.0
    assert found.rate == pytest.approx(1.0 - mirrored.rate)
    assert found.comparison is not None and mirrored.comparison is not None
    assert found.comparison.t_p_value == pytest.approx(mirrored.comparison.t_p_value)


def test_decisions_take_the_captured_interactions_of_their_trace_in_time_order() -> None:
    decisions = [
        RoutedDecision("d2", "large", "t1", T0 + timedelta(seconds=5)),
        RoutedDecision("d1", "mini", "t1", T0),
        RoutedDecision("d3", "mini", "t2", T0),
        RoutedDecision("d4", "mini", "t3", T0),
    ]
    captured = [interaction("t1", 7), interaction("t1", 2), interaction("t2", 3)]
    items, missing = match_decisions(decisions, captured)
    found = [(i.decision_id, i.arm, i.interaction.interaction_id) for i in items]
    assert found == [("d1", "mini", 2), ("d3", "mini", 3), ("d2", "large", 7)]
    assert missing == ["d4"]


def test_an_interaction_without_its_answer_has_no_content_to_shadow() -> None:
    assert has_content(interaction("t", 1))
    assert not has_content(interaction("t", 1, output=None))


def test_the_sample_is_seeded_uniform_and_in_time_order() -> None:
    items = [shadow_item(interaction("t", k)) for k in range(100)]
    first = pick_sample(items, 10, seed=3)
    assert first == pick_sample(items, 10, seed=3) != pick_sample(items, 10, seed=4)
    ids = [i.interaction.interaction_id or 0 for i in first]
    assert ids == sorted(ids) and len(set(ids)) == 10
    assert pick_sample(items[:4], 10) == items[:4]
    with pytest.raises(ValueError, match="at least 1"):
        pick_sample(items, 0)


def test_the_candidate_gets_production_messages_and_context() -> None:
    chat = interaction("t", 1)
    messages = (Message("system", "Be brief."), Message("user", "Where is my parcel?"))
    sent = shadow_input(shadow_item(replace(chat, input_messages=messages)))
    assert sent.messages is not None
    assert [(m.role, m.content) for m in sent.messages] == [
        ("system", "Be brief."),
        ("user", "Where is my parcel?"),
    ]
    assert shadow_input(shadow_item(chat)).text == "question 1"


def test_the_canary_arm_is_valid_toml_for_the_task() -> None:
    text = canary_arm_toml(
        "support answer",
        "cand",
        "gpt-5-mini",
        prompt_version="v4",
        params={"temperature": 0.2, "json mode": True},
        run_id=7,
        evidence="win rate 0.71",
    )
    table = tomllib.loads(text)
    [arm] = table["routing"]["tasks"]["support answer"]["arms"]
    assert arm == {
        "name": "cand",
        "model": "gpt-5-mini",
        "prompt_version": "v4",
        "params": {"temperature": 0.2, "json mode": True},
        "role": "canary",
    }
    control = {"name": "mini", "model": "gpt-4o-mini", "role": "control"}
    config = from_mapping("support_answer", {"default": "mini", "arms": [control, arm]})
    assert config.arm_names == ("mini", "cand")
    with pytest.raises(ValueError, match="string, number or boolean"):
        canary_arm_toml(
            "t", "a", "m", prompt_version=None, params={"x": [1]}, run_id=1, evidence=""
        )
