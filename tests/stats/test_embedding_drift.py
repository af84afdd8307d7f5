import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import cosine
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from liveeval.stats.embedding_drift import (
    domain_classifier_auc,
    fit_logistic_regression,
    mean_embedding_distance,
    mmd_permutation,
    roc_auc,
    stratified_folds,
)


def _windows(n: int, dims: int, shift: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    reference = rng.normal(0, 1, (n, dims)).astype(np.float32)
    current = rng.normal(0, 1, (n, dims)).astype(np.float32)
    current[:, :8] += shift
    return reference, current


def _sklearn_auc(reference: np.ndarray, current: np.ndarray, seed: int = 0) -> float:
    """The same cross-validation in sklearn, on the folds domain_classifier_auc deals."""
    features = np.vstack([reference, current]).astype(np.float64)
    labels = np.r_[np.zeros(len(reference), bool), np.ones(len(current), bool)]
    fold = stratified_folds(labels, 5, np.random.default_rng(seed))
    splits = [(np.flatnonzero(fold != k), np.flatnonzero(fold == k)) for k in range(5)]
    scores = cross_val_predict(
        LogisticRegression(max_iter=5000, tol=1e-8),
        features,
        labels,
        cv=splits,
        method="decision_function",
    )
    return float(roc_auc_score(labels, scores))


@pytest.mark.parametrize(
    ("shift", "low", "high"), [(0.0, 0.4, 0.6), (0.25, 0.6, 0.8), (3.0, 0.99, 1.0)]
)
def test_domain_classifier_auc_agrees_with_sklearn(shift, low, high):
    reference, current = _windows(600, 32, shift, seed=1)
    auc = domain_classifier_auc(reference, current)
    assert auc == pytest.approx(_sklearn_auc(reference, current), abs=1e-3)
    assert low <= auc <= high


def test_domain_classifier_auc_agrees_with_sklearn_on_other_folds():
    reference, current = _windows(600, 32, 0.15, seed=1)
    auc = domain_classifier_auc(reference, current, seed=9)
    other = cross_val_predict(
        LogisticRegression(max_iter=5000),
        np.vstack([reference, current]).astype(np.float64),
        np.r_[np.zeros(600), np.ones(600)],
        cv=StratifiedKFold(5, shuffle=True, random_state=0),
        method="decision_function",
    )
    assert auc == pytest.approx(roc_auc_score(np.r_[np.zeros(600), np.ones(600)], other), abs=0.03)


def test_domain_classifier_auc_is_near_a_half_for_identical_distributions():
    aucs = [domain_classifier_auc(*_windows(300, 16, 0.0, seed=s), seed=s) for s in range(8)]
    assert abs(np.mean(aucs) - 0.5) < 0.03
    assert max(aucs) < 0.58


def test_domain_classifier_auc_subsamples_each_side():
    reference, current = _windows(3000, 8, 0.3, seed=2)
    small = domain_classifier_auc(reference, current, max_rows=200, seed=5)
    assert small == domain_classifier_auc(reference[:3000], current, max_rows=200, seed=5)
    assert 0.6 < small < 0.85


def test_logistic_regression_matches_sklearns_coefficients():
    rng = np.random.default_rng(3)
    features = rng.normal(0, 1, (400, 10))
    labels = features[:, 0] - 0.5 * features[:, 1] + rng.normal(0, 1, 400) > 0.3
    weights, intercept = fit_logistic_regression(features, labels)
    model = LogisticRegression(max_iter=5000, tol=1e-10).fit(features, labels)
    np.testing.assert_allclose(weights, model.coef_[0], atol=1e-4)
    assert intercept == pytest.approx(model.intercept_[0], abs=1e-4)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 5), min_size=4, max_size=40), st.integers(0, 2**16))
def test_roc_auc_matches_sklearn_with_ties(scores, seed):
    labels = np.random.default_rng(seed).integers(0, 2, len(scores)).astype(bool)
    if labels.all() or not labels.any():
        labels[0] = not labels[0]
    assert roc_auc(np.array(scores), labels) == pytest.approx(roc_auc_score(labels, scores))


def test_mmd_p_value_is_small_for_shifted_embeddings():
    reference, current = _windows(200, 16, 0.4, seed=4)
    mmd2, p_value = mmd_permutation(reference, current)
    assert mmd2 > 0
    assert p_value <= 0.01


def test_mmd_false_alarm_rate_is_near_alpha():
    alarms = 0
    for seed in range(200):
        reference, current = _windows(40, 4, 0.0, seed=1000 + seed)
        _, p_value = mmd_permutation(reference, current, permutations=99, seed=seed)
        alarms += p_value < 0.05
    assert alarms / 200 <= 0.08


def test_mmd_subsamples_with_a_seed():
    reference, current = _windows(900, 8, 0.1, seed=6)
    first = mmd_permutation(reference, current, max_rows=100, seed=3, permutations=50)
    assert first == mmd_permutation(reference, current, max_rows=100, seed=3, permutations=50)


def test_mmd_of_identical_windows_is_near_zero():
    reference, _ = _windows(100, 8, 0.0, seed=7)
    mmd2, p_value = mmd_permutation(reference, reference.copy(), permutations=50)
    assert mmd2 < 0.01
    assert p_value > 0.5


def test_mean_embedding_distance_is_the_cosine_distance_of_the_means():
    rng = np.random.default_rng(8)
    reference, current = rng.normal(1, 1, (50, 6)), rng.normal(0.5, 1, (70, 6))
    expected = cosine(reference.mean(axis=0), current.mean(axis=0))
    assert mean_embedding_distance(reference, current) == pytest.approx(expected)


def test_mean_embedding_distance_handles_zero_means():
    zeros = np.zeros((3, 4))
    assert mean_embedding_distance(zeros, zeros) == 0.0
    assert mean_embedding_distance(zeros, np.ones((3, 4))) == 1.0


def test_embedding_statistics_refuse_mismatched_dimensions():
    with pytest.raises(ValueError, match="dimensions differ"):
        domain_classifier_auc(np.zeros((10, 3)), np.zeros((10, 4)))


def test_embedding_statistics_refuse_nan_rows():
    reference = np.ones((10, 3))
    reference[4, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        mmd_permutation(reference, np.ones((10, 3)))
