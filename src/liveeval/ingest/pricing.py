"""Cost of an LLM call from a per-model price table. Unknown is None, never 0."""

from __future__ import annotations

from collections.abc import Mapping

from liveeval.config import ModelPrice
from liveeval.model import TokenUsage


def find_price(prices: Mapping[str, ModelPrice], *models: str | None) -> ModelPrice | None:
    """The price of the first model that has one: an exact name, else its base name.

    "gpt-4o-mini-2024-07-18" matches a "gpt-4o-mini" entry (the longest base that fits).
    """
    for model in models:
        if not model:
            continue
        if model in prices:
            return prices[model]
        bases = [name for name in prices if model.startswith(name + "-")]
        if bases:
            return prices[max(bases, key=len)]
    return None


def cost_usd(price: ModelPrice, usage: TokenUsage) -> float | None:
    """USD for this usage. Input tokens include cached ones (as GenAI conventions say)."""
    if usage.input is None or usage.output is None:
        return None
    uncached = usage.input
    cached_cost = 0.0
    if usage.cache_read and price.cache_read_per_mtok is not None:
        uncached -= usage.cache_read
        cached_cost += usage.cache_read * price.cache_read_per_mtok
    if usage.cache_creation and price.cache_creation_per_mtok is not None:
        uncached -= usage.cache_creation
        cached_cost += usage.cache_creation * price.cache_creation_per_mtok
    total = (
        max(uncached, 0) * price.input_per_mtok + usage.output * price.output_per_mtok + cached_cost
    )
    return total / 1_000_000
