"""The LLM judge: rubrics, providers, and grading sampled interactions.

Importing this package does not import a provider's SDK; `build_provider` does, for
the provider it builds.
"""

from liveeval.judge.grading import Grader, Judgment, build_provider, judge_version
from liveeval.judge.rubrics import BUILTIN_RUBRICS, Rubric, Scale, applies, rubrics_from_config

__all__ = [
    "BUILTIN_RUBRICS",
    "Grader",
    "Judgment",
    "Rubric",
    "Scale",
    "applies",
    "build_provider",
    "judge_version",
    "rubrics_from_config",
]
