"""No form or query string the desk receives, however malformed, gets "Something went wrong"
(a 500): each is answered with a page that says what to fix, or refused (4xx)."""

from __future__ import annotations

import itertools

import pytest

from scheduler.store import Store
from tests.web.conftest import Desk, make_client, sign_in, token_of

JUNK = [
    "",
    " ",
    "x" * 5_000,
    "2026-02-30",
    "31/11/2026",
    "99/99/9999",
    "0001-01-01",
    "9999-12-31",
    "-1",
    "1e309",
    "nan",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "w-0001'; DROP TABLE workers; --",
    "\u202e\u0000\ufffd",
    "é" * 300,
]
"""Values a browser, a careless paste or a hostile client may send."""

FIELDS = (
    "worker", "to", "from", "on", "reason", "day", "time", "outcome", "category", "state",
    "placement_type", "case_ref", "confirm", "pinned", "amend", "action", "seen_alone",
    "bedroom_seen", "page", "start",
)  # fmt: skip


def forms() -> list[dict[str, str]]:
    """Every field set to each junk value, then mixed rows (the same every run)."""
    rows = [dict.fromkeys(FIELDS, value) for value in JUNK]
    rows += [
        {field: JUNK[(i + j) % len(JUNK)] for j, field in enumerate(FIELDS)}
        for i in range(len(JUNK))
    ]
    return rows


def targets(store: Store, desk: Desk) -> tuple[list[str], list[str]]:
    """The desk's pages (GET) and the forms they post to (POST), for one visit and child."""
    plan = store.current_plan()
    assert plan is not None
    visit = next(v for v in plan.visits if v.worker_id == desk.worker)
    team = f"/teams/{desk.team_a}"
    pages = [
        f"{team}/week",
        f"{team}/due",
        f"{team}/outlook",
        f"{team}/absences",
        f"{team}/outcomes",
        "/due",
        f"/visits/{visit.id}",
        f"/visits/{visit.id}/move",
        f"/children/{visit.child_ids[0]}",
    ]
    posts = [
        f"{team}/absences",
        f"{team}/leaver",
        f"{team}/replan",
        f"{team}/outcomes/rest",
        f"{team}/outcomes/{visit.id}",
        f"/visits/{visit.id}/move",
        f"/visits/{visit.id}/pin",
        f"/children/{visit.child_ids[0]}/edit",
        f"/children/{visit.child_ids[0]}/close",
    ]
    return pages, posts


@pytest.mark.slow
def test_no_junk_input_is_a_server_error(store: Store, desk: Desk) -> None:
    client = make_client(store)
    sign_in(client, "ada")
    pages, posts = targets(store, desk)
    for page, form in itertools.product(pages, forms()):
        # A URL is at most 64 KB (httpx refuses longer ones, as servers do).
        response = client.get(page, params={k: v[:200] for k, v in form.items()})
        assert response.status_code < 500, (page, form)
    for action, form in itertools.product(posts, forms()):
        token = token_of(client.get(pages[3]).text)
        response = client.post(action, data={**form, "csrftoken": token})
        assert response.status_code < 500, (action, form)
        assert "Something went wrong" not in response.text, (action, form)
    # Whatever was accepted stayed within the store's limits (ids, case references, reasons).
    scenario = store.read_scenario()
    assert all(len(c.case_ref) <= 200 for c in scenario.children)
    assert all(len(a.reason) <= 500 for a in scenario.absences)
