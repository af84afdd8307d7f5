"""The paired A/B on pairs whose better side humans chose (LLMBar's processed preference sets).

The sets are the three with natural, human-judged pairs that SOURCES.md ships:
LLMBar-Natural, FairEval and LLMEval² (366 pairs; processed MT-Bench is not
among the files). The adversarial LLMBar sets are
left out on purpose: they were built so that surface cues such as length point
the wrong way.

The grader is the cheapest one there is, answer length in words: humans prefer
the longer answer more often than not (verbosity bias), and the test measures
by how much. Variant A is the human-preferred output of every pair, B the
other one, so the A/B must say "a_wins"; with the sides swapped at random per
pair the truth is "no difference", and the share of shuffles that still name a
winner is the false-positive rate, which must stay near alpha.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

from liveeval.stats.paired import paired_comparison
from tests.conftest import DATASETS

PAIRWISE = DATASETS / "pairwise"
NATURAL_SETS = ("LLMBar_Natural", "Processed_FairEval", "Processed_LLMEval_2")
ALPHA = 0.05
SHUFFLES = 200
# A false-positive count above this is less than 0.1% likely if the true rate is alpha.
FP_LIMIT = int(stats.binom.ppf(0.999, SHUFFLES, ALPHA))


def load_pairs() -> list[dict[str, object]]:
    files = [PAIRWISE / f"{name}.json" for name in NATURAL_SETS]
    if not all(file.is_file() for file in files):
        pytest.skip(f"the pairwise datasets are not in {PAIRWISE}")
    return [pair for file in files for pair in json.loads(file.read_text(encoding="utf-8"))]


@pytest.fixture(scope="module")
def words() -> tuple[np.ndarray, np.ndarray]:
    """Word counts of the human-preferred and of the other output, pair by pair."""
    preferred, other = [], []
    for pair in load_pairs():
        first, second = str(pair["output_1"]), str(pair["output_2"])
        better, worse = (first, second) if pair["label"] == 1 else (second, first)
        preferred.append(len(better.split()))
        other.append(len(worse.split()))
    return np.array(preferred, dtype=float), np.array(other, dtype=float)


def pairwise_length_judge(a_words: np.ndarray, b_words: np.ndarray) -> tuple[np.ndarray, ...]:
    """Pass (1) for the strictly longer answer of a pair, fail (0) for the other; ties fail both."""
    return (a_words > b_words).astype(float), (b_words > a_words).astype(float)


def pointwise_length_score(word_count: np.ndarray) -> np.ndarray:
    """A 0..1 score of one answer alone: half at 100 words, saturating for long answers."""
    return word_count / (word_count + 100.0)


def swapped(a: np.ndarray, b: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    swap = np.random.default_rng(seed).random(a.size) < 0.5
    return np.where(swap, b, a), np.where(swap, a, b)


def winners_over_shuffles(a: np.ndarray, b: np.ndarray, min_effect: float | None) -> int:
    count = 0
    for seed in range(SHUFFLES):
        shuffled_a, shuffled_b = swapped(a, b, seed)
        result = paired_comparison(
            shuffled_a, shuffled_b, alpha=ALPHA, min_effect=min_effect, resamples=200, seed=seed
        )
        count += result.verdict in ("a_wins", "b_wins")
    return count


def test_the_longer_answer_agrees_with_humans_better_than_chance(
    words: tuple[np.ndarray, np.ndarray],
) -> None:
    preferred, other = words
    decided = preferred != other
    agreeing = int(np.sum(preferred[decided] > other[decided]))
    total = int(decided.sum())
    agreement = agreeing / total
    p_value = stats.binomtest(agreeing, total, 0.5, alternative="greater").pvalue
    assert agreement > 0.5 and p_value < 0.01, (
        f"length agrees with humans on {agreeing}/{total} decided pairs ({agreement:.3f}), "
        f"binomial p = {p_value:.2g}"
    )


def test_ab_with_a_pairwise_length_judge_names_the_human_preferred_side(
    words: tuple[np.ndarray, np.ndarray],
) -> None:
    a, b = pairwise_length_judge(*words)
    result = paired_comparison(a, b, alpha=ALPHA)
    assert result.mcnemar is not None
    assert result.verdict == "a_wins", (
        f"verdict {result.verdict}: {result.reason} (McNemar {result.mcnemar})"
    )
    assert result.ci[1] < 0.0


def test_ab_with_pointwise_length_scores_names_the_human_preferred_side(
    words: tuple[np.ndarray, np.ndarray],
) -> None:
    """A weak pointwise grader moves the mean little (0.0198 on these pairs): below the
    default floor, so only a lower floor (0.01) names the winner."""
    a, b = (pointwise_length_score(side) for side in words)
    default = paired_comparison(a, b, alpha=ALPHA)
    assert default.mcnemar is None
    assert default.t_p_value < ALPHA
    assert abs(default.mean_difference) < default.min_effect
    assert default.verdict == "below_min_effect", default.reason
    assert "significant" in default.reason and "minimum effect" in default.reason

    lower_floor = paired_comparison(a, b, alpha=ALPHA, min_effect=0.01)
    assert lower_floor.verdict == "a_wins", (
        f"verdict {lower_floor.verdict}: {lower_floor.reason} "
        f"(mean difference {lower_floor.mean_difference:.4f})"
    )


@pytest.mark.parametrize("grader", ["pairwise", "pointwise"])
@pytest.mark.parametrize("min_effect", [None, 0.0])
def test_shuffled_sides_rarely_name_a_winner(
    words: tuple[np.ndarray, np.ndarray], grader: str, min_effect: float | None
) -> None:
    if grader == "pairwise":
        a, b = pairwise_length_judge(*words)
    else:
        a, b = (pointwise_length_score(side) for side in words)
    winners = winners_over_shuffles(a, b, min_effect)
    assert winners <= FP_LIMIT, (
        f"{grader} grader, min_effect {min_effect}: {winners}/{SHUFFLES} shuffles named a winner "
        f"(false-positive rate {winners / SHUFFLES:.3f}; alpha {ALPHA}, limit {FP_LIMIT})"
    )
