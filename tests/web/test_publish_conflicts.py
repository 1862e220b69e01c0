"""Settling calendar conflicts from the desk, against a real Radicale on 127.0.0.1: a worker
edits one visit's event and deletes another directly on the server; the desk's Publish lists
both in a manager's words, and each button settles its one, checked on the server and in the
ledger afterwards.

Rule: `visitplan serve`'s own publisher (the composition root's, reading VISITPLAN_CALDAV_*),
a real CalDAV server and a real SQLite store; the worker's change is made on the server
itself (caldav), never by touching the ledger.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from integrations.ledger import PUBLISHED, REMOVED
from integrations.testing import RadicaleServer
from scheduler.domain import LedgerEntry
from scheduler.store import Store
from tests.integrations.conftest import PASSWORD, dav_client, own_radicale
from tests.integrations.test_publish_conflicts import delete_on_server, edit_on_server
from tests.web.conftest import (
    ADDRESS_MARK,
    NAME_MARK,
    Desk,
    make_client,
    post_form,
    sign_in,
    token_of,
)
from tests.web.test_pages import text
from tests.web.test_publish import publishing_client

pytestmark = [pytest.mark.integration, pytest.mark.allow_hosts(["127.0.0.1"])]
__all__ = ["own_radicale"]  # the calendar tests' fixture: a fresh Radicale for each test
LONDON = ZoneInfo("Europe/London")
WORKERS_EDIT = "Moved by me - worker"
SETTLE_FORM = re.compile(
    r'<form method="post" action="(/teams/[\w-]+/calendars/settle)".*?</form>', re.S
)


def server_event(server: RadicaleServer, href: str) -> Any | None:
    """The VEVENT at `href` on the server (read back over CalDAV), or None when it is gone."""
    from caldav import Event
    from caldav.lib import error

    obj = Event(client=dav_client(server), url=href)
    try:
        obj.load()
    except error.NotFoundError:
        return None
    return next(iter(Calendar.from_ical(obj.raw_data).walk("VEVENT")))


@dataclass
class Conflicts:
    """The desk published to Radicale; one event edited and one deleted on the server."""

    client: Any
    edited: LedgerEntry
    deleted: LedgerEntry
    result: str
    """The page after the desk's publish that found them."""


def expected_words(store: Store, entry: LedgerEntry) -> tuple[str, str, str]:
    """The worker's name, the case references and the day and time the desk shows."""
    scenario = store.read_scenario()
    assert entry.visit is not None
    refs = {c.id: c.case_ref for c in scenario.children}
    names = {w.id: w.name for w in scenario.workers}
    start = entry.visit.start.astimezone(LONDON)
    return (
        names[entry.worker_id],
        ", ".join(refs[c] for c in entry.visit.child_ids),
        f"{start:%a} {start.day} {start:%b %H:%M}",
    )


def settle_form(html: str, uid: str | None, worker: str) -> dict[str, str]:
    """The fields of the settle form for `uid` (None: the one for all of `worker`'s)."""
    for form in SETTLE_FORM.finditer(html):
        fields = dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', form.group(0)))
        if fields.get("worker") == worker and fields.get("uid") == uid:
            return fields
    raise AssertionError(f"no settle form for {uid} on {worker}'s calendar")


@pytest.fixture
def conflicts(
    desk: Desk, store: Store, own_radicale: RadicaleServer, monkeypatch: pytest.MonkeyPatch
) -> Conflicts:
    client = publishing_client(store, own_radicale, monkeypatch)
    page = f"/teams/{desk.team_a}/absences"
    first = post_form(client, page, f"/teams/{desk.team_a}/publish", {})
    assert first.status_code == 200, text(first.text)[:400]
    assert "Changed or deleted by the worker" not in first.text

    def first_of(worker: str) -> LedgerEntry:
        return next(
            e
            for e in sorted(store.ledger_all(worker), key=lambda e: e.uid)
            if e.status == PUBLISHED and e.href and e.visit is not None and e.worker_id == worker
        )

    edited, deleted = first_of(desk.worker), first_of(desk.other_worker)
    dav = dav_client(own_radicale)
    edit_on_server(dav, str(edited.href), WORKERS_EDIT)
    delete_on_server(dav, str(deleted.href))
    result = post_form(client, page, f"/teams/{desk.team_a}/publish", {})
    assert result.status_code == 200
    return Conflicts(client, edited, deleted, result.text)


def test_the_desk_lists_each_conflict_in_a_managers_words(
    conflicts: Conflicts, store: Store
) -> None:
    page = text(conflicts.result)
    assert "Changed or deleted by the worker" in page
    assert "2 visit(s) had been changed or deleted" in page
    for entry, what in (
        (conflicts.edited, "Changed it on their calendar"),
        (conflicts.deleted, "Deleted it from their calendar"),
    ):
        name, cases, when = expected_words(store, entry)
        row = next(r for r in re.findall(r"<tr>.*?</tr>", conflicts.result, re.S) if entry.uid in r)
        assert [name, cases, when, what] == [w for w in (name, cases, when, what) if w in text(row)]
        assert "Put the plan's visit back" in text(row)
        assert "Keep the worker's change" in text(row)
    assert "visitplan publish" not in page, "the desk settles it itself now"
    assert NAME_MARK not in conflicts.result
    assert ADDRESS_MARK not in conflicts.result


def test_put_the_plans_visit_back_settles_that_one_only(
    conflicts: Conflicts, store: Store, own_radicale: RadicaleServer, desk: Desk
) -> None:
    edited, deleted = conflicts.edited, conflicts.deleted
    assert server_event(own_radicale, str(edited.href))["SUMMARY"] == WORKERS_EDIT
    fields = settle_form(conflicts.result, edited.uid, edited.worker_id)
    response = conflicts.client.post(
        f"/teams/{desk.team_a}/calendars/settle",
        data={**fields, "action": "overwrite"},
        follow_redirects=False,
    )
    assert response.status_code == 303, "POST, then GET: Back and reload post nothing"
    location = response.headers["location"]
    assert re.fullmatch(rf"/teams/{desk.team_a}/calendars/[\w-]+", location)
    page = conflicts.client.get(location)
    name, cases, when = expected_words(store, edited)
    assert f"The plan's visit {cases}, {when} is back on {name}'s calendar." in text(page.text)
    # On the server: the plan's version, a new revision with a higher SEQUENCE.
    event = server_event(own_radicale, str(edited.href))
    assert event is not None
    assert event["SUMMARY"] != WORKERS_EDIT
    assert cases.split(", ")[0] in str(event["SUMMARY"])
    assert int(event["SEQUENCE"]) > edited.sequence
    after = store.ledger_get(edited.uid)
    assert after is not None
    assert (after.status, after.sequence) == (PUBLISHED, int(event["SEQUENCE"]))
    # The other conflict is untouched, still listed, and still off the server.
    assert server_event(own_radicale, str(deleted.href)) is None
    assert store.ledger_get(deleted.uid) == deleted
    assert deleted.uid in page.text
    assert edited.uid not in page.text
    # Reloading the result page shows it again and writes nothing.
    again = conflicts.client.get(location)
    assert again.status_code == 200
    assert store.ledger_get(edited.uid) == after


def test_keep_the_workers_change_leaves_the_server_and_is_no_longer_reported(
    conflicts: Conflicts, store: Store, own_radicale: RadicaleServer, desk: Desk
) -> None:
    deleted, edited = conflicts.deleted, conflicts.edited
    fields = settle_form(conflicts.result, deleted.uid, deleted.worker_id)
    page = conflicts.client.post(
        f"/teams/{desk.team_a}/calendars/settle", data={**fields, "action": "accept"}
    )
    name, cases, when = expected_words(store, deleted)
    assert f"{name}'s deletion of the visit {cases}, {when} is kept" in text(page.text)
    assert server_event(own_radicale, str(deleted.href)) is None, "nothing written back"
    kept = store.ledger_get(deleted.uid)
    assert kept is not None
    assert kept.status == REMOVED
    # The edited one: keep it too, then the next publish reports nothing.
    fields = settle_form(page.text, edited.uid, edited.worker_id)
    page = conflicts.client.post(
        f"/teams/{desk.team_a}/calendars/settle", data={**fields, "action": "accept"}
    )
    assert "is kept: it stays as they made it" in text(page.text)
    assert server_event(own_radicale, str(edited.href))["SUMMARY"] == WORKERS_EDIT
    ledger = store.ledger_get(edited.uid)
    assert ledger is not None
    assert ledger.sequence == edited.sequence
    published = post_form(
        conflicts.client, f"/teams/{desk.team_a}/absences", f"/teams/{desk.team_a}/publish", {}
    )
    assert "Changed or deleted by the worker" not in published.text
    assert "Published: 0 created, 0 updated, 0 cancelled, 0 deleted" in text(published.text)
    # The old page's button, pressed again: nothing to settle, said in a sentence.
    stale = conflicts.client.post(
        f"/teams/{desk.team_a}/calendars/settle", data={**fields, "action": "overwrite"}
    )
    assert "Nothing was settled: that visit is no longer changed or deleted" in text(stale.text)
    assert server_event(own_radicale, str(edited.href))["SUMMARY"] == WORKERS_EDIT


def test_a_manager_of_another_team_may_not_settle(
    conflicts: Conflicts, store: Store, own_radicale: RadicaleServer, desk: Desk
) -> None:
    from scheduler.cli.calendars import _publisher

    edited = conflicts.edited
    fields = settle_form(conflicts.result, edited.uid, edited.worker_id)
    other = make_client(store, publish=_publisher)
    sign_in(other, "tess")
    token = token_of(other.get(f"/teams/{desk.team_b}/week").text)
    for team in (desk.team_a, desk.team_b):
        refused = other.post(
            f"/teams/{team}/calendars/settle",
            data={**fields, "csrftoken": token, "action": "overwrite"},
        )
        assert refused.status_code == 403
        assert "do not have access" in refused.text
    assert server_event(own_radicale, str(edited.href))["SUMMARY"] == WORKERS_EDIT
    assert store.ledger_get(edited.uid) == edited
    # Nor may anyone settle without the form's token.
    forged = conflicts.client.post(
        f"/teams/{desk.team_a}/calendars/settle", data={**fields, "csrftoken": "forged"}
    )
    assert forged.status_code == 403
    assert "expired" in forged.text
    assert store.ledger_get(edited.uid) == edited


def test_a_server_that_went_away_is_a_sentence(
    conflicts: Conflicts, store: Store, own_radicale: RadicaleServer, desk: Desk
) -> None:
    edited = conflicts.edited
    fields = settle_form(conflicts.result, edited.uid, edited.worker_id)
    own_radicale.stop()
    response = conflicts.client.post(
        f"/teams/{desk.team_a}/calendars/settle", data={**fields, "action": "overwrite"}
    )
    assert response.status_code == 502
    assert "That was not settled: the calendar server said no" in text(response.text)
    assert "Traceback" not in response.text
    assert PASSWORD not in response.text
    assert store.ledger_get(edited.uid) == edited


def test_settling_without_calendars_configured_says_so(desk: Desk, store: Store) -> None:
    client = make_client(store)
    sign_in(client, "mo")
    worker = desk.worker
    response = post_form(
        client,
        f"/teams/{desk.team_a}/week",
        f"/teams/{desk.team_a}/calendars/settle",
        {"worker": worker, "uid": "v-x@visitplan", "action": "accept"},
    )
    assert response.status_code == 400
    assert "Calendars are not configured on this server" in text(response.text)
