"""The app as each server process builds it when `liveeval serve --workers N` forks N."""

from __future__ import annotations

import os

from fastapi import FastAPI

from liveeval.config import Settings
from liveeval.server.app import create_app
from liveeval.store.database import open_store

SETTINGS_VARIABLE = "LIVEEVAL_WORKER_SETTINGS"


def app_from_environment() -> FastAPI:
    """uvicorn factory: settings come from the parent process as JSON in the environment."""
    settings = Settings.model_validate_json(os.environ[SETTINGS_VARIABLE])
    # The parent has already migrated; each worker has its own connections.
    return create_app(settings, open_store(settings.db, migrate=False))
