"""Adding the interactions ticked on the interactions page to the golden set, with one
expectation and grader for all of them: `POST /ui/interactions/golden`.

Each goes through `flywheel.manual.add_to_golden_set`, as from its own page, in its
own transaction: one that is refused (already a case, another project, a grader that
does not fit its item) rolls back alone, and the page that answers lists what was
added and what was refused, and why. Admin only, with the CSRF token and same-origin
check of every form that changes state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from liveeval.dashboard.pages import (
    PAGE_SIZE,
    _frame,
    golden_scrubber,
    grader_from_form,
    remember_reviewer,
)
from liveeval.dashboard.render import page
from liveeval.dashboard.security import check_csrf, now_of
from liveeval.flywheel.manual import add_to_golden_set
from liveeval.flywheel.review import ReviewError
from liveeval.flywheel.snapshot import snapshot
from liveeval.store.interactions import get_interaction

router = APIRouter(prefix="/ui", include_in_schema=False)


@dataclass(frozen=True)
class Outcome:
    """One ticked interaction: the case it became, or why it did not."""

    interaction_id: int
    case_id: str | None = None
    refused: str | None = None


@router.post("/interactions/golden")
async def add_selected_to_golden_set(
    request: Request,
    grader_type: Annotated[str, Form(max_length=20)],
    interaction: Annotated[list[int], Form(max_length=PAGE_SIZE)],
    grader_value: Annotated[str, Form(max_length=10_000)] = "",
    behaviour: Annotated[str, Form(max_length=20_000)] = "",
    output: Annotated[str, Form(max_length=100_000)] = "",
    threshold: Annotated[str, Form(max_length=20)] = "",
    tags: Annotated[str, Form(max_length=1_000)] = "",
    project: Annotated[str | None, Form(max_length=200)] = None,
    csrf: Annotated[str | None, Form()] = None,
    reviewer: Annotated[str | None, Form(max_length=200)] = None,
) -> Response:
    """Promote every ticked interaction of `project` to a frozen regression case."""
    viewer, name, projects = await _frame(request, project)
    check_csrf(request, csrf)
    if not viewer.can_change:
        raise HTTPException(403, f"a {viewer.role.value} key cannot add to the golden set")
    at = now_of(request)
    expected = {k: v for k, v in {"behaviour": behaviour, "output": output}.items() if v.strip()}
    tag_list = [t.strip() for t in tags.split(",") if t.strip()]
    store = request.app.state.store
    actor = viewer.actor(reviewer)

    def add(interaction_id: int) -> Outcome:
        with store.reading() as conn:
            found = get_interaction(conn, interaction_id)
        if found is None or found.project != name:
            return Outcome(interaction_id, refused=f"no interaction {interaction_id} in {name}")
        try:
            grader = grader_from_form(grader_type, grader_value, threshold)
            shot = snapshot(found, golden_scrubber(request))
            with store.writing() as conn:
                case = add_to_golden_set(
                    conn, found, shot, expected, grader, actor, at, tags=tag_list
                )
        except (ReviewError, ValueError) as exc:
            return Outcome(interaction_id, refused=str(exc)[:300])
        return Outcome(interaction_id, case_id=case.id)

    def run() -> list[Outcome]:
        return [add(i) for i in dict.fromkeys(interaction)]

    outcomes = await run_in_threadpool(run)
    response = page(
        request,
        "golden_selection.html",
        viewer,
        name,
        projects,
        added=[o for o in outcomes if o.case_id is not None],
        refused=[o for o in outcomes if o.refused is not None],
    )
    return remember_reviewer(response, reviewer)
