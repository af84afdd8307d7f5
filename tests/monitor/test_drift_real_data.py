"""Input drift on windows of real text that nobody here wrote (../shared/datasets/).

- `languages/`: sentences in 16 languages (Leipzig corpora via lingua-py); the
  language of a sentence is its file's name.
- `intents/`: CLINC150 user utterances with their intent (150 intents in 10 domains,
  the domain standing in for a topic cluster) and out-of-scope (`oos`) requests.
"""

import json
from functools import cache

import numpy as np
import pytest
from sklearn.feature_extraction.text import HashingVectorizer

from liveeval.monitor.drift import DriftReport, FeatureFrame, drift_report
from liveeval.monitor.drift_text import format_share
from tests.conftest import DATASETS

WINDOW = 3000
SPLITS = 200


@cache
def _sentences() -> tuple[np.ndarray, np.ndarray]:
    """Every sentence of languages/ and its language."""
    texts, languages = [], []
    for path in sorted((DATASETS / "languages").glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.append(line.strip())
                languages.append(path.stem)
    return np.array(texts, dtype=object), np.array(languages, dtype=object)


@cache
def _utterances() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every CLINC150 utterance, its intent and its domain ("oos" for out of scope)."""
    data = json.loads((DATASETS / "intents" / "data_full.json").read_text(encoding="utf-8"))
    domains = json.loads((DATASETS / "intents" / "domains.json").read_text(encoding="utf-8"))
    domain_of = {intent: domain for domain, intents in domains.items() for intent in intents}
    domain_of["oos"] = "oos"
    rows = [row for split in data.values() for row in split]
    texts = np.array([text for text, _ in rows], dtype=object)
    intents = np.array([intent for _, intent in rows], dtype=object)
    return texts, intents, np.array([domain_of[i] for i in intents], dtype=object)


@cache
def _sentence_chars() -> np.ndarray:
    return np.array([len(text) for text in _sentences()[0]], dtype=np.float64)


def _language_frame(rows: np.ndarray) -> FeatureFrame:
    return FeatureFrame(
        numeric={"input_chars": _sentence_chars()[rows]},
        categorical={"language": _sentences()[1][rows]},
    )


def _intent_frame(rows: np.ndarray) -> FeatureFrame:
    _, intents, domains = _utterances()
    return FeatureFrame(categorical={"intent": intents[rows], "topic": domains[rows]})


def _alarm_rates(reports: list[DriftReport]) -> dict[str, float]:
    names = [f.feature for f in reports[0].features]
    return {
        name: sum(r.feature(name).status != "ok" for r in reports) / len(reports) for name in names
    }


def _with_german_share(rng: np.random.Generator, shift: float) -> tuple[np.ndarray, np.ndarray]:
    """A reference window of the natural mix and a current one with `shift` more German."""
    _, languages = _sentences()
    everything = np.arange(languages.size)
    german, other = everything[languages == "de"], everything[languages != "de"]
    reference = rng.choice(everything, WINDOW, replace=False)
    n_german = round(WINDOW * (german.size / languages.size + shift))
    current = np.concatenate(
        [rng.choice(german, n_german, replace=False), rng.choice(other, WINDOW - n_german)]
    )
    return reference, current


def test_a_five_point_rise_of_german_is_found_in_3000_inputs():
    found = []
    for seed in range(20):
        reference, current = _with_german_share(np.random.default_rng(seed), 0.05)
        report = drift_report(_language_frame(reference), _language_frame(current))
        found.append(report.feature("language").status == "drift")
    assert sum(found) >= 19
    language = report.feature("language")
    _, languages = _sentences()
    before = np.mean(languages[reference] == "de")
    after = np.mean(languages[current] == "de")
    sentence = f"German rose from {format_share(before)} to {format_share(after)} of inputs"
    assert language.moved[0] == sentence
    assert f"language drifted: {sentence}" in report.summary


def test_random_splits_of_the_language_data_rarely_alarm():
    _, languages = _sentences()
    rng = np.random.default_rng(1)
    reports = []
    for _ in range(SPLITS):
        rows = rng.permutation(languages.size)
        reports.append(
            drift_report(_language_frame(rows[:WINDOW]), _language_frame(rows[WINDOW : 2 * WINDOW]))
        )
    rates = _alarm_rates(reports)
    assert rates["language"] <= 0.08
    assert rates["input_chars"] <= 0.08


def test_random_splits_of_the_intent_data_rarely_alarm():
    _, intents, _ = _utterances()
    rng = np.random.default_rng(2)
    reports = []
    for _ in range(SPLITS):
        rows = rng.permutation(intents.size)
        reports.append(
            drift_report(_intent_frame(rows[:WINDOW]), _intent_frame(rows[WINDOW : 2 * WINDOW]))
        )
    rates = _alarm_rates(reports)
    assert rates["intent"] <= 0.08  # 151 intents, about 20 rows each a window
    assert rates["topic"] <= 0.08


def test_out_of_scope_requests_are_named_as_a_new_intent():
    _, intents, _ = _utterances()
    rng = np.random.default_rng(3)
    in_scope, out_of_scope = np.flatnonzero(intents != "oos"), np.flatnonzero(intents == "oos")
    reference = rng.choice(in_scope, WINDOW, replace=False)
    current = np.concatenate(
        [rng.choice(in_scope, WINDOW - 300, replace=False), rng.choice(out_of_scope, 300)]
    )
    labels = {"intent": {"oos": "out-of-scope requests"}, "topic": {"oos": "out of scope"}}
    report = drift_report(_intent_frame(reference), _intent_frame(current), labels=labels)
    assert report.drifted == ["intent", "topic"]
    assert report.feature("intent").moved[0] == "out-of-scope requests is new (10% of inputs)"
    assert report.feature("topic").moved[0] == "out of scope is new (10% of inputs)"


def test_a_topic_launched_after_the_reference_is_named_new():
    _, _, domains = _utterances()
    rng = np.random.default_rng(4)
    known = np.flatnonzero((domains != "credit_cards") & (domains != "oos"))
    reference = rng.choice(known, WINDOW, replace=False)
    current = rng.choice(np.flatnonzero(domains != "oos"), WINDOW, replace=False)
    labels = {"topic": {"credit_cards": "topic cluster 7 (card payments)"}}
    report = drift_report(_intent_frame(reference), _intent_frame(current), labels=labels)
    share = np.mean(domains[current] == "credit_cards")
    expected = f"topic cluster 7 (card payments) is new ({format_share(share)} of inputs)"
    assert report.feature("topic").moved[0] == expected
    assert f"topic drifted: {expected}" in report.summary


@pytest.mark.parametrize("extra", [0.06, 0.1])
def test_a_few_points_more_banking_is_found(extra):
    _, _, domains = _utterances()
    rng = np.random.default_rng(5)
    in_scope = np.flatnonzero(domains != "oos")
    banking = np.flatnonzero(domains == "banking")
    reference = rng.choice(in_scope, WINDOW, replace=False)
    n_extra = round(WINDOW * extra)
    current = np.concatenate(
        [rng.choice(in_scope, WINDOW - n_extra, replace=False), rng.choice(banking, n_extra)]
    )
    topic = drift_report(_intent_frame(reference), _intent_frame(current)).feature("topic")
    assert topic.status == "drift"
    assert topic.moved[0].startswith("banking rose from")


def _embed(texts: np.ndarray) -> np.ndarray:
    """Hashed bag-of-words vectors: an embedding with no model to download."""
    vectorizer = HashingVectorizer(n_features=256, alternate_sign=False, norm="l2")
    return vectorizer.transform(texts.tolist()).toarray().astype(np.float32)


def test_a_new_topic_moves_the_embeddings_and_a_random_split_does_not():
    texts, _, domains = _utterances()
    rng = np.random.default_rng(6)
    known = np.flatnonzero((domains != "credit_cards") & (domains != "oos"))
    cards = np.flatnonzero(domains == "credit_cards")
    reference = rng.choice(known, 600, replace=False)
    same = rng.choice(known, 600, replace=False)
    moved = np.concatenate([rng.choice(known, 450), rng.choice(cards, 150)])

    def verdict(current: np.ndarray) -> str:
        report = drift_report(
            FeatureFrame(embeddings={"input_embedding": _embed(texts[reference])}),
            FeatureFrame(embeddings={"input_embedding": _embed(texts[current])}),
        )
        return report.features[0].status

    assert verdict(moved) == "drift"
    assert verdict(same) == "ok"
