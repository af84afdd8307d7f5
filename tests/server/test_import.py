"""What the server's processes import at start: an idle `serve` holds only what it uses.

scipy (65 MB with scipy.stats), the text encoders (tokenizers, safetensors) and the
evaluator's web-side dependencies are imported where they are used, not with the app.
"""

import subprocess
import sys


def loaded(statement: str, packages: tuple[str, ...]) -> list[str]:
    """Which of `packages` a fresh interpreter has imported after `statement`."""
    script = f"""
import sys
{statement}
print(",".join(sorted({{
    top for top in {packages!r} for name in sys.modules
    if name == top or name.startswith(top + ".")
}})))
"""
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return [name for name in done.stdout.strip().split(",") if name]


def test_importing_the_app_loads_neither_scipy_nor_the_encoders() -> None:
    statement = "import liveeval.server.app"
    assert loaded(statement, ("scipy", "tokenizers", "safetensors", "sklearn")) == []


def test_the_evaluator_process_loads_none_of_the_web_app() -> None:
    statement = "import liveeval.ingest.evaluator, liveeval.ingest.scoring"
    web = ("fastapi", "starlette", "uvicorn", "jinja2", "liveeval.server", "liveeval.dashboard")
    assert loaded(statement, ("scipy", "alembic", "tokenizers", *web)) == []


def test_serve_with_workers_imports_no_app_for_its_own_process() -> None:
    statement = "import liveeval.cli.serve, liveeval.server.worker, liveeval.ingest.evaluator"
    assert loaded(statement, ("fastapi", "liveeval.server.app", "liveeval.ingest.scoring")) == []
