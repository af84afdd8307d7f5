"""The daily budget: at most N judgments and $X per project per UTC day, filled by priority.

Each policy may fill only its share of each limit (`[sampling.budget.shares]`,
default signal 100%, stratified 90%, uncertainty 80%, uniform 70%). Counting
every judgment of the day, whichever policy asked for it:

- a judgment limit N admits a policy with share s while
  `judgments_today < floor(s × N)`;
- a spend limit X admits it while `cost_today_usd < s × X` and
  `cost_today_usd + estimated_cost_per_judgment_usd ≤ s × X`.

So as the day fills up, uniform stops first, then uncertainty, then the
strata floors, and the last part of the budget is kept for signal-triggered
judgments, which stop only at the limit itself.
"""

from __future__ import annotations

import math

from liveeval.config.sampling import BudgetConfig
from liveeval.sampling.candidate import SamplerState

# Float slack so that 0.7 × 500 is 350 and a spend equal to the cap is "at" it.
_EPSILON = 1e-9


def budget_refusal(policy: str, budget: BudgetConfig, state: SamplerState) -> str | None:
    """Why the budget refuses one more judgment for `policy` today, or None if it has room."""
    share = budget.shares.of(policy)
    limit = budget.max_judgments_per_day
    if limit is not None:
        cap = math.floor(share * limit + _EPSILON)
        used = state.judgments_today
        if used >= cap:
            if cap >= limit:
                return f"budget: daily limit of {limit} judgments reached ({used} used)"
            return (
                f"budget: {policy} may fill {share:.0%} of the daily {limit} judgments "
                f"({cap}), {used} used"
            )
    spend_limit = budget.max_cost_usd_per_day
    if spend_limit is not None:
        cap_usd = share * spend_limit
        spent = state.cost_today_usd
        estimate = budget.estimated_cost_per_judgment_usd
        if spent >= cap_usd - _EPSILON or spent + estimate > cap_usd + _EPSILON:
            after = f"{_usd(spent)} spent" + (f", ~{_usd(estimate)} a judgment" if estimate else "")
            if share >= 1.0:
                return f"budget: daily limit of {_usd(spend_limit)} reached ({after})"
            return (
                f"budget: {policy} may fill {share:.0%} of the daily {_usd(spend_limit)} "
                f"({_usd(cap_usd)}), {after}"
            )
    return None


def _usd(amount: float) -> str:
    return f"${amount:.2f}" if round(amount, 2) == amount else f"${amount:.4f}"
