from __future__ import annotations

import pytest

from liveeval.config.sampling import BudgetConfig
from liveeval.sampling import SamplerState, budget_refusal


def budget(**fields: object) -> BudgetConfig:
    return BudgetConfig.model_validate(fields)


@pytest.mark.parametrize(
    ("policy", "cap"),
    [("signal", 500), ("stratified", 450), ("uncertainty", 400), ("uniform", 350)],
)
def test_each_policy_fills_its_share_of_the_judgment_limit(policy: str, cap: int) -> None:
    limits = budget(max_judgments_per_day=500)
    assert budget_refusal(policy, limits, SamplerState(judgments_today=cap - 1)) is None
    assert budget_refusal(policy, limits, SamplerState(judgments_today=cap)) is not None


def test_the_refusal_names_the_limit_and_the_share() -> None:
    limits = budget(max_judgments_per_day=500)
    assert budget_refusal("signal", limits, SamplerState(judgments_today=500)) == (
        "budget: daily limit of 500 judgments reached (500 used)"
    )
    assert budget_refusal("uniform", limits, SamplerState(judgments_today=351)) == (
        "budget: uniform may fill 70% of the daily 500 judgments (350), 351 used"
    )


def test_no_limits_admit_everything() -> None:
    unlimited = budget(max_judgments_per_day=None, max_cost_usd_per_day=None)
    huge = SamplerState(judgments_today=10**9, cost_today_usd=1e9)
    assert budget_refusal("uniform", unlimited, huge) is None


def test_a_zero_limit_admits_nothing() -> None:
    assert budget_refusal("signal", budget(max_judgments_per_day=0), SamplerState()) is not None
    zero_spend = budget(max_judgments_per_day=None, max_cost_usd_per_day=0.0)
    assert budget_refusal("signal", zero_spend, SamplerState()) is not None


def test_the_spend_limit_keeps_room_for_the_estimated_next_judgment() -> None:
    limits = budget(
        max_judgments_per_day=None, max_cost_usd_per_day=10.0, estimated_cost_per_judgment_usd=0.5
    )
    assert budget_refusal("signal", limits, SamplerState(cost_today_usd=9.5)) is None
    refused = budget_refusal("signal", limits, SamplerState(cost_today_usd=9.6))
    assert refused == "budget: daily limit of $10.00 reached ($9.60 spent, ~$0.50 a judgment)"
    # uniform may fill 70%: $7.00
    assert budget_refusal("uniform", limits, SamplerState(cost_today_usd=6.5)) is None
    assert budget_refusal("uniform", limits, SamplerState(cost_today_usd=6.6)) == (
        "budget: uniform may fill 70% of the daily $10.00 ($7.00), $6.60 spent, ~$0.50 a judgment"
    )


def test_without_an_estimate_the_spend_limit_stops_once_reached() -> None:
    limits = budget(max_judgments_per_day=None, max_cost_usd_per_day=2.0)
    assert budget_refusal("signal", limits, SamplerState(cost_today_usd=1.999)) is None
    assert budget_refusal("signal", limits, SamplerState(cost_today_usd=2.0)) == (
        "budget: daily limit of $2.00 reached ($2.00 spent)"
    )


def test_both_limits_apply() -> None:
    limits = budget(max_judgments_per_day=100, max_cost_usd_per_day=1.0)
    assert budget_refusal("signal", limits, SamplerState(judgments_today=5, cost_today_usd=1.0))
    assert budget_refusal("signal", limits, SamplerState(judgments_today=100, cost_today_usd=0))


def test_a_policy_without_a_share_of_its_own_gets_the_least() -> None:
    limits = budget(max_judgments_per_day=100)
    assert budget_refusal("custom", limits, SamplerState(judgments_today=70)) is not None
    assert budget_refusal("custom", limits, SamplerState(judgments_today=69)) is None
