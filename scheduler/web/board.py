"""The team week board (workers by days, a block per visit) and a visit's details.

Rule: children's names appear only where the authority's privacy settings opt in; the
board itself shows case references, never names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from scheduler.domain import EARLIEST, LATEST, Visit, Worker
from scheduler.web.context import (
    can_change,
    desk_of,
    render,
    render_team,
    team_access,
    visit_access,
)
from scheduler.web.snapshot import Snapshot, case_refs, is_at_risk

CATEGORY_ORDER = (
    "child-protection",
    "child-in-care",
    "child-in-need",
    "private-fostering",
    "care-leaver",
    "early-help",
)
CATEGORY_LABEL = {
    "child-protection": "Child protection",
    "child-in-care": "Child in care",
    "child-in-need": "Child in need",
    "private-fostering": "Private fostering",
    "care-leaver": "Care leaver",
    "early-help": "Early help",
}


@dataclass(frozen=True)
class Block:
    """One visit on the board."""

    visit: Visit
    time: str
    case_refs: str
    category: str
    state: str
    at_risk: bool
    joint_with: str | None


@dataclass
class Cell:
    """One worker's day."""

    day: date
    away: str | None = None
    off: bool = False
    busy: list[str] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)


@dataclass(frozen=True)
class Row:
    """One worker's week."""

    worker: Worker
    cells: list[Cell]
    guest: bool
    """A worker of another team visiting this team's households (cross-team cover)."""
    left_on: date | None = None
    """The day the worker left (their visits still in the plan: history, or until a re-plan)."""


@dataclass(frozen=True)
class Board:
    """A team's week."""

    team_id: str
    start: date
    days: list[date]
    rows: list[Row]
    counts: dict[str, int]


def monday_of(day: date) -> date:
    """The Monday of `day`'s week."""
    return day - timedelta(days=day.weekday())


def default_start(snapshot: Snapshot, today: date) -> date:
    """This week, or the plan's first week when the plan starts later."""
    if snapshot.plan is not None and snapshot.plan.start > today:
        return monday_of(snapshot.plan.start)
    return monday_of(today)


_BRITISH_DAY = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
_ISO_DAY = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
AS_TYPED = "give a date as dd/mm/yyyy, for example 01/12/2026"


class DayError(ValueError):
    """A typed date the desk cannot take; the message says why, in a manager's words."""


def parse_day(value: str | None) -> date | None:
    """A date between 1900 and 2100 from a query string or form, or None when absent,
    malformed or out of range (`read_day` says which)."""
    try:
        return read_day(value, "Date")
    except DayError:
        return None


def read_day(value: str | None, label: str) -> date:
    """A date between 1900 and 2100 typed day first as in Britain (1/12/2026, 01/12/2026, also
    with dashes or dots), or ISO (2026-12-01, as links carry it).

    Raises:
        DayError: "`label`: what is wrong." (blank, not a date's shape, a day no calendar
            has such as 31/02/2026, or a year outside 1900-2100).
    """
    text = (value or "").strip()
    british, iso = _BRITISH_DAY.fullmatch(text), _ISO_DAY.fullmatch(text)
    if british:
        year, month, day = int(british[3]), int(british[2]), int(british[1])
    elif iso:
        year, month, day = int(iso[1]), int(iso[2]), int(iso[3])
    else:
        return _other_iso(text, label)
    if not EARLIEST.year <= year <= LATEST.year:
        raise DayError(f"{label}: give a date between the years 1900 and 2100.")
    try:
        return date(year, month, day)
    except ValueError:
        raise DayError(f"{label}: {text} is not a date: {_why_not(year, month)}.") from None


def _other_iso(text: str, label: str) -> date:
    """`text` in another form `date.fromisoformat` reads (20261201), or a DayError."""
    try:
        found = date.fromisoformat(text)
    except ValueError:
        raise DayError(f"{label}: {AS_TYPED}.") from None
    if not EARLIEST <= found <= LATEST:
        raise DayError(f"{label}: give a date between the years 1900 and 2100.")
    return found


def _why_not(year: int, month: int) -> str:
    """Why a day of `month` in `year` is no date, in words, with the form to use."""
    if not 1 <= month <= 12:
        return f"there is no month {month} (give it as dd/mm/yyyy)"
    first = date(year, month, 1)
    days = ((first + timedelta(days=31)).replace(day=1) - first).days
    return f"{first:%B} {year} has {days} days (give it as dd/mm/yyyy)"


def dmy(day: date | None) -> str:
    """A date as a British form shows it: 01/12/2026."""
    return f"{day:%d/%m/%Y}" if day else ""


def main_category(snapshot: Snapshot, visit: Visit) -> str:
    """The category that colours a visit: the most serious among its children."""
    children = (snapshot.child(c) for c in visit.child_ids)
    categories = {child.category for child in children if child is not None}
    return next((c for c in CATEGORY_ORDER if c in categories), "early-help")


def build_board(snapshot: Snapshot, team_id: str, start: date, today: date) -> Board:
    """The week from `start` (a Monday) for a team: its workers' visits, absences, busy times.

    Weekends are shown only when someone works or visits on them.
    """
    tz = ZoneInfo(snapshot.scenario.authority.timezone)
    week = [start + timedelta(days=i) for i in range(7)]
    team_workers = [w for w in snapshot.scenario.workers if w.team_id == team_id]
    visits = [
        v
        for v in (snapshot.plan.visits if snapshot.plan else ())
        if start <= v.day <= week[-1] and v.status != "cancelled"
    ]
    ours = {w.id for w in team_workers}
    guests = sorted(
        {v.worker_id for v in visits if snapshot.team_of(v) == team_id and v.worker_id not in ours}
    )
    people = team_workers + [snapshot.everyone[g] for g in guests if g in snapshot.everyone]
    shown = {w.id for w in people}
    weekend_used = any(d in w.days for w in people for d in (5, 6)) or any(
        v.day.weekday() >= 5 and v.worker_id in shown for v in visits
    )
    days = week if weekend_used else week[:5]
    cells = {(w.id, d): Cell(d, off=d.weekday() not in w.days) for w in people for d in days}
    for absence in snapshot.scenario.absences:
        for d in days:
            if absence.covers(d) and (absence.worker_id, d) in cells:
                cells[absence.worker_id, d].away = absence.reason
    for gone, on in snapshot.left_on.items():
        for d in days:
            if d >= on and (gone, d) in cells:
                cells[gone, d].away = "left"
    for busy in snapshot.scenario.busy:
        begin, end = busy.start.astimezone(tz), busy.end.astimezone(tz)
        day = begin.date()
        if (busy.worker_id, day) in cells:
            cells[busy.worker_id, day].busy.append(f"{begin:%H:%M}\u2013{end:%H:%M}")
    counts = {"visits": 0, "awaiting outcome": 0, "failed": 0, "at risk": 0}
    for visit in sorted(visits, key=lambda v: v.start):
        state = snapshot.state(visit, today)
        risky = is_at_risk(visit, state)
        counted = False
        for worker_id, partner in (
            (visit.worker_id, visit.second_worker_id),
            (visit.second_worker_id, visit.worker_id),
        ):
            if worker_id is None or (worker_id, visit.day) not in cells:
                continue
            local = visit.start.astimezone(tz)
            end = visit.end.astimezone(tz)
            block = Block(
                visit=visit,
                time=f"{local:%H:%M}\u2013{end:%H:%M}",
                case_refs=case_refs(snapshot, visit.child_ids),
                category=main_category(snapshot, visit),
                state=state,
                at_risk=risky,
                joint_with=snapshot.worker_name(partner),
            )
            cells[worker_id, visit.day].blocks.append(block)
            if not counted:
                counted = True
                counts["visits"] += 1
                counts["awaiting outcome"] += state == "awaiting outcome"
                counts["failed"] += state in ("failed", "not seen")
                counts["at risk"] += risky
    rows = [
        Row(w, [cells[w.id, d] for d in days], w.id not in ours, snapshot.left_on.get(w.id))
        for w in people
    ]
    return Board(team_id, start, days, rows, counts)


def chosen_week(request: Request, snapshot: Snapshot) -> tuple[date, date]:
    """Today, and the Monday of the week asked for (`?start=`, else `default_start`)."""
    today = desk_of(request).today(snapshot)
    asked = parse_day(request.query_params.get("start"))
    return today, monday_of(asked or default_start(snapshot, today))


def week_page(request: Request) -> Response:
    """`/teams/{team}/week?start=`: the team's week board."""
    team_id = request.path_params["team"]
    _user, snapshot = team_access(request, team_id)
    today, start = chosen_week(request, snapshot)
    board = snapshot.memo(
        ("board", team_id, start, today), lambda: build_board(snapshot, team_id, start, today)
    )
    return render_team(
        request,
        snapshot,
        team_id,
        "board.html",
        "week",
        board=board,
        today=today,
        previous=start - timedelta(days=7),
        next=start + timedelta(days=7),
        categories=CATEGORY_LABEL,
        has_plan=snapshot.plan is not None,
    )


@dataclass(frozen=True)
class ChildLine:
    """A child on a visit, as the visit page shows them."""

    case_ref: str
    category: str
    name: str | None
    history: list[tuple[date, str, str, str]]
    child_id: str = ""


def visit_details(snapshot: Snapshot, visit: Visit, today: date) -> dict[str, Any]:
    """What the visit page shows: children, rules served with due dates and slack, history."""
    privacy = snapshot.scenario.authority.privacy
    home = snapshot.households.get(visit.household_id)
    children = []
    for child_id in visit.child_ids:
        child = snapshot.child(child_id)
        if child is None:
            continue
        history = [
            (
                r.on,
                r.outcome.replace("-", " "),
                snapshot.worker_name(r.worker_id, "unknown"),
                ("at home" if r.at_home else "elsewhere")
                + ("" if r.announced else ", unannounced"),
            )
            for r in snapshot.records_by_child.get(child_id, [])[-5:]
        ]
        children.append(
            ChildLine(
                child.case_ref,
                CATEGORY_LABEL.get(child.category, child.category),
                child.name if privacy.show_names else None,
                list(reversed(history)),
                child_id,
            )
        )
    reasons = [
        (
            case_refs(snapshot, (r.child_id,)),
            snapshot.rule_titles.get(r.rule_id, r.rule_id),
            r.due,
            r.slack_days,
        )
        for r in visit.reasons
    ]
    second = snapshot.everyone.get(visit.second_worker_id) if visit.second_worker_id else None
    state = snapshot.state(visit, today)
    return {
        "visit": visit,
        "state": state,
        "at_risk": is_at_risk(visit, state),
        "area": home.area if home else visit.household_id,
        "address": home.address if home and privacy.show_address else None,
        "worker": snapshot.everyone.get(visit.worker_id),
        "second": second,
        "children": children,
        "reasons": reasons,
        "team_id": snapshot.team_of(visit),
        "tz": snapshot.scenario.authority.timezone,
        "end": visit.end,
    }


def visit_page(request: Request) -> Response:
    """`/visits/{visit}`: one visit's details (a fragment for the board's side panel)."""
    user, snapshot, visit = visit_access(request, request.path_params["visit"])
    today = desk_of(request).today(snapshot)
    details = visit_details(snapshot, visit, today)
    return render(request, "visit.html", can_change=can_change(user), **details)


def _now_local(request: Request, snapshot: Snapshot) -> datetime:
    return desk_of(request).now().astimezone(ZoneInfo(snapshot.scenario.authority.timezone))


routes = [
    Route("/teams/{team}/week", week_page),
    Route("/visits/{visit}", visit_page),
]
