"""A drift report from the store: read both periods, add topics, compare, per slice too.

Numeric and categorical features use every interaction of both periods, counted by the
database (store.drift_counts: values and rows per value, not a Python object per row);
the same report can be had from every row read into memory (read="rows"). Topics and
the embedding statistics use a random sample of inputs per period (`embed_sample`),
embedded with the configured encoder; topic clusters are fitted on the baseline's
sample, and window inputs far from every baseline cluster form new clusters.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import numpy as np
from threadpoolctl import threadpool_limits

from liveeval.config.monitor import DriftConfig
from liveeval.features.encoder import load_encoder_or_fallback
from liveeval.features.intents import IntentClassifier
from liveeval.features.topics import UNASSIGNED, TopicModel
from liveeval.monitor.drift import DriftReport, FeatureFrame, drift_report
from liveeval.monitor.rules import thresholds_of
from liveeval.stats.categorical_drift import MISSING, category_counts
from liveeval.store.database import Store
from liveeval.store.drift_counts import (
    FeatureCounts,
    combine_counts,
    count_features,
    read_float_features,
    read_values_of,
)
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


@dataclass
class _Side:
    """One period (or one slice of it) as the report reads it."""

    n: int
    ids: np.ndarray  # the ids topics are looked up by: every row's, or the sampled ones
    numeric: dict[str, np.ndarray]
    categorical: dict[str, Mapping[str, int]]


def _named(counts: Mapping[str | None, int]) -> dict[str, int]:
    """{value: rows} keyed as category_counts keys rows (None is "(missing)"), sorted."""
    named: dict[str, int] = {}
    for key, rows in counts.items():
        name = MISSING if key is None else key if isinstance(key, str) else str(key)
        named[name] = named.get(name, 0) + rows
    return dict(sorted(named.items()))


def _side_of_rows(columns: FeatureColumns) -> _Side:
    return _Side(
        len(columns),
        np.sort(columns.ids),  # embeddings stacked in id order, whatever order rows came in
        columns.numeric,
        {name: dict(sorted(category_counts(v).items())) for name, v in columns.categorical.items()},
    )


def _side_of_counts(counts: FeatureCounts, ids: np.ndarray) -> _Side:
    return _Side(
        counts.n,
        ids,
        {name: counts.values(name) for name in counts.numeric},
        {name: _named(found) for name, found in counts.categorical.items()},
    )


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
    read: Literal["counts", "rows"] = "counts",
) -> DriftRun:
    """The drift report of `window` against `baseline`, per value of `slice_by` too.

    read="counts" (the default) has the database count each feature's values; "rows"
    reads every interaction's features into memory, as the counts are checked against.
    """
    # The report's matrices are small (2,000 x 512 embeddings): BLAS threads cost more in
    # hand-offs than they save, and on a busy machine far more (topics and the domain
    # classifier took 17 s with OpenBLAS's threads at a load of 4 on 2 cores, 3 s without).
    with threadpool_limits(limits=1, user_api="blas"):
        if read == "rows":
            return _run_on_rows(
                store, project, window, baseline, config, slice_by, max_slices, topics, seed
            )
        return _run_on_counts(
            store, project, window, baseline, config, slice_by, max_slices, topics, seed
        )


def _run_on_counts(
    store: Store,
    project: str,
    window: Range,
    baseline: Range,
    config: DriftConfig,
    slice_by: str | None,
    max_slices: int,
    topics: bool,
    seed: int,
) -> DriftRun:

    def counted(period: Range) -> dict[str | None, FeatureCounts]:
        with store.reading() as conn:
            return count_features(conn, project, *period, config.attributes, slice_by)

    def floats(period: Range) -> tuple[dict[str | None, FeatureCounts], np.ndarray]:
        with store.reading() as conn:
            return read_float_features(conn, project, *period, slice_by)

    # Four reads on their own connections at once, and topics (which need only the ids)
    # while the database still counts: sqlite3 and psycopg let go of the GIL as they wait.
    with ThreadPoolExecutor(max_workers=4) as pool:
        counts = [pool.submit(counted, period) for period in (baseline, window)]
        values = [pool.submit(floats, period) for period in (baseline, window)]
        (ref_floats, ref_ids), (cur_floats, cur_ids) = (v.result() for v in values)
        found = _topics(store, ref_ids, cur_ids, config, seed) if topics else Topics()
        reference = combine_counts(
            counts[0].result(), ref_floats, ref_ids, config.attributes, slice_by
        )
        current = combine_counts(
            counts[1].result(), cur_floats, cur_ids, config.attributes, slice_by
        )
    sampled = np.array(sorted(found.of), dtype=np.int64)
    ref_sampled = np.intersect1d(sampled, reference.ids)
    cur_sampled = np.intersect1d(sampled, current.ids)
    ref = _side_of_counts(reference.total, ref_sampled)
    cur = _side_of_counts(current.total, cur_sampled)
    slices: dict[str, tuple[_Side, _Side]] = {}
    if slice_by is not None:
        slice_of: dict[int, str | None] = {}
        if len(sampled):
            with store.reading() as conn:
                slice_of = read_values_of(conn, sampled.tolist(), slice_by)
        for value in _top_values(cur.categorical[slice_by], max_slices):
            raw = None if value == MISSING_SLICE else value
            ids = {i for i, found_value in slice_of.items() if found_value == raw}
            empty = FeatureCounts()
            slices[value] = (
                _side_of_counts(reference.slices.get(raw, empty), _within(ref_sampled, ids)),
                _side_of_counts(current.slices.get(raw, empty), _within(cur_sampled, ids)),
            )
    return _compare(project, window, baseline, config, slice_by, found, ref, cur, slices, seed)


def _within(ids: np.ndarray, among: set[int]) -> np.ndarray:
    return np.array([i for i in ids.tolist() if i in among], dtype=np.int64)


def _run_on_rows(
    store: Store,
    project: str,
    window: Range,
    baseline: Range,
    config: DriftConfig,
    slice_by: str | None,
    max_slices: int,
    topics: bool,
    seed: int,
) -> DriftRun:
    with store.reading() as conn:
        current = read_feature_columns(conn, project, *window, config.attributes)
        reference = read_feature_columns(conn, project, *baseline, config.attributes)
    found = _topics(store, reference.ids, current.ids, config, seed) if topics else Topics()
    slices: dict[str, tuple[_Side, _Side]] = {}
    if slice_by is not None:
        for value in _top_values(category_counts(current.categorical[slice_by]), max_slices):
            slices[value] = (
                _side_of_rows(reference.where(_is(reference.categorical[slice_by], value))),
                _side_of_rows(current.where(_is(current.categorical[slice_by], value))),
            )
    ref, cur = _side_of_rows(reference), _side_of_rows(current)
    return _compare(project, window, baseline, config, slice_by, found, ref, cur, slices, seed)


def _compare(
    project: str,
    window: Range,
    baseline: Range,
    config: DriftConfig,
    slice_by: str | None,
    found: Topics,
    reference: _Side,
    current: _Side,
    slices: Mapping[str, tuple[_Side, _Side]],
    seed: int,
) -> DriftRun:
    labels = {"topic": found.names}
    thresholds = thresholds_of(config)

    def report(ref: _Side, cur: _Side, skip: str | None = None) -> DriftReport:
        numeric = [n for n in ref.numeric if _known(ref.numeric[n]) or _known(cur.numeric[n])]
        categorical = [
            n
            for n in ref.categorical
            if n != skip and (_any_known(ref.categorical[n]) or _any_known(cur.categorical[n]))
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
        current.n,
        reference.n,
        report(reference, current),
        slice_by,
        encoder=found.encoder,
    )
    for value, (ref, cur) in slices.items():
        note = None
        if ref.n < config.min_samples:
            # A slice new in the window (a model that appeared today) has no baseline
            # of its own: compare it with the whole project's.
            note = f"only {ref.n:,} in the baseline: compared with all of it"
            ref = reference
        run.slices.append(SliceDrift(value, report(ref, cur, slice_by), cur.n, note))
    return run


def _is(values: np.ndarray, value: str) -> np.ndarray:
    if value == MISSING_SLICE:
        return np.array([v is None for v in values], dtype=bool)
    return values == value


def _top_values(counts: Mapping[str, int], limit: int) -> list[str]:
    """The slice values with the most rows (ties by name); "(none)" for the unknown."""
    named = {MISSING_SLICE if key == MISSING else key: rows for key, rows in counts.items()}
    ranked = sorted(named.items(), key=lambda item: (-item[1], item[0]))
    return [value for value, _ in ranked[:limit]]


def _frame(side: _Side, topics: Topics, numeric: list[str], categories: list[str]) -> FeatureFrame:
    categorical: dict[str, np.ndarray | Mapping[str, int]] = {
        name: side.categorical[name] for name in categories
    }
    embeddings: dict[str, np.ndarray] = {}
    if topics.intents:
        categorical["intent"] = topics.counts(side.ids, topics.intents)
    if topics.of:
        categorical["topic"] = topics.counts(side.ids)
        vectors = topics.vectors(side.ids)
        embeddings["input_embedding"] = (
            vectors if vectors is not None else np.zeros((0, _dimensions(topics)), np.float32)
        )
    return FeatureFrame(
        numeric={name: side.numeric[name] for name in numeric},
        categorical=categorical,
        embeddings=embeddings,
    )


def _dimensions(topics: Topics) -> int:
    return len(next(iter(topics.embeddings.values())))


def _known(values: np.ndarray) -> bool:
    """Keep columns the app reports at all (a feature never sent is not a feature)."""
    return bool(np.isfinite(values).any())


def _any_known(counts: Mapping[str, int]) -> bool:
    return any(rows > 0 for key, rows in counts.items() if key != MISSING)


def _topics(
    store: Store,
    reference_ids: np.ndarray,
    current_ids: np.ndarray,
    config: DriftConfig,
    seed: int,
) -> Topics:
    rng = np.random.default_rng(seed)
    ref_ids = _sample(np.sort(reference_ids), config.embed_sample, rng)
    cur_ids = _sample(np.sort(current_ids), config.embed_sample, rng)
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
