from __future__ import annotations

import random
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime

import pytest
from scipy import stats

from liveeval.routing.choose import choose, session_draw, slice_for
from liveeval.routing.snapshot import SliceDecision, Snapshot


def snapshot(fallback: tuple[float, ...] = (0.2, 0.5, 0.3)) -> Snapshot:
    return Snapshot(
        task="answer",
        policy_version=3,
        arms=("a", "b", "c"),
        default="a",
        dimensions=("language", "segment"),
        sticky=True,
        created_at=datetime(2026, 3, 1, tzinfo=UTC),
        slices={
            "*": SliceDecision("*", fallback),
            "language=de": SliceDecision("language=de", (0.0, 0.0, 1.0)),
            "language=de,segment=pro": SliceDecision("language=de,segment=pro", (1.0, 0.0, 0.0)),
        },
    )


def test_the_most_specific_matching_slice_serves_the_context() -> None:
    policy = snapshot()
    assert slice_for(policy, {"language": "de", "segment": "pro"}) == "language=de,segment=pro"
    assert slice_for(policy, {"language": "de", "segment": "free"}) == "language=de"
    assert slice_for(policy, {"language": "fr", "segment": "pro"}) == "*"
    assert slice_for(policy, {"segment": "pro"}) == "*"
    assert choose(policy, {"language": "de"}).arm == "c"
    assert choose(policy, {"language": "de", "segment": "pro"}).arm == "a"


def test_the_logged_probability_is_the_one_the_draw_used() -> None:
    policy = snapshot()
    for u, arm, probability in (
        (0.0, "a", 0.2),
        (0.19, "a", 0.2),
        (0.2, "b", 0.5),
        (0.99, "c", 0.3),
    ):
        choice = choose(policy, {}, u=u)
        assert (choice.arm, choice.probability) == (arm, pytest.approx(probability))
        assert (choice.task, choice.slice_key, choice.policy_version) == ("answer", "*", 3)
        assert len(choice.decision_id) == 32


def test_an_arm_with_no_probability_is_never_drawn() -> None:
    policy = snapshot(fallback=(0.5, 0.5, 0.0))
    assert {choose(policy, {}, u=u / 1000).arm for u in range(1000)} == {"a", "b"}
    assert choose(policy, {}, u=0.9999999999999999).arm == "b"


def test_draws_follow_the_probabilities() -> None:
    random.seed(11)
    counts = Counter(choose(snapshot(), {}).arm for _ in range(20_000))
    observed = [counts[arm] for arm in "abc"]
    _, p = stats.chisquare(observed, [20_000 * p for p in (0.2, 0.5, 0.3)])
    assert p > 0.001


def test_a_session_keeps_its_arm_while_the_probabilities_hold() -> None:
    policy = snapshot()
    first = choose(policy, {}, session_id="conversation-42")
    again = [choose(policy, {}, session_id="conversation-42") for _ in range(50)]
    assert {c.arm for c in again} == {first.arm}
    assert len({c.decision_id for c in again}) == 50
    assert session_draw("answer", "conversation-42") == session_draw("answer", "conversation-42")
    arms = Counter(choose(policy, {}, session_id=f"s{i}").arm for i in range(6000))
    assert arms["b"] / 6000 == pytest.approx(0.5, abs=0.03)


def test_a_draw_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match=r"u must be in \[0, 1\)"):
        choose(snapshot(), {}, u=1.0)


def test_choosing_needs_neither_numpy_nor_pydantic() -> None:
    """The SDK draws from snapshots in the app's process: nothing heavy comes with it."""
    code = (
        "import sys, liveeval.routing.choose, liveeval.routing.snapshot\n"
        "print(sorted(m for m in ('numpy', 'scipy', 'pydantic', 'sqlalchemy') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
