import subprocess
import sys

SERVER_SIDE = (
    "fastapi",
    "starlette",
    "sqlalchemy",
    "alembic",
    "uvicorn",
    "pydantic",
    "psycopg",
    "rapidfuzz",
    "liveeval.server",
    "liveeval.store",
    "liveeval.ingest",
    "liveeval.cli",
    "liveeval.config",
)

CHECK = f"""
import sys
import liveeval.sdk
heavy = sorted(
    name for name in sys.modules
    if any(name == top or name.startswith(top + ".") for top in {SERVER_SIDE!r})
)
print(",".join(heavy))
"""


def test_importing_the_sdk_loads_none_of_the_servers_dependencies() -> None:
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", CHECK], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def test_importing_the_sdk_starts_no_thread() -> None:
    script = "import threading, liveeval.sdk; print(threading.active_count())"
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"
