"""The plain sentences of a drift report: what moved, in the words of the product.

"German rose from 4% to 19% of inputs", "topic cluster 7 (card payments) is new (12% of
inputs)", "median input_chars rose from 120 to 340". Values are shown by the labels the
caller gives; language codes of a language feature fall back to LANGUAGE_NAMES.
"""

from __future__ import annotations

from collections.abc import Mapping

from liveeval.stats.categorical_drift import MISSING, CategoricalDrift
from liveeval.stats.numeric_drift import NumericDrift

LANGUAGE_NAMES: dict[str, str] = {
    "af": "Afrikaans", "am": "Amharic", "ar": "Arabic", "az": "Azerbaijani",
    "be": "Belarusian", "bg": "Bulgarian", "bn": "Bengali", "bs": "Bosnian",
    "ca": "Catalan", "cs": "Czech", "cy": "Welsh", "da": "Danish", "de": "German",
    "el": "Greek", "en": "English", "eo": "Esperanto", "es": "Spanish", "et": "Estonian",
    "eu": "Basque", "fa": "Persian", "fi": "Finnish", "fr": "French", "ga": "Irish",
    "gl": "Galician", "gu": "Gujarati", "he": "Hebrew", "hi": "Hindi", "hr": "Croatian",
    "hu": "Hungarian", "hy": "Armenian", "id": "Indonesian", "is": "Icelandic",
    "it": "Italian", "ja": "Japanese", "ka": "Georgian", "kk": "Kazakh", "km": "Khmer",
    "kn": "Kannada", "ko": "Korean", "lt": "Lithuanian", "lv": "Latvian",
    "mk": "Macedonian", "ml": "Malayalam", "mn": "Mongolian", "mr": "Marathi",
    "ms": "Malay", "my": "Burmese", "nb": "Norwegian Bokmål", "ne": "Nepali",
    "nl": "Dutch", "nn": "Norwegian Nynorsk", "no": "Norwegian", "pa": "Punjabi",
    "pl": "Polish", "pt": "Portuguese", "ro": "Romanian", "ru": "Russian", "si": "Sinhala",
    "sk": "Slovak", "sl": "Slovenian", "sq": "Albanian", "sr": "Serbian", "sv": "Swedish",
    "sw": "Swahili", "ta": "Tamil", "te": "Telugu", "th": "Thai", "tl": "Tagalog",
    "tr": "Turkish", "uk": "Ukrainian", "ur": "Urdu", "uz": "Uzbek", "vi": "Vietnamese",
    "zh": "Chinese", "zu": "Zulu",
}  # fmt: skip
MIN_MOVED_SHARE = 0.01  # a category whose share moved less (1 point) is not named
MAX_MOVED = 3  # categories or quantiles named per feature, besides new and vanished ones
MIN_QUANTILE_CHANGE = 0.05  # a quantile that moved less (5%, relative) is not named


def is_language_feature(feature: str) -> bool:
    name = feature.lower()
    return "language" in name or name == "lang" or name.endswith("_lang")


def display_name(
    feature: str, value: str, labels: Mapping[str, Mapping[str, str]] | None = None
) -> str:
    """How a category is shown: the caller's label, a language's name, else the value."""
    given = (labels or {}).get(feature, {}).get(value)
    if given is not None:
        return given
    if value == MISSING:
        return f"missing {feature}"
    if is_language_feature(feature):
        return LANGUAGE_NAMES.get(value.lower(), value)
    return value


def format_share(share: float) -> str:
    """A share as a percentage: 19%, 6.2%, 0.35%."""
    percent = share * 100
    if percent >= 9.95 or percent == 0:
        return f"{percent:.0f}%"
    if percent >= 0.995:
        return f"{percent:.1f}".removesuffix(".0") + "%"
    return f"{percent:.2g}%"


def format_number(value: float) -> str:
    """A feature value: 2,400, 340, 12.5, 0.0312."""
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.3g}"


def categorical_moves(
    feature: str,
    drift: CategoricalDrift,
    material_new: set[str],
    labels: Mapping[str, Mapping[str, str]] | None = None,
    noun: str = "inputs",
) -> list[str]:
    """Sentences for the categories that moved most, largest change first.

    New and vanished categories in `material_new` (new or vanished with a material share)
    are always named; of the others, up to MAX_MOVED whose share moved a point or more.
    """
    changes: list[tuple[float, str]] = []
    ranked = sorted(
        drift.reference_shares,
        key=lambda key: -abs(drift.current_shares[key] - drift.reference_shares[key]),
    )
    named = 0
    for key in ranked:
        before, after = drift.reference_shares[key], drift.current_shares[key]
        name = display_name(feature, key, labels)
        if key in material_new and before == 0:
            changes.append((after, f"{name} is new ({format_share(after)} of {noun})"))
        elif key in material_new and after == 0:
            changes.append((before, f"{name} vanished (was {format_share(before)} of {noun})"))
        elif named < MAX_MOVED and abs(after - before) >= MIN_MOVED_SHARE:
            verb = "rose" if after > before else "fell"
            sentence = f"{name} {verb} from {format_share(before)} to {format_share(after)}"
            changes.append((abs(after - before), f"{sentence} of {noun}"))
            named += 1
    return [sentence for _, sentence in sorted(changes, key=lambda item: -item[0])]


def numeric_moves(feature: str, drift: NumericDrift) -> list[str]:
    """Sentences for the quantiles (p10, median, p90) that moved by MIN_QUANTILE_CHANGE or
    more (relative), largest first; none when no quantile moved that much."""
    quantiles = (
        ("median", drift.reference_median, drift.current_median),
        ("p90", drift.reference_p90, drift.current_p90),
        ("p10", drift.reference_p10, drift.current_p10),
    )
    moves: list[tuple[float, str]] = []
    for name, before, after in quantiles:
        scale = max(abs(before), abs(after))
        change = abs(after - before) / scale if scale > 0 else 0.0
        if change >= MIN_QUANTILE_CHANGE:
            verb = "rose" if after > before else "fell"
            sentence = f"{name} {feature} {verb} from {format_number(before)} to "
            moves.append((change, sentence + format_number(after)))
    moves.sort(key=lambda item: -item[0])
    return [sentence for _, sentence in moves[:MAX_MOVED]]


def embedding_moves(feature: str, auc: float, mmd_p_value: float, distance: float) -> list[str]:
    return [
        f"a classifier tells current {feature} from the reference with ROC AUC {auc:.2f} "
        f"(MMD p = {mmd_p_value:.3g})",
        f"the mean {feature} vector moved by cosine distance {distance:.3f}",
    ]


def summarize(parts: list[tuple[str, str, list[str]]], compared: int) -> str:
    """One or two sentences from (feature, status, moved) of each feature."""
    drifted = [
        _clause(feature, "drifted", moved) for feature, status, moved in parts if status == "drift"
    ]
    warned = [
        _clause(feature, "may be drifting", moved)
        for feature, status, moved in parts
        if status == "warn"
    ]
    if not drifted and not warned:
        return f"No input drift in {compared} feature{'s' if compared != 1 else ''}."
    text = "; ".join(drifted) + "." if drifted else "No feature drifted."
    if warned:
        text += " Watch: " + "; ".join(warned) + "."
    return text


def untested(n_reference: int, n_current: int, min_samples: int) -> str:
    """The summary when no feature had the rows to be tested."""
    if n_current == 0:
        return "No data in the window: nothing to compare, so no verdict on drift."
    if n_reference == 0:
        return "No data in the baseline: nothing to compare the window with."
    return (
        f"Too few rows to test: {n_current:,} in the window and {n_reference:,} in the "
        f"baseline; each side needs {min_samples:,}."
    )


def some_untested(count: int) -> str:
    return f" {count} feature{'s' if count != 1 else ''} had too few rows to test."


def _clause(feature: str, verb: str, moved: list[str]) -> str:
    """The largest move, and up to two new categories besides (a new topic is the news)."""
    if not moved:
        return f"{feature} {verb}"
    shown = [moved[0], *[m for m in moved[1:] if " is new " in m][:2]]
    return f"{feature} {verb}: {', '.join(shown)}"
