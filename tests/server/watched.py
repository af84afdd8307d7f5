"""A project whose routes the monitor can and cannot watch, for the views of its SLIs.

Two busy routes, one of them regenerated half the time in the last 3 hours (breached);
a route with a request every 12 hours (too thin to ever detect a 5-point rise); a route
that stopped before the window (nothing to watch now). `RULES` watch the regeneration
rate by route, and the mean cost with a threshold (no detector).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from liveeval.store.database import Store
from tests.monitor.traffic import Traffic, store_traffic

REGEN, COST = "regen-rise", "cost-rise"
RULES: list[dict[str, Any]] = [
    {"name": COST, "metric": "cost_mean", "window": "6h", "threshold": 0.01},
    {
        "name": REGEN,
        "metric": "regenerated_rate",
        "slice_by": ["all", "route"],
        "window": "6h",
        "baseline": "2d",
        "threshold": 0.05,
    },
]
BUSY, BROKEN, THIN, GONE = "support", "checkout", "billing", "returns"


def store_watched(store: Store, now: datetime) -> None:
    start = now - timedelta(hours=54)  # the 2-day baseline and the 6-hour window
    store_traffic(store, Traffic(route=BUSY), start, 54 * 60, 10, seed=1, every=5)
    store_traffic(store, Traffic(route=BROKEN), start, 51 * 60, 10, seed=2, every=5)
    broken = Traffic(route=BROKEN, regenerated=0.5)
    store_traffic(store, broken, now - timedelta(hours=3), 3 * 60, 10, seed=3, every=5)
    store_traffic(store, Traffic(route=THIN), start, 54 * 60, 1, seed=4, every=12 * 60)
    store_traffic(store, Traffic(route=GONE), start, 48 * 60, 10, seed=5, every=5)


def rules_toml() -> str:
    """`RULES` as a config file's [[monitor.rules]] tables (a JSON string, number or list
    of strings is a TOML value too)."""
    out = ["[monitor]", "default_rules = false"]
    for rule in RULES:
        out += ["", "[[monitor.rules]]", *(f"{k} = {json.dumps(v)}" for k, v in rule.items())]
    return "\n".join(out) + "\n"
