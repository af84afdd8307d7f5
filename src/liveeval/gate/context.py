"""The grading context a run needs: the judge, only when a case grades with it."""

from __future__ import annotations

from collections.abc import Sequence

from liveeval.config import Settings
from liveeval.gate.graders import GradingContext
from liveeval.judge.grading import Grader
from liveeval.judge.providers import build_provider
from liveeval.judge.rubrics import rubrics_from_config
from liveeval.model.case import Case, JudgeGrader


def grading_context(settings: Settings, cases: Sequence[Case]) -> GradingContext:
    """Raises JudgeProviderError when judge graders need a [judge] that cannot be built;
    without any [judge], judge graders report a GradeError per case."""
    if not any(isinstance(c.grader, JudgeGrader) for c in cases) or not settings.judge.enabled:
        return GradingContext()
    grader = Grader(build_provider(settings.judge), settings.judge)
    return GradingContext(judge=grader, rubrics=rubrics_from_config(settings.judge))
