"""The app as each server process builds it when `liveeval serve --workers N` forks N.

The app's modules are imported in `app_from_environment`: `serve` reads this module's
names in its own process too, which with N workers serves nothing itself.
"""

from __future__ import annotations

import atexit
import gc
import os
from typing import TYPE_CHECKING

from liveeval.config import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

SETTINGS_VARIABLE = "LIVEEVAL_WORKER_SETTINGS"


def tune_gc() -> None:
    """Collect cycles less often: ingest allocates many short-lived, acyclic objects.

    With the default thresholds the cyclic collector ran often enough to cost
    about a sixth of ingest time; reference counting frees these objects anyway.
    The objects alive at start-up (modules, the app) are frozen out of collection.
    """
    gc.freeze()
    gc.set_threshold(100_000, 50, 1000)


def app_from_environment() -> FastAPI:
    """uvicorn factory: settings come from the parent process as JSON in the environment."""
    from liveeval.server.app import create_app
    from liveeval.store.database import open_store

    settings = Settings.model_validate_json(os.environ[SETTINGS_VARIABLE])
    # The parent has already migrated; each worker has its own connections.
    store = open_store(settings.db, migrate=False)
    atexit.register(store.close)  # the worker exits after uvicorn's shutdown
    app = create_app(settings, store)
    tune_gc()
    return app
