"""Sequential change detection made for looking again and again: CUSUM on log-likelihood
ratios, its threshold from a target run length, and what it can detect.

A monitor that tests a window at 5% every minute raises an alarm every few hours on
traffic where nothing changed. A CUSUM of log-likelihood ratios (Page 1954) is the
detector for repeated looks: each observation adds log(p1(x) / p0(x)), the statistic
is S_t = max(0, S_{t-1} + z_t), and it alarms when S_t > h. Its guarantee does not
depend on how often one looks:

- **False alarms** (Lorden 1971): with true likelihood ratios, the average run length
  before a false alarm is at least e^h observations. Choosing h = log(ARL0) spends a
  false-alarm budget of one per ARL0 observations, whatever the looks.
- **Delay**: after a change to p1 the statistic climbs by KL(p1 || p0) nats per
  observation, so an alarm comes after about h / KL observations, which is the
  smallest delay any detector with the same false-alarm rate can have
  (Lorden's lower bound, asymptotically).

Observations come in batches (a minute or an hour of a rollup, known by counts or
moments); a batch adds the sum of its observations' log-likelihood ratios at once.

The in-control parameter is estimated from a baseline; a CUSUM run with a wrong p0
raises false alarms quickly, so the caller passes a conservative p0 (a credible bound
of the baseline, `rate_bound`, `mean_bound`) and the effect to detect from the
point estimate. Empirical-Bayes priors (`beta_prior`, `normal_prior`) let a thin
slice borrow strength from the others.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

_P_FLOOR = 1e-9  # probabilities are kept inside (0, 1) so every log is finite
_NORMAL = NormalDist()


def _clip(p: float) -> float:
    return min(1.0 - _P_FLOOR, max(_P_FLOOR, p))


# Log-likelihood ratios of a batch.


def bernoulli_llr(successes: float, n: float, p0: float, p1: float) -> float:
    """log p1(x) / p0(x) summed over `n` Bernoulli observations with `successes`."""
    p0, p1 = _clip(p0), _clip(p1)
    return successes * math.log(p1 / p0) + (n - successes) * math.log((1 - p1) / (1 - p0))


def gaussian_llr(total: float, n: float, mu0: float, mu1: float, sd: float) -> float:
    """log p1(x) / p0(x) summed over `n` normal observations summing to `total`."""
    if not sd > 0:
        raise ValueError(f"sd must be positive, got {sd}")
    return (mu1 - mu0) / (sd * sd) * (total - n * (mu0 + mu1) / 2.0)


def bernoulli_kl(p: float, q: float) -> float:
    """KL(Bernoulli(p) || Bernoulli(q)) in nats."""
    p, q = _clip(p), _clip(q)
    return p * math.log(p / q) + (1 - p) * math.log((1 - p) / (1 - q))


def bernoulli_drift(p_true: float, p0: float, p1: float) -> float:
    """The expected log-likelihood ratio per observation when the rate is `p_true`."""
    return bernoulli_llr(_clip(p_true), 1.0, p0, p1)


def gaussian_drift(mu_true: float, mu0: float, mu1: float, sd: float) -> float:
    """The expected log-likelihood ratio per observation when the mean is `mu_true`."""
    return gaussian_llr(mu_true, 1.0, mu0, mu1, sd)


# The CUSUM over batches.


@dataclass(frozen=True, slots=True)
class CusumPath:
    """The statistic after each batch, where its current run began and when it last
    crossed the threshold (indices into the batches; None when it did not)."""

    values: tuple[float, ...]
    run_start: int | None  # the first batch of the current run above zero
    crossed: int | None  # the batch where the statistic last rose above h and stayed
    high: int | None = None  # the last batch at or above h × `high_share`

    @property
    def last(self) -> float:
        return self.values[-1] if self.values else 0.0

    @property
    def peak(self) -> float:
        return max(self.values, default=0.0)


def cusum_path(
    increments: Sequence[float] | np.ndarray, threshold: float, high_share: float = 0.5
) -> CusumPath:
    """S_i = max(0, S_{i-1} + z_i) from S = 0 before the first batch, computed as
    C_i - min(0, min_{j<=i} C_j) with C the running sum of the increments."""
    z = np.asarray(increments, dtype=float)
    if z.size == 0:
        return CusumPath((), None, None)
    running = np.cumsum(z)
    floor = np.minimum.accumulate(np.minimum(running, 0.0))
    values = np.maximum(running - floor, 0.0)
    zeros = np.flatnonzero(values <= 0.0)
    last_zero = int(zeros[-1]) if zeros.size else -1
    run_start = last_zero + 1 if last_zero + 1 < values.size else None
    crossed = None
    if values[-1] > threshold:
        below = np.flatnonzero(values <= threshold)
        crossed = int(below[-1]) + 1 if below.size else 0
    highs = np.flatnonzero(values >= threshold * high_share)
    high = int(highs[-1]) if highs.size else None
    return CusumPath(tuple(values.tolist()), run_start, crossed, high)


def threshold_for(arl0: float) -> float:
    """h = log(ARL0): a CUSUM of likelihood ratios then averages at least ARL0
    observations between false alarms (Lorden 1971)."""
    return math.log(max(arl0, math.e))


def expected_delay(threshold: float, drift: float) -> float:
    """Observations until an alarm when each adds `drift` nats on average (h / drift);
    infinite when the drift is not positive."""
    return threshold / drift if drift > 0 else math.inf


# What the baseline says, conservatively.


@dataclass(frozen=True, slots=True)
class BetaPrior:
    """A Beta(a, b) prior on a slice's rate, from the rates of the slices beside it."""

    a: float
    b: float

    @property
    def mean(self) -> float:
        return self.a / (self.a + self.b)


@dataclass(frozen=True, slots=True)
class NormalPrior:
    """A normal prior on a slice's mean score, from the means of the slices beside it."""

    mean: float
    var: float  # between-slice variance (tau^2) and the pooled mean's variance


# With fewer slices than this, their spread says little about how slices differ: the
# prior then assumes a moderate difference (DEFAULT_STRENGTH, DEFAULT_SD).
MIN_SLICES = 3
DEFAULT_STRENGTH = 100.0  # pseudo-observations of the pooled rate
DEFAULT_SD = 0.1  # between-slice standard deviation of mean scores


def beta_prior(
    counts: Sequence[tuple[int, int]], max_strength: float = 2000.0, min_strength: float = 2.0
) -> BetaPrior:
    """An empirical-Bayes Beta prior from (successes, n) per slice, by the method of
    moments on the beta-binomial: the intra-class correlation rho = 1 / (a + b + 1) is
    what the spread of the slices' rates shows beyond their binomial noise. Slices that
    agree give a strong prior (at most `max_strength` pseudo-observations), slices that
    differ a weak one (at least `min_strength`); with fewer than MIN_SLICES slices, one of
    DEFAULT_STRENGTH around the pooled rate."""
    kept = [(x, n) for x, n in counts if n > 0]
    total_x, total_n = sum(x for x, _ in kept), sum(n for _, n in kept)
    mu = (total_x + 0.5) / (total_n + 1.0)
    if not kept:
        strength = min_strength
    elif len(kept) < MIN_SLICES or total_n <= len(kept):
        strength = DEFAULT_STRENGTH
    else:
        spread = sum(n * (x / n - mu) ** 2 for x, n in kept) / (mu * (1 - mu))
        rho = (spread - (len(kept) - 1)) / (total_n - len(kept))
        strength = max_strength if rho <= 0 else 1 / rho - 1
    # Never surer of the prior than the slices it comes from have data for.
    strength = max(min_strength, min(strength, max_strength, float(total_n)))
    return BetaPrior(mu * strength, (1 - mu) * strength)


def rate_bound(successes: int, n: int, prior: BetaPrior, confidence: float, upper: bool) -> float:
    """A one-sided credible bound of a slice's rate: the posterior Beta's quantile."""
    a, b = prior.a + successes, prior.b + (n - successes)
    q = confidence if upper else 1 - confidence
    # scipy.special on the first bound, not when the monitor's modules are imported (the
    # server imports them for its pages: 28 MB it would hold for nothing).
    from scipy.special import betaincinv

    return float(betaincinv(a, b, q))


def rate_estimate(successes: int, n: int, prior: BetaPrior) -> float:
    """The posterior mean of a slice's rate."""
    return (prior.a + successes) / (prior.a + prior.b + n)


def normal_prior(
    slices: Sequence[tuple[int, float, float]], min_sd: float = 0.05
) -> NormalPrior | None:
    """An empirical-Bayes normal prior from (n, mean, variance) per slice: the weighted
    mean of the slices and the between-slice variance by DerSimonian–Laird (never below
    `min_sd` squared: no slice is assumed identical to the rest; DEFAULT_SD squared with
    fewer than MIN_SLICES slices), plus the variance of the pooled mean itself. None
    without data."""
    kept = [(n, m, v) for n, m, v in slices if n >= 2 and v > 0]
    if not kept:
        return None
    weights = [n / v for n, _, v in kept]
    total = sum(weights)
    mean = sum(w * m for w, (_, m, _) in zip(weights, kept, strict=True)) / total
    tau2 = DEFAULT_SD * DEFAULT_SD
    if len(kept) >= MIN_SLICES:
        q = sum(w * (m - mean) ** 2 for w, (_, m, _) in zip(weights, kept, strict=True))
        c = total - sum(w * w for w in weights) / total
        tau2 = max(0.0, (q - (len(kept) - 1)) / c) if c > 0 else 0.0
    # The spread of slices around the pooled mean, plus the pooled mean's own uncertainty
    # (from few scores it is a guess too).
    return NormalPrior(mean, max(tau2, min_sd * min_sd) + 1 / total)


def mean_posterior(
    n: int, mean: float, var: float, prior: NormalPrior | None
) -> tuple[float, float] | None:
    """The posterior mean and standard deviation of a slice's mean score (without a
    prior: its own mean and standard error; None without either)."""
    own = n / var if n and var > 0 else 0.0
    if prior is None:
        return (mean, math.sqrt(1 / own)) if own else None
    precision = 1 / prior.var + own
    centre = (prior.mean / prior.var + own * mean) / precision
    return centre, math.sqrt(1 / precision)


def z_of(confidence: float) -> float:
    """The standard normal's `confidence` quantile (as scipy's norm.ppf, to a few ulp)."""
    if not 0.0 < confidence < 1.0:
        return math.nan if math.isnan(confidence) else math.copysign(math.inf, confidence - 0.5)
    return _NORMAL.inv_cdf(confidence)
