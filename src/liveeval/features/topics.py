"""Topic clusters of input embeddings: fitted on a baseline, assigned and discovered per window.

`TopicModel.fit` clusters the baseline's embeddings with k-means and keeps,
for each cluster, its radius: the `radius_quantile` (0.99) quantile of its
members' distances to the centroid, each measured to the centroid of the
other members (n / (n - 1) times the in-sample distance), so a fresh sample
of the same traffic falls outside about as often as the baseline did. A
window's point belongs to the nearest centroid whose radius holds it; a point
outside every radius is "unassigned".

`discover` finds new topics in a window. Distance to the nearest centroid
alone separates a new kind of input poorly (on CLINC150, a domain missing from
the baseline against held-out baseline domains: ROC AUC about 0.7), and
clustering the unassigned points also finds "new" topics in windows of the
same traffic. So discovery clusters the window's *novel* points instead
(`novelty.novel_points`: a neighbourhood dominated by the window and farther
from the baseline than is typical, tested against a stored baseline sample),
and keeps a cluster when it holds at least `min_share` of the window and the
baseline sample has next to nothing near it (its baseline share at most a
tenth of its window share, which a surge of a known kind of input fails).
New topics are numbered after the baseline's: a new kind of input shows up
as a topic with no baseline share.

Topic ids are strings ("0", "7", and "unassigned"), ready for categorical
drift; `label` names a topic by its most distinctive words ("card, declined,
payment").
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from liveeval.features.kmeans import kmeans, squared_distances
from liveeval.features.novelty import novel_points, reference_spread
from liveeval.features.topic_labels import top_words, word_counts

UNASSIGNED = "unassigned"
REFERENCE_SIZE = 2000  # baseline points kept for the novelty test
BASELINE_RATIO = 0.1  # a new topic's baseline share is at most this times its window share


def choose_k(n: int, max_k: int = 30) -> int:
    """The rule of thumb k = sqrt(n / 2), at least 1, at most `max_k` and n."""
    return max(1, min(max_k, n, round(math.sqrt(n / 2))))


@dataclass(frozen=True, eq=False)
class Topic:
    """One cluster: centroid, radius, baseline size and its members' word counts."""

    topic_id: str
    centroid: np.ndarray
    radius: float
    size: int
    words: Counter[str]
    is_new: bool = False


def _as_points(embeddings: np.ndarray, texts: Sequence[str] | None = None) -> np.ndarray:
    points = np.asarray(embeddings, dtype=np.float64)
    if points.ndim != 2:
        raise ValueError(f"embeddings must be a 2-D array (texts × dimensions), got {points.shape}")
    if texts is not None and len(texts) != len(points):
        raise ValueError(f"{len(points)} embeddings but {len(texts)} texts")
    return points


def _clusters_to_topics(
    points: np.ndarray,
    texts: Sequence[str],
    centroids: np.ndarray,
    labels: np.ndarray,
    first_id: int,
    radius_quantile: float,
    is_new: bool,
) -> list[Topic]:
    topics = []
    for index, centroid in enumerate(centroids):
        members = np.flatnonzero(labels == index)
        distances = np.sqrt(squared_distances(points[members], centroid[None, :])[:, 0])
        if len(members) > 1:  # leave-one-out: distance to the centroid of the other members
            radius = (
                float(np.quantile(distances, radius_quantile)) * len(members) / (len(members) - 1)
            )
        else:
            radius = 0.0
        topics.append(
            Topic(
                topic_id=str(first_id + index),
                centroid=centroid,
                radius=radius,
                size=len(members),
                words=word_counts(texts[int(i)] for i in members),
                is_new=is_new,
            )
        )
    return topics


def _novel_clusters(
    points: np.ndarray, novel: np.ndarray, floor: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """k-means clusters of the novel points holding at least `floor` of them, largest first.

    Returns (member indices into `points`, centroid) pairs.
    """
    if len(novel) < floor:
        return []
    k = max(1, min(choose_k(len(novel)), len(novel) // (2 * floor)))
    result = kmeans(points[novel], k, seed=seed)
    sizes = np.bincount(result.labels, minlength=k)
    return [
        (novel[result.labels == c], result.centroids[c])
        for c in np.argsort(-sizes, kind="stable")
        if sizes[c] >= floor
    ]


@dataclass(frozen=True, eq=False)
class TopicModel:
    """Baseline topic clusters (plus, after `discover`, the window's new ones).

    `reference` is a sample of the baseline's embeddings (at most
    `REFERENCE_SIZE`) and `reference_spread` how far a typical reference point
    lies from its nearest others, both for `discover`'s novelty test.
    """

    topics: tuple[Topic, ...]
    reference: np.ndarray
    reference_spread: float
    radius_quantile: float = 0.99

    @classmethod
    def fit(
        cls,
        embeddings: np.ndarray,
        texts: Sequence[str],
        k: int | None = None,
        seed: int = 0,
        radius_quantile: float = 0.99,
    ) -> TopicModel:
        """k-means on the baseline's embeddings; k from `choose_k` unless given."""
        points = _as_points(embeddings, texts)
        if len(points) == 0:
            raise ValueError("cannot fit topics on an empty baseline")
        result = kmeans(points, k if k is not None else choose_k(len(points)), seed=seed)
        topics = _clusters_to_topics(
            points, texts, result.centroids, result.labels, 0, radius_quantile, is_new=False
        )
        rng = np.random.default_rng(seed)
        if len(points) > REFERENCE_SIZE:
            reference = points[np.sort(rng.choice(len(points), REFERENCE_SIZE, replace=False))]
        else:
            reference = points
        return cls(
            topics=tuple(topics),
            reference=reference,
            reference_spread=reference_spread(reference),
            radius_quantile=radius_quantile,
        )

    @property
    def centroids(self) -> np.ndarray:
        return np.stack([topic.centroid for topic in self.topics])

    def assign(self, embeddings: np.ndarray) -> np.ndarray:
        """Each point's topic index (= int(topic_id)), or -1 when outside every topic's radius."""
        points = _as_points(embeddings)
        if len(points) == 0:
            return np.zeros(0, dtype=np.int64)
        distances = np.sqrt(squared_distances(points, self.centroids))
        radii = np.array([topic.radius for topic in self.topics])
        distances[distances > radii[None, :]] = np.inf
        nearest = distances.argmin(axis=1)
        inside = np.isfinite(distances[np.arange(len(points)), nearest])
        return np.where(inside, nearest, -1).astype(np.int64)

    def topic_ids(self, embeddings: np.ndarray) -> list[str]:
        """`assign` as strings: "3", or "unassigned"."""
        return [self.topics[i].topic_id if i >= 0 else UNASSIGNED for i in self.assign(embeddings)]

    def discover(
        self,
        embeddings: np.ndarray,
        texts: Sequence[str],
        min_share: float = 0.02,
        seed: int = 0,
    ) -> TopicWindow:
        """Assigns a window and gathers its novel points into new topics.

        Novel points (see the module's docstring) are clustered with k-means.
        A cluster becomes a topic, with an id after this model's, when it holds
        at least `min_share` of the window (and two points) and is nearly absent
        from the baseline: of the baseline sample, at most `BASELINE_RATIO` times
        its window share is nearer its centroid than any other. Every other
        point keeps its `assign` topic, or "unassigned".
        """
        points = _as_points(embeddings, texts)
        labels = self.assign(points)
        novel = np.flatnonzero(novel_points(points, self.reference, self.reference_spread))
        floor = max(2, math.ceil(min_share * len(points)))
        clusters = self._absent_from_baseline(points, _novel_clusters(points, novel, floor, seed))
        new_topics: list[Topic] = []
        for number, (members, centroid) in enumerate(clusters):
            topic = _clusters_to_topics(
                points[members],
                [texts[int(i)] for i in members],
                centroid[None, :],
                np.zeros(len(members), dtype=np.int64),
                len(self.topics) + number,
                self.radius_quantile,
                is_new=True,
            )
            new_topics.extend(topic)
            labels[members] = len(self.topics) + number
        model = replace(self, topics=self.topics + tuple(new_topics))
        ids = [model.topics[i].topic_id if i >= 0 else UNASSIGNED for i in labels]
        return TopicWindow(topic_ids=ids, new_topics=tuple(new_topics), model=model)

    def _absent_from_baseline(
        self, points: np.ndarray, clusters: list[tuple[np.ndarray, np.ndarray]]
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """The clusters whose baseline share is at most BASELINE_RATIO of their window share."""
        if not clusters:
            return []
        centroids = np.concatenate([self.centroids, np.stack([c for _, c in clusters])])
        first = len(self.topics)
        nearest_reference = squared_distances(self.reference, centroids).argmin(axis=1)
        nearest_window = squared_distances(points, centroids).argmin(axis=1)
        return [
            cluster
            for index, cluster in enumerate(clusters, start=first)
            if np.mean(nearest_reference == index)
            <= BASELINE_RATIO * np.mean(nearest_window == index)
        ]

    def label(self, topic_id: str, words: int = 3) -> str:
        """The topic's most distinctive words, comma-separated ("card, declined, payment")."""
        if topic_id == UNASSIGNED:
            return UNASSIGNED
        names = top_words({topic.topic_id: topic.words for topic in self.topics}, words)
        if topic_id not in names:
            raise KeyError(f"no topic {topic_id!r}; topics are 0 to {len(self.topics) - 1}")
        return ", ".join(names[topic_id]) or "(no words)"


@dataclass(frozen=True, eq=False)
class TopicWindow:
    """A window's topic ids (one per input), the new topics found in it, and the model with them."""

    topic_ids: list[str]
    new_topics: tuple[Topic, ...]
    model: TopicModel

    def shares(self) -> dict[str, float]:
        """Share of the window in each topic id (including "unassigned")."""
        counts = Counter(self.topic_ids)
        return {topic_id: count / len(self.topic_ids) for topic_id, count in counts.items()}

    def label(self, topic_id: str, words: int = 3) -> str:
        return self.model.label(topic_id, words)
