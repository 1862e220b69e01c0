"""Compliance: every child's state and next requirement, most urgent first, with filters.

Rule: the rows, states and counts are `reports.due_rows` (what `visitplan due` prints);
this page filters and shows them with the plan's breach reasons in a manager's words.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from scheduler.reports import CHILD_STATES, DueRow
from scheduler.web.board import CATEGORY_LABEL
from scheduler.web.context import ForbiddenError, desk_of, render, signed_in, team_access
from scheduler.web.snapshot import Snapshot

PAGE_SIZE = 200


@dataclass(frozen=True)
class Filters:
    """The page's filters (empty: any)."""

    worker: str = ""
    category: str = ""
    state: str = ""

    @classmethod
    def of(cls, request: Request) -> Filters:
        """The filters in a request's query string."""
        q = request.query_params
        return cls(q.get("worker", ""), q.get("category", ""), q.get("state", ""))

    def query(self, **more: str) -> str:
        """The filters (and `more`) as a query string."""
        pairs = {"worker": self.worker, "category": self.category, "state": self.state, **more}
        return urlencode({k: v for k, v in pairs.items() if v})


def filtered(rows: tuple[DueRow, ...], filters: Filters) -> tuple[list[DueRow], dict[str, int]]:
    """The rows matching every filter, and the counts by state under the other filters."""
    before_state = [
        r
        for r in rows
        if (not filters.worker or r.allocated_worker == filters.worker)
        and (not filters.category or r.category == filters.category)
    ]
    counts: dict[str, int] = {s: sum(1 for r in before_state if r.state == s) for s in CHILD_STATES}
    return [r for r in before_state if not filters.state or r.state == filters.state], counts


def _page(request: Request, snapshot: Snapshot, team_id: str | None) -> Response:
    today = desk_of(request).today(snapshot)
    filters = Filters.of(request)
    lines, counts = filtered(snapshot.due(today, team_id).children, filters)
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
    return render(
        request,
        "due.html",
        nav="due",
        team_id=team_id,
        team_name=snapshot.team_names.get(team_id or "", "Every team"),
        lines=lines[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
        total=len(lines),
        counts=counts,
        states=CHILD_STATES,
        filters=filters,
        workers=workers,
        categories=CATEGORY_LABEL,
        titles=snapshot.rule_titles,
        reasons=snapshot.breaches_by_child,
        page_no=page,
        pages=pages,
        today=today,
    )


def team_due_page(request: Request) -> Response:
    """`/teams/{team}/due`: the team's children (the allocated worker's team, else the
    first home's, as `visitplan due --team` counts them)."""
    team_id = request.path_params["team"]
    _user, snapshot = team_access(request, team_id)
    return _page(request, snapshot, team_id)


def all_due_page(request: Request) -> Response:
    """`/due`: every child in the authority (admins only)."""
    user = signed_in(request)
    if user.role != "admin":
        raise ForbiddenError
    return _page(request, desk_of(request).snapshot(request), None)


routes = [
    Route("/teams/{team}/due", team_due_page),
    Route("/due", all_due_page),
]
