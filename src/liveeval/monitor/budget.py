"""The false-alarm budget: how many false alerts a month a project accepts, spent evenly
over every detector the monitor runs (rule × slice × score × category × direction).

A detector given 1/M of the budget must average M / budget months between false alarms.
At r observations a minute that is ARL0 = r × minutes-a-month × M / budget observations,
and a CUSUM of likelihood ratios with h = log(ARL0) keeps it, however often it is
looked at (stats/sequential.py). The sum over the M detectors is the budget: a union
bound, which holds whatever the correlation between slices.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from liveeval.stats.sequential import threshold_for

MONTH = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Budget:
    false_alerts_per_month: float
    detectors: int

    @property
    def share(self) -> float:
        """False alarms a month allowed to one detector."""
        return self.false_alerts_per_month / max(1, self.detectors)

    def run_length(self, per_minute: float) -> float:
        """ARL0 in observations for a detector seeing `per_minute` observations a minute."""
        months_between = 1.0 / self.share
        return per_minute * (MONTH.total_seconds() / 60.0) * months_between

    def threshold(self, per_minute: float, directions: int = 1) -> float:
        """h for one detector; a two-sided one splits its share between both sides."""
        return threshold_for(self.run_length(per_minute) * directions)
