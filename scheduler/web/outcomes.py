"""Outcomes: a day's visits for a team (or one worker) with what happened at each.

Rule: an outcome is recorded from the visit's day onwards, once, and corrected after that
(`record_outcome(..., amend=True)`: the earlier version stays in the history); the service
decides what may be recorded and its refusals are shown in the form's words; a failed or
not-seen visit shows the child's retry deadline and any escalation at once.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from scheduler import service
from scheduler.domain import Visit
from scheduler.errors import InputError
from scheduler.web.board import CATEGORY_LABEL, DayError, main_category, parse_day, read_day
from scheduler.web.context import (
    PageNotFoundError,
    desk_of,
    render_team,
    team_access,
    with_form,
)
from scheduler.web.refusals import Field, field_messages
from scheduler.web.snapshot import Snapshot, case_refs

FIELDS = {
    "--on": Field("outcome", "Date"),
    "--amend": Field("outcome", "Correction"),
    "id": Field("outcome", "Outcome"),
    "--day": Field("day", "Day"),
    "--worker": Field("worker", "Worker"),
}
"""The recording service's options as the outcome forms' fields."""
OUTCOMES = {"completed": "Completed", "failed": "Failed (no one in)", "not-seen": "Child not seen"}


def team_visits(snapshot: Snapshot, team_id: str, day: date | None, worker: str) -> list[Visit]:
    """The plan's visits on `day` (any day when None) made by the team's workers (the visits
    `record --day --team` records)."""
    out = []
    for visit in snapshot.plan.visits if snapshot.plan else ():
        if visit.status == "cancelled" or (day is not None and visit.day != day):
            continue
        lead = snapshot.workers.get(visit.worker_id)
        if lead is None or lead.team_id != team_id:
            continue
        if worker and worker not in (visit.worker_id, visit.second_worker_id):
            continue
        out.append(visit)
    return sorted(out, key=lambda v: (v.start, v.worker_id))


def outcomes_page(
    request: Request,
    follow_up: list[Any] | None = None,
    message: str | None = None,
    status: int = 200,
    on: date | None = None,
) -> Response:
    """`/teams/{team}/outcomes?day=&worker=`: record what happened, visit by visit."""
    team_id = request.path_params["team"]
    _user, snapshot = team_access(request, team_id)
    today = desk_of(request).today(snapshot)
    day_error = None
    typed = request.query_params.get("day", "").strip()
    if on is None and typed:
        try:
            on = read_day(typed, "Day")
        except DayError as exc:
            day_error, status = str(exc), 400
    day = on or today
    worker = request.query_params.get("worker", "")
    after = snapshot.visits.get(request.query_params.get("after", ""))
    if follow_up is None and after is not None and after.day == day:
        follow_up = follow_up_of(snapshot, after)
    visits = team_visits(snapshot, team_id, day, worker)
    rows: list[dict[str, Any]] = [
        {
            "visit": v,
            "state": snapshot.state(v, today),
            "cases": case_refs(snapshot, v.child_ids),
            "category": CATEGORY_LABEL[main_category(snapshot, v)],
            "worker": snapshot.workers[v.worker_id].name if v.worker_id in snapshot.workers else "",
            "recorded": next(iter(snapshot.records_by_visit.get(v.id, ())), None),
        }
        for v in visits
    ]
    awaiting_days = Counter(
        v.day
        for v in team_visits(snapshot, team_id, None, worker)
        if snapshot.state(v, today) == "awaiting outcome"
    )
    return render_team(
        request,
        snapshot,
        team_id,
        "outcomes.html",
        "outcomes",
        status,
        day=day,
        day_error=day_error,
        today=today,
        worker=worker,
        workers=sorted(
            (w for w in snapshot.scenario.workers if w.team_id == team_id), key=lambda w: w.name
        ),
        rows=rows,
        rest=[r["visit"].id for r in rows if recordable(snapshot, r["visit"], today)],
        awaiting_days=sorted(awaiting_days.items()),
        outcomes=OUTCOMES,
        follow_up=follow_up or [],
        message=message,
        tz=snapshot.scenario.authority.timezone,
    )


def _team_visit(snapshot: Snapshot, team_id: str, visit_id: str) -> Visit:
    visit = snapshot.visits.get(visit_id)
    if visit is None or visit not in team_visits(snapshot, team_id, visit.day, ""):
        raise PageNotFoundError
    return visit


def record_one(request: Request, form: FormData) -> Response:
    """Record one visit's outcome; after a failure, show the retry deadline and escalation."""
    team_id = request.path_params["team"]
    user, snapshot = team_access(request, team_id)
    visit = _team_visit(snapshot, team_id, request.path_params["visit"])
    today = desk_of(request).today(snapshot)
    outcome = str(form.get("outcome", ""))
    if outcome not in OUTCOMES:
        message = "Choose what happened at the visit."
        return outcomes_page(request, message=message, status=400, on=visit.day)
    desk = desk_of(request)
    try:
        service.record_outcome(
            desk.store,
            visit.id,
            outcome,  # type: ignore[arg-type]
            # The boxes describe a visit made: ignored for a failed or not-seen one (a
            # correction's form keeps them ticked from the outcome it corrects).
            seen_alone=outcome == "completed" and form.get("seen_alone") == "on",
            bedroom_seen=outcome == "completed" and form.get("bedroom_seen") == "on",
            amend=form.get("amend") == "yes",
            today=today,
            by=user.name,
            now=desk.now(),
        )
    except InputError as exc:
        message = " ".join(field_messages(exc, FIELDS).values())
        return outcomes_page(request, message=message, status=400, on=visit.day)
    # A page of its own (the browser's Back and reload show it again, posting nothing).
    query = {"day": visit.day.isoformat()}
    if outcome != "completed":
        query["after"] = visit.id
    return RedirectResponse(f"/teams/{team_id}/outcomes?{urlencode(query)}", 303)


def follow_up_of(snapshot: Snapshot, visit: Visit) -> list[dict[str, Any]]:
    """After a visit failed or a child was not seen: each child's retry deadline and any
    escalation, as of the visit's day (nothing when no child of it is failed or not seen)."""
    records = snapshot.records_by_visit.get(visit.id, ())
    missed = {r.child_id for r in records if r.outcome in ("failed", "not-seen")}
    if not missed:
        return []
    rows = service.children_due(snapshot.scenario, sorted(missed), visit.day)
    return [
        {
            "case": row.case_ref,
            "retries": [r for r in row.requirements if r.kind == "retry"],
            "escalations": row.escalations,
        }
        for row in rows
    ]


def recordable(snapshot: Snapshot, visit: Visit, today: date) -> bool:
    """True when the visit's day has come and nothing is recorded for it yet."""
    return visit.day <= today and not snapshot.records_by_visit.get(visit.id)


def record_rest(request: Request, form: FormData) -> Response:
    """Record every visit of the day with no outcome yet as made as planned
    (`record --day DATE --completed --team T [--worker W]`)."""
    team_id = request.path_params["team"]
    user, snapshot = team_access(request, team_id)
    desk = desk_of(request)
    today = desk.today(snapshot)
    day = parse_day(str(form.get("day", ""))) or today
    worker = str(form.get("worker", "")) or None
    try:
        service.record_day(
            desk.store, day, today=today, team=team_id, worker=worker, by=user.name, now=desk.now()
        )
    except InputError as exc:
        message = " ".join(field_messages(exc, FIELDS).values())
        return outcomes_page(request, message=message, status=400, on=day)
    query = urlencode({"day": day.isoformat(), **({"worker": worker} if worker else {})})
    return RedirectResponse(f"/teams/{team_id}/outcomes?{query}", 303)


routes = [
    Route("/teams/{team}/outcomes", outcomes_page, methods=["GET"]),
    Route("/teams/{team}/outcomes/rest", with_form(record_rest), methods=["POST"]),
    Route("/teams/{team}/outcomes/{visit}", with_form(record_one), methods=["POST"]),
]
