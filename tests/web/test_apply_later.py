"""A preview applied after the times it places have passed is refused, not stored.

Rule: a real desk on a real store with real solves; the desk's clock is moved on between the
preview and Apply, as a manager who previews at 10:00 and applies after lunch sees it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from starlette.testclient import TestClient

from scheduler.store import Store
from tests.web.conftest import NOW, Desk, make_client, post_form, sign_in, token_of
from tests.web.test_pages import text, wait_for_preview

pytestmark = pytest.mark.slow  # a real re-plan preview


@pytest.mark.parametrize(
    ("later", "applied"), [(timedelta(minutes=5), True), (timedelta(hours=12), False)]
)
def test_a_preview_applied_after_its_times_passed_is_refused(
    desk: Desk, store: Store, later: timedelta, applied: bool
) -> None:
    """The worker is off from today; the preview hands today's visits over at times still
    ahead at 10:00. Applied five minutes later it is stored; applied at 22:00 (its visits
    today gone by) it is refused with a fresh preview offered, and the plan is unchanged."""
    clock = [NOW]
    client = make_client(store, clock=lambda: clock[0])
    sign_in(client, "mo")
    absences = f"/teams/{desk.team_a}/absences"
    today = NOW.date().isoformat()
    response = post_form(
        client,
        absences,
        absences,
        {"worker": desk.worker, "from": today, "to": today, "reason": "sickness"},
    )
    html = wait_for_preview(client, str(response.url))
    assert "What would change" in text(html)
    report_times = [datetime.fromisoformat(s) for s in _placed_starts(client, response.url.path)]
    assert any(t.date() == NOW.date() for t in report_times), "visits handed over today"
    before = store.current_plan()
    clock[0] = NOW + later
    result = client.post(f"{response.url.path}/apply", data={"csrftoken": token_of(html)})
    if applied:
        assert "Applied." in result.text
        assert store.current_plan() != before
    else:
        words = text(result.text)
        assert "Not applied" in words
        assert "has passed since it was made" in words
        assert "Make a fresh preview" in words
        assert store.current_plan() == before


def _placed_starts(client: TestClient, path: str) -> list[str]:
    """Starts of the visits the preview adds, moves or reassigns (the desk's job)."""
    job = client.app.state.desk.jobs.get(path.rsplit("/", 1)[-1], "mo")  # type: ignore[attr-defined]
    assert job is not None
    assert job.report is not None
    return [
        c.start_after
        for c in job.report.changes
        if c.kind in ("added", "moved", "reassigned") and c.start_after is not None
    ]
