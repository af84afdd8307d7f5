"""The settings the demo serves with: its own database, the simulated judge, generous sampling.

The `[judge]` section names the provider "simulated", which the config file does not
accept (only real providers are configurable there); the demo builds it without
validation, and only ever pairs it with `SimulatedJudgeProvider` in its own worker.
"""

from __future__ import annotations

import importlib.util

from liveeval.config import Settings
from liveeval.config.judge import JudgeConfig
from liveeval.config.monitor import DriftConfig, MonitorConfig, RuleConfig
from liveeval.config.privacy import PrivacyConfig
from liveeval.config.review import ReviewConfig
from liveeval.config.sampling import BudgetConfig, SamplingConfig, UniformPolicyConfig
from liveeval.demo.phrasebook import QUESTIONS
from liveeval.demo.simulated_judge import MODEL, PROVIDER_NAME
from liveeval.judge.providers.local import (
    FindSpec,
    LocalJudgeUnavailable,
    check_server_installed,
    find_default_model,
)

# The demo's day has ~180 requests and its story is three weeks long: its judge,
# regeneration and language-mix rules look back 3 days against the 7 before (same names:
# they replace the default rules), and the language mix, which the baseline absorbs
# slowly, keeps firing a day after its evidence fades. The silent model update is what
# a model-mismatch rule is for: the pinned model answered by another one.
_SLICES = ("all", "model_served", "prompt_version", "language")
DEMO_RULES = tuple(
    RuleConfig.model_validate(rule)
    for rule in (
        {
            "name": "regeneration-rate-rise",
            "metric": "regenerated_rate",
            "slice_by": _SLICES,
            "window": "3d",
            "threshold": 0.05,
        },
        {
            "name": "judge-mean-drop",
            "metric": "judge_mean",
            "slice_by": _SLICES,
            "window": "3d",
            "threshold": 0.3,
            "severity": "critical",
        },
        {
            "name": "input-language-drift",
            "metric": "language_drift",
            "slice_by": ("all",),
            "window": "3d",
            "threshold": 0.05,
            "keep_firing_for": "1d",
        },
        {
            "name": "model-mismatch",
            "metric": "model_mismatch_rate",
            "window": "1d",
            "threshold": 0.05,
            "severity": "critical",
        },
    )
)


JUDGES = ("auto", "local", "simulated")


def local_judge_missing(find_spec: FindSpec = importlib.util.find_spec) -> str | None:
    """Why the local judge cannot run here (the extra or its model is not installed), or
    None when it can."""
    try:
        check_server_installed(find_spec)
        find_default_model(find_spec)
    except LocalJudgeUnavailable as exc:
        return str(exc)
    return None


def pick_judge(requested: str, missing: str | None) -> bool:
    """Whether the demo grades with the real local model: `auto` does when it is
    installed; `local` must have it (ValueError with what to install otherwise)."""
    if requested == "simulated":
        return False
    if requested == "local" and missing is not None:
        raise ValueError(missing)
    return missing is None


class _Filler(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return {"order": "A-10000", "item": "Acme Kettle"}.get(key, "Acme")


def intent_examples() -> dict[str, tuple[str, ...]]:
    """Labelled examples per intent, in every language, as the team wrote them before
    the Acme Card launched: Card questions find no intent of theirs and count as 'other'."""
    examples: dict[str, list[str]] = {}
    for (topic, _), texts in QUESTIONS.items():
        if topic != "acme_card":
            examples.setdefault(topic, []).extend(t.format_map(_Filler()) for t in texts)
    return {topic: tuple(texts) for topic, texts in examples.items()}


def simulated_judge_config() -> JudgeConfig:
    valid = JudgeConfig(provider="openai", model=MODEL, base_url="http://simulated.invalid")
    return valid.model_copy(update={"provider": PROVIDER_NAME, "base_url": None})


def local_judge_config() -> JudgeConfig:
    return JudgeConfig(provider="local", concurrency=2)


def demo_settings(db: str, host: str, port: int, *, real_judge: bool = False) -> Settings:
    judge = local_judge_config() if real_judge else simulated_judge_config()
    if real_judge:
        # A uniform 5% only: the local model takes seconds a judgment, and the signal
        # policy alone (every failed grounding check) would queue most of the story.
        sampling = SamplingConfig(
            policies=("uniform",),
            uniform=UniformPolicyConfig(rate=0.05),
            budget=BudgetConfig(max_judgments_per_day=None),
        )
    else:
        sampling = SamplingConfig(
            uniform=UniformPolicyConfig(rate=1.0),
            budget=BudgetConfig(max_judgments_per_day=None),
        )
    settings = Settings(
        db=db,
        host=host,
        port=port,
        evaluation="inline",
        sampling=sampling,
        # Alerts are stored and shown; no notifier, so they do not interleave the progress.
        monitor=MonitorConfig(
            rules=DEMO_RULES, notifiers=(), drift=DriftConfig(intent_examples=intent_examples())
        ),
        # The story's text is fictional and has no names or places: the review queue's
        # scrubber uses patterns only, not the spaCy model (36 ms a text on 2 cores).
        privacy=PrivacyConfig(ner="off"),
        # The story's grounding check fails on every generic answer: queued, those would
        # bury the failures people and the judge flagged (as a team would tune it too).
        review=ReviewConfig(failed_checks=False),
    )
    return settings.model_copy(update={"judge": judge})
