"""Compliance: every child's next requirement, overdue first, with filters and counts by state.

Rule: case references, categories and workers' names only; breach reasons as the plan gives
them, in a manager's words.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from scheduler.domain import ChildDue
from scheduler.web.adapters import DUE_STATES, DueState, Snapshot, due_state
from scheduler.web.board import CATEGORY_LABEL
from scheduler.web.context import ForbiddenError, desk_of, render, signed_in, team_access

PAGE_SIZE = 200


@dataclass(frozen=True)
class DueLine:
    """One child's line on the compliance page."""

    row: ChildDue
    state: DueState
    worker: str
    rule: str
    reasons: list[str]


@dataclass(frozen=True)
class Filters:
    """The compliance page's filters (empty string: any)."""

    worker: str = ""
    category: str = ""
    state: str = ""

    @classmethod
    def of(cls, request: Request) -> Filters:
        """The filters in a request's query string."""
        q = request.query_params
        return cls(q.get("worker", ""), q.get("category", ""), q.get("state", ""))


def due_lines(
    snapshot: Snapshot, team_id: str | None, as_of: date, filters: Filters
) -> tuple[list[DueLine], Counter[str]]:
    """The filtered lines (overdue first) and the counts by state before the state filter.

    Stand-in for issue 10's `due --team --worker --category` filters (adapters module).
    """
    if team_id is None:
        rows = snapshot.due(as_of)
    else:
        rows = snapshot.due_for(snapshot.team_children(team_id), as_of)
    lines: list[DueLine] = []
    counts: Counter[str] = Counter()
    for row in rows:
        if filters.worker and row.allocated_worker != filters.worker:
            continue
        if filters.category and row.category != filters.category:
            continue
        state = due_state(snapshot, row, as_of)
        counts[state] += 1
        if filters.state and state != filters.state:
            continue
        worker = snapshot.workers.get(row.allocated_worker or "")
        first = row.requirements[0] if row.requirements else None
        lines.append(
            DueLine(
                row=row,
                state=state,
                worker=worker.name if worker else "unallocated",
                rule=snapshot.rule_titles.get(first.rule_id, first.title)
                if first
                else "no visit requirement",
                reasons=snapshot.breaches_by_child.get(row.child_id, []),
            )
        )
    return lines, counts


def _page(request: Request, snapshot: Snapshot, team_id: str | None) -> Response:
    today = desk_of(request).today(snapshot)
    filters = Filters.of(request)
    lines, counts = due_lines(snapshot, team_id, today, filters)
    try:
        page = max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        page = 1
    pages = max(1, -(-len(lines) // PAGE_SIZE))
    page = min(page, pages)
    workers = sorted(
        (w for w in snapshot.scenario.workers if team_id is None or w.team_id == team_id),
        key=lambda w: w.name,
    )
    query = "&".join(
        f"{k}={v}"
        for k, v in (
            ("worker", filters.worker),
            ("category", filters.category),
            ("state", filters.state),
        )
        if v
    )
    return render(
        request,
        "due.html",
        nav="due",
        team_id=team_id,
        team_name=snapshot.team_names.get(team_id or "", "Every team"),
        lines=lines[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
        total=len(lines),
        counts=counts,
        states=DUE_STATES,
        filters=filters,
        workers=workers,
        categories=CATEGORY_LABEL,
        page_no=page,
        pages=pages,
        query=query,
        today=today,
    )


def team_due_page(request: Request) -> Response:
    """`/teams/{team}/due`: the team's children."""
    team_id = request.path_params["team"]
    _user, snapshot = team_access(request, team_id)
    return _page(request, snapshot, team_id)


def all_due_page(request: Request) -> Response:
    """`/due`: every child in the authority (admins only)."""
    user = signed_in(request)
    if user.role != "admin":
        raise ForbiddenError
    return _page(request, desk_of(request).snapshot(), None)


routes = [
    Route("/teams/{team}/due", team_due_page),
    Route("/due", all_due_page),
]
