"""Drift of an embedding sample: a domain classifier's ROC AUC, MMD and the mean shift.

- `domain_classifier_auc`: a logistic regression learns to tell current rows from
  reference rows; its cross-validated ROC AUC is 0.5 when it cannot (no drift) and
  grows towards 1 as the windows come apart. Evidently's rule: drift above 0.55.
- `mmd_permutation`: the maximum mean discrepancy with an RBF kernel (bandwidth by
  the median heuristic) and its permutation p-value: a calibrated test.
- `mean_embedding_distance`: cosine distance between the two mean vectors.

Each works on a bounded, seeded subsample, so its cost does not grow with the window.
"""

from __future__ import annotations

import numpy as np


def _as_matrix(values: np.ndarray, name: str) -> np.ndarray:
    matrix = np.asarray(values, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty (rows, dimensions) array, got {matrix.shape}")
    if not np.isfinite(matrix).all():
        raise ValueError(f"{name} embeddings hold NaN or infinite values")
    return matrix


def _subsample(matrix: np.ndarray, max_rows: int, rng: np.random.Generator) -> np.ndarray:
    if matrix.shape[0] <= max_rows:
        return matrix
    return matrix[np.sort(rng.choice(matrix.shape[0], size=max_rows, replace=False))]


def _pair(
    reference: np.ndarray, current: np.ndarray, max_rows: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    ref, cur = _as_matrix(reference, "reference"), _as_matrix(current, "current")
    if ref.shape[1] != cur.shape[1]:
        raise ValueError(f"dimensions differ: reference {ref.shape[1]}, current {cur.shape[1]}")
    rng = np.random.default_rng(seed)
    return _subsample(ref, max_rows, rng), _subsample(cur, max_rows, rng)


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve: P(score of a positive > score of a negative), ties halved."""
    positive = np.asarray(labels, dtype=bool)
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("ROC AUC needs both classes")
    from scipy.stats import rankdata  # on use: the server imports this module for its pages

    ranks = rankdata(scores)  # average ranks for ties: the Mann–Whitney U statistic
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def fit_logistic_regression(
    features: np.ndarray, labels: np.ndarray, c: float = 1.0, max_iter: int = 500
) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression: (weights, intercept).

    Minimises 0.5 * |w|^2 + c * sum log(1 + exp(-y (x.w + b))) with L-BFGS, the
    objective of scikit-learn's LogisticRegression(C=c); the intercept is not penalised.
    """
    from scipy.optimize import minimize  # on use: the server imports this module for its pages
    from scipy.special import expit

    x = np.asarray(features, dtype=np.float64)
    sign = np.where(np.asarray(labels, dtype=bool), 1.0, -1.0)

    def loss_and_gradient(theta: np.ndarray) -> tuple[float, np.ndarray]:
        weights, intercept = theta[:-1], theta[-1]
        margin = sign * (x @ weights + intercept)
        loss = 0.5 * weights @ weights + c * np.logaddexp(0.0, -margin).sum()
        slope = -c * sign * expit(-margin)
        gradient = np.append(x.T @ slope + weights, slope.sum())
        return float(loss), gradient

    start = np.zeros(x.shape[1] + 1)
    result = minimize(
        loss_and_gradient,
        start,
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": max_iter, "gtol": 1e-6},
    )
    return result.x[:-1], float(result.x[-1])


def stratified_folds(labels: np.ndarray, folds: int, rng: np.random.Generator) -> np.ndarray:
    """A fold number per row, each class shuffled and dealt round the folds in turn."""
    labels = np.asarray(labels, dtype=bool)
    fold = np.empty(labels.size, dtype=np.int64)
    for value in (False, True):
        rows = np.flatnonzero(labels == value)
        fold[rng.permutation(rows)] = np.arange(rows.size) % folds
    return fold


def domain_classifier_auc(
    reference: np.ndarray,
    current: np.ndarray,
    *,
    folds: int = 5,
    seed: int = 0,
    max_rows: int = 2000,
) -> float:
    """Cross-validated ROC AUC of a logistic regression telling current rows from reference.

    Each side is subsampled to `max_rows` (seeded); every row is scored by the model
    fitted on the other folds and one AUC is computed over all out-of-fold scores.
    About 0.5 for identical distributions; Evidently calls drift above 0.55.
    """
    ref, cur = _pair(reference, current, max_rows, seed)
    features = np.vstack([ref, cur])
    labels = np.concatenate([np.zeros(ref.shape[0], bool), np.ones(cur.shape[0], bool)])
    if min(ref.shape[0], cur.shape[0]) < 2:
        raise ValueError("the domain classifier needs at least 2 rows a side")
    folds = max(2, min(folds, ref.shape[0], cur.shape[0]))
    fold = stratified_folds(labels, folds, np.random.default_rng(seed))
    scores = np.empty(labels.size)
    for k in range(folds):
        test = fold == k
        weights, intercept = fit_logistic_regression(features[~test], labels[~test])
        scores[test] = features[test] @ weights + intercept
    return roc_auc(scores, labels)


def _rbf_kernel(points: np.ndarray) -> np.ndarray:
    """RBF kernel matrix, bandwidth the median pairwise distance (the median heuristic)."""
    norms = np.einsum("ij,ij->i", points, points)
    squared = np.maximum(norms[:, None] + norms[None, :] - 2.0 * points @ points.T, 0.0)
    off_diagonal = squared[~np.eye(points.shape[0], dtype=bool)]
    bandwidth_sq = float(np.median(off_diagonal))
    if bandwidth_sq <= 0.0:
        positive = off_diagonal[off_diagonal > 0]
        bandwidth_sq = float(np.median(positive)) if positive.size else 1.0
    return np.exp(-squared / (2.0 * bandwidth_sq))


def _mmd_squared(kernel: np.ndarray, in_first: np.ndarray) -> np.ndarray:
    """Unbiased MMD^2 for each column of `in_first` (0/1 membership of the first sample)."""
    n = kernel.shape[0]
    n_x = in_first.sum(axis=0)
    n_y = n - n_x
    row_sums = kernel.sum(axis=1)
    diagonal = np.diag(kernel)
    k_a = kernel @ in_first
    xx = np.einsum("ij,ij->j", in_first, k_a) - diagonal @ in_first
    x_all = row_sums @ in_first
    xy = x_all - (xx + diagonal @ in_first)
    yy = row_sums.sum() - 2.0 * x_all + (xx + diagonal @ in_first) - diagonal @ (1.0 - in_first)
    return xx / (n_x * (n_x - 1)) + yy / (n_y * (n_y - 1)) - 2.0 * xy / (n_x * n_y)


def mmd_permutation(
    reference: np.ndarray,
    current: np.ndarray,
    *,
    permutations: int = 200,
    seed: int = 0,
    max_rows: int = 500,
) -> tuple[float, float]:
    """Unbiased MMD^2 with an RBF kernel (median heuristic) and its permutation p-value.

    Each side is subsampled to `max_rows` (seeded). The p-value is
    (1 + #permuted MMD^2 >= observed) / (1 + permutations): never 0, valid at any size.
    """
    ref, cur = _pair(reference, current, max_rows, seed)
    if min(ref.shape[0], cur.shape[0]) < 2:
        raise ValueError("MMD needs at least 2 rows a side")
    kernel = _rbf_kernel(np.vstack([ref, cur]))
    n, n_x = kernel.shape[0], ref.shape[0]
    rng = np.random.default_rng(seed + 1)
    membership = np.zeros((n, permutations + 1))
    membership[:n_x, 0] = 1.0
    for column in range(1, permutations + 1):
        membership[rng.permutation(n)[:n_x], column] = 1.0
    statistics = _mmd_squared(kernel, membership)
    observed = float(statistics[0])
    exceed = int(np.sum(statistics[1:] >= observed - 1e-12))
    return observed, (1 + exceed) / (1 + permutations)


def mean_embedding_distance(reference: np.ndarray, current: np.ndarray) -> float:
    """Cosine distance (1 - cosine similarity) between the mean reference and current vectors.

    0 when the means point the same way, up to 2 when opposite; 0 if a mean is the zero
    vector on both sides, 1 if on one side only.
    """
    ref, cur = _as_matrix(reference, "reference"), _as_matrix(current, "current")
    mean_ref, mean_cur = ref.mean(axis=0), cur.mean(axis=0)
    norm_ref, norm_cur = float(np.linalg.norm(mean_ref)), float(np.linalg.norm(mean_cur))
    if norm_ref == 0.0 or norm_cur == 0.0:
        return 0.0 if norm_ref == norm_cur else 1.0
    return float(1.0 - (mean_ref @ mean_cur) / (norm_ref * norm_cur))
