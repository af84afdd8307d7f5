"""How well the judge agrees with people: the agreement report and its renderings.

The human reference of an item is the median of its human scores (the mean of the
middle two for an even count). Statistics on levels (exact and within-one agreement,
kappa, the confusion matrix) round the judge score and the human median to the
nearest level of the scale, halfway to the higher level (a median of 3.5 is a 4).
Spearman's rho uses the unrounded values. Krippendorff's alpha (ordinal) takes every
human rating and the judge as raters; the same alpha among the humans alone is the
ceiling: a judge cannot be expected to agree with people better than they agree
with each other.

Pure functions: no I/O. `liveeval judge calibrate` reads the file and calls the judge.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from liveeval.stats.agreement import (
    Correlation,
    Estimate,
    LengthBias,
    cohen_kappa,
    confusion_matrix,
    exact_agreement,
    krippendorff_alpha,
    length_bias,
    round_to_levels,
    spearman,
    within_one_agreement,
)

DEFAULT_FLOOR = 0.6
# A judge whose length correlation exceeds the humans' by more than this is said to
# prefer length more than people do; smaller gaps are within noise on small sets.
LENGTH_BIAS_MARGIN = 0.1


@dataclass(frozen=True, slots=True)
class JudgeError:
    """An item the judge could not score: counted and shown, never given a score."""

    item_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class AgreementReport:
    n: int
    levels: tuple[float, ...]
    judge_mean: float
    human_mean: float
    exact: Estimate
    within_one: Estimate
    kappa_quadratic: Estimate
    kappa_linear: Estimate
    spearman: Correlation
    alpha: Estimate  # ordinal, judge and every human rating
    alpha_humans: Estimate  # ordinal, humans only: the ceiling
    confusion: tuple[tuple[int, ...], ...]  # rows: judge level, columns: human level
    length_bias: LengthBias
    floor: float
    passed: bool
    judge_errors: tuple[JudgeError, ...] = ()

    @property
    def prefers_length(self) -> bool:
        """The judge's scores follow output length more than the humans' scores do."""
        difference = self.length_bias.difference
        return not math.isnan(difference) and difference > LENGTH_BIAS_MARGIN


def human_reference(humans: Sequence[Sequence[float]]) -> list[float]:
    """Each item's human reference: the median of its human scores."""
    for index, scores in enumerate(humans):
        if len(scores) == 0:
            raise ValueError(f"item {index} has no human score")
    return [float(np.median(np.asarray(scores, dtype=np.float64))) for scores in humans]


def agreement_report(
    judge: Sequence[float],
    humans: Sequence[Sequence[float]],
    levels: Sequence[float],
    output_lengths: Sequence[int],
    *,
    floor: float = DEFAULT_FLOOR,
    judge_errors: Sequence[JudgeError] = (),
) -> AgreementReport:
    """Every agreement statistic of judge scores against the items' human scores.

    `judge[i]`, `humans[i]` (one or more ratings) and `output_lengths[i]` (characters)
    belong to item i; items the judge failed on are left out by the caller and listed
    in `judge_errors`.
    """
    if not len(judge) == len(humans) == len(output_lengths):
        raise ValueError(
            f"{len(judge)} judge scores, {len(humans)} human score lists and "
            f"{len(output_lengths)} output lengths: need one of each per item"
        )
    grid = tuple(float(level) for level in levels)
    reference = human_reference(humans)
    judged = round_to_levels(judge, grid)
    human = round_to_levels(reference, grid)
    report = AgreementReport(
        n=len(judge),
        levels=grid,
        judge_mean=_mean(judge),
        human_mean=_mean(reference),
        exact=exact_agreement(judged, human),
        within_one=within_one_agreement(judged, human, grid),
        kappa_quadratic=cohen_kappa(judged, human, grid, "quadratic"),
        kappa_linear=cohen_kappa(judged, human, grid, "linear"),
        spearman=spearman(judge, reference),
        alpha=krippendorff_alpha(_ratings(humans, judge), "ordinal"),
        alpha_humans=krippendorff_alpha(_ratings(humans), "ordinal"),
        confusion=tuple(
            tuple(int(c) for c in row) for row in confusion_matrix(judged, human, grid)
        ),
        length_bias=length_bias(judge, reference, output_lengths),
        floor=floor,
        passed=False,
        judge_errors=tuple(judge_errors),
    )
    return _with_verdict(report)


def passes(report: AgreementReport, floor: float | None = None) -> bool:
    """Whether quadratic-weighted kappa reaches the floor (the report's, by default).

    An undefined kappa (no items, one constant level) never passes: it shows no agreement.
    """
    threshold = report.floor if floor is None else floor
    kappa = report.kappa_quadratic
    return kappa.defined and kappa.value >= threshold


def report_to_dict(report: AgreementReport) -> dict[str, Any]:
    """The report as JSON-able values with stable keys; an undefined value is null."""
    bias = report.length_bias
    return {
        "n": report.n,
        "levels": list(report.levels),
        "judge_mean": _number(report.judge_mean),
        "human_mean": _number(report.human_mean),
        "exact_agreement": _estimate(report.exact),
        "within_one_agreement": _estimate(report.within_one),
        "kappa_quadratic": _estimate(report.kappa_quadratic),
        "kappa_linear": _estimate(report.kappa_linear),
        "spearman": _correlation(report.spearman),
        "krippendorff_alpha_ordinal": _estimate(report.alpha),
        "krippendorff_alpha_ordinal_humans": _estimate(report.alpha_humans),
        "confusion": {
            "rows": "judge",
            "columns": "human",
            "levels": list(report.levels),
            "counts": [list(row) for row in report.confusion],
        },
        "length_bias": {
            "judge": _correlation(bias.judge),
            "human": _correlation(bias.human),
            "difference": _number(bias.difference),
            "judge_prefers_length": report.prefers_length,
        },
        "floor": {"statistic": "kappa_quadratic", "value": report.floor},
        "passed": report.passed,
        "judge_errors": {
            "count": len(report.judge_errors),
            "items": [{"id": e.item_id, "reason": e.reason} for e in report.judge_errors],
        },
    }


def render_text(report: AgreementReport) -> str:
    """A compact table for a terminal: the statistics, the confusion matrix, the verdict."""
    errors = len(report.judge_errors)
    lines = [
        f"{report.n:,} items scored"
        + (f", {errors:,} judge error{'s' if errors != 1 else ''}" if errors else "")
        + f"; mean judge {_fmt(report.judge_mean, 2)}, "
        f"mean human median {_fmt(report.human_mean, 2)}",
        "",
    ]
    rho = report.spearman
    bias = report.length_bias
    rows = [
        ("exact agreement", _est(report.exact), "rounded to the scale"),
        ("within one level", _est(report.within_one), ""),
        ("kappa, quadratic", _est(report.kappa_quadratic), f"floor {report.floor:g}"),
        ("kappa, linear", _est(report.kappa_linear), ""),
        ("Spearman rho", _fmt(rho.rho), _p_value(rho)),
        ("alpha, judge+humans", _est(report.alpha), "Krippendorff, ordinal"),
        ("alpha, humans only", _est(report.alpha_humans), "the ceiling"),
        ("length rho, judge", _fmt(bias.judge.rho), "Spearman, score vs output characters"),
        (
            "length rho, humans",
            _fmt(bias.human.rho),
            "the judge prefers length more than people" if report.prefers_length else "",
        ),
    ]
    width = max(len(name) for name, _, _ in rows)
    for name, value, note in rows:
        lines.append(f"{name.ljust(width)}  {value.rjust(6)}  {note}".rstrip())
    lines += ["", *_confusion_lines(report), ""]
    undefined = [
        (name, estimate.reason)
        for name, estimate in (
            ("kappa", report.kappa_quadratic),
            ("alpha", report.alpha),
            ("alpha among humans", report.alpha_humans),
        )
        if estimate.reason
    ]
    if rho.reason:
        undefined.append(("Spearman rho", rho.reason))
    lines += [f"{name} undefined: {reason}" for name, reason in undefined]
    for error in report.judge_errors[:10]:
        lines.append(f"judge error on {error.item_id}: {error.reason}")
    if len(report.judge_errors) > 10:
        lines.append(f"… and {len(report.judge_errors) - 10} more judge errors")
    kappa = _est(report.kappa_quadratic)
    if report.passed:
        lines.append(f"PASS: quadratic kappa {kappa} >= floor {report.floor:g}")
    else:
        lines.append(f"FAIL: quadratic kappa {kappa} is below the floor {report.floor:g}")
    return "\n".join(lines)


def _with_verdict(report: AgreementReport) -> AgreementReport:
    return replace(report, passed=passes(report))


def _ratings(
    humans: Sequence[Sequence[float]], judge: Sequence[float] | None = None
) -> np.ndarray[Any, np.dtype[np.float64]]:
    """A raters x items matrix, NaN where an item has fewer ratings than the most rated.

    Row i holds each item's i-th rating; alpha depends only on which values each item
    got, not on who gave them, so position stands in for the rater.
    """
    rows = [list(scores) for scores in humans]
    if judge is not None:
        rows = [[score, *ratings] for score, ratings in zip(judge, rows, strict=True)]
    width = max((len(r) for r in rows), default=0)
    matrix = np.full((width, len(rows)), np.nan)
    for item, ratings in enumerate(rows):
        matrix[: len(ratings), item] = ratings
    return matrix


def _confusion_lines(report: AgreementReport) -> list[str]:
    labels = [f"{level:g}" for level in report.levels]
    cells = [[str(c) for c in row] for row in report.confusion]
    width = max([len(x) for x in labels] + [len(c) for row in cells for c in row] + [3])
    head = "judge \\ human".ljust(13)
    lines = [head + "  " + "  ".join(label.rjust(width) for label in labels)]
    for label, row in zip(labels, cells, strict=True):
        lines.append(label.rjust(13) + "  " + "  ".join(c.rjust(width) for c in row))
    return lines


def _mean(values: Sequence[float]) -> float:
    return float(np.mean(np.asarray(values, dtype=np.float64))) if len(values) else math.nan


def _number(value: float) -> float | None:
    return None if math.isnan(value) else value


def _estimate(estimate: Estimate) -> dict[str, Any]:
    return {"value": _number(estimate.value), "reason": estimate.reason}


def _correlation(correlation: Correlation) -> dict[str, Any]:
    return {
        "rho": _number(correlation.rho),
        "p_value": _number(correlation.p_value),
        "n": correlation.n,
        "reason": correlation.reason,
    }


def _fmt(value: float, digits: int = 3) -> str:
    return "-" if math.isnan(value) else f"{value:.{digits}f}"


def _est(estimate: Estimate) -> str:
    return _fmt(estimate.value)


def _p_value(correlation: Correlation) -> str:
    if math.isnan(correlation.p_value):
        return ""
    return f"p = {correlation.p_value:.2g}, n = {correlation.n:,}"
