"""Corrections on the desk: a child's history page, correcting a recorded outcome, editing and
closing a child; refusals in the form's words; pins promise nothing re-plans do not do.

Rule: real store, real service functions; each change is checked in the store and its audit
(`by` is the signed-in user), each refusal writes nothing.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from scheduler import service
from scheduler.errors import InputError
from scheduler.store import Store
from scheduler.web.refusals import FORM, Field, british_days, field_messages
from scheduler.web.snapshot import Snapshot
from tests.web.conftest import NOW, TUESDAY, Desk, post_form, sign_in, token_of
from tests.web.test_pages import later_visit, text

TODAY = NOW.date()


def snapshot(store: Store) -> Snapshot:
    return Snapshot(*store.snapshot())


def team_child(store: Store, team: str, in_care: bool | None = None) -> str:
    """A child of the team with an allocated worker of that team (in care or not, if said)."""
    snap = snapshot(store)
    for child in snap.scenario.children:
        worker = snap.workers.get(child.allocated_worker or "")
        if in_care is not None and (child.category == "child-in-care") != in_care:
            continue
        if worker is not None and worker.team_id == team:
            return child.id
    raise AssertionError("no such child")


# ------------------------------------------------------------------ refusals in words


def test_a_service_refusal_in_the_form_s_words(store: Store) -> None:
    snap = snapshot(store)
    later = min((v for v in snap.plan.visits if v.day > TODAY), key=lambda v: v.start)
    with pytest.raises(InputError) as refused:
        service.record_outcome(store, later.id, "completed", on=later.day, today=TODAY)
    messages = field_messages(refused.value, {"--on": Field("outcome", "Date")})
    assert messages == {"outcome": "Date: the day must be today or earlier."}
    # A problem about no field of the form is said for the whole form, still in words.
    assert field_messages(refused.value, {}) == {FORM: "The day must be today or earlier."}


def test_british_days_edge_pair() -> None:
    assert british_days("by 2026-12-01") == "by Tue 1 Dec 2026"
    assert british_days("not a day 2026-02-30") == "not a day 2026-02-30"


def test_a_move_to_a_past_day_is_refused_under_the_day(client, desk: Desk, store: Store) -> None:
    visit = later_visit(store, desk.team_a)
    sign_in(client, "mo")
    before = store.revision()
    response = post_form(
        client,
        f"/visits/{visit}/move",
        f"/visits/{visit}/move",
        {"day": "2026-12-01", "time": "10:00", "worker": desk.worker, "action": "check"},
    )
    assert response.status_code == 400
    assert "Day: the day must be today or later." in text(response.text)
    assert 'aria-invalid="true" aria-describedby="e-day"' in response.text
    assert "--to" not in response.text
    assert "command line" not in response.text
    assert store.revision() == before


def test_a_move_to_today_is_judged_not_refused(client, desk: Desk, store: Store) -> None:
    """The other half of the edge pair: today is allowed (the checker gives its verdict)."""
    visit = later_visit(store, desk.team_a)
    sign_in(client, "mo")
    response = post_form(
        client,
        f"/visits/{visit}/move",
        f"/visits/{visit}/move",
        {"day": TODAY.isoformat(), "time": "16:00", "worker": desk.worker, "action": "check"},
    )
    assert response.status_code == 200
    assert "The checker's verdict" in response.text


# ------------------------------------------------------------------ correcting an outcome


def test_correct_a_recorded_outcome(client, desk: Desk, store: Store) -> None:
    snap = snapshot(store)
    visit = next(
        v
        for v in snap.plan.visits
        if v.day == TUESDAY
        and snap.team_of(v) == desk.team_a
        and snap.state(v, TODAY) == "awaiting outcome"
    )
    sign_in(client, "mo")
    page = f"/teams/{desk.team_a}/outcomes?day={TUESDAY.isoformat()}"
    action = f"/teams/{desk.team_a}/outcomes/{visit.id}"
    # Correcting what is not recorded yet is refused, in words, nothing written.
    before = store.revision()
    early = post_form(client, page, action, {"outcome": "failed", "amend": "yes"})
    assert early.status_code == 400
    assert "nothing is recorded for this visit yet" in early.text
    assert store.revision() == before
    post_form(client, page, action, {"outcome": "completed", "seen_alone": "on"})
    # Recording it again differently without correcting is refused, in words.
    twice = post_form(client, page, action, {"outcome": "failed"})
    assert twice.status_code == 400
    assert "recorded already: correct it instead" in twice.text
    shown = client.get(page).text
    assert "Correct this outcome" in shown
    corrected = post_form(client, page, action, {"outcome": "failed", "amend": "yes"})
    assert corrected.status_code == 200
    assert ": not seen" in text(corrected.text)
    records = store.records_for_visits([visit.id])[visit.id]
    assert {r.outcome for r in records} == {"failed"}
    child = visit.child_ids[0]
    versions = [v for v in store.record_versions(child) if v.record.visit_id == visit.id]
    assert sorted(v.version for v in versions) == [1, 2]
    assert {v.recorded_by for v in versions} == {"mo"}
    history = client.get(f"/children/{child}")
    words = text(history.text)
    assert "Visit records, every version" in words
    assert "Completed" in words
    assert "Failed" in words
    assert "by mo" in words
    assert "outcome: completed → failed" in words


# ------------------------------------------------------------------ the child's page


def test_child_page_shows_edits_with_who_and_when(client, desk: Desk, store: Store) -> None:
    child = team_child(store, desk.team_a)
    sign_in(client, "mo")
    page = f"/children/{child}"
    shown = client.get(page)
    assert shown.status_code == 200
    response = post_form(
        client,
        page,
        f"{page}/edit",
        {
            "category": snapshot(store).children[child].category,
            "worker": snapshot(store).children[child].allocated_worker or "",
            "case_ref": "CR-CORRECTED-7",
            "reason": "typo in the reference",
        },
    )
    assert response.status_code == 200
    assert store.child_row(child).child.case_ref == "CR-CORRECTED-7"  # type: ignore[union-attr]
    edits = [e for e in store.history(child) if e.action == "child edited"]
    assert [e.by for e in edits] == ["mo"]
    words = text(response.text)
    assert "Record edited" in words
    assert "case reference:" in words
    assert "→ CR-CORRECTED-7" in words
    assert f"{NOW:%d/%m/%Y}" in words
    assert "reason: typo in the reference" in words


def test_edit_refusals_in_the_form_s_words(client, desk: Desk, store: Store) -> None:
    snap = snapshot(store)
    child = team_child(store, desk.team_a, in_care=False)
    other = next(c for c in snap.scenario.children if c.id != child)
    sign_in(client, "mo")
    page = f"/children/{child}"
    before = store.revision()
    taken = post_form(
        client,
        page,
        f"{page}/edit",
        {
            "category": snap.children[child].category,
            "worker": snap.children[child].allocated_worker or "",
            "case_ref": other.case_ref,
        },
    )
    assert taken.status_code == 400
    assert "Case reference: another open case has this reference already." in text(taken.text)
    in_care = post_form(
        client,
        page,
        f"{page}/edit",
        {
            "category": "child-in-care",
            "placement_type": "",
            "worker": snap.children[child].allocated_worker or "",
            "case_ref": snap.children[child].case_ref,
        },
    )
    assert in_care.status_code == 400
    assert "Placement type:" in text(in_care.text)
    assert "--placement-type" not in in_care.text
    assert store.revision() == before


def test_close_a_child(client, desk: Desk, store: Store) -> None:
    child = team_child(store, desk.team_a)
    sign_in(client, "mo")
    page = f"/children/{child}"
    refused = post_form(client, page, f"{page}/close", {"on": TODAY.isoformat(), "reason": ""})
    assert refused.status_code == 400
    assert "Reason: say why the case is closing." in refused.text
    closed = post_form(
        client, page, f"{page}/close", {"on": TODAY.isoformat(), "reason": "moved away"}
    )
    assert closed.status_code == 200
    row = store.child_row(child)
    assert row is not None
    assert row.closed_on == TODAY
    assert [e.by for e in store.history(child) if e.action == "child closed"] == ["mo"]
    words = text(closed.text)
    assert "Closed from" in words
    assert "Case closed" in words
    assert "Close the case" not in words  # nothing more to change on a closed case
    # Closed: no edits.
    token = token_of(closed.text)
    again = client.post(f"{page}/edit", data={"case_ref": "X-1", "csrftoken": token})
    assert again.status_code == 409


def test_two_managers_one_closes_the_case_the_other_is_told_so(desk: Desk, store: Store) -> None:
    """Both have the child's page open; the admin closes the case, then the manager saves a
    correction, and then closes it too: each is told the case was closed, by whom and from
    when, and nothing is written (it said "Not yours to open", to the child's own manager)."""
    from tests.web.conftest import make_client

    child = team_child(store, desk.team_a)
    page = f"/children/{child}"
    mo, ada = make_client(store), make_client(store)
    sign_in(mo, "mo")
    sign_in(ada, "ada")
    open_page = mo.get(page).text
    closed = post_form(ada, page, f"{page}/close", {"on": "30/11/2026", "reason": "moved away"})
    assert closed.status_code == 200
    before = store.revision()
    token = token_of(open_page)
    for action, data in (
        ("edit", {"case_ref": "CR-LATE-1"}),
        ("close", {"on": "01/12/2026", "reason": "family moved"}),
    ):
        late = mo.post(f"{page}/{action}", data={**data, "csrftoken": token})
        assert late.status_code == 409, action
        words = text(late.text)
        assert "Not yours to open" not in words
        assert "This case was closed from Mon 30 Nov 2026 by ada: nothing was changed." in words
    assert store.revision() == before


def test_a_case_does_not_close_after_today(client, desk: Desk, store: Store) -> None:
    """As on the command line: a closing day still to come would hide an overdue child from
    the due list until then; refused in words with a 400, nothing written."""
    child = team_child(store, desk.team_a)
    sign_in(client, "mo")
    before = store.revision()
    page = f"/children/{child}"
    refused = post_form(client, page, f"{page}/close", {"on": "09/12/2026", "reason": "x"})
    assert refused.status_code == 400
    assert "Closing date: the day must be today or earlier." in text(refused.text)
    assert "--on" not in refused.text
    assert store.revision() == before
    row = store.child_row(child)
    assert row is not None
    assert row.closed_on is None


@pytest.mark.parametrize(
    ("on", "reason", "option"),
    [
        pytest.param(TODAY + timedelta(days=1), "moved away", "--on", id="tomorrow"),
        pytest.param(TODAY, "", "--reason", id="blank reason"),
    ],
)
def test_the_service_closes_no_case_after_today(
    store: Store, on: date, reason: str, option: str
) -> None:
    """The rule lives in the service, so the desk and the command line share it."""
    child = team_child(store, "team-01")
    before = store.revision()
    with pytest.raises(InputError) as refused:
        service.close_child(store, child, on, reason, today=TODAY, by="t")
    assert [p.field for p in refused.value.problems] == [option]
    assert store.revision() == before


def test_child_page_access(client, desk: Desk, store: Store) -> None:
    ours = team_child(store, desk.team_a)
    theirs = team_child(store, desk.team_b)
    sign_in(client, "mo")
    assert client.get(f"/children/{ours}").status_code == 200
    assert client.get(f"/children/{theirs}").status_code == 403
    token = token_of(client.get(f"/children/{ours}").text)
    before = store.revision()
    post = client.post(
        f"/children/{theirs}/close",
        data={"on": TODAY.isoformat(), "reason": "x", "csrftoken": token},
    )
    assert post.status_code == 403
    no_csrf = client.post(f"/children/{ours}/close", data={"on": "2026-12-02", "reason": "x"})
    assert no_csrf.status_code == 403
    assert store.revision() == before
    client.post("/logout", data={"csrftoken": token})
    sign_in(client, "wes")
    assert client.get(f"/children/{ours}").status_code == 403
    sign_in(client, "ada")
    assert client.get(f"/children/{theirs}").status_code == 200
    assert client.get("/children/no-such-child").status_code == 404


# ------------------------------------------------------------------ pins


def test_pins_promise_nothing_re_plans_do_not_do(client, desk: Desk, store: Store) -> None:
    visit = later_visit(store, desk.team_a)
    sign_in(client, "mo")
    post_form(client, f"/visits/{visit}", f"/visits/{visit}/pin", {})
    page = text(client.get(f"/visits/{visit}").text)
    assert "Pinned" in page
    assert "Re-plans keep it here" in page
    assert "re-plans keep it" not in page


def test_a_closed_childs_earlier_visit_still_names_them(client, desk: Desk, store: Store) -> None:
    """A child visited on Monday (the outcome recorded) whose case closes on Wednesday: the
    week board, the visit's page and the outcomes page still name them by case reference,
    with their category and the recorded outcome (the block showed no case reference,
    "Early help" and "Awaiting outcome"; the visit page listed no child)."""
    snap = snapshot(store)
    monday = TODAY - timedelta(days=2)
    visit = next(
        v
        for v in snap.plan.visits
        if v.day == monday
        and snap.team_of(v) == desk.team_a
        and len(v.child_ids) == 1
        and snap.children[v.child_ids[0]].category != "early-help"
        and snap.state(v, TODAY) == "completed"
    )
    child = snap.children[visit.child_ids[0]]
    store.close_child(child.id, TODAY, "moved away", by="mo")
    sign_in(client, "mo")
    board = client.get(f"/teams/{desk.team_a}/week?start={monday.isoformat()}").text
    block = re.search(rf'<a class="visit [^"]*"\s+href="/visits/{visit.id}".*?</a>', board, re.S)
    assert block is not None
    words = text(block.group(0))
    assert child.case_ref in words
    assert "Completed" in words
    assert "Awaiting outcome" not in words
    assert f"cat-{child.category}" in block.group(0)
    page = text(client.get(f"/visits/{visit.id}").text)
    assert page.count(child.case_ref) >= 2  # the children and the rules it met
    outcomes = client.get(f"/teams/{desk.team_a}/outcomes?day={monday.isoformat()}").text
    assert child.case_ref in text(outcomes)
