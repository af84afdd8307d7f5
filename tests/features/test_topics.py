"""Topics on synthetic clusters and on real user utterances (CLINC150, hashing encoder).

bench/embedding.py runs the same CLINC scenarios with the static and MiniLM encoders.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from liveeval.features import UNASSIGNED, HashingEncoder, TopicModel
from liveeval.features.topic_labels import content_words
from liveeval.features.topics import choose_k
from tests.features.clinc import split, texts

BASELINE_DOMAINS = ("banking", "kitchen_and_dining", "travel")


def blobs(rng: np.random.Generator, centres: np.ndarray, count: int) -> np.ndarray:
    return np.concatenate([rng.normal(c, 1.0, size=(count, centres.shape[1])) for c in centres])


CENTRES = np.eye(5) * 8


@pytest.fixture(scope="module")
def synthetic() -> tuple[TopicModel, np.ndarray]:
    points = blobs(np.random.default_rng(0), CENTRES, 80)
    words = ["alpha card", "bravo rain", "charlie table", "delta flight", "echo song"]
    return TopicModel.fit(points, [w for w in words for _ in range(80)], k=5), points


def test_topics_are_the_clusters_with_string_ids(synthetic: tuple[TopicModel, np.ndarray]) -> None:
    model, points = synthetic
    ids = model.topic_ids(points)
    assert [t.topic_id for t in model.topics] == ["0", "1", "2", "3", "4"]
    assert len(set(ids) - {UNASSIGNED}) == 5
    for blob in range(5):
        assert Counter(ids[blob * 80 : blob * 80 + 80]).most_common(1)[0][1] >= 78


def test_a_topic_is_labelled_by_its_distinctive_words(
    synthetic: tuple[TopicModel, np.ndarray],
) -> None:
    model, points = synthetic
    topic = model.assign(points[:1])[0]
    assert model.label(str(topic), words=2) == "alpha, card"
    assert model.label(UNASSIGNED) == UNASSIGNED
    with pytest.raises(KeyError, match="no topic '9'"):
        model.label("9")


def test_points_far_from_every_topic_are_unassigned(
    synthetic: tuple[TopicModel, np.ndarray],
) -> None:
    model, _ = synthetic
    far = -CENTRES[:2] * 2
    assert model.topic_ids(far) == [UNASSIGNED, UNASSIGNED]


def test_a_fresh_sample_of_the_baseline_falls_outside_about_as_often_as_the_baseline(
    synthetic: tuple[TopicModel, np.ndarray],
) -> None:
    model, points = synthetic
    fresh = blobs(np.random.default_rng(1), CENTRES, 400)
    baseline_outside = np.mean(model.assign(points) < 0)
    fresh_outside = np.mean(model.assign(fresh) < 0)
    assert baseline_outside <= 0.01
    assert fresh_outside <= 0.03


def test_a_new_cluster_in_the_window_becomes_a_topic_numbered_after_the_baseline(
    synthetic: tuple[TopicModel, np.ndarray],
) -> None:
    model, _ = synthetic
    rng = np.random.default_rng(2)
    window = np.concatenate([blobs(rng, CENTRES, 40), rng.normal(-8, 1.0, size=(40, 5))])
    words = ["alpha card"] * 200 + ["foxtrot refund"] * 40
    found = model.discover(window, words, min_share=0.05)
    assert [t.topic_id for t in found.new_topics] == ["5"]
    assert found.new_topics[0].is_new
    assert found.topic_ids[200:].count("5") >= 36
    assert "5" not in found.topic_ids[:200]
    assert found.label("5", words=2) == "foxtrot, refund"
    assert found.shares()["5"] == pytest.approx(found.topic_ids.count("5") / 240)


def test_mismatched_or_empty_input_is_refused() -> None:
    with pytest.raises(ValueError, match="3 embeddings but 2 texts"):
        TopicModel.fit(np.zeros((3, 2)), ["a", "b"])
    with pytest.raises(ValueError, match="empty baseline"):
        TopicModel.fit(np.zeros((0, 2)), [])
    with pytest.raises(ValueError, match="2-D"):
        TopicModel.fit(np.zeros(3), ["a", "b", "c"])


@pytest.mark.parametrize(("n", "k"), [(1, 1), (8, 2), (900, 21), (100_000, 30)])
def test_k_follows_the_square_root_rule(n: int, k: int) -> None:
    assert choose_k(n) == k


# Real utterances: a baseline of three CLINC150 domains.


@pytest.fixture(scope="module")
def encoder() -> HashingEncoder:
    return HashingEncoder()


@pytest.fixture(scope="module")
def baseline() -> list[str]:
    return texts("train", BASELINE_DOMAINS, 900)


@pytest.fixture(scope="module")
def clinc_model(encoder: HashingEncoder, baseline: list[str]) -> TopicModel:
    return TopicModel.fit(encoder.encode(baseline), baseline)


def held_out(count: int) -> list[str]:
    """Baseline-domain training texts the baseline did not take (same seed, further on)."""
    return texts("train", BASELINE_DOMAINS, 900 + count)[900:]


def test_an_identical_window_has_no_new_topic(
    encoder: HashingEncoder, baseline: list[str], clinc_model: TopicModel
) -> None:
    found = clinc_model.discover(encoder.encode(baseline), baseline)
    assert found.new_topics == ()
    assert found.topic_ids == clinc_model.topic_ids(encoder.encode(baseline))
    assert found.shares().get(UNASSIGNED, 0.0) <= 0.01


@pytest.mark.parametrize("split", ["train", "test"])
def test_a_window_of_the_same_domains_has_no_new_topic(
    encoder: HashingEncoder, clinc_model: TopicModel, split: str
) -> None:
    window = held_out(600) if split == "train" else texts("test", BASELINE_DOMAINS, 600)
    found = clinc_model.discover(encoder.encode(window), window)
    assert found.new_topics == ()
    assert found.shares().get(UNASSIGNED, 0.0) <= 0.03


# Measured with the hashing encoder (seed 0): a topic is found for credit_cards, home,
# auto_and_commute and small_talk (purity 0.86-1.0, 17-46% of the added texts), none
# for utility, work and meta; the static encoder finds all seven (bench/embedding.py).
@pytest.mark.parametrize("domain", ["credit_cards", "home"])
def test_a_domain_missing_from_the_baseline_is_found_and_named_by_its_words(
    encoder: HashingEncoder, clinc_model: TopicModel, domain: str
) -> None:
    added = texts("test", [domain], 90)
    window = held_out(510) + added
    found = clinc_model.discover(encoder.encode(window), window)
    assert found.new_topics, "no new topic"
    new_ids = {t.topic_id for t in found.new_topics}
    assert min(int(i) for i in new_ids) == len(clinc_model.topics)
    members = [text for text, i in zip(window, found.topic_ids, strict=True) if i in new_ids]
    from_added = sum(text in set(added) for text in members)
    assert from_added >= 0.8 * len(members)  # the new topics are the added domain's
    assert from_added >= 0.2 * len(added)
    added_words = Counter(w for text in added for w in content_words(text))
    baseline_words = Counter(w for text in held_out(510) for w in content_words(text))
    for topic in found.new_topics:
        label = found.label(topic.topic_id).split(", ")
        # every word of the label is the added domain's more than the baseline domains'
        assert all(added_words[w] / 90 > baseline_words[w] / 510 for w in label), label


def test_a_surge_of_one_known_intent_is_not_a_new_topic(
    encoder: HashingEncoder, clinc_model: TopicModel
) -> None:
    surge = [
        text for name in ("val", "test") for text, intent in split(name) if intent == "balance"
    ]
    window = held_out(510) + surge[:90]
    assert clinc_model.discover(encoder.encode(window), window).new_topics == ()
