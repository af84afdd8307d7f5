"""Numbers for people: one way to write money and one way to write a plain number, used by
the dashboard's filters and the CLI's tables. Unknown (None, NaN) is "–", never 0.

    money_text(0.0007) == "$0.0007"     number_text(0.5333333333333333) == "0.533"
    money_text(1.5149) == "$1.51"       number_text(1.5e-05) == "0.000015"
    money_text(1234.5) == "$1,234"      number_text(1234.5) == "1,234"
"""

from __future__ import annotations

import math

UNKNOWN = "–"


def _decimals(value: float, significant: int) -> int:
    """Decimals that show `significant` digits of `value` (0 < |value|)."""
    return max(0, significant - 1 - math.floor(math.log10(abs(value))))


def _fixed(value: float, decimals: int) -> str:
    text = f"{value:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def number_text(value: float | None, significant: int = 3) -> str:
    """A number with about `significant` digits, never in e-notation: 0.533, 0.000015, 12.3,
    1,234 (whole from 1,000 on)."""
    if value is None or math.isnan(value):
        return UNKNOWN
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if value == 0:
        return "0"
    if abs(value) >= 10 ** (significant - 1):
        return _fixed(round(value), 0)
    return _fixed(value, min(_decimals(value, significant), 12))


def money_text(value: float | None) -> str:
    """US dollars: cents from $1 on ($1.52), whole dollars from $1,000 on ($1,234), two
    significant digits below a dollar ($0.15, $0.0007, $0.000015); unknown is "–"."""
    if value is None or math.isnan(value) or math.isinf(value):
        return UNKNOWN
    sign = "-" if value < 0 else ""
    amount = abs(value)
    if amount == 0:
        return "$0"
    if amount >= 1000:
        text = f"{amount:,.0f}"
    elif amount >= 1:
        text = f"{amount:,.2f}"
    elif amount >= 0.1:
        text = f"{amount:.2f}"
    else:
        text = _fixed(amount, min(_decimals(amount, 2), 12))
    return f"{sign}${text}"
