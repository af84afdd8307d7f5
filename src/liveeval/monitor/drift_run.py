"""A drift report from the store: read both periods, add topics, compare, per slice too.

Numeric and categorical features use every interaction of both periods. Topics and
the embedding statistics use a random sample of inputs per period (`embed_sample`),
embedded with the configured encoder; topic clusters are fitted on the baseline's
sample, and window inputs far from every baseline cluster form new clusters.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from liveeval.config.monitor import DriftConfig
from liveeval.features.encoder import load_encoder_or_fallback
from liveeval.features.intents import IntentClassifier
from liveeval.features.topics import UNASSIGNED, TopicModel
from liveeval.monitor.drift import DriftReport, FeatureFrame, drift_report
from liveeval.monitor.rules import thresholds_of
from liveeval.store.database import Store
from liveeval.store.drift_features import (
    FeatureColumns,
    read_feature_columns,
    read_input_texts,
)

Range = tuple[datetime, datetime]
MISSING_SLICE = "(none)"


@dataclass
class Topics:
    """The sampled interactions' topic ids, and a readable name per topic."""

    of: dict[int, str] = field(default_factory=dict)  # interaction id -> topic id
    names: dict[str, str] = field(default_factory=dict)
    encoder: str = ""
    embeddings: dict[int, np.ndarray] = field(default_factory=dict)
    intents: dict[int, str] = field(default_factory=dict)  # from labelled examples

    def counts(self, ids: np.ndarray, of: Mapping[int, str] | None = None) -> Counter[str]:
        found = self.of if of is None else of
        return Counter(found[i] for i in ids.tolist() if i in found)

    def vectors(self, ids: np.ndarray) -> np.ndarray | None:
        rows = [self.embeddings[i] for i in ids.tolist() if i in self.embeddings]
        return np.stack(rows) if rows else None


@dataclass
class SliceDrift:
    value: str
    report: DriftReport
    n_window: int
    note: str | None = None  # when the slice was compared with the whole baseline

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "n_window": self.n_window,
            "note": self.note,
            "report": self.report.to_dict(),
        }


@dataclass
class DriftRun:
    project: str
    window: Range
    baseline: Range
    n_window: int
    n_baseline: int
    overall: DriftReport
    slice_by: str | None = None
    slices: list[SliceDrift] = field(default_factory=list)
    encoder: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "window": [t.isoformat() for t in self.window],
            "baseline": [t.isoformat() for t in self.baseline],
            "n_window": self.n_window,
            "n_baseline": self.n_baseline,
            "encoder": self.encoder,
            "overall": self.overall.to_dict(),
            "slice_by": self.slice_by,
            "slices": [s.to_dict() for s in self.slices],
        }


def run_drift(
    store: Store,
    project: str,
    window: Range,
    baseline: Range,
    config: DriftConfig,
    *,
    slice_by: str | None = None,
    max_slices: int = 10,
    topics: bool = True,
    seed: int = 0,
) -> DriftRun:
    with store.reading() as conn:
        current = read_feature_columns(conn, project, *window, config.attributes)
        reference = read_feature_columns(conn, project, *baseline, config.attributes)
    found = _topics(store, reference, current, config, seed) if topics else Topics()
    labels = {"topic": found.names}
    thresholds = thresholds_of(config)

    def report(ref: FeatureColumns, cur: FeatureColumns, skip: str | None = None) -> DriftReport:
        numeric = [n for n in ref.numeric if _known(ref.numeric[n]) or _known(cur.numeric[n])]
        categorical = [
            n
            for n in ref.categorical
            if n != skip and (_known(ref.categorical[n]) or _known(cur.categorical[n]))
        ]
        return drift_report(
            _frame(ref, found, numeric, categorical),
            _frame(cur, found, numeric, categorical),
            thresholds,
            labels=labels,
            seed=seed,
        )

    run = DriftRun(
        project,
        window,
        baseline,
        len(current),
        len(reference),
        report(reference, current),
        slice_by,
        encoder=found.encoder,
    )
    if slice_by is not None:
        for value in _top_values(current.categorical[slice_by], max_slices):
            ref = reference.where(_is(reference.categorical[slice_by], value))
            note = None
            if len(ref) < config.min_samples:
                # A slice new in the window (a model that appeared today) has no baseline
                # of its own: compare it with the whole project's.
                note = f"only {len(ref):,} in the baseline: compared with all of it"
                ref = reference
            cur = current.where(_is(current.categorical[slice_by], value))
            run.slices.append(SliceDrift(value, report(ref, cur, slice_by), len(cur), note))
    return run


def _is(values: np.ndarray, value: str) -> np.ndarray:
    if value == MISSING_SLICE:
        return np.array([v is None for v in values], dtype=bool)
    return values == value


def _top_values(values: np.ndarray, limit: int) -> list[str]:
    counts = Counter(MISSING_SLICE if v is None else str(v) for v in values)
    return [value for value, _ in counts.most_common(limit)]


def _frame(
    columns: FeatureColumns, topics: Topics, numeric: list[str], categories: list[str]
) -> FeatureFrame:
    categorical: dict[str, np.ndarray | Mapping[str, int]] = {
        name: columns.categorical[name] for name in categories
    }
    embeddings: dict[str, np.ndarray] = {}
    if topics.intents:
        categorical["intent"] = topics.counts(columns.ids, topics.intents)
    if topics.of:
        categorical["topic"] = topics.counts(columns.ids)
        vectors = topics.vectors(columns.ids)
        embeddings["input_embedding"] = (
            vectors if vectors is not None else np.zeros((0, _dimensions(topics)), np.float32)
        )
    return FeatureFrame(
        numeric={name: columns.numeric[name] for name in numeric},
        categorical=categorical,
        embeddings=embeddings,
    )


def _dimensions(topics: Topics) -> int:
    return len(next(iter(topics.embeddings.values())))


def _known(values: np.ndarray) -> bool:
    """Keep columns the app reports at all (a feature never sent is not a feature)."""
    if values.dtype == object:
        return any(v is not None for v in values)
    return bool(np.isfinite(values).any())


def _topics(
    store: Store,
    reference: FeatureColumns,
    current: FeatureColumns,
    config: DriftConfig,
    seed: int,
) -> Topics:
    rng = np.random.default_rng(seed)
    ref_ids = _sample(reference.ids, config.embed_sample, rng)
    cur_ids = _sample(current.ids, config.embed_sample, rng)
    if len(ref_ids) < config.min_samples or len(cur_ids) < config.min_samples:
        return Topics()
    with store.reading() as conn:
        texts = read_input_texts(conn, [*ref_ids.tolist(), *cur_ids.tolist()])
    encoder = load_encoder_or_fallback(config.encoder)
    ref_texts = [texts.get(i, "") for i in ref_ids.tolist()]
    cur_texts = [texts.get(i, "") for i in cur_ids.tolist()]
    ref_vectors, cur_vectors = encoder.encode(ref_texts), encoder.encode(cur_texts)
    model = TopicModel.fit(ref_vectors, ref_texts, k=config.topics, seed=seed)
    ref_topics = model.topic_ids(ref_vectors)
    found = model.discover(cur_vectors, cur_texts, seed=seed)
    cur_topics = found.topic_ids
    topics = Topics(encoder=encoder.name)
    for ids, named, vectors in (
        (ref_ids, ref_topics, ref_vectors),
        (cur_ids, cur_topics, cur_vectors),
    ):
        for iid, topic, vector in zip(ids.tolist(), named, vectors, strict=True):
            topics.of[iid] = str(topic)
            topics.embeddings[iid] = vector
    if config.intent_examples:
        classifier = IntentClassifier.from_examples(config.intent_examples, encoder)
        sampled = [*ref_ids.tolist(), *cur_ids.tolist()]
        topics.intents = dict(zip(sampled, classifier.classify(ref_texts + cur_texts), strict=True))
    for topic in set(topics.of.values()):
        name = found.model.label(topic)
        topics.names[topic] = name if topic == UNASSIGNED else f"topic cluster {topic} ({name})"
    return topics


def _sample(ids: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    if len(ids) <= size:
        return ids
    return np.sort(rng.choice(ids, size=size, replace=False))
