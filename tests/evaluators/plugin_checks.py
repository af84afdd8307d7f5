"""A user's own checks, loaded through `[checks] plugins` in test_suite.py."""

from __future__ import annotations

from liveeval.evaluators import CheckParams, CheckResult, model_output, register_check
from liveeval.model import Interaction


class OrderIdParams(CheckParams):
    prefix: str = "ORD-"


@register_check("test_order_id", params=OrderIdParams)
def order_id(interaction: Interaction, params: OrderIdParams) -> CheckResult:
    """The answer quotes an order id."""
    if params.prefix in model_output(interaction):
        return CheckResult.pass_("test_order_id", f"Quotes an {params.prefix} id.")
    return CheckResult.fail("test_order_id", f"No {params.prefix} id in the answer.")
