"""`liveeval review …`: the review queue from the command line — see the failure
patterns, triage an item, score it, write what was expected, promote it."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import click
import sqlalchemy as sa

from liveeval.cli.options import opened_store, settings_from, store_options
from liveeval.cli.table import render_table
from liveeval.config import Settings
from liveeval.flywheel.candidates import import_candidates, parse_candidates
from liveeval.flywheel.case_file import CaseFileError, case_line
from liveeval.flywheel.golden import CaseConflictError
from liveeval.flywheel.intake_job import ReviewIntake
from liveeval.flywheel.review import (
    ReviewError,
    UnknownItemError,
    give_score,
    promote,
    rubric_scales,
    triage,
    write_expected,
)
from liveeval.flywheel.views import event_json, item_json
from liveeval.judge.rubrics import rubrics_from_config
from liveeval.model.review import TRIAGE_STATES, ReviewState
from liveeval.store import review as queue

T = TypeVar("T")
project_option = click.option("--project", help="Project (default: default_project).")
by_option = click.option("--by", "by", required=True, help="Who does this (recorded).")
item_argument = click.argument("item_id", type=click.IntRange(1, 2**63 - 1))


@click.group()
def review() -> None:
    """The review queue: production failures waiting for a person."""


def _write(settings: Settings, work: Callable[[sa.Connection], T]) -> T:
    try:
        with opened_store(settings) as store, store.writing() as conn:
            return work(conn)
    except UnknownItemError as exc:
        raise click.UsageError(str(exc)) from None
    except (ReviewError, CaseConflictError, CaseFileError) as exc:
        raise click.ClickException(str(exc)) from None


@review.command("list")
@project_option
@click.option("--items", "show_items", is_flag=True, help="Items, not failure patterns.")
@click.option(
    "--state",
    "states",
    multiple=True,
    type=click.Choice([str(s) for s in ReviewState]),
    help="Default: open (repeatable).",
)
@click.option("--group", "group_id", type=int, help="Only this group's items.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@store_options
def list_command(config_file, db, project, show_items, states, group_id, limit) -> None:  # type: ignore[no-untyped-def]
    """Failure patterns (each once, with its count), or with --items the items."""
    settings = settings_from(config_file, db=db)
    name = project or settings.default_project
    wanted = tuple(ReviewState(s) for s in states) or (ReviewState.OPEN,)
    with opened_store(settings) as store, store.reading() as conn:
        if show_items or group_id is not None:
            where = queue.ItemFilter(name, wanted, group_id, limit=limit)
            found = queue.list_items(conn, where)
            rows: list[list[Any]] = [
                [i.item_id, i.state, i.priority, i.failure, i.group_id, _short(i.input), i.pii]
                for i in found
            ]
            headers = ["item", "state", "prio", "failure", "group", "input (scrubbed)", "pii"]
        else:
            groups = queue.list_groups(conn, name, wanted, limit)
            rows = [
                [
                    g.group_id,
                    g.open_items,
                    g.top_priority,
                    g.failure,
                    g.label,
                    f"{g.last_at:%m-%d %H:%M}",
                ]
                for g in groups
            ]
            headers = ["group", "items", "prio", "failure", "pattern (first input)", "last"]
    if not rows:
        click.echo("the queue is empty")
        return
    click.echo(render_table(headers, rows))


def _short(data: dict[str, Any]) -> str:
    if "text" in data:
        return str(data["text"])
    return " / ".join(m["content"] for m in data.get("messages", []) if m["role"] == "user")


@review.command("show")
@item_argument
@store_options
def show(config_file, db, item_id) -> None:  # type: ignore[no-untyped-def]
    """One item as JSON, with its history."""
    settings = settings_from(config_file, db=db)
    with opened_store(settings) as store, store.reading() as conn:
        item = queue.get_item(conn, item_id)
        if item is None:
            raise click.UsageError(f"review item {item_id} does not exist")
        events = [event_json(e) for e in queue.events_of(conn, item_id)]
    click.echo(json.dumps({**item_json(item), "events": events}, indent=2, ensure_ascii=False))


@review.command("triage")
@item_argument
@click.argument("state", type=click.Choice([*map(str, TRIAGE_STATES), "open"]))
@click.option("--duplicate-of", type=int, help="With duplicate: the item it repeats.")
@click.option("--note", help="Why; for needs_info, what is missing.")
@by_option
@store_options
def triage_command(config_file, db, item_id, state, duplicate_of, note, by) -> None:  # type: ignore[no-untyped-def]
    """Real failure, not a failure, duplicate, needs more info (or back to open)."""
    settings = settings_from(config_file, db=db)
    now = datetime.now(UTC)
    item = _write(
        settings,
        lambda conn: triage(
            conn, item_id, ReviewState(state), by, now, duplicate_of=duplicate_of, note=note
        ),
    )
    click.echo(f"item {item.item_id}: {item.state}")


@review.command("score")
@item_argument
@click.argument("value", type=float)
@click.option("--rubric", help="Default: the rubric the judge scored.")
@click.option("--comment")
@by_option
@store_options
def score_command(config_file, db, item_id, value, rubric, comment, by) -> None:  # type: ignore[no-untyped-def]
    """A human score on the judge's rubric (stored as a human score)."""
    settings = settings_from(config_file, db=db)
    scales = rubric_scales(rubrics_from_config(settings.judge))
    now = datetime.now(UTC)
    item = _write(
        settings,
        lambda conn: give_score(
            conn, item_id, value, by, now, rubric=rubric, scales=scales, comment=comment
        ),
    )
    click.echo(f"item {item.item_id}: human {item.rubric} = {item.human_score:g}")


@review.command("expect")
@item_argument
@click.option("--output", "expected_output", help="The reference answer.")
@click.option("--behaviour", help="The expected behaviour, in words.")
@click.option(
    "--grader",
    required=True,
    help='The grader as JSON, e.g. \'{"type": "contains", "values": ["5 days"]}\'.',
)
@click.option("--tag", "tags", multiple=True)
@by_option
@store_options
def expect(config_file, db, item_id, expected_output, behaviour, grader, tags, by) -> None:  # type: ignore[no-untyped-def]
    """Write what a good answer is and how to grade it (checked now)."""
    settings = settings_from(config_file, db=db)
    try:
        grader_spec = json.loads(grader)
    except json.JSONDecodeError as exc:
        raise click.UsageError(f"--grader is not JSON: {exc}") from None
    if not isinstance(grader_spec, dict):
        raise click.UsageError("--grader must be a JSON object")
    expected = {
        k: v
        for k, v in {"output": expected_output, "behaviour": behaviour}.items()
        if v is not None
    }
    now = datetime.now(UTC)
    item = _write(
        settings,
        lambda conn: write_expected(conn, item_id, expected, grader_spec, by, now, tags=tags),
    )
    click.echo(f"item {item.item_id}: expected written, grader {grader_spec.get('type')}")


@review.command("promote")
@item_argument
@click.option("--case-id", help="Default: review-<item id>.")
@by_option
@store_options
def promote_command(config_file, db, item_id, case_id, by) -> None:  # type: ignore[no-untyped-def]
    """Make the frozen regression case from a triaged real failure; prints its line."""
    settings = settings_from(config_file, db=db)
    now = datetime.now(UTC)
    _, case = _write(settings, lambda conn: promote(conn, item_id, by, now, case_id=case_id))
    click.echo(f"promoted item {item_id} to frozen regression case {case.id} ({case.hash})")
    click.echo(case_line(case).decode(), nl=False)


@review.command("import-candidates")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@project_option
@by_option
@store_options
def import_candidates_command(config_file, db, path, project, by) -> None:  # type: ignore[no-untyped-def]
    """Promote the completed lines of a candidates file (all or none); lines still
    without a grader are skipped and listed."""
    settings = settings_from(config_file, db=db)
    name = project or settings.default_project
    now = datetime.now(UTC)

    def work(conn: sa.Connection) -> Any:
        with open(path, "rb") as handle:
            parsed = parse_candidates(handle, path)
        return import_candidates(conn, name, parsed, by, now)

    done = _write(settings, work)
    for skipped in done.skipped:
        click.echo(f"skipped {skipped}", err=True)
    click.echo(f"promoted {len(done.promoted)}: {', '.join(done.promoted) or '-'}")


@review.command("collect")
@store_options
def collect_command(config_file, db) -> None:  # type: ignore[no-untyped-def]
    """Fill the queue now from new signals and scores (the monitor does it every tick)."""
    settings = settings_from(config_file, db=db)
    with opened_store(settings) as store:
        done = ReviewIntake(store, settings).run(datetime.now(UTC))
    click.echo(
        f"{done.new_items} new items, {done.updated_items} with new reasons, "
        f"{done.groups} new failure patterns"
    )
