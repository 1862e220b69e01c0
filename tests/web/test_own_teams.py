"""A manager's re-plan on the desk changes only their teams, so another team's pending
changes never stop them applying it.

Rule: a real desk on a real store with real solves; the other team's absence is recorded
elsewhere (the command line) and left un-re-planned, as on a busy Tuesday.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from scheduler import service
from scheduler.domain import Absence
from scheduler.store import Store
from tests.web.conftest import NOW, Desk, busiest, make_client, post_form, sign_in, token_of
from tests.web.test_pages import text, wait_for_preview

pytestmark = pytest.mark.slow  # real re-plan previews


def test_a_manager_applies_their_re_plan_while_another_team_waits(desk: Desk, store: Store) -> None:
    """Both teams have a worker off tomorrow. The first team's manager previews and applies
    their re-plan: it hands over their worker's visits only, names no other team, and the
    other team's visits stay exactly as published for its own manager."""
    tomorrow = NOW.date() + timedelta(days=1)
    plan = store.current_plan()
    assert plan is not None
    scenario = store.read_scenario()
    theirs = busiest(plan, desk.team_b, scenario, NOW.date())
    away = Absence(worker_id=theirs, start=tomorrow, end=tomorrow, reason="sickness")
    service.add_absences(store, [away], by="tess", now=NOW)
    homes = {h.id: h.team_id for h in scenario.households}

    def team_b_ahead() -> list[object]:
        current = store.current_plan()
        assert current is not None
        return sorted(
            (
                v
                for v in current.visits
                if homes[v.household_id] == desk.team_b and v.day >= NOW.date()
            ),
            key=lambda v: v.id,
        )

    before = team_b_ahead()
    client = make_client(store)
    sign_in(client, "mo")
    absences = f"/teams/{desk.team_a}/absences"
    response = post_form(
        client,
        absences,
        absences,
        {
            "worker": desk.worker,
            "from": tomorrow.isoformat(),
            "to": tomorrow.isoformat(),
            "reason": "sickness",
        },
    )
    html = wait_for_preview(client, str(response.url))
    words = text(html)
    assert "What would change" in words
    assert "also changes visits of" not in words
    assert "Apply this re-plan" in words
    result = client.post(f"{response.url.path}/apply", data={"csrftoken": token_of(html)})
    assert "Applied." in result.text
    after = store.current_plan()
    assert after is not None
    assert not [v for v in after.visits if v.worker_id == desk.worker and v.day == tomorrow], (
        "the manager's absent worker's visits are handed over"
    )
    assert team_b_ahead() == before, "the other team's visits are as published"
