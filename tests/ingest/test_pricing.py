from __future__ import annotations

import pytest

from liveeval.config import ModelPrice
from liveeval.ingest.assemble import AssemblyRules, assemble
from liveeval.ingest.pricing import cost_usd, find_price
from liveeval.model import TokenUsage
from tests.telemetry import genai_attributes, model_span, trace_id

MINI = ModelPrice(input_per_mtok=0.15, output_per_mtok=0.6, cache_read_per_mtok=0.075)
FOUR_O = ModelPrice(input_per_mtok=2.5, output_per_mtok=10.0)
PRICES = {"gpt-4o-mini": MINI, "gpt-4o": FOUR_O}


def test_an_exact_model_name_finds_its_price() -> None:
    assert find_price(PRICES, "gpt-4o") is FOUR_O
    assert find_price(PRICES, "gpt-4o-mini") is MINI


def test_a_dated_suffix_finds_the_longest_base_name() -> None:
    assert find_price(PRICES, "gpt-4o-mini-2024-07-18") is MINI
    assert find_price(PRICES, "gpt-4o-2024-08-06") is FOUR_O


def test_a_name_that_only_shares_a_prefix_without_a_dash_finds_nothing() -> None:
    assert find_price(PRICES, "gpt-4omni") is None


def test_the_served_model_is_looked_up_before_the_requested_one() -> None:
    assert find_price(PRICES, "gpt-4o-2024-08-06", "gpt-4o-mini") is FOUR_O
    assert find_price(PRICES, None, "gpt-4o-mini") is MINI
    assert find_price(PRICES, "claude-x", "gpt-4o-mini") is MINI


def test_an_unknown_model_has_no_price() -> None:
    assert find_price(PRICES, "claude-3-5-sonnet", None) is None
    assert find_price({}, "gpt-4o") is None


def test_cost_is_input_and_output_tokens_times_their_prices() -> None:
    cost = cost_usd(FOUR_O, TokenUsage(input=1_000, output=200))
    assert cost == pytest.approx((1_000 * 2.5 + 200 * 10.0) / 1e6)


def test_cached_input_tokens_are_charged_at_the_cache_price() -> None:
    cost = cost_usd(MINI, TokenUsage(input=1_000, output=100, cache_read=400))
    assert cost == pytest.approx((600 * 0.15 + 400 * 0.075 + 100 * 0.6) / 1e6)


def test_cache_creation_tokens_are_charged_at_their_own_price() -> None:
    price = ModelPrice(input_per_mtok=3.0, output_per_mtok=15.0, cache_creation_per_mtok=3.75)
    cost = cost_usd(price, TokenUsage(input=1_000, output=10, cache_creation=800))
    assert cost == pytest.approx((200 * 3.0 + 800 * 3.75 + 10 * 15.0) / 1e6)


def test_cached_tokens_without_a_cache_price_are_charged_as_input() -> None:
    cost = cost_usd(FOUR_O, TokenUsage(input=1_000, output=0, cache_read=400))
    assert cost == pytest.approx(1_000 * 2.5 / 1e6)


@pytest.mark.parametrize("usage", [TokenUsage(input=10), TokenUsage(output=10), TokenUsage()])
def test_missing_token_counts_give_no_cost_rather_than_zero(usage: TokenUsage) -> None:
    assert cost_usd(FOUR_O, usage) is None


def test_zero_tokens_cost_zero() -> None:
    assert cost_usd(FOUR_O, TokenUsage(input=0, output=0)) == 0.0


def _cost_of(attributes: dict, prices: dict) -> tuple[float | None, str | None]:
    [interaction] = assemble(
        [model_span(attributes, trace=trace_id())], [], AssemblyRules(prices=prices)
    )
    return interaction.cost_usd, interaction.cost_source


def test_an_interaction_is_priced_from_the_table_on_its_served_model() -> None:
    attributes = genai_attributes(input_tokens=1_000, output_tokens=100)
    cost, source = _cost_of(attributes, PRICES)
    assert source == "price_table"
    assert cost == pytest.approx((1_000 * 0.15 + 100 * 0.6) / 1e6)


def test_a_cost_the_span_reports_wins_over_the_price_table() -> None:
    attributes = genai_attributes(
        input_tokens=1_000, output_tokens=100, **{"liveeval.cost.usd": 0.5}
    )
    assert _cost_of(attributes, PRICES) == (0.5, "span")


def test_an_interaction_of_an_unknown_model_has_no_cost() -> None:
    attributes = genai_attributes(model="mystery", served="mystery-1")
    assert _cost_of(attributes, PRICES) == (None, None)


def test_an_interaction_without_token_counts_has_no_cost() -> None:
    attributes = genai_attributes(input_tokens=None, output_tokens=None)
    assert _cost_of(attributes, PRICES) == (None, None)
