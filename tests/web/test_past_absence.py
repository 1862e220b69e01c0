"""An absence already over, recorded on the desk: the preview says what it changes.

Rule: a real desk on a real store; the absence is posted through the form, as a manager does.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from scheduler.store import Store
from scheduler.web.absences import PAST_ABSENCE
from tests.web.conftest import NOW, Desk, post_form, sign_in
from tests.web.test_pages import text


@pytest.mark.parametrize(("ends_days_ago", "noted"), [(1, True), (0, False)])
def test_an_absence_over_before_today_is_noted_on_the_preview(
    client, desk: Desk, store: Store, ends_days_ago: int, noted: bool
) -> None:
    """The edge pair: away until yesterday is noted; away until today is an absence like any."""
    sign_in(client, "mo")
    last = NOW.date() - timedelta(days=ends_days_ago)
    page = f"/teams/{desk.team_a}/absences"
    response = post_form(
        client,
        page,
        page,
        {
            "worker": desk.other_worker,
            "from": (last - timedelta(days=2)).isoformat(),
            "to": last.isoformat(),
            "reason": "sickness",
        },
    )
    assert response.status_code == 200
    assert "re-plan from" in text(response.text)
    assert (PAST_ABSENCE in text(response.text)) == noted
    assert any(a.end == last for a in store.read_scenario().absences)
