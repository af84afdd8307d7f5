"""Plain text tables for people; `--json` output is for machines."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from liveeval.figures import number_text


def cell(value: Any, width: int = 40) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return number_text(value)
    text = " ".join(str(value).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def render_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[cell(v) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines)
