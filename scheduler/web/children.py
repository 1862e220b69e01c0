"""A child's page: their record's history (every edit, with who and when, and every version of
every visit record), and the manager's corrections: edit the child's facts, close the case.

Rule: `caseload.child_history`, `caseload.edit_child` and `caseload.close_child` do the work
and the checks; this module checks only who may (a manager of the child's team, or an admin),
passes the signed-in user as the audit's `by`, and shows refusals in the form's words.
Children's names appear only where the authority opts in; sensitive fields' values never.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from scheduler import service
from scheduler.accounts import User
from scheduler.errors import InputError, NotFoundError
from scheduler.reasons import on_day
from scheduler.store import AuditEntry, ChildRow
from scheduler.web.board import CATEGORY_LABEL, DayError, parse_day, read_day
from scheduler.web.context import (
    ForbiddenError,
    PageNotFoundError,
    can_change,
    desk_of,
    render,
    signed_in,
    with_form,
)
from scheduler.web.refusals import FORM, Field, field_messages
from scheduler.web.snapshot import Snapshot

FIELDS = {
    "--category": Field("category", "Category"),
    "--placement-type": Field("placement_type", "Placement type"),
    "--worker": Field("worker", "Allocated worker"),
    "--allocated-worker": Field("worker", "Allocated worker"),
    "--case-ref": Field("case_ref", "Case reference"),
    "--reason": Field("reason", "Reason"),
}
"""`caseload.edit_child`'s options as the edit form's fields."""
CLOSE_FIELDS = {
    "--on": Field("on", "Closing date"),
    "--reason": Field("close_reason", "Reason"),
}
"""`caseload.close_child`'s options as the close form's fields."""
PLACEMENTS = {
    "foster": "Foster care",
    "long-term-foster": "Long-term foster care",
    "residential": "Residential home",
    "adoption": "Placed for adoption",
    "care-proceedings": "In care proceedings",
    "placement-with-parents-ico": "Placed with parents (interim care order)",
    "placement-with-parents-care-order": "Placed with parents (care order)",
    "connected-person-temporary": "Connected person (temporary approval)",
    "connected-person-expired": "Connected person (approval expired)",
    "unregulated-fostering": "Unregulated fostering",
    "unregulated-residential": "Unregulated residential",
    "short-breaks": "Short breaks",
}
"""Placement types (`policies.models.PlacementType`) as a manager names them."""
FIELD_WORDS = {
    "case_ref": "case reference",
    "category": "category",
    "placement_type": "placement type",
    "allocated_worker": "allocated worker",
    "household_ids": "homes",
    "flags": "flags",
    "frequency": "plan's frequency",
    "events": "plan dates",
    "name": "name",
    "birth_date": "date of birth",
}
"""A child's fields as a manager names them."""
ACTION_WORDS = {
    "child edited": "Record edited",
    "child closed": "Case closed",
    "child added": "Child added",
    "child reopened": "Case reopened",
    "record added": "Visit recorded",
    "record amended": "Visit record corrected",
    "household added": "New home added",
}


@dataclass(frozen=True)
class Change:
    """One line of the child's history as a manager reads it."""

    at: str
    by: str
    what: str
    details: list[str]


def _child_team(snapshot: Snapshot, row: ChildRow) -> str | None:
    """The child's team: the allocated worker's, else the first home's (as `due` counts)."""
    child = row.child
    worker = snapshot.workers.get(child.allocated_worker or "")
    if worker is not None and worker.team_id:
        return worker.team_id
    home = snapshot.households.get(child.household_ids[0]) if child.household_ids else None
    return home.team_id if home else None


def child_access(request: Request, child_id: str) -> tuple[User, Snapshot, ChildRow, str | None]:
    """The user, snapshot, stored child and the child's team, when the user may open it.

    Raises:
        SignInRequiredError, ForbiddenError, PageNotFoundError.
    """
    user = signed_in(request)
    if user.role == "worker":
        raise ForbiddenError
    desk = desk_of(request)
    snapshot = desk.snapshot(request)
    row = desk.store.child_row(child_id)
    if row is None:
        raise PageNotFoundError if user.role == "admin" else ForbiddenError
    team = _child_team(snapshot, row)
    if user.role != "admin" and (team is None or not user.sees_team(team)):
        raise ForbiddenError
    return user, snapshot, row, team


def _value(snapshot: Snapshot, field: str, value: Any) -> str:
    if value is None or value == [] or value == {}:
        return "none"
    if field == "allocated_worker" and value in snapshot.everyone:
        return snapshot.everyone[value].name
    if field == "category":
        return CATEGORY_LABEL.get(value, str(value))
    if field == "placement_type":
        return PLACEMENTS.get(value, str(value))
    if field == "outcome":
        return str(value).replace("-", " ")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in value.items() if v)
    return str(value)


def _when(entry_at: Any, snapshot: Snapshot) -> str:
    if entry_at is None:
        return "when loaded"
    local = entry_at.astimezone(snapshot.tz)
    return f"{local:%d/%m/%Y %H:%M}"


def change_lines(snapshot: Snapshot, entries: tuple[AuditEntry, ...]) -> list[Change]:
    """The child's audit entries, newest first, in a manager's words (sensitive fields are
    named, never shown)."""
    out = []
    for entry in reversed(entries):
        details = []
        changed = entry.detail.get("changed")
        if isinstance(changed, dict):
            for field, values in sorted(changed.items()):
                name = FIELD_WORDS.get(field, field.replace("_", " "))
                if isinstance(values, list) and len(values) == 2:
                    before, after = (_value(snapshot, field, v) for v in values)
                    details.append(f"{name}: {before} → {after}")
                else:
                    details.append(f"{name} changed")
        for key in ("reason", "on"):
            if entry.detail.get(key):
                value = entry.detail[key]
                if key == "on":
                    day = parse_day(str(value))
                    value = f"{day:%d/%m/%Y}" if day else value
                details.append(f"{key}: {value}")
        what = ACTION_WORDS.get(entry.action, entry.action.capitalize())
        out.append(Change(_when(entry.at, snapshot), entry.by, what, details))
    return out


def child_page(
    request: Request, errors: dict[str, str] | None = None, status: int = 200
) -> Response:
    """`/children/{child}`: the child's facts, history and record versions; edit and close."""
    user, snapshot, row, team = child_access(request, request.path_params["child"])
    desk = desk_of(request)
    history = service.child_history(desk.store, row.child.id)
    child = row.child
    privacy = snapshot.scenario.authority.privacy
    versions = [
        {
            "on": v.record.on,
            "outcome": v.record.outcome.replace("-", " "),
            "version": v.version,
            "by": v.recorded_by or "",
            "at": _when(v.recorded_at, snapshot),
            "superseded": _when(v.superseded_at, snapshot) if v.superseded_at else None,
            "superseded_by": v.superseded_by,
            "worker": snapshot.worker_name(v.record.worker_id, ""),
            "visit": v.record.visit_id,
        }
        for v in sorted(history.records, key=lambda v: (v.record.on, v.record.id, v.version))
    ]
    workers = sorted(
        (w for w in snapshot.scenario.workers if team is None or w.team_id == team),
        key=lambda w: w.name,
    )
    return render(
        request,
        "child.html",
        status,
        child=child,
        name=child.name if privacy.show_names else None,
        team_id=team,
        team_name=snapshot.team_names.get(team or "", ""),
        nav="due",
        closed_on=row.closed_on,
        close_reason=row.close_reason,
        category=CATEGORY_LABEL.get(child.category, child.category),
        categories=CATEGORY_LABEL,
        placements=PLACEMENTS,
        worker=snapshot.workers.get(child.allocated_worker or ""),
        workers=workers,
        changes=change_lines(snapshot, history.changes),
        versions=versions,
        can_change=can_change(user) and row.closed_on is None,
        errors=errors or {},
        today=desk.today(snapshot),
    )


def closed_already(request: Request, row: ChildRow) -> Response:
    """The child's page saying the case was closed (by someone else, since the page was
    opened): a correction or a second closing changes nothing."""
    closings = [
        e
        for e in service.child_history(desk_of(request).store, row.child.id).changes
        if e.action == "child closed"
    ]
    by = f" by {closings[-1].by}" if closings else ""
    day = f" from {on_day(row.closed_on)}" if row.closed_on else ""
    return child_page(request, {FORM: f"This case was closed{day}{by}: nothing was changed."}, 409)


def edit(request: Request, form: FormData) -> Response:
    """Change the child's category, placement, allocated worker or case reference."""
    user, snapshot, row, team = child_access(request, request.path_params["child"])
    if not can_change(user):
        raise ForbiddenError
    if row.closed_on is not None:
        return closed_already(request, row)
    child = row.child
    chosen: dict[str, Any] = {}
    category = str(form.get("category", "")) or None
    if category and category != child.category:
        if category not in CATEGORY_LABEL:
            return child_page(request, {"category": "Category: choose one on the list."}, 400)
        chosen["category"] = category
    placement = str(form.get("placement_type", "")) or None
    if placement and placement != child.placement_type:
        chosen["placement_type"] = placement
    worker = str(form.get("worker", ""))
    if worker == "" and child.allocated_worker is not None:
        chosen["unallocate"] = True
    elif worker and worker != child.allocated_worker:
        if worker not in snapshot.workers or snapshot.workers[worker].team_id != team:
            return child_page(
                request, {"worker": "Allocated worker: choose one of the team's workers."}, 400
            )
        chosen["worker"] = worker
    case_ref = str(form.get("case_ref", "")).strip()
    if case_ref and case_ref != child.case_ref:
        chosen["case_ref"] = case_ref
    reason = str(form.get("reason", "")).strip()[:500] or None
    if not chosen:
        return child_page(request, {FORM: "Nothing was changed: the form matched the record."})
    desk = desk_of(request)
    try:
        service.edit_child(
            desk.store, child.id, **chosen, reason=reason, by=user.name, now=desk.now()
        )
    except InputError as exc:
        return child_page(request, field_messages(exc, FIELDS), 400)
    except NotFoundError:
        raise PageNotFoundError from None
    return RedirectResponse(f"/children/{child.id}", 303)


def close(request: Request, form: FormData) -> Response:
    """Close the child's case from a day, with a reason; the history stays."""
    user, snapshot, row, _team = child_access(request, request.path_params["child"])
    if not can_change(user):
        raise ForbiddenError
    if row.closed_on is not None:
        return closed_already(request, row)
    on: date | None = None
    reason = str(form.get("reason", "")).strip()[:500]
    errors = {}
    try:
        on = read_day(str(form.get("on", "")), CLOSE_FIELDS["--on"].label)
    except DayError as exc:
        errors["on"] = str(exc)
    if not reason:
        errors["close_reason"] = "Reason: say why the case is closing."
    if errors or on is None:
        return child_page(request, errors, 400)
    desk = desk_of(request)
    try:
        service.close_child(
            desk.store,
            row.child.id,
            on,
            reason,
            today=desk.today(snapshot),
            by=user.name,
            now=desk.now(),
        )
    except InputError as exc:
        return child_page(request, field_messages(exc, CLOSE_FIELDS), 400)
    except NotFoundError:
        raise PageNotFoundError from None
    return RedirectResponse(f"/children/{row.child.id}", 303)


routes = [
    Route("/children/{child}", child_page, methods=["GET"]),
    Route("/children/{child}/edit", with_form(edit), methods=["POST"]),
    Route("/children/{child}/close", with_form(close), methods=["POST"]),
]
