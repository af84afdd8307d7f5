from __future__ import annotations

import zlib

import numpy as np

from liveeval.features.hashing_embedding import HashingEncoder, char_features, word_features


def test_words_and_word_pairs_are_features() -> None:
    assert word_features("My Card, declined") == [
        "my",
        "card",
        "declined",
        "my card",
        "card declined",
    ]


def test_character_ngrams_are_taken_inside_padded_words() -> None:
    assert char_features("card") == [
        " ca",
        "car",
        "ard",
        "rd ",
        " car",
        "card",
        "ard ",
        " card",
        "card ",
    ]


def test_embeddings_have_unit_length_and_the_asked_dimensions() -> None:
    embeddings = HashingEncoder(dimensions=64).encode(["hello world", "a", "card declined"])
    assert embeddings.shape == (3, 64)
    assert embeddings.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-6)


def test_a_text_without_words_embeds_to_zero() -> None:
    assert not HashingEncoder().encode(["", " ?! "]).any()


def test_texts_sharing_words_are_closer_than_texts_sharing_none() -> None:
    a, b, c = HashingEncoder().encode(
        ["my card payment was declined", "card payment declined again", "will it rain tomorrow"]
    )
    assert a @ b > 0.4 > a @ c


def test_word_forms_share_character_ngrams() -> None:
    declined, declining, weather = HashingEncoder(char_weight=1.0).encode(
        ["declined", "declining", "weather"]
    )
    assert declined @ declining > 0.4 > abs(declined @ weather)


def test_features_are_hashed_with_crc32_so_every_process_agrees() -> None:
    """Python's hash() changes with each process; CRC-32 does not."""
    encoder = HashingEncoder(dimensions=512, char_weight=0.0)
    hashed = zlib.crc32(b"card")
    expected = np.zeros(512, dtype=np.float32)
    expected[hashed % 512] = 1.0 if hashed & 0x80000000 else -1.0
    np.testing.assert_array_equal(encoder.encode(["Card"])[0], expected)
