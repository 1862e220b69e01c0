"""No form or query string the desk receives, however malformed, gets "Something went wrong"
(a 500): each is answered with a page that says what to fix, or refused (4xx)."""

from __future__ import annotations

import itertools
import warnings

import pytest

from scheduler.store import Store
from tests.web.conftest import NOW, Desk, make_client, sign_in, token_of

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

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


def post_answers(client: TestClient, page: str, action: str, form: dict[str, str]) -> None:
    """Post `form` to `action` with a fresh CSRF token from `page`: a page or a refusal, never
    a server error."""
    token = token_of(client.get(page).text)
    response = client.post(action, data={**form, "csrftoken": token})
    assert response.status_code < 500, (action, form)
    assert "Something went wrong" not in response.text, (action, form)


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
        post_answers(client, pages[3], action, form)
    # Whatever was accepted stayed within the store's limits (ids, case references, reasons).
    scenario = store.read_scenario()
    assert all(len(c.case_ref) <= 200 for c in scenario.children)
    assert all(len(a.reason) <= 500 for a in scenario.absences)


def one_bad_field(base: dict[str, str]) -> list[dict[str, str]]:
    """A valid form with one field at a time set to each junk value (so each handler gets
    past its other checks to the bad one), then the valid form itself."""
    return [{**base, field: value} for field in base for value in JUNK] + [base]


@pytest.mark.slow
def test_one_bad_field_in_a_valid_form_is_never_a_server_error(store: Store, desk: Desk) -> None:
    """Outcomes, moves, pins and a child's edit and close, each from a valid form with one
    field spoilt at a time: a page or a refusal every time, never a server error."""
    client = make_client(store)
    sign_in(client, "ada")
    _revision, scenario, plan = store.snapshot()
    assert plan is not None
    homes = {h.id: h.team_id for h in scenario.households}
    ours = sorted(
        (v for v in plan.visits if homes[v.household_id] == desk.team_a), key=lambda v: v.start
    )
    today = NOW.date()
    past = next(v for v in ours if v.day < today)
    later = next(v for v in ours if v.day > today and v.worker_id == desk.worker)
    child = next(c for c in scenario.children if c.id in later.child_ids)
    team = f"/teams/{desk.team_a}"
    cases: list[tuple[str, dict[str, str]]] = [
        (
            f"{team}/outcomes/{past.id}",
            {"outcome": "completed", "day": f"{past.day:%d/%m/%Y}", "seen_alone": "yes",
             "bedroom_seen": "yes", "amend": "yes"},
        ),
        (f"{team}/outcomes/rest", {"day": f"{past.day:%d/%m/%Y}", "worker": desk.worker}),
        (
            f"/visits/{later.id}/move",
            {"day": f"{later.day:%d/%m/%Y}", "time": "10:00", "worker": desk.worker,
             "action": "check"},
        ),
        (f"/visits/{later.id}/pin", {"pinned": "yes"}),
        (
            f"/children/{child.id}/edit",
            {"case_ref": child.case_ref, "category": child.category, "placement_type": "",
             "worker": child.allocated_worker or "", "reason": "checking"},
        ),
        (f"/children/{child.id}/close", {"on": f"{today:%d/%m/%Y}", "reason": "moved away"}),
    ]  # fmt: skip
    for action, base in cases:
        for form in one_bad_field(base):
            post_answers(client, f"{team}/absences", action, form)
    # The valid forms went through, so the spoilt ones reached each handler's own checks.
    pinned = store.find_visit(later.id)
    assert pinned is not None
    assert pinned.pinned
    assert child.id not in {c.id for c in store.read_scenario().children}


@pytest.mark.parametrize("typed", ["CR\x00X", "CR\x1bX", "CR\u0085X"])
def test_a_control_character_in_a_case_reference_is_refused(
    desk: Desk, store: Store, typed: str
) -> None:
    """A NUL (or escape) pasted into a case reference was stored and went into workers'
    calendars as a raw byte (RFC 5545 allows no control character in TEXT; PostgreSQL none
    in a string). It is refused under the box and nothing is written; the edge pair's other
    half: the same reference without it is saved."""
    from tests.web.test_corrections import team_child
    from tests.web.test_pages import text

    child = team_child(store, desk.team_a)
    client = make_client(store)
    sign_in(client, "mo")
    page = f"/children/{child}"
    before = store.revision()
    token = token_of(client.get(page).text)
    refused = client.post(f"{page}/edit", data={"case_ref": typed, "csrftoken": token})
    assert refused.status_code == 400
    assert "Case reference: take out the invisible control character" in text(refused.text)
    assert store.revision() == before
    plain = typed[:2] + typed[3:]
    saved = client.post(f"{page}/edit", data={"case_ref": plain, "csrftoken": token})
    assert saved.status_code == 200
    row = store.child_row(child)
    assert row is not None
    assert row.child.case_ref == plain
