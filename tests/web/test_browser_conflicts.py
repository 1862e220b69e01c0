"""Settling a calendar conflict from the desk in a real browser: Debian's Chromium driven by
Playwright against a real `visitplan serve` publishing to a real Radicale, both on 127.0.0.1.

Rule: `integration` and `slow`, loopback only; the worker's change is made on the Radicale
server itself (caldav), and the result is read back from the server and the store's ledger.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from integrations.ledger import PUBLISHED
from integrations.testing import RadicaleServer
from scheduler.domain import LedgerEntry
from scheduler.store import Store
from tests.integrations.conftest import PASSWORD, USER, dav_client, own_radicale
from tests.integrations.test_publish_conflicts import delete_on_server, edit_on_server
from tests.web.test_browser import (
    Server,
    assert_private,
    browser,
    new_page,
    serving,
    shots,
    sign_in,
)
from tests.web.test_publish_conflicts import WORKERS_EDIT, server_event

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.allow_hosts(["127.0.0.1"])]
__all__ = [
    "browser",
    "own_radicale",
    "shots",
]  # fixtures: Chromium, and a fresh Radicale for the test


@pytest.fixture
def calendared(tmp_path: Path, own_radicale: RadicaleServer) -> Iterator[Server]:
    """`visitplan serve` with calendars on the test's Radicale."""
    caldav = {
        "VISITPLAN_CALDAV_URL": own_radicale.url,
        "VISITPLAN_CALDAV_USERNAME": USER,
        "VISITPLAN_CALDAV_PASSWORD": PASSWORD,
    }
    with serving(tmp_path, caldav) as running:
        yield running


def ledger(server: Server, uid: str) -> LedgerEntry | None:
    store = Store(server.db)
    try:
        return store.ledger_get(uid)
    finally:
        store.close()


def published_of(server: Server, worker: str) -> list[LedgerEntry]:
    """The events on the worker's calendar as the ledger last published them."""
    store = Store(server.db)
    try:
        return [
            e
            for e in store.ledger_all(worker)
            if e.status == PUBLISHED and e.href and e.visit is not None and e.worker_id == worker
        ]
    finally:
        store.close()


def colleague(server: Server) -> str:
    """Another social worker of team-01 with events on their calendar."""
    store = Store(server.db)
    try:
        team = [w.id for w in store.read_scenario().workers if w.team_id == "team-01"]
    finally:
        store.close()
    return next(w for w in team if w != server.worker and published_of(server, w))


def publish(page: Any, server: Server, errors: list[str]) -> None:
    """Publish from the desk: the page of a result no longer kept (a 404, which the console
    reports) offers Publish again."""
    page.goto(f"{server.url}/teams/team-01/calendars/none")
    assert errors == [
        "Failed to load resource: the server responded with a status of 404 (Not Found)"
    ]
    errors.clear()
    page.get_by_role("button", name="Publish again").click()
    page.wait_for_url(re.compile(r"/teams/team-01/calendars/[\w-]+$"))
    page.get_by_text("Published:").wait_for()


def test_manager_puts_the_plans_visit_back_and_back_posts_nothing(
    browser: Any, calendared: Server, own_radicale: RadicaleServer, shots: Path
) -> None:
    page, errors = new_page(browser)
    sign_in(page, calendared, "mo")
    publish(page, calendared, errors)
    assert "Changed or deleted by the worker" not in page.content()
    edited = published_of(calendared, calendared.worker)[0]
    deleted = published_of(calendared, colleague(calendared))[0]
    dav = dav_client(own_radicale)
    edit_on_server(dav, str(edited.href), WORKERS_EDIT)
    delete_on_server(dav, str(deleted.href))

    publish(page, calendared, errors)
    listed = page.url
    rows = page.locator("tbody tr")
    assert rows.count() == 2
    deleted_row = rows.filter(has=page.locator(f'input[name="uid"][value="{deleted.uid}"]'))
    assert "Deleted it from their calendar" in deleted_row.inner_text()
    row = rows.filter(has=page.locator(f'input[name="uid"][value="{edited.uid}"]'))
    assert "Changed it on their calendar" in row.inner_text()
    page.screenshot(path=str(shots / "calendar-conflicts.png"), full_page=True)
    row.get_by_role("button", name="Put the plan's visit back").click()
    page.wait_for_url(re.compile(r"/teams/team-01/calendars/[\w-]+$"))
    settled = page.url
    assert settled != listed
    assert not settled.endswith("/settle"), "the answer to the POST is a page of its own"
    status = page.get_by_role("status").first
    assert "is back on" in status.inner_text()
    assert page.locator(f'input[name="uid"][value="{edited.uid}"]').count() == 0
    event = server_event(own_radicale, str(edited.href))
    assert event is not None
    assert event["SUMMARY"] != WORKERS_EDIT
    sequence = int(event["SEQUENCE"])
    assert sequence > edited.sequence
    after = ledger(calendared, edited.uid)
    assert after is not None
    assert after.sequence == sequence

    # Back shows the list as it was, by GET: nothing is posted again.
    page.go_back()
    page.wait_for_url(listed)
    page.get_by_role("heading", name="Changed or deleted by the worker").wait_for()
    # Reload the result: the same page, nothing posted.
    page.go_forward()
    page.wait_for_url(settled)
    page.reload()
    assert "is back on" in page.get_by_role("status").first.inner_text()
    assert int(server_event(own_radicale, str(edited.href))["SEQUENCE"]) == sequence
    assert ledger(calendared, edited.uid) == after
    assert "Confirm Form Resubmission" not in page.content()
    assert_private(page)
    assert errors == []
