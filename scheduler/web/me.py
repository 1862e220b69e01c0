"""A worker's own page: my week, and my calendar feed link (issue, revoke) with instructions.

Rule: a feed link is a secret; it is shown once, when issued, on a page nobody caches, and
never logged. A worker sees only their own week.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from scheduler.domain import Visit
from scheduler.web.board import CATEGORY_LABEL, chosen_week, main_category
from scheduler.web.context import audit, desk_of, render, signed_in, with_form
from scheduler.web.snapshot import case_refs


def me_page(request: Request, feed_url: str | None = None, revoked: bool | None = None) -> Response:
    """`/me?start=`: the signed-in worker's week and feed."""
    user = signed_in(request)
    desk = desk_of(request)
    snapshot = desk.snapshot(request)
    worker = snapshot.workers.get(user.worker_id or "")
    today, start = chosen_week(request, snapshot)
    days: dict[object, list[Visit]] = defaultdict(list)
    if worker is not None:
        for visit in snapshot.plan.visits if snapshot.plan else ():
            if (
                worker.id in (visit.worker_id, visit.second_worker_id)
                and visit.status != "cancelled"
            ) and start <= visit.day < start + timedelta(days=7):
                days[visit.day].append(visit)
    week = []
    for i in range(7):
        day = start + timedelta(days=i)
        visits = sorted(days.get(day, []), key=lambda v: v.start)
        if worker is not None and (day.weekday() in worker.days or visits):
            week.append(
                (
                    day,
                    [
                        {
                            "visit": v,
                            "cases": case_refs(snapshot, v.child_ids),
                            "category": CATEGORY_LABEL[main_category(snapshot, v)],
                            "area": snapshot.households[v.household_id].area
                            if v.household_id in snapshot.households
                            else "",
                            "state": snapshot.state(v, today),
                            "joint": v.second_worker_id is not None,
                            "partner": snapshot.worker_name(
                                v.second_worker_id if v.worker_id == worker.id else v.worker_id,
                                "a colleague",
                            ),
                        }
                        for v in visits
                    ],
                    next(
                        (
                            a.reason
                            for a in snapshot.scenario.absences
                            if worker and a.worker_id == worker.id and a.covers(day)
                        ),
                        None,
                    ),
                )
            )
    return render(
        request,
        "me.html",
        worker=worker,
        week=week,
        start=start,
        previous=start - timedelta(days=7),
        next=start + timedelta(days=7),
        feed_url=feed_url,
        revoked=revoked,
        tz=snapshot.scenario.authority.timezone,
        today=today,
    )


def issue_feed(request: Request, form: FormData) -> Response:
    """Issue a new feed link for the signed-in worker (any earlier link stops working)."""
    user = signed_in(request)
    desk = desk_of(request)
    if user.worker_id is None:
        return me_page(request)
    url = desk.services.issue_feed(desk.store, user.worker_id, desk.calendar_now(), desk.base_url)
    audit(user.name, "issued a calendar feed", user.worker_id)
    return me_page(request, feed_url=url)


def revoke_feed(request: Request, form: FormData) -> Response:
    """Stop the signed-in worker's feed link."""
    user = signed_in(request)
    desk = desk_of(request)
    if user.worker_id is None:
        return me_page(request)
    ended = desk.services.revoke_feed(desk.store, user.worker_id, desk.calendar_now())
    audit(user.name, "revoked a calendar feed", user.worker_id)
    return me_page(request, revoked=ended)


routes = [
    Route("/me", me_page, methods=["GET"]),
    Route("/me/feed", with_form(issue_feed), methods=["POST"]),
    Route("/me/feed/revoke", with_form(revoke_feed), methods=["POST"]),
]
