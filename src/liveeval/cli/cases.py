"""`liveeval cases list|show|export|import|retire|candidates`: the golden set from the
command line (on the store directly, like `alerts`)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from liveeval.cli.options import opened_store, settings_from, store_options
from liveeval.cli.table import render_table
from liveeval.flywheel.candidates import candidate_line
from liveeval.flywheel.case_file import CaseFileError, case_line, read_cases
from liveeval.flywheel.golden import (
    CaseConflictError,
    UnknownCaseError,
    apply_import,
    plan_import,
    retire_case,
)
from liveeval.model.case import FrozenCaseError, snapshot_hash
from liveeval.model.review import ReviewState
from liveeval.store import cases as stored
from liveeval.store import review as queue

project_option = click.option("--project", help="Project (default: default_project).")


@click.group()
def cases() -> None:
    """The golden set: versioned cases, frozen regression cases, JSONL in and out."""


@cases.command("list")
@project_option
@click.option("--tag", "tags", multiple=True, help="Only cases with this tag (repeatable).")
@click.option("--include-retired", is_flag=True)
@store_options
def list_command(config_file, db, project, tags, include_retired) -> None:  # type: ignore[no-untyped-def]
    """The newest version of each case, and the snapshot hash of the active ones."""
    settings = settings_from(config_file, db=db)
    name = project or settings.default_project
    with opened_store(settings) as store, store.reading() as conn:
        found = stored.latest_cases(conn, name, include_retired=include_retired, tags=tags)
    if not found:
        click.echo(f"no cases in project {name}")
        return
    rows = [
        [
            c.id,
            c.version,
            c.grader.type,
            "yes" if c.regression else "",
            f"retired: {c.retired.reason}" if c.retired else "active",
            ", ".join(c.tags),
            c.author,
        ]
        for c in found
    ]
    click.echo(render_table(["id", "v", "grader", "regression", "state", "tags", "author"], rows))
    click.echo(f"{sum(c.active for c in found)} active; snapshot {snapshot_hash(found)}")


@cases.command("show")
@click.argument("case_id")
@project_option
@store_options
def show(config_file, db, case_id, project) -> None:  # type: ignore[no-untyped-def]
    """Every version of one case, oldest first, as JSON lines."""
    settings = settings_from(config_file, db=db)
    with opened_store(settings) as store, store.reading() as conn:
        versions = stored.case_versions(conn, project or settings.default_project, case_id)
    if not versions:
        raise click.UsageError(f"no case {case_id}")
    for case in versions:
        click.echo(case_line(case).decode(), nl=False)


@cases.command("export")
@click.argument("path", type=click.Path(dir_okay=False, allow_dash=True), default="-")
@project_option
@click.option("--tag", "tags", multiple=True, help="Only cases with this tag (repeatable).")
@click.option("--include-retired", is_flag=True, help="Retired cases too (marked retired).")
@click.option("--all-versions", is_flag=True, help="Every version, not only the newest.")
@store_options
def export(config_file, db, path, project, tags, include_retired, all_versions) -> None:  # type: ignore[no-untyped-def]
    """Write the golden set as JSONL (default: stdout); the snapshot hash goes to stderr."""
    settings = settings_from(config_file, db=db)
    name = project or settings.default_project
    with opened_store(settings) as store, store.reading() as conn:
        latest = stored.latest_cases(conn, name, include_retired=include_retired, tags=tags)
        found = stored.all_versions(conn, name) if all_versions else latest
    body = b"".join(case_line(c) for c in found)
    if path == "-":
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
    else:
        Path(path).write_bytes(body)
    click.echo(f"{len(found)} cases; snapshot {snapshot_hash(latest)}", err=True)


@cases.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@project_option
@click.option("--dry-run", is_flag=True, help="Say what would change; write nothing.")
@store_options
def import_command(config_file, db, path, project, dry_run) -> None:  # type: ignore[no-untyped-def]
    """Import a JSONL file of cases: every line or none. Candidate files (lines with
    `review_item`) are imported with `liveeval review import-candidates`."""
    settings = settings_from(config_file, db=db)
    name = project or settings.default_project
    try:
        incoming = read_cases(path)
        with opened_store(settings, create=True) as store, store.writing() as conn:
            plan = plan_import(conn, name, incoming)
            if not dry_run:
                apply_import(conn, name, plan)
            latest = stored.latest_cases(conn, name)
    except (CaseFileError, CaseConflictError, FrozenCaseError) as exc:
        raise click.ClickException(str(exc)) from None
    outcome = ", ".join(f"{n} {what}" for what, n in sorted(plan.outcome.items())) or "nothing"
    prefix = "would import" if dry_run else "imported"
    click.echo(f"{prefix}: {outcome}; snapshot {snapshot_hash(latest)}")


@cases.command("retire")
@click.argument("case_id")
@click.option("--reason", required=True, help="Why it no longer applies (kept in history).")
@click.option("--by", "by", required=True, help="Who retires it.")
@project_option
@store_options
def retire(config_file, db, case_id, reason, by, project) -> None:  # type: ignore[no-untyped-def]
    """Retire a case: it stays in history and out of future runs."""
    settings = settings_from(config_file, db=db)
    try:
        with opened_store(settings) as store, store.writing() as conn:
            case = retire_case(
                conn, project or settings.default_project, case_id, by, reason, datetime.now(UTC)
            )
    except UnknownCaseError:
        raise click.UsageError(f"no case {case_id}") from None
    except CaseConflictError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"retired {case.id} v{case.version}: {reason}")


@cases.command("candidates")
@click.argument("path", type=click.Path(dir_okay=False, allow_dash=True), default="-")
@project_option
@click.option(
    "--state",
    "states",
    multiple=True,
    type=click.Choice([str(s) for s in ReviewState if s != ReviewState.PROMOTED]),
    help="Review items in this state (default: real_failure; repeatable).",
)
@click.option("--limit", type=click.IntRange(1, 100_000), default=1000, show_default=True)
@store_options
def candidates(config_file, db, path, project, states, limit) -> None:  # type: ignore[no-untyped-def]
    """Write review items as candidate cases (JSONL) to complete by hand, then
    `liveeval review import-candidates`."""
    settings = settings_from(config_file, db=db)
    wanted = tuple(ReviewState(s) for s in states) or (ReviewState.REAL_FAILURE,)
    where = queue.ItemFilter(project or settings.default_project, wanted, limit=limit)
    with opened_store(settings) as store, store.reading() as conn:
        found = queue.list_items(conn, where)
    body = b"".join(candidate_line(item) for item in found)
    if path == "-":
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
    else:
        Path(path).write_bytes(body)
    click.echo(f"{len(found)} candidates", err=True)
