"""Options shared by commands, and how they become settings and a store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from liveeval.config import Settings, load_settings
from liveeval.config.settings import ConfigError, env_var
from liveeval.store.location import StoreUnavailable

if TYPE_CHECKING:
    from liveeval.routing.config import TaskConfig
    from liveeval.store.database import Store

F = Callable[..., Any]


def store_options(command: F) -> F:
    """--config and --db: where settings and data come from."""
    command = click.option(
        "--db",
        help="The store: a SQLite file's path, or a URL (sqlite:///path.db, "
        f"postgresql+psycopg://user@host/db) (env {env_var('db')}; default liveeval.db).",
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
def opened_store(settings: Settings, *, create: bool = False) -> Iterator[Store]:
    """The store for one command, closed when it is done.

    Only commands that bring data in pass `create`: the others refuse a store that is
    not there (rather than leave an empty one behind) or whose schema is older.
    """
    store = store_from(settings, create=create)
    try:
        yield store
    finally:
        store.close()


def store_from(settings: Settings, *, create: bool = True) -> Store:
    """Open the store of `settings`; its failures become one-line CLI errors."""
    from liveeval.store.database import open_existing_store, open_store  # SQLAlchemy: slow

    try:
        return open_store(settings.db) if create else open_existing_store(settings.db)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    except StoreUnavailable as exc:
        raise click.ClickException(str(exc)) from None


def routing_task(settings: Settings, name: str) -> TaskConfig:
    """The `[routing.tasks.<name>]` config; a usage error naming the configured tasks."""
    from liveeval.config.routing import UnknownTask

    try:
        return settings.routing.task(name)
    except UnknownTask as exc:
        raise click.UsageError(str(exc)) from None
