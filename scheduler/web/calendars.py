"""Publishing to workers' calendars from the desk, and settling what a worker changed or
deleted on their own calendar (a conflict), one visit or one worker at a time.

Rule: publishing and settling go through the composition root's publisher (the command
line's `publish_plan` with its `Resolution`); every POST answers with a redirect to the page
of its result (POST, then GET), so Back and reload post nothing. A manager settles only
conflicts on the calendars of their own team's workers.
"""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass
from typing import Literal

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from scheduler.domain import Visit
from scheduler.web.context import (
    CalendarEvent,
    CalendarUnavailableError,
    ForbiddenError,
    PublishCounts,
    Published,
    Settle,
    audit,
    desk_of,
    render_team,
    team_access,
    with_form,
)
from scheduler.web.snapshot import Snapshot, case_refs

NOT_CONFIGURED = (
    "Calendars are not configured on this server (VISITPLAN_CALDAV_URL). Workers who subscribe "
    "to their feed see the new plan at their calendar's next refresh."
)
FORGOTTEN = (
    "This result is no longer kept (the desk was restarted, or many publishes were made "
    "since). Publish again to see the workers' calendars as they are now."
)
ACTIONS: dict[str, Literal["overwrite", "accept"]] = {
    "overwrite": "overwrite",
    "accept": "accept",
}


@dataclass(frozen=True)
class EventLine:
    """A conflict as the manager reads it: whose calendar, which visit, what they did."""

    uid: str
    worker_id: str
    worker: str
    cases: str
    when: str
    visit_id: str | None
    """Set when the visit is in the current plan (its page can be opened)."""
    what: str
    cancelled: bool


def _visit(snapshot: Snapshot, request: Request, uid: str, visit_id: str | None) -> Visit | None:
    """The visit an event shows: from the plan, or as it was last published (the ledger)."""
    visit = snapshot.visits.get(visit_id or "")
    if visit is None:
        entry = desk_of(request).store.ledger_get(uid)
        visit = entry.visit if entry is not None else None
    return visit


def event_line(snapshot: Snapshot, request: Request, event: CalendarEvent) -> EventLine:
    """The words for one event, as the desk shows visits elsewhere (case references, day and
    time, the worker's name)."""
    visit = _visit(snapshot, request, event.uid, event.visit_id)
    if visit is None:
        cases, when = "a visit no longer in the plan", ""
    else:
        start = visit.start.astimezone(snapshot.tz)
        cases, when = (
            case_refs(snapshot, visit.child_ids),
            f"{start:%a} {start.day} {start:%b %H:%M}",
        )
    if event.change == "deleted":
        what = "Deleted it from their calendar"
    elif event.cancelled:
        what = "Changed it on their calendar after the plan cancelled it"
    else:
        what = "Changed it on their calendar"
    return EventLine(
        uid=event.uid,
        worker_id=event.worker_id,
        worker=snapshot.worker_name(event.worker_id, event.worker_id),
        cases=cases,
        when=when,
        visit_id=event.visit_id if event.visit_id in snapshot.visits else None,
        what=what,
        cancelled=event.cancelled,
    )


def _visit_words(line: EventLine) -> str:
    return f"{line.cases}, {line.when}" if line.when else line.cases


def settled_words(line: EventLine, action: str, event: CalendarEvent) -> str:
    """What settling one conflict did, in a sentence."""
    visit = _visit_words(line)
    if action == "overwrite":
        if event.cancelled:
            return f"The cancelled visit {visit} is taken off {line.worker}'s calendar, as planned."
        return f"The plan's visit {visit} is back on {line.worker}'s calendar."
    if event.change == "deleted":
        return (
            f"{line.worker}'s deletion of the visit {visit} is kept: it stays off their "
            "calendar until the plan changes that visit."
        )
    return (
        f"{line.worker}'s change to the visit {visit} is kept: it stays as they made it until "
        "the plan changes that visit."
    )


def _notice(
    request: Request, snapshot: Snapshot, settle: Settle, counts: PublishCounts
) -> tuple[str, bool]:
    """What came of settling (`problem` True when nothing was settled)."""
    left = [e for e in counts.conflict_events if e.worker_id == settle.worker_id]
    done = [
        (e, action)
        for action, events in (("overwrite", counts.overwritten), ("accept", counts.accepted))
        for e in events
        if e.worker_id == settle.worker_id and settle.uid in (None, e.uid)
    ]
    said = [settled_words(event_line(snapshot, request, e), a, e) for e, a in done]
    name = snapshot.worker_name(settle.worker_id, settle.worker_id)
    if settle.uid is not None:
        if said:
            return said[0], False
        again_one = next((e for e in left if e.uid == settle.uid), None)
        if again_one is not None:
            visit = _visit_words(event_line(snapshot, request, again_one))
            return (
                f"The visit {visit} changed again on {name}'s calendar while it was being "
                f"settled, so it was left as it is. Check it with {name}, then choose again "
                "below.",
                True,
            )
        return (
            f"Nothing was settled: that visit is no longer changed or deleted on {name}'s "
            "calendar (it may have been settled already).",
            True,
        )
    again = len(left)
    if not said:
        if again:
            return (
                f"Nothing was settled: {name}'s visits changed again while they were being "
                "settled. Check them with them, then choose again below.",
                True,
            )
        return f"Nothing was settled: no visit is changed or deleted on {name}'s calendar.", True
    tail = f" {again} changed again meanwhile and are listed below." if again else ""
    return " ".join(said) + tail, False


def _keep(request: Request, team_id: str, result: Published) -> Response:
    desk_of(request).published.keep(result)
    return RedirectResponse(f"/teams/{team_id}/calendars/{result.id}", 303)


def _failed(
    request: Request, snapshot: Snapshot, team_id: str, error: str, status: int
) -> Response:
    return render_team(
        request, snapshot, team_id, "published.html", "absences", status, error=error
    )


def publish(request: Request, _form: FormData) -> Response:
    """Publish the current plan to workers' calendars (when CalDAV is configured), then show
    what it did."""
    team_id = request.path_params["team"]
    user, snapshot = team_access(request, team_id)
    desk = desk_of(request)
    if desk.services.publish is None:
        return _failed(request, snapshot, team_id, NOT_CONFIGURED, 400)
    try:
        counts = desk.services.publish(desk.store, desk.calendar_now())
    except CalendarUnavailableError as exc:
        return _failed(request, snapshot, team_id, str(exc), 502)
    audit(user.name, "published calendars", team_id)
    result = Published(secrets.token_urlsafe(12), user.name, team_id, counts)
    return _keep(request, team_id, result)


def settle(request: Request, form: FormData) -> Response:
    """Settle one conflict (`uid` on `worker`'s calendar) or every conflict on one worker's
    calendar: `overwrite` puts the plan's visit back, `accept` keeps the worker's change.
    Only for the team's own workers."""
    team_id = request.path_params["team"]
    user, snapshot = team_access(request, team_id)
    desk = desk_of(request)
    worker = snapshot.everyone.get(str(form.get("worker", "")))
    if worker is None or worker.team_id != team_id:
        raise ForbiddenError
    action = ACTIONS.get(str(form.get("action", "")))
    if action is None:
        return _failed(
            request,
            snapshot,
            team_id,
            "Choose to put the plan's visit back or to keep the worker's change.",
            400,
        )
    if desk.services.publish is None:
        return _failed(request, snapshot, team_id, NOT_CONFIGURED, 400)
    uid = str(form.get("uid", "")).strip() or None
    chosen = Settle(action, worker.id, uid)
    try:
        counts = desk.services.publish(desk.store, desk.calendar_now(), settle=chosen)
    except CalendarUnavailableError as exc:
        return _failed(
            request, snapshot, team_id, f"That was not settled: {exc}. Try again in a moment.", 502
        )
    audit(user.name, f"settled calendar conflicts ({action})", uid or worker.id)
    notice, problem = _notice(request, snapshot, chosen, counts)
    result = Published(secrets.token_urlsafe(12), user.name, team_id, counts, notice, problem)
    return _keep(request, team_id, result)


def result_page(request: Request) -> Response:
    """`/teams/{team}/calendars/{result}`: what a publish from the desk did, and each visit a
    worker of the team changed or deleted on their calendar, with the buttons that settle it."""
    team_id = request.path_params["team"]
    user, snapshot = team_access(request, team_id)
    desk = desk_of(request)
    result = desk.published.get(request.path_params["result"], user.name)
    if result is None or result.team_id != team_id:
        return render_team(
            request,
            snapshot,
            team_id,
            "published.html",
            "absences",
            404,
            gone=FORGOTTEN,
            can_publish=desk.services.publish is not None,
        )
    lines = [event_line(snapshot, request, e) for e in result.counts.conflict_events]
    ours = [
        line
        for line in lines
        if getattr(snapshot.everyone.get(line.worker_id), "team_id", None) == team_id
    ]
    per_worker = Counter(line.worker_id for line in ours)
    several = [(w, snapshot.worker_name(w, w), n) for w, n in per_worker.items() if n > 1]
    return render_team(
        request,
        snapshot,
        team_id,
        "published.html",
        "absences",
        counts=result.counts,
        notice=result.notice,
        problem=result.problem,
        conflicts=ours,
        several=several,
        others=len(lines) - len(ours),
        can_publish=True,
    )


routes = [
    Route("/teams/{team}/publish", with_form(publish), methods=["POST"]),
    Route("/teams/{team}/calendars/settle", with_form(settle), methods=["POST"]),
    Route("/teams/{team}/calendars/{result}", result_page, methods=["GET"]),
]
