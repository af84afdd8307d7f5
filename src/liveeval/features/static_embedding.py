"""A static (model2vec-style) encoder distilled from MiniLM: one vector per token.

Distillation, done once: every vocabulary token goes through the NumPy MiniLM
alone (`[CLS] token [SEP]`, mean-pooled like a sentence), the 384-dimensional
outputs are reduced by PCA, and each token's vector is weighted by SIF over a
Zipf estimate of its frequency from its rank in the vocabulary (model2vec's
recipe: weight = a / (a + p(rank)), a = 1e-4). A text's embedding is then the
normalised sum of its tokens' vectors: tens of thousands of texts a second.

The distilled vectors are cached under `LIVEEVAL_CACHE_DIR` (default
`~/.cache/liveeval`), keyed by the hash of the model's weights file, and
written atomically, so concurrent processes never read half a file.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix
from tokenizers import Tokenizer

from liveeval.features.minilm import MiniLM, model_path

logger = logging.getLogger(__name__)

CACHE_ENV = "LIVEEVAL_CACHE_DIR"
SIF_COEFFICIENT = 1e-4
_FORMAT = "v1"  # bump when the distillation recipe changes: old cache files are then ignored


def cache_dir() -> Path:
    """Where distilled models are kept: `$LIVEEVAL_CACHE_DIR`, else `~/.cache/liveeval`."""
    configured = os.environ.get(CACHE_ENV)
    return Path(configured) if configured else Path.home() / ".cache" / "liveeval"


def file_digest(path: Path) -> str:
    """SHA-256 of a file, hex."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def zipf_sif_weights(vocabulary_size: int, sif_coefficient: float = SIF_COEFFICIENT) -> np.ndarray:
    """SIF weights a / (a + p) with p a Zipf estimate from each token id's rank."""
    inverse_rank = 1.0 / np.arange(2, vocabulary_size + 2)
    probability = inverse_rank / inverse_rank.sum()
    return sif_coefficient / (sif_coefficient + probability)


def pca_project(vectors: np.ndarray, dimensions: int) -> np.ndarray:
    """The centred `vectors` projected on their `dimensions` leading principal axes."""
    centred = vectors - vectors.mean(axis=0)
    covariance = centred.T @ centred / max(len(vectors) - 1, 1)
    _, axes = np.linalg.eigh(covariance.astype(np.float64))
    leading = axes[:, ::-1][:, :dimensions]
    return (centred @ leading).astype(np.float32)


def distillable_token_ids(tokenizer: Tokenizer) -> list[int]:
    """Token ids that text can produce: all but [PAD], [CLS], [UNK], [unused…] and the like."""
    vocabulary = tokenizer.get_vocab()
    return sorted(
        i for token, i in vocabulary.items() if not (token.startswith("[") and token.endswith("]"))
    )


def distill(
    model: MiniLM,
    dimensions: int = 256,
    token_ids: Sequence[int] | None = None,
    batch_size: int = 512,
    sif_coefficient: float = SIF_COEFFICIENT,
) -> np.ndarray:
    """Token vectors, (vocabulary size, dimensions) float32; rows of tokens not embedded are 0.

    `token_ids` restricts the tokens embedded (default: every token text can produce).
    """
    vocabulary_size = model.tokenizer.get_vocab_size()
    ids = np.asarray(
        token_ids if token_ids is not None else distillable_token_ids(model.tokenizer),
        dtype=np.int64,
    )
    cls_id = model.tokenizer.token_to_id("[CLS]")
    sep_id = model.tokenizer.token_to_id("[SEP]")
    started = time.perf_counter()
    pooled = np.zeros((len(ids), model.dimensions), dtype=np.float32)
    for start in range(0, len(ids), batch_size):
        chunk = ids[start : start + batch_size]
        sequences = np.stack(
            [np.full_like(chunk, cls_id), chunk, np.full_like(chunk, sep_id)], axis=1
        )
        pooled[start : start + len(chunk)] = model.pool(sequences, np.ones_like(sequences))
    dimensions = min(dimensions, len(ids), model.dimensions)
    vectors = np.zeros((vocabulary_size, dimensions), dtype=np.float32)
    vectors[ids] = pca_project(pooled, dimensions)
    vectors *= zipf_sif_weights(vocabulary_size, sif_coefficient)[:, None].astype(np.float32)
    logger.info(
        "distilled %d tokens to %d dimensions in %.1f s",
        len(ids),
        dimensions,
        time.perf_counter() - started,
    )
    return vectors


def cache_file(folder: Path, dimensions: int, cache: Path | None = None) -> Path:
    """Where the distillation of the model in `folder` is cached, keyed by its weights' hash."""
    digest = file_digest(folder / "model.safetensors")[:16]
    return (cache or cache_dir()) / f"static-minilm-{digest}-{dimensions}d-{_FORMAT}.npy"


def save_atomically(path: Path, vectors: np.ndarray) -> None:
    """Writes `vectors` as .npy to `path` through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            np.save(handle, vectors)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@dataclass(frozen=True, eq=False)
class StaticEncoder:
    """Sum of distilled token vectors, normalised (`TextEncoder`)."""

    tokenizer: Tokenizer
    vectors: np.ndarray
    name: str = "static"

    @property
    def dimensions(self) -> int:
        return int(self.vectors.shape[1])

    @classmethod
    def load(
        cls,
        path: Path | str | None = None,
        dimensions: int = 256,
        cache: Path | None = None,
    ) -> StaticEncoder:
        """Distils MiniLM (default: the installed package's), or reads the cached result."""
        folder = Path(path) if path is not None else model_path()
        cached = cache_file(folder, dimensions, cache)
        if cached.exists():
            vectors = np.load(cached)
        else:
            logger.info("distilling a static encoder from %s into %s", folder, cached)
            vectors = distill(MiniLM.load(folder), dimensions)
            save_atomically(cached, vectors)
        return cls(tokenizer=text_tokenizer(folder / "tokenizer.json"), vectors=vectors)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length embeddings, (len(texts), dimensions) float32; 0 for a text of no tokens."""
        encodings = self.tokenizer.encode_batch(list(texts), add_special_tokens=False)
        token_ids = [encoding.ids for encoding in encodings]
        lengths = np.fromiter((len(ids) for ids in token_ids), dtype=np.int64, count=len(texts))
        indptr = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        indices = np.fromiter(
            (i for ids in token_ids for i in ids), dtype=np.int64, count=int(indptr[-1])
        )
        counts = csr_matrix(
            (np.ones(len(indices), dtype=np.float32), indices, indptr),
            shape=(len(texts), len(self.vectors)),
        )
        summed = np.asarray(counts @ self.vectors, dtype=np.float32)
        norms = np.linalg.norm(summed, axis=1, keepdims=True)
        return summed / np.maximum(norms, 1e-12)


def text_tokenizer(path: Path) -> Tokenizer:
    """The model's WordPiece tokenizer without special tokens, padding or truncation."""
    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer
