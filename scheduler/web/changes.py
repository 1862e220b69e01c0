"""Hand changes: move a visit to another day, time or worker, with the checker's verdict first.

Rule: `service.move_visit` judges and saves; the verdict is worked out again on Save (never
trusted from the form), and a move that breaks a hard rule is refused with the checker's
reason, nothing written. A moved visit is marked pinned; pins can be undone. Re-plans keep
pins whenever the visit's workers can still make it (the words on the pages say so).
"""

from __future__ import annotations

from datetime import date, time
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from starlette.datastructures import FormData, QueryParams
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from scheduler import service
from scheduler.accounts import User
from scheduler.check import Violation
from scheduler.domain import BusyTime, Visit
from scheduler.errors import ChangedError, InputError
from scheduler.moves import MoveVerdict, crew_after, of_a_move
from scheduler.web.board import DayError, monday_of, read_day
from scheduler.web.context import (
    CalendarUnavailableError,
    Desk,
    ForbiddenError,
    can_change,
    desk_of,
    render_team,
    visit_access,
    with_form,
)
from scheduler.web.refusals import FORM, Field, field_messages
from scheduler.web.snapshot import Snapshot, case_refs

GRAIN_MIN = 15
FIELDS = {"--to": Field("day", "Day"), "--worker": Field("worker", "Worker")}
"""`service.move_visit`'s options as the move form's fields."""


def _movable(request: Request) -> tuple[User, Snapshot, Visit, str]:
    user, snapshot, visit = visit_access(request, request.path_params["visit"])
    team_id = snapshot.team_of(visit)
    if not can_change(user) or team_id is None or not user.sees_team(team_id):
        raise ForbiddenError
    return user, snapshot, visit, team_id


def _workers(snapshot: Snapshot, user: User, team_id: str) -> list[tuple[str, str]]:
    """Workers the user may give the visit to: those of the visit's team."""
    return sorted(
        ((w.id, w.name) for w in snapshot.scenario.workers if w.team_id == team_id),
        key=lambda p: p[1],
    )


def move_page(
    request: Request,
    verdict: MoveVerdict | None = None,
    problem: str | None = None,
    status: int = 200,
    chosen: tuple[date, time, str] | None = None,
    errors: dict[str, str] | None = None,
    note: str = "",
) -> Response:
    """`/visits/{visit}/move`: choose a day, time and worker; see the verdict; save.
    `errors` are messages by form field (`refusals.field_messages`)."""
    user, snapshot, visit, team_id = _movable(request)
    tz = ZoneInfo(snapshot.scenario.authority.timezone)
    local = visit.start.astimezone(tz)
    day, at, worker = chosen or (local.date(), local.time(), visit.worker_id)
    return render_team(
        request,
        snapshot,
        team_id,
        "move.html",
        "week",
        status,
        visit=visit,
        cases=case_refs(snapshot, visit.child_ids),
        workers=_workers(snapshot, user, team_id),
        day=day,
        at=f"{at:%H:%M}",
        worker=worker,
        verdict=verdict,
        was=version_of(visit),
        hard=[verdict_words(snapshot, v) for v in verdict.problems] if verdict else [],
        warnings=[verdict_words(snapshot, v) for v in verdict.warnings] if verdict else [],
        problem=problem or (errors or {}).get(FORM),
        errors=errors or {},
        tz=str(tz),
        week=monday_of(visit.day),
        note=note,
    )


def version_of(visit: Visit) -> str:
    """What the move form was opened on (its start, workers and pin), sent back with it so
    that a save made on a page opened before someone else changed the visit is refused."""
    return "|".join(
        (visit.start.isoformat(), visit.worker_id, visit.second_worker_id or "", str(visit.pinned))
    )


def changed_meanwhile(snapshot: Snapshot, visit: Visit) -> str:
    """Why a save from a page opened before the visit last changed is refused, in words."""
    local = visit.start.astimezone(snapshot.tz)
    who = snapshot.worker_name(visit.worker_id, visit.worker_id)
    return (
        "This visit was changed since this page was opened (someone else moved it or a re-plan "
        f"was applied): it is now {local:%a} {local.day} {local:%b} at {local:%H:%M} with {who}. "
        "Nothing was saved: check the move again."
    )


def verdict_words(snapshot: Snapshot, violation: Violation) -> str:
    """One point of the checker's verdict on a move in a manager's words (`of_a_move`)."""
    return of_a_move(snapshot.readable(violation.message))


def _chosen(form: FormData | QueryParams) -> tuple[date, time, str] | str:
    """The day, time and worker from the form, or what is wrong with them."""
    try:
        day = read_day(str(form.get("day", "")), "Day")
    except DayError as exc:
        return str(exc)
    try:
        at = time.fromisoformat(str(form.get("time", "")))
    except ValueError:
        return "Give the time as hours and minutes, for example 14:30."
    if at.minute % GRAIN_MIN or at.second:
        return f"Visits start on the quarter hour (every {GRAIN_MIN} minutes)."
    return day, at, str(form.get("worker", ""))


def check_page(request: Request) -> Response:
    """`/visits/{visit}/move`, and with `?day=&time=&worker=` the checker's verdict on that
    move (read only: a page of its own, so the browser's Back and reload show it again)."""
    if "day" not in request.query_params:
        return move_page(request)
    return move(request, request.query_params)


def move(request: Request, form: FormData | QueryParams) -> Response:
    """Check a move (action=check: sent on to `check_page`) or save it (action=save, checked
    again first)."""
    if request.method == "POST" and form.get("action") != "save":
        query = urlencode({k: str(form.get(k, "")) for k in ("day", "time", "worker")})
        return RedirectResponse(f"/visits/{request.path_params['visit']}/move?{query}", 303)
    user, snapshot, visit, team_id = _movable(request)
    chosen = _chosen(form)
    if isinstance(chosen, str):
        return move_page(request, problem=chosen, status=400)
    day, at, worker_id = chosen
    if worker_id not in dict(_workers(snapshot, user, team_id)):
        return move_page(request, problem="Choose one of the team's workers.", status=400)
    seen = form.get("was")
    if form.get("action") == "save" and seen is not None and seen != version_of(visit):
        return move_page(request, problem=changed_meanwhile(snapshot, visit), status=409)
    desk = desk_of(request)
    busy, note = _commitments(desk, day, crew_after(visit, worker_id))
    try:
        verdict = service.move_visit(
            desk.store,
            visit.id,
            day=day,
            at=at,
            worker=worker_id,
            today=desk.today(snapshot),
            save=form.get("action") == "save",
            by=user.name,
            now=desk.now(),
            busy=busy,
        )
    except InputError as exc:
        errors = field_messages(exc, FIELDS)
        return move_page(request, status=400, chosen=chosen, errors=errors)
    except ChangedError as exc:
        return move_page(request, problem=str(exc), status=409)
    if not verdict.saved:
        return move_page(
            request,
            verdict=verdict,
            chosen=chosen,
            status=409 if form.get("action") == "save" else 200,
            note=note,
        )
    return RedirectResponse(f"/teams/{team_id}/week?start={monday_of(day).isoformat()}", 303)


def _commitments(desk: Desk, day: date, workers: set[str]) -> tuple[tuple[BusyTime, ...], str]:
    """The workers' commitments that day in their own calendars (when calendars are
    configured), and a word for the page on what the check read."""
    if desk.services.busy is None:
        return (), ""
    try:
        busy = desk.services.busy(desk.store, day, day, workers)
    except CalendarUnavailableError as exc:
        return (), (
            f"Workers' calendars could not be read ({exc}), so this check does not include "
            "their own commitments."
        )
    return busy, "Checked against the workers' own calendars too."


def pin(request: Request, form: FormData) -> Response:
    """Pin the visit (re-plans keep it where it is) or, with `pinned=no`, unpin it."""
    user, snapshot, visit, _team_id = _movable(request)
    desk = desk_of(request)
    pinned = form.get("pinned") != "no"
    try:
        service.set_pinned(
            desk.store, visit.id, pinned, today=desk.today(snapshot), by=user.name, now=desk.now()
        )
    except InputError as exc:
        return move_page(request, status=400, errors=field_messages(exc, FIELDS))
    except ChangedError as exc:
        return move_page(request, problem=str(exc), status=409)
    return RedirectResponse(f"/visits/{visit.id}", 303)


routes = [
    Route("/visits/{visit}/move", check_page, methods=["GET"]),
    Route("/visits/{visit}/move", with_form(move), methods=["POST"]),
    Route("/visits/{visit}/pin", with_form(pin), methods=["POST"]),
]
