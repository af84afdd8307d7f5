"""`liveeval interactions list|show|counts|export`: read the store directly."""

from __future__ import annotations

from datetime import datetime

import click
import orjson

from liveeval.cli.options import opened_store, settings_from, store_options
from liveeval.cli.remote import get_items, get_json, server_options
from liveeval.cli.table import render_table
from liveeval.config import Settings
from liveeval.figures import money_text, number_text
from liveeval.model import SignalKind
from liveeval.server.interaction_export import FORMATS, export_lines, iter_interactions
from liveeval.server.interaction_views import (
    InteractionDetail,
    InteractionView,
)
from liveeval.store.interactions import (
    SLICE_COLUMNS,
    InteractionFilter,
    count_interactions,
    get_interaction,
    list_interactions,
)


def _aware(value: datetime | None, name: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise click.BadParameter("give a timezone, e.g. 2026-01-31T00:00:00+00:00", param_hint=name)
    return value


def _echo_json(value: object) -> None:
    click.echo(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode())


class AwareDateTime(click.ParamType):
    name = "datetime"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None):  # type: ignore[no-untyped-def]
        if isinstance(value, datetime):
            return value
        try:
            parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            self.fail(f"{value!r} is not an ISO 8601 time", param, ctx)
        if parsed.tzinfo is None:
            self.fail(f"{value!r} has no timezone; add Z or +00:00", param, ctx)
        return parsed


@click.group()
def interactions() -> None:
    """Look at the interactions liveeval has recorded."""


def filter_options(command):  # type: ignore[no-untyped-def]
    for option in reversed(
        [
            click.option("--project", default=None, help="Project (default: default_project)."),
            click.option("--since", type=AwareDateTime(), help="Started at or after (ISO 8601)."),
            click.option("--until", type=AwareDateTime(), help="Started before (ISO 8601)."),
            click.option("--model", help="Requested or served model."),
            click.option("--prompt-version"),
            click.option("--route"),
            click.option("--session", "session_id"),
            click.option("--status", type=click.Choice(["ok", "error", "unset"])),
            click.option(
                "--has-signal", type=click.Choice([k.value for k in SignalKind]), default=None
            ),
        ]
    ):
        command = option(command)
    return command


def _filter(
    settings,
    project,
    since,
    until,
    model,
    prompt_version,
    route,
    session_id,  # type: ignore[no-untyped-def]
    status,
    has_signal,
) -> InteractionFilter:
    return InteractionFilter(
        project=project or settings.default_project,
        since=since,
        until=until,
        model=model,
        prompt_version=prompt_version,
        route=route,
        session_id=session_id,
        status=status,
        has_signal=has_signal,
    )


@interactions.command("list")
@filter_options
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="JSON lines, one interaction a line.")
@store_options
@server_options
def list_command(config_file, db, server, api_key, limit, as_json, **filters) -> None:  # type: ignore[no-untyped-def]
    """Newest interactions first, from the store or, with --server, a server's REST API."""
    if server is not None:
        if db is not None:
            raise click.UsageError("give --db or --server, not both")
        found = get_items(server, "/api/v1/interactions", filters, api_key, limit)
        rows = [InteractionView.model_validate(item) for item in found]
    else:
        settings = settings_from(config_file, db=db)
        with opened_store(settings) as store, store.reading() as conn:
            found = list_interactions(conn, _filter(settings, **filters), limit=limit)
        rows = [InteractionView.of(i) for i in found]
    if as_json:
        for view in rows:
            click.echo(view.model_dump_json())
        return
    if not rows:
        click.echo("no interactions match")
        return
    click.echo(
        render_table(
            ["id", "start (UTC)", "model", "prompt", "route", "status", "ms", "input"],
            [
                [
                    i.interaction_id,
                    i.start_at.strftime("%Y-%m-%d %H:%M:%S"),
                    i.model_served or i.model_requested,
                    i.prompt_version,
                    i.route,
                    i.status,
                    round(i.latency_ms),
                    i.input_text,
                ]
                for i in rows
            ],
        )
    )


@interactions.command("export")
@filter_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="jsonl",
    show_default=True,
    help="jsonl: the API's interaction, one a line; csv: one row an interaction.",
)
@click.option("--limit", type=click.IntRange(1), help="At most this many (default: all).")
@click.option(
    "-o", "--output", type=click.File("w", encoding="utf-8"), default="-", help="File (default: -)."
)
@store_options
def export_command(config_file, db, fmt, limit, output, **filters) -> None:  # type: ignore[no-untyped-def]
    """Every interaction the filters match, newest first, as JSON lines or CSV."""
    settings = settings_from(config_file, db=db)
    with opened_store(settings) as store:
        rows = iter_interactions(store, _filter(settings, **filters), limit)
        for line in export_lines(rows, fmt):
            output.write(line)


@interactions.command("show")
@click.argument("interaction_id", type=click.IntRange(1, 2**63 - 1))
@click.option("--json", "as_json", is_flag=True)
@store_options
@server_options
def show_command(config_file, db, server, api_key, interaction_id: int, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """One interaction with its spans, signals, scores and why it was (not) judged."""
    if server is not None:
        if db is not None:
            raise click.UsageError("give --db or --server, not both")
        path = f"/api/v1/interactions/{interaction_id}"
        detail = InteractionDetail.model_validate(get_json(server, path, {}, api_key))
    else:
        detail = _stored_detail(settings_from(config_file, db=db), interaction_id)
    if as_json:
        _echo_json(detail.model_dump(mode="json"))
        return
    view = detail.interaction
    fields = view.model_dump(
        exclude={"input_messages", "output_messages", "retrieved_context", "metadata"}
    )
    width = max(len(k) for k in fields)
    for key, value in fields.items():
        if isinstance(value, float):
            value = money_text(value) if key == "cost_usd" else number_text(value)
        click.echo(f"{key.ljust(width)}  {value if value not in (None, [], {}) else '-'}")
    for title, messages in (("input", view.input_messages), ("output", view.output_messages)):
        for m in messages:
            click.echo(f"\n[{title}: {m.role}]\n{m.content or ''}")
    for doc in view.retrieved_context:
        click.echo(f"\n[context {doc.id or ''}]\n{doc.content or ''}")
    click.echo(f"\nspans ({len(detail.spans)}):")
    for s in detail.spans:
        click.echo(f"  {s.span_id}  {s.name}  {s.duration_ms:.0f} ms  {s.status_code}")
    click.echo(f"signals ({len(detail.signals)}):")
    for sig in detail.signals:
        click.echo(
            f"  {sig.occurred_at:%Y-%m-%d %H:%M:%S}  {sig.kind}  "
            f"{'' if sig.value is None else sig.value}  {sig.text or ''}".rstrip()
        )
    click.echo(f"scores ({len(detail.scores)}):")
    for score in detail.scores:
        value = "-" if score.value is None else f"{score.value:g}"
        why = score.error if score.status == "error" else score.explanation
        click.echo(
            f"  {score.kind:8} {score.name:24} {value:>5} {score.label or '':12} "
            f"{score.status:5} {why or ''}".rstrip()
        )
    click.echo("sampling:")
    for d in detail.sampling:
        verdict = "judged" if d.sampled else "not judged"
        click.echo(f"  {d.trigger}: {verdict} — {d.reason}")
    for j in detail.judge_jobs:
        click.echo(f"  job {j.job_id} {j.rubric}: {j.state} after {j.attempts} attempt(s)")


def _stored_detail(settings: Settings, interaction_id: int) -> InteractionDetail:
    """What GET /api/v1/interactions/{id} answers, read from the store."""
    with opened_store(settings) as store, store.reading() as conn:
        interaction = get_interaction(conn, interaction_id)
        if interaction is None:
            raise click.ClickException(f"interaction {interaction_id} does not exist")
        return InteractionDetail.read(conn, interaction)


@interactions.command("counts")
@filter_options
@click.option("--by", required=True, help=f"Comma-separated: {', '.join(SLICE_COLUMNS)}.")
@click.option("--json", "as_json", is_flag=True)
@store_options
def counts_command(config_file, db, by: str, as_json: bool, **filters) -> None:  # type: ignore[no-untyped-def]
    """Interaction counts per slice."""
    columns = [c.strip() for c in by.split(",") if c.strip()]
    unknown = [c for c in columns if c not in SLICE_COLUMNS]
    if unknown or not columns:
        raise click.BadParameter(
            f"unknown {unknown}; choose from {', '.join(SLICE_COLUMNS)}", param_hint="--by"
        )
    settings = settings_from(config_file, db=db)
    with opened_store(settings) as store, store.reading() as conn:
        rows = count_interactions(conn, _filter(settings, **filters), columns)
    if as_json:
        _echo_json(rows)
        return
    headers = [*columns, "count", "errors", "mean ms", "cost"]
    click.echo(
        render_table(
            headers,
            [
                [
                    *(r[c] for c in columns),
                    r["count"],
                    r["errors"],
                    None if r["mean_latency_ms"] is None else round(r["mean_latency_ms"]),
                    None if r["cost_usd"] is None else money_text(r["cost_usd"]),
                ]
                for r in rows
            ],
        )
    )
