"""The desk's clock is the front door's: `visitplan serve` gives the desk the command line's
today and now (on `VISITPLAN_TODAY` when it is set, for a rehearsal), while calendars and feed
tokens keep the real time.

Rule: the desk `serve` builds (`cli.desk._desk`), on a real store, in memory (no sockets).
"""

from __future__ import annotations

import warnings
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from integrations.feeds import FeedServer, issue_token, revoke_token
from scheduler.cli.clock import now_utc
from scheduler.cli.desk import _desk
from scheduler.feed_source import StoreFeedSource
from scheduler.store import Store, feed_tokens_table
from scheduler.web.app import create_app
from scheduler.web.context import DeskServices, PublishCounts
from tests.web.conftest import NOW, SECRET, Desk, post_form, sign_in, token_of
from tests.web.test_corrections import team_child
from tests.web.test_pages import text

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

REHEARSED = date(2026, 12, 3)
"""The Thursday a rehearsal fixes (the store's plan started on Monday 30 November)."""


@pytest.fixture
def served(store: Store, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> TestClient:
    """The desk as `VISITPLAN_TODAY=2026-12-03 visitplan serve` builds it (no calendars)."""
    monkeypatch.setenv("VISITPLAN_TODAY", REHEARSED.isoformat())
    monkeypatch.setenv("VISITPLAN_SECRET_KEY", SECRET)
    monkeypatch.delenv("VISITPLAN_CALDAV_URL", raising=False)
    monkeypatch.setenv("VISITPLAN_CONFIG", str(tmp_path / "no-caldav.toml"))
    feeds = FeedServer(StoreFeedSource(store), now_utc)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return TestClient(_desk(store, "http://testserver", feeds), follow_redirects=True)


def test_serve_s_desk_rehearses_the_day_visitplan_today_fixes(
    served: TestClient, desk: Desk, store: Store
) -> None:
    """Its today is VISITPLAN_TODAY (not the machine's date): the due list is as of it, a
    re-plan starts on it, and a change made through the desk is stamped on it, so `history`
    never shows a desk change before the command line's of the same rehearsal."""
    sign_in(served, "mo")
    due = text(served.get(f"/teams/{desk.team_a}/due").text)
    assert "As of Thursday 3 December 2026" in due
    absences = served.get(f"/teams/{desk.team_a}/absences").text
    assert 'name="from" value="03/12/2026"' in absences  # Re-plan from
    child = store.child_row(team_child(store, desk.team_a)).child  # type: ignore[union-attr]
    page = f"/children/{child.id}"
    form = {
        "category": child.category,
        "placement_type": child.placement_type or "",
        "worker": child.allocated_worker or "",
        "case_ref": "CR-CLOCK-1",
    }
    edited = post_form(served, page, f"{page}/edit", form)
    assert edited.status_code == 200
    stamp = next(e.at for e in store.history(child.id) if e.action == "child edited")
    assert stamp is not None
    assert stamp.date() == REHEARSED  # SQLite keeps the UK wall time the clock gave


def test_serve_s_desk_stamps_feed_tokens_on_the_real_clock(
    served: TestClient, desk: Desk, store: Store
) -> None:
    """Feed tokens (like calendar revisions) are not rehearsed: `serve` gives the desk's
    services the real UTC clock, as `feeds issue` and `publish` use."""
    assert served.app.state.desk.services.clock is now_utc  # type: ignore[attr-defined]
    sign_in(served, "wes")
    post_form(served, "/me", "/me/feed", {})
    with store.engine.connect() as conn:
        issued = conn.execute(
            select(feed_tokens_table.c.issued_at).where(
                feed_tokens_table.c.worker_id == desk.worker
            )
        ).scalar_one()
    real = datetime.now(UTC)
    assert abs(issued.replace(tzinfo=issued.tzinfo or UTC) - real) < timedelta(minutes=5)


class Publishes:
    """Records the time each publish was given."""

    def __init__(self) -> None:
        self.at: list[datetime] = []

    def __call__(self, store: Store, now: datetime, settle: object = None) -> PublishCounts:
        self.at.append(now)
        return PublishCounts(0, 0, 0, 0, 0, 0)


def test_calendars_are_published_on_the_services_clock(desk: Desk, store: Store) -> None:
    """A rehearsing desk publishes with the real time (a revision stamped on a rehearsed day
    could fall behind one already on the server); without a services clock, the desk's."""
    real = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    publishes = Publishes()
    services = DeskServices(issue_token, revoke_token, publishes, clock=lambda: real)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        client = TestClient(
            create_app(store, lambda: NOW, SECRET, services, "http://testserver"),
            follow_redirects=True,
        )
    sign_in(client, "mo")
    page = client.get(f"/teams/{desk.team_a}/absences")
    client.post(f"/teams/{desk.team_a}/publish", data={"csrftoken": token_of(page.text)})
    assert publishes.at == [real]
