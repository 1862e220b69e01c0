"""The desk's Publish against a real Radicale on 127.0.0.1: the counts the page shows are what
the server received.

Rule: `visitplan serve`'s own publisher (the composition root's, reading VISITPLAN_CALDAV_*)
and a real CalDAV server; the server's calendars are read back over CalDAV to count.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from integrations.dav import DavConfig, connect
from integrations.testing import RadicaleServer
from scheduler.store import Store
from tests.integrations.conftest import PASSWORD, USER, own_radicale
from tests.web.conftest import Desk, make_client, post_form, sign_in
from tests.web.test_pages import text

pytestmark = [pytest.mark.integration, pytest.mark.allow_hosts(["127.0.0.1"])]
__all__ = ["own_radicale"]  # the calendar tests' fixture: a fresh Radicale for each test
COUNTS = re.compile(
    r"Published: (\d+) created, (\d+) updated, (\d+) cancelled, (\d+) deleted, (\d+) unchanged"
)


def server_events(server: RadicaleServer) -> dict[str, int]:
    """Events on the server by calendar name (read back over CalDAV)."""
    client: Any = connect(DavConfig(url=server.url, username=USER, password=PASSWORD))
    out = {}
    for calendar in client.principal().calendars():
        out[str(calendar.url)] = len(calendar.search(event=True))
    return out


def published(html: str) -> tuple[int, ...]:
    found = COUNTS.search(text(html))
    assert found, text(html)[:500]
    return tuple(int(n) for n in found.groups())


def publishing_client(
    store: Store, radicale: RadicaleServer, monkeypatch: pytest.MonkeyPatch
) -> Any:
    """A desk client signed in as the manager "mo", publishing to `radicale` through the
    publisher `visitplan serve` wires in."""
    from scheduler.cli.calendars import _publisher

    monkeypatch.setenv("VISITPLAN_CALDAV_URL", radicale.url)
    monkeypatch.setenv("VISITPLAN_CALDAV_USERNAME", USER)
    monkeypatch.setenv("VISITPLAN_CALDAV_PASSWORD", PASSWORD)
    client = make_client(store, publish=_publisher)
    sign_in(client, "mo")
    return client


def test_publish_counts_equal_what_the_server_received(
    desk: Desk, store: Store, own_radicale: RadicaleServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = publishing_client(store, own_radicale, monkeypatch)
    page = f"/teams/{desk.team_a}/absences"
    first = post_form(client, page, f"/teams/{desk.team_a}/publish", {})
    assert first.status_code == 200
    created, updated, cancelled, deleted, unchanged = published(first.text)
    on_server = server_events(own_radicale)
    plan = store.current_plan()
    assert plan is not None
    live = [v for v in plan.visits if v.status != "cancelled"]
    assert created == sum(on_server.values())
    # One event per visit in its worker's calendar, and one more in the second worker's.
    assert created == len(live) + sum(1 for v in live if v.second_worker_id)
    assert (updated, cancelled, deleted, unchanged) == (0, 0, 0, 0)
    # Publishing again changes nothing on the server, and the page says so.
    again = post_form(client, page, f"/teams/{desk.team_a}/publish", {})
    assert published(again.text) == (0, 0, 0, 0, created)
    assert server_events(own_radicale) == on_server


def test_publish_to_a_server_that_says_no_is_a_message(
    desk: Desk, store: Store, own_radicale: RadicaleServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scheduler.cli.calendars import _publisher

    monkeypatch.setenv("VISITPLAN_CALDAV_URL", own_radicale.url)
    monkeypatch.setenv("VISITPLAN_CALDAV_USERNAME", USER)
    monkeypatch.setenv("VISITPLAN_CALDAV_PASSWORD", "the wrong password")
    client = make_client(store, publish=_publisher)
    sign_in(client, "mo")
    page = f"/teams/{desk.team_a}/absences"
    refused = post_form(client, page, f"/teams/{desk.team_a}/publish", {})
    assert refused.status_code == 502
    assert "the calendar server said no" in refused.text
    assert "Traceback" not in refused.text
    assert PASSWORD not in refused.text
