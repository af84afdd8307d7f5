from __future__ import annotations

import pytest
from py3langid.langid import MODEL_FILE, LanguageIdentifier, visit_counts

from liveeval.evaluators.language_scorer import _encode, _model, known_languages, language_scorer
from tests.evaluators.interactions import DATASET_LANGUAGES, sentences

LANGUAGES = DATASET_LANGUAGES


@pytest.fixture(scope="module")
def reference() -> LanguageIdentifier:
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


@pytest.mark.parametrize("language", LANGUAGES)
def test_scores_agree_with_py3langid_on_real_text(
    reference: LanguageIdentifier, language: str
) -> None:
    scorer = language_scorer()
    for text in sentences(language, 60):
        expected_label, expected_probability = reference.classify(_encode(text, 160))
        found = scorer.classify(text, 160)
        assert found is not None
        assert found[0] == expected_label, text
        if expected_label not in {"sr", "uz"}:  # labels with two columns, folded alike
            assert found[1] == pytest.approx(expected_probability, abs=1e-4)


def test_shared_feature_counts_are_py3langids_on_every_read(reference: LanguageIdentifier) -> None:
    model, scorer = _model(), language_scorer()
    for language in LANGUAGES:
        for text in sentences(language, 10):
            data = _encode(text, 128)
            nextmove, rowbase, output = (
                reference.tk_nextmove,
                reference._rowbase,
                reference.tk_output,
            )
            expected = list(visit_counts(nextmove, rowbase, output, data).items())
            for _ in range(2):  # the second read is the shared one
                assert list(model.features(data).items()) == expected
                scorer.probabilities(text, 128)
                scorer.classify(text, 128)


def test_only_the_leading_bytes_are_read_and_cut_at_a_character() -> None:
    text = "这是一个关于退货政策的问题。" * 20
    assert _encode(text, 160) == _encode(text[:53], 1000)  # 53 chars of 3 bytes: 159 bytes
    scorer = language_scorer()
    assert scorer.classify(text, 160) == scorer.classify(text[:53], 1000)


def test_candidates_restrict_the_labels() -> None:
    scorer = language_scorer(("de", "nl"))
    assert scorer.labels == {"de", "nl"}
    found = scorer.classify("The quick brown fox jumps over the lazy dog near the river bank.", 160)
    assert found is not None and found[0] in {"de", "nl"}


def test_equivalent_labels_add_their_probability() -> None:
    plain, grouped = language_scorer(), language_scorer(None, (("zh", "wuu", "yue"),))
    unsure = []
    for text in sentences("zh", 100):
        alone, together = plain.classify(text, 160), grouped.classify(text, 160)
        assert alone is not None and together is not None
        assert together[0] == alone[0]
        assert together[1] >= alone[1] - 1e-6
        if alone[0] == "zh" and alone[1] < 0.8:
            unsure.append(together[1] - alone[1])
    assert unsure and min(unsure) > 0  # Wu and Cantonese held some of the mass


def test_text_without_features_gives_none() -> None:
    assert language_scorer().classify("", 160) is None
    assert "en" in known_languages() and len(known_languages()) > 100
