from __future__ import annotations

import pytest

from liveeval.ingest.edits import edit_ratio


def levenshtein(a: str, b: str) -> int:
    """The textbook dynamic programme: insertions, deletions, substitutions cost 1."""
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            current.append(
                min(
                    previous[j] + 1,
                    current[j - 1] + 1,
                    previous[j - 1] + (char_a != char_b),
                )
            )
        previous = current
    return previous[-1]


PAIRS = [
    ("kitten", "sitting"),
    ("flaw", "lawn"),
    ("The answer is 42.", "The answer is 42."),
    ("", "brand new text"),
    ("short", "a much longer and different final text"),
    ("naïve café", "naive cafe"),
    ("Grüße aus Köln", "Grüße aus Kölle"),
    ("日本語のテキスト", "日本語テキスト"),
    ("thanks 👍🏽", "thanks 👍"),
    ("Ελληνικά", "ελληνικα"),
]


@pytest.mark.parametrize(("draft", "final"), PAIRS)
def test_edit_ratio_is_levenshtein_distance_over_the_longer_length(draft: str, final: str) -> None:
    expected = levenshtein(draft, final) / max(len(draft), len(final))
    assert edit_ratio(draft, final) == pytest.approx(expected)


def test_an_unchanged_text_has_ratio_zero() -> None:
    assert edit_ratio("same", "same") == 0.0


def test_two_empty_texts_have_ratio_zero() -> None:
    assert edit_ratio("", "") == 0.0


def test_a_text_rewritten_entirely_has_ratio_one() -> None:
    assert edit_ratio("abc", "xyz") == 1.0
    assert edit_ratio("", "new") == 1.0
