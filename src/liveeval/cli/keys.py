"""`liveeval keys create|list|revoke`: API keys per project."""

from __future__ import annotations

from datetime import UTC, datetime

import click
import orjson

from liveeval.cli.options import opened_store, settings_from, store_options
from liveeval.cli.table import render_table
from liveeval.model import Role
from liveeval.store.keys import create_key, list_keys, revoke_key


def _project_name(value: str) -> str:
    if not value or len(value) > 200:
        raise click.BadParameter("a project name has 1 to 200 characters")
    return value


@click.group()
def keys() -> None:
    """Make, list and revoke API keys."""


@keys.command("create")
@click.option(
    "--project",
    required=True,
    type=click.STRING,
    callback=lambda _ctx, _param, value: _project_name(value),
    help="The project the key may act on (at most 200 characters).",
)
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    required=True,
    help="ingest: send spans and signals; read: query; admin: both.",
)
@click.option("--name", help="A label to recognise the key by.")
@click.option("--json", "as_json", is_flag=True)
@store_options
def create(config_file, db, project: str, role: str, name: str | None, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Make a key. Its secret is shown once and stored only as a hash."""
    settings = settings_from(config_file, db=db)
    with opened_store(settings, create=True) as store, store.writing() as conn:
        key, secret = create_key(conn, project, Role(role), name, datetime.now(UTC))
    if as_json:
        click.echo(
            orjson.dumps(
                {"key_id": key.key_id, "project": project, "role": role, "secret": secret}
            ).decode()
        )
        return
    click.echo(f"key {key.key_id} for project {project!r} ({role}):\n\n  {secret}\n")
    click.echo("Keep it now: liveeval stores only its hash and cannot show it again.")


@keys.command("list")
@click.option("--project", help="Only this project's keys.")
@store_options
def list_(config_file, db, project: str | None) -> None:  # type: ignore[no-untyped-def]
    """Keys (never their secrets)."""
    with opened_store(settings_from(config_file, db=db)) as store, store.reading() as conn:
        rows = list_keys(conn, project)
    click.echo(
        render_table(
            ["key id", "project", "role", "name", "created (UTC)", "revoked"],
            [
                [
                    k.key_id,
                    k.project,
                    k.role.value,
                    k.name,
                    f"{k.created_at:%Y-%m-%d %H:%M}",
                    f"{k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else None,
                ]
                for k in rows
            ],
        )
    )


@keys.command("revoke")
@click.argument("key_id")
@store_options
def revoke(config_file, db, key_id: str) -> None:  # type: ignore[no-untyped-def]
    """Revoke a key; requests with it fail within seconds."""
    with opened_store(settings_from(config_file, db=db)) as store, store.writing() as conn:
        if not revoke_key(conn, key_id, datetime.now(UTC)):
            raise click.ClickException(f"no live key {key_id!r}")
    click.echo(f"revoked {key_id}")
