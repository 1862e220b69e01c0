"""The desk after a worker leaves (`visitplan workers leave`): every page still answers, the
leaver's own sign-in is refused, and their visits show until a re-plan moves them."""

from __future__ import annotations

import pytest

from scheduler import service
from scheduler.store import Store
from scheduler.workforce import worker_leaves
from solver import SolveParams
from tests.web.conftest import NOW, TUESDAY, Desk, make_client, sign_in

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
    leaver = make_client(store)
    refused = leaver.get("/login")
    assert refused.status_code == 200
    with pytest.raises(AssertionError):
        sign_in(leaver, "wes")  # the leaver's own sign-in was disabled with them
