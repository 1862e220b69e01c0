"""Pictures of a team's next four weeks: demand against capacity, and children coming due.

Rule: each chart is server-side SVG with its numbers in a table beside it; the arithmetic
lives in `scheduler.outlook`, not here.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from scheduler.outlook import outlook
from scheduler.web.board import chosen_week
from scheduler.web.context import render_team, team_access
from scheduler.web.svg import Series, bar_chart, column_chart

WEEKS = 4


def outlook_page(request: Request) -> Response:
    """`/teams/{team}/outlook?start=`: the next four weeks in pictures and tables."""
    team_id = request.path_params["team"]
    _user, snapshot = team_access(request, team_id)
    _today, start = chosen_week(request, snapshot)
    found = outlook(snapshot.scenario, snapshot.plan, team_id, start, WEEKS)
    labels = [f"w/c {w.week_start.day} {w.week_start:%b}" for w in found.weeks]
    weeks_chart = bar_chart(
        "Visit-hours due, planned and available each week",
        labels,
        [
            Series(
                "Visit-hours due", [round(w.demand_min / 60, 1) for w in found.weeks], "#1d4f91"
            ),
            Series(
                "Visit-hours planned",
                [round(w.planned_min / 60, 1) for w in found.weeks],
                "#00703c",
            ),
            Series(
                "Hours available", [round(w.capacity_min / 60, 1) for w in found.weeks], "#8c8c8c"
            ),
        ],
        "hours",
        "weeks",
    )
    days_chart = column_chart(
        "Children coming due each working day",
        [f"{d.day:%a} {d.day.day}" for d in found.days],
        [d.children for d in found.days],
        "#a4000f",
        "days",
    )
    return render_team(
        request,
        snapshot,
        team_id,
        "outlook.html",
        "outlook",
        outlook=found,
        weeks_chart=weeks_chart,
        days_chart=days_chart,
        start=start,
    )


routes = [Route("/teams/{team}/outlook", outlook_page)]
