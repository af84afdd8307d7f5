"""`liveeval scores list`: every score, from checks, judges, people and the app."""

from __future__ import annotations

import click

from liveeval.cli.interactions import AwareDateTime
from liveeval.cli.options import opened_store, settings_from, store_options
from liveeval.cli.remote import get_items, server_options
from liveeval.cli.table import render_table
from liveeval.model import Score, ScoreKind, ScoreStatus
from liveeval.server.score_bodies import ScoreView
from liveeval.store.scores import ScoreFilter, list_scores


@click.group()
def scores() -> None:
    """Look at scores."""


@scores.command("list")
@click.option("--project", help="Project (default: default_project).")
@click.option("--name", help="Evaluator or rubric name, e.g. quality or language.")
@click.option("--kind", type=click.Choice([k.value for k in ScoreKind]))
@click.option("--status", type=click.Choice([s.value for s in ScoreStatus]))
@click.option("--interaction", "interaction_id", type=click.IntRange(1, 2**63 - 1))
@click.option("--since", type=AwareDateTime(), help="Created at or after (ISO 8601).")
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="JSON lines, one score a line.")
@store_options
@server_options
def list_command(  # type: ignore[no-untyped-def]
    config_file,
    db,
    server,
    api_key,
    project,
    name,
    kind,
    status,
    interaction_id,
    since,
    limit,
    as_json,
) -> None:
    """Newest scores first, from the store or, with --server, a server's REST API."""
    if server is not None:
        if db is not None:
            raise click.UsageError("give --db or --server, not both")
        query = {
            "project": project,
            "name": name,
            "kind": kind,
            "status": status,
            "interaction_id": interaction_id,
            "since": since,
        }
        found = get_items(server, "/api/v1/scores", query, api_key, limit)
        rows = [ScoreView.model_validate(item) for item in found]
    else:
        rows = [
            ScoreView.of(s)
            for s in _stored(
                config_file, db, project, name, kind, status, interaction_id, since, limit
            )
        ]
    if as_json:
        for view in rows:
            click.echo(view.model_dump_json())
        return
    if not rows:
        click.echo("no scores match")
        return
    click.echo(
        render_table(
            ["interaction", "kind", "name", "value", "label", "status", "why"],
            [
                [
                    s.interaction_id,
                    s.kind,
                    s.name,
                    "-" if s.value is None else f"{s.value:g}",
                    s.label,
                    s.status,
                    s.error or s.explanation,
                ]
                for s in rows
            ],
        )
    )


def _stored(  # type: ignore[no-untyped-def]
    config_file, db, project, name, kind, status, interaction_id, since, limit
) -> list[Score]:
    settings = settings_from(config_file, db=db)
    f = ScoreFilter(
        project=project or settings.default_project,
        name=name,
        kind=ScoreKind(kind) if kind else None,
        status=ScoreStatus(status) if status else None,
        interaction_id=interaction_id,
        since=since,
    )
    with opened_store(settings) as store, store.reading() as conn:
        return list_scores(conn, f, limit=limit)
