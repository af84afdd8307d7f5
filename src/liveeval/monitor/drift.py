"""Input drift: compare a current window's features with a reference window's, say what moved.

Pure: the caller brings both windows as FeatureFrames (columns read from the store,
categories possibly pre-counted by SQL, an embedding sample) and gets a DriftReport.

How a feature's status is decided (every threshold lives in DriftThresholds):

- fewer than `min_samples` rows on a side: "ok", method "min_samples" (not tested; the
  summary says so, and with no row in the window it says "no data", never "no drift");
- numeric and categorical, small samples (either side under `large_sample` rows): the
  test decides, "drift" when its p-value (KS, chi-squared) is under `p_value`; for a
  numeric feature the shift must also be material, the normalized Wasserstein distance
  that counts as drift at scale, `wasserstein` (a median of 49 output tokens becoming
  48 is significant on a few thousand rows, and is not drift);
- numeric, either regime: at least one of p10, median and p90 must have moved by 5%
  (relative); a feature with a large constant part (input tokens over a fixed system
  prompt) has a small spread, so a shift of a token or two reads as large against it. PSI is
  reported but does not decide: on a sample this small its noise alone averages about
  (bins - 1) * (1/n_ref + 1/n_cur) (0.1 for 150 intents in 3,000 rows a side), so its
  fixed thresholds would alarm on identical distributions; where PSI is really large
  the test is significant anyway;
- large samples (both sides at least `large_sample` rows): every tiny shift is
  significant, so effect sizes decide: "drift" when the normalized Wasserstein
  distance (numeric) or the Jensen–Shannon distance (categorical) reaches its
  threshold or PSI reaches `psi_alert`; "warn" when PSI reaches `psi_warn`;
- categorical, either regime: a category that is new (or vanished) with at least
  `new_category_share` of its window, and enough rows on the other side that its
  absence there is no accident (share * n_other >= 5), makes the status at least
  "warn" and is always named;
- embeddings: "drift" when the domain classifier's ROC AUC reaches `domain_auc` and
  the MMD permutation test is significant (p < `mmd_p_value`); "warn" when only one
  of the two says so: an effect that is large but not significant, or significant but
  small.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from liveeval.monitor import drift_text
from liveeval.monitor.drift_shapes import Bar, Histogram, category_bars, numeric_histogram
from liveeval.stats.categorical_drift import CategoricalDrift, categorical_drift, category_counts
from liveeval.stats.embedding_drift import (
    domain_classifier_auc,
    mean_embedding_distance,
    mmd_permutation,
)
from liveeval.stats.numeric_drift import NumericDrift, numeric_drift

Labels = Mapping[str, Mapping[str, str]]
NEW_CATEGORY_MIN_EXPECTED = 5.0  # rows the other side would have had at the same share


@dataclass(frozen=True)
class DriftThresholds:
    """When a feature counts as drifted. Defaults follow Evidently, except `large_sample`.

    Evidently switches from p-values to distances above 1,000 rows; then a 5-point
    shift in a 16-language mix over 3,000 rows (JS distance about 0.06) passes unseen.
    At 30,000 rows a side the chi-squared test already flags shifts of one to two points,
    beyond which significance says little, so distances take over there.
    """

    p_value: float = 0.05
    large_sample: int = 30_000
    wasserstein: float = 0.1
    js: float = 0.1
    psi_warn: float = 0.1
    psi_alert: float = 0.25
    domain_auc: float = 0.55
    mmd_p_value: float = 0.05
    min_samples: int = 30
    new_category_share: float = 0.01
    psi_bins: int = 10
    classifier_rows: int = 2000  # embedding rows per side for the domain classifier
    mmd_rows: int = 500  # embedding rows per side for MMD
    mmd_permutations: int = 200

    def __post_init__(self) -> None:
        for name in ("p_value", "mmd_p_value"):
            if not 0 < getattr(self, name) < 1:
                raise ValueError(f"{name} must lie in (0, 1)")
        if not 0.5 < self.domain_auc < 1:
            raise ValueError("domain_auc must lie in (0.5, 1)")
        if self.psi_warn > self.psi_alert:
            raise ValueError("psi_warn must not exceed psi_alert")
        sizes = (self.large_sample, self.min_samples, self.mmd_permutations)
        if min(sizes) < 1 or min(self.psi_bins, self.classifier_rows, self.mmd_rows) < 2:
            raise ValueError("sample sizes and permutations must be positive, bins and rows >= 2")


@dataclass
class FeatureFrame:
    """One window's features. Numeric and raw categorical columns of a frame are per row;
    a categorical feature may instead be pre-counted ({value: rows}); embeddings are a
    (rows, dimensions) sample."""

    numeric: dict[str, np.ndarray] = field(default_factory=dict)
    categorical: dict[str, np.ndarray | Mapping[str, int]] = field(default_factory=dict)
    embeddings: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class FeatureDrift:
    """The verdict on one feature: the statistic that decided, its threshold, what moved."""

    feature: str
    kind: str  # "numeric" | "categorical" | "embedding"
    method: str  # ks, chi2, wasserstein, js, psi, new_category, domain_classifier_auc, min_samples
    value: float
    threshold: float
    status: str  # "ok" | "warn" | "drift"
    n_reference: int
    n_current: int
    statistics: dict[str, float]
    moved: list[str]
    numeric: NumericDrift | None = None
    categorical: CategoricalDrift | None = None
    bars: list[Bar] = field(default_factory=list)  # categorical: baseline vs window
    histogram: Histogram | None = None  # numeric: both periods on shared bins

    def to_dict(self) -> dict[str, Any]:
        return _json_ready(asdict(self))


@dataclass
class DriftReport:
    """Every feature's verdict, the names of those that drifted, and a summary sentence."""

    features: list[FeatureDrift]
    drifted: list[str]
    summary: str

    @property
    def warned(self) -> list[str]:
        return [f.feature for f in self.features if f.status == "warn"]

    def feature(self, name: str) -> FeatureDrift:
        for verdict in self.features:
            if verdict.feature == name:
                return verdict
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": [verdict.to_dict() for verdict in self.features],
            "drifted": list(self.drifted),
            "warned": self.warned,
            "summary": self.summary,
        }


def _json_ready(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(key): _json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(item) for item in value]
    return value


def _untested(name: str, kind: str, n_ref: int, n_cur: int, t: DriftThresholds) -> FeatureDrift:
    return FeatureDrift(
        feature=name,
        kind=kind,
        method="min_samples",
        value=float(min(n_ref, n_cur)),
        threshold=float(t.min_samples),
        status="ok",
        n_reference=n_ref,
        n_current=n_cur,
        statistics={},
        moved=[],
    )


def _large(n_ref: int, n_cur: int, t: DriftThresholds) -> bool:
    return min(n_ref, n_cur) >= t.large_sample


def _by_effect_size(
    distance_name: str, distance: float, distance_threshold: float, psi: float, t: DriftThresholds
) -> tuple[str, float, float, str]:
    """(method, value, threshold, status) in the large-sample regime."""
    if distance >= distance_threshold:
        return distance_name, distance, distance_threshold, "drift"
    if psi >= t.psi_alert:
        return "psi", psi, t.psi_alert, "drift"
    if psi >= t.psi_warn:
        return "psi", psi, t.psi_warn, "warn"
    return distance_name, distance, distance_threshold, "ok"


def numeric_feature_drift(
    name: str, reference: np.ndarray, current: np.ndarray, t: DriftThresholds
) -> FeatureDrift:
    ref = np.asarray(reference, dtype=np.float64)
    cur = np.asarray(current, dtype=np.float64)
    n_ref, n_cur = int(np.isfinite(ref).sum()), int(np.isfinite(cur).sum())
    if min(n_ref, n_cur) < t.min_samples:
        return _untested(name, "numeric", n_ref, n_cur, t)
    detail = numeric_drift(ref, cur, bins=t.psi_bins)
    if _large(n_ref, n_cur, t):
        decision = _by_effect_size(
            "wasserstein", detail.wasserstein_norm, t.wasserstein, detail.psi, t
        )
    else:
        significant = detail.ks_p_value < t.p_value
        material = detail.wasserstein_norm >= t.wasserstein
        decision = (
            "ks",
            detail.ks_p_value,
            t.p_value,
            "drift" if significant and material else "ok",
        )
    method, value, threshold, status = decision
    moved = drift_text.numeric_moves(name, detail)
    if not moved:
        status = "ok"  # no quantile moved by 5%: a change of shape too small to name
    return FeatureDrift(
        feature=name,
        kind="numeric",
        method=method,
        value=value,
        threshold=threshold,
        status=status,
        n_reference=n_ref,
        n_current=n_cur,
        statistics={
            "ks_statistic": detail.ks_statistic,
            "ks_p_value": detail.ks_p_value,
            "wasserstein_norm": detail.wasserstein_norm,
            "psi": detail.psi,
        },
        moved=moved if status != "ok" else [],
        numeric=detail,
        histogram=numeric_histogram(ref, cur),
    )


def _material_new(detail: CategoricalDrift, t: DriftThresholds) -> dict[str, float]:
    """New and vanished categories with a material share whose absence is no accident."""
    material: dict[str, float] = {}
    for key in detail.new_categories:
        share = detail.current_shares[key]
        if (
            share >= t.new_category_share
            and share * detail.n_reference >= NEW_CATEGORY_MIN_EXPECTED
        ):
            material[key] = share
    for key in detail.vanished_categories:
        share = detail.reference_shares[key]
        if share >= t.new_category_share and share * detail.n_current >= NEW_CATEGORY_MIN_EXPECTED:
            material[key] = share
    return material


def categorical_feature_drift(
    name: str,
    reference: np.ndarray | Mapping[str, int],
    current: np.ndarray | Mapping[str, int],
    t: DriftThresholds,
    labels: Labels | None = None,
) -> FeatureDrift:
    ref = dict(reference) if isinstance(reference, Mapping) else category_counts(reference)
    cur = dict(current) if isinstance(current, Mapping) else category_counts(current)
    n_ref, n_cur = sum(ref.values()), sum(cur.values())
    if min(n_ref, n_cur) < t.min_samples:
        return _untested(name, "categorical", n_ref, n_cur, t)
    detail = categorical_drift(ref, cur)
    if _large(n_ref, n_cur, t):
        decision = _by_effect_size("js", detail.js_distance, t.js, detail.psi, t)
    else:
        significant = detail.chi2_p_value < t.p_value
        decision = ("chi2", detail.chi2_p_value, t.p_value, "drift" if significant else "ok")
    material = _material_new(detail, t)
    if decision[3] == "ok" and material:
        key = max(material, key=lambda k: material[k])
        decision = ("new_category", material[key], t.new_category_share, "warn")
    method, value, threshold, status = decision
    moved = (
        drift_text.categorical_moves(name, detail, set(material), labels) if status != "ok" else []
    )
    return FeatureDrift(
        feature=name,
        kind="categorical",
        method=method,
        value=value,
        threshold=threshold,
        status=status,
        n_reference=n_ref,
        n_current=n_cur,
        statistics={
            "chi2": detail.chi2,
            "chi2_p_value": detail.chi2_p_value,
            "js_distance": detail.js_distance,
            "psi": detail.psi,
        },
        moved=moved,
        categorical=detail,
        bars=category_bars(name, detail, labels),
    )


def embedding_feature_drift(
    name: str, reference: np.ndarray, current: np.ndarray, t: DriftThresholds, seed: int = 0
) -> FeatureDrift:
    ref, cur = np.asarray(reference), np.asarray(current)
    n_ref, n_cur = int(ref.shape[0]), int(cur.shape[0])
    if min(n_ref, n_cur) < t.min_samples:
        return _untested(name, "embedding", n_ref, n_cur, t)
    auc = domain_classifier_auc(ref, cur, seed=seed, max_rows=t.classifier_rows)
    mmd2, mmd_p = mmd_permutation(
        ref, cur, permutations=t.mmd_permutations, seed=seed, max_rows=t.mmd_rows
    )
    distance = mean_embedding_distance(ref, cur)
    votes = (auc >= t.domain_auc) + (mmd_p < t.mmd_p_value)
    status = ("ok", "warn", "drift")[votes]
    return FeatureDrift(
        feature=name,
        kind="embedding",
        method="domain_classifier_auc",
        value=auc,
        threshold=t.domain_auc,
        status=status,
        n_reference=n_ref,
        n_current=n_cur,
        statistics={
            "domain_classifier_auc": auc,
            "mmd2": mmd2,
            "mmd_p_value": mmd_p,
            "mean_embedding_distance": distance,
        },
        moved=drift_text.embedding_moves(name, auc, mmd_p, distance) if status != "ok" else [],
    )


def _check_same_features(reference: FeatureFrame, current: FeatureFrame) -> None:
    for kind in ("numeric", "categorical", "embeddings"):
        ref, cur = set(getattr(reference, kind)), set(getattr(current, kind))
        if ref != cur:
            raise ValueError(
                f"{kind} features differ: only in reference {sorted(ref - cur)}, "
                f"only in current {sorted(cur - ref)}"
            )


def drift_report(
    reference: FeatureFrame,
    current: FeatureFrame,
    thresholds: DriftThresholds = DriftThresholds(),
    *,
    labels: Labels | None = None,
    seed: int = 0,
) -> DriftReport:
    """Compare every feature of the current window with the reference window.

    `labels` give display names per feature and value, e.g. {"topic": {"7": "topic
    cluster 7 (card payments)"}}; a language feature's ISO 639-1 codes are named by
    default ("de" is German).
    """
    _check_same_features(reference, current)
    features = [
        numeric_feature_drift(name, values, current.numeric[name], thresholds)
        for name, values in reference.numeric.items()
    ]
    features += [
        categorical_feature_drift(name, values, current.categorical[name], thresholds, labels)
        for name, values in reference.categorical.items()
    ]
    features += [
        embedding_feature_drift(name, values, current.embeddings[name], thresholds, seed)
        for name, values in reference.embeddings.items()
    ]
    tested = [f for f in features if f.method != "min_samples"]
    if features and not tested:
        summary = drift_text.untested(
            max(f.n_reference for f in features),
            max(f.n_current for f in features),
            thresholds.min_samples,
        )
    else:
        summary = drift_text.summarize(
            [(f.feature, f.status, f.moved) for f in tested], len(tested)
        )
        if len(tested) < len(features):
            summary += drift_text.some_untested(len(features) - len(tested))
    return DriftReport(
        features=features,
        drifted=[f.feature for f in features if f.status == "drift"],
        summary=summary,
    )
