"""Options shared by commands, and how they become settings and a store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from liveeval.config import Settings, load_settings
from liveeval.config.settings import ConfigError, env_var
from liveeval.store.database import Store, open_store

F = Callable[..., Any]


def store_options(command: F) -> F:
    """--config and --db: where settings and data come from."""
    command = click.option(
        "--db",
        help=f"SQLAlchemy URL of the store (env {env_var('db')}; default sqlite:///liveeval.db).",
    )(command)
    return click.option(
        "--config",
        "config_file",
        type=click.Path(dir_okay=False),
        help="Config file (env LIVEEVAL_CONFIG; default ./liveeval.toml if present).",
    )(command)


def settings_from(config_file: str | None, **overrides: Any) -> Settings:
    try:
        return load_settings(config_file, overrides=overrides)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None


@contextmanager
def opened_store(settings: Settings) -> Iterator[Store]:
    """The store for one command, closed when it is done."""
    store = store_from(settings)
    try:
        yield store
    finally:
        store.close()


def store_from(settings: Settings) -> Store:
    try:
        return open_store(settings.db)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
