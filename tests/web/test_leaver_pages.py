"""The desk after a worker leaves (`visitplan workers leave`): every page still answers, the
leaver's own sign-in is refused, and their visits show until a re-plan moves them."""

from __future__ import annotations

import pytest

from scheduler import service
from scheduler.store import Store
from scheduler.workforce import worker_leaves
from solver import SolveParams
from tests.web.conftest import NOW, TUESDAY, Desk, make_client, post_form, sign_in, token_of
from tests.web.test_pages import text, wait_for_preview

TODAY = NOW.date()


def _pages(store: Store, desk: Desk) -> list[str]:
    """The team's pages, the authority's, and each page of the leaver's remaining visits."""
    plan = store.current_plan()
    assert plan is not None
    theirs = [v.id for v in plan.visits if desk.worker in (v.worker_id, v.second_worker_id)]
    team = f"/teams/{desk.team_a}"
    return [
        "/",
        "/teams",
        "/due",
        f"{team}/week",
        f"{team}/due",
        f"{team}/outlook",
        f"{team}/absences",
        f"{team}/outcomes",
        *(f"/visits/{v}" for v in theirs),
    ]


@pytest.mark.parametrize("replanned", [False, True])
def test_every_page_answers_after_a_worker_leaves(
    store: Store, desk: Desk, replanned: bool
) -> None:
    worker_leaves(store, desk.worker, TUESDAY, TODAY, to=desk.other_worker, now=NOW)
    if replanned:
        proposal = service.propose_replan(store, SolveParams(time_limit_s=0.3, seed=0), today=TODAY)
        assert [c for c in proposal.changes if c.worker_before == desk.worker]
        service.apply_replan(store, proposal, by="ada", now=NOW)
    client = make_client(store)
    for page in _pages(store, desk):
        assert client.get(page).status_code in (200, 303, 401), page  # not signed in yet
    sign_in(client, "ada")
    for page in _pages(store, desk):
        response = client.get(page)
        assert response.status_code == 200, (page, response.status_code)
    # The leaver's row on the board: their visits (still to be moved, or history), named.
    name = next(w.name for w, _on in store.left_workers() if w.id == desk.worker)
    week = text(client.get(f"/teams/{desk.team_a}/week").text)
    assert f"{name} social worker, left" in week
    assert "Has left" in week
    made = next(r for r in store.read_scenario().records if r.worker_id == desk.worker)
    assert name in text(client.get(f"/children/{made.child_id}").text)
    leaver = make_client(store)
    refused = leaver.get("/login")
    assert refused.status_code == 200
    with pytest.raises(AssertionError):
        sign_in(leaver, "wes")  # the leaver's own sign-in was disabled with them


@pytest.mark.slow
def test_a_manager_records_a_leaver_on_the_desk_and_applies_the_replan(
    store: Store, desk: Desk
) -> None:
    """The absences page's "Someone has left" form: refusals name what to fix and write
    nothing; then the children go to the colleague, the preview lists the leaver's visits as
    changes that had to happen, and applying it leaves none of theirs from today."""
    client = make_client(store)
    sign_in(client, "mo")
    absences = f"/teams/{desk.team_a}/absences"
    leaver_form = f"/teams/{desk.team_a}/leaver"
    before = store.revision()
    unconfirmed = post_form(
        client, absences, leaver_form, {"worker": desk.worker, "to": desk.other_worker}
    )
    assert unconfirmed.status_code == 400
    assert "Tick the box" in text(unconfirmed.text)
    no_colleague = post_form(
        client, absences, leaver_form, {"worker": desk.worker, "confirm": "yes"}
    )
    assert no_colleague.status_code == 400
    assert "choose who takes them over" in text(no_colleague.text)
    assert store.revision() == before
    assert store.worker(desk.worker) is not None
    theirs = [c.id for c in store.read_scenario().children if c.allocated_worker == desk.worker]
    plan_before = store.current_plan()
    assert plan_before is not None
    response = post_form(
        client,
        absences,
        leaver_form,
        {"worker": desk.worker, "to": desk.other_worker, "confirm": "yes"},
    )
    assert response.url.path.startswith(f"/teams/{desk.team_a}/replan/")
    assert store.worker(desk.worker) is None
    allocated = {c.id: c.allocated_worker for c in store.read_scenario().children}
    assert {allocated[c] for c in theirs} == {desk.other_worker}
    html = wait_for_preview(client, str(response.url))
    words = text(html)
    upcoming = [v for v in plan_before.visits if v.worker_id == desk.worker and v.day >= TODAY]
    assert upcoming
    assert "has left" in words
    assert f"{len(upcoming)} had to change (worker away, left or committed)" in words
    applied = client.post(f"{response.url.path}/apply", data={"csrftoken": token_of(html)})
    assert "Applied." in applied.text
    plan_after = store.current_plan()
    assert plan_after is not None
    assert not [v for v in plan_after.visits if v.worker_id == desk.worker and v.day >= TODAY]
    page = client.get(absences)
    assert f'<option value="{desk.worker}">' not in page.text


def test_a_leaver_recorded_late_on_the_desk_keeps_the_day_they_left(
    store: Store, desk: Desk
) -> None:
    """ "Left on" (today by default): a day after today or one that is no date is refused
    with what to do and writes nothing; yesterday, recorded on Wednesday, is kept as given."""
    client = make_client(store)
    sign_in(client, "mo")
    absences = f"/teams/{desk.team_a}/absences"
    assert f'name="on" value="{TODAY:%d/%m/%Y}"' in client.get(absences).text
    form = {"worker": desk.worker, "to": desk.other_worker, "confirm": "yes"}
    leaver_form = f"/teams/{desk.team_a}/leaver"
    before = store.revision()
    for typed, message in (("03/12/2026", "has not left yet"), ("31/11/2026", "dd/mm/yyyy")):
        refused = post_form(client, absences, leaver_form, {**form, "on": typed})
        assert refused.status_code == 400
        assert message in text(refused.text)
    assert store.revision() == before
    assert store.worker(desk.worker) is not None
    response = post_form(client, absences, leaver_form, {**form, "on": "01/12/2026"})
    assert response.url.path.startswith(f"/teams/{desk.team_a}/replan/")
    assert {w.id: on for w, on in store.left_workers()}[desk.worker] == TUESDAY
