"""A worker's own change on their calendar, against a real Radicale on 127.0.0.1: a deletion is
reported as deleted and an edit as changed, on whichever path publishing meets it.

Rule: the worker's change is made on the server itself (caldav's Event, an HTTP DELETE or a
PUT of an edited body), never by touching the ledger; no host other than 127.0.0.1.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from integrations.dav import publish_plan
from integrations.ledger import CANCELLED, DELETED
from scheduler.store import Store
from tests.integrations.conftest import CONTEXT, NOW, make_scenario, make_visit

pytestmark = [pytest.mark.integration, pytest.mark.allow_hosts(["127.0.0.1"])]

GONE = "deleted from the calendar by someone else"
EDITED = "changed on the calendar by someone else"


@pytest.fixture
def store(tmp_path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'ledger.db'}")


def visits_two(hour: int = 10) -> list:
    return [
        make_visit("v1", "w1", hour=hour),
        make_visit("v2", "w2", household="h2", children=("c3",), announced=False),
    ]


def delete_on_server(client: Any, href: str) -> None:
    """The worker deletes the event in their calendar app (an HTTP DELETE, no If-Match)."""
    from caldav import Event

    Event(client=client, url=href).delete()


def edit_on_server(client: Any, href: str, summary: str = "Moved by me - worker") -> None:
    """The worker edits the event's summary in their calendar app (GET, then PUT)."""
    from caldav import Calendar, Event

    parent = Calendar(client=client, url=href.rsplit("/", 1)[0] + "/")
    obj = Event(client=client, url=href, parent=parent)
    obj.load()
    with obj.edit_icalendar_component() as comp:
        comp["SUMMARY"] = summary
    obj.save(increase_seqno=False)


def by_uid(items: list) -> dict[str, tuple[str | None, str | None, str]]:
    return {i.uid: (i.change, i.reason, i.worker_id) for i in items}


@pytest.mark.parametrize("plan_changed", [False, True], ids=["same-plan", "visit-changed"])
def test_a_deletion_is_reported_deleted_and_an_edit_changed(
    client, calendars, store, plan_changed: bool
) -> None:
    """Defect 3: Radicale lists a deleted event as a member without an ETag (RFC 6578's removed
    member), which read as "changed". Both paths: the plan unchanged (the event is published)
    and the visit changed since (the new revision meets the worker's change)."""
    scenario = make_scenario(calendar_urls=calendars)
    publish_plan(client, store, visits_two(), scenario, NOW, context=CONTEXT)
    delete_on_server(client, store.ledger_get("v1@visitplan").href)
    edit_on_server(client, store.ledger_get("v2@visitplan").href)
    visits = visits_two(hour=15 if plan_changed else 10)
    if plan_changed:
        visits[1] = make_visit("v2", "w2", household="h2", children=("c3",), hour=16)
    report = publish_plan(
        client, store, visits, scenario, NOW + timedelta(hours=1), context=CONTEXT
    )
    assert by_uid(report.conflicts) == {
        "v1@visitplan": ("deleted", GONE, "w1"),
        "v2@visitplan": ("changed", EDITED, "w2"),
    }
    assert report.writes == 0


def test_a_deleted_event_the_plan_also_removed_is_no_conflict(client, calendars, store) -> None:
    """The edge pair of the above: the worker deleted an event whose visit the plan then removed.
    Both want it gone, so nothing is reported and the ledger closes it."""
    scenario = make_scenario(calendar_urls=calendars)
    publish_plan(client, store, visits_two(), scenario, NOW, context=CONTEXT)
    delete_on_server(client, store.ledger_get("v1@visitplan").href)
    report = publish_plan(
        client, store, visits_two()[1:], scenario, NOW + timedelta(hours=1), context=CONTEXT
    )
    assert report.conflicts == []
    assert report.writes == 0
    assert store.ledger_get("v1@visitplan").status == DELETED


def test_a_cancelled_event_edited_is_changed_and_deleted_is_done(client, calendars, store) -> None:
    """After the cancellation's grace: an edited cancelled event is a change (not deleted over
    the worker's edit); a cancelled event the worker deleted is simply done."""
    scenario = make_scenario(calendar_urls=calendars)
    both = [*visits_two(), make_visit("v3", "w1", hour=14)]
    publish_plan(client, store, both, scenario, NOW, context=CONTEXT)
    publish_plan(client, store, both[1:2], scenario, NOW + timedelta(hours=1), context=CONTEXT)
    assert store.ledger_get("v1@visitplan").status == CANCELLED
    edit_on_server(client, store.ledger_get("v1@visitplan").href)
    delete_on_server(client, store.ledger_get("v3@visitplan").href)
    later = publish_plan(
        client, store, both[1:2], scenario, NOW + timedelta(days=8), context=CONTEXT
    )
    assert by_uid(later.conflicts) == {
        "v1@visitplan": ("changed", f"{EDITED} after it was cancelled", "w1")
    }
    assert [i.uid for i in later.deleted] == ["v3@visitplan"]
    assert store.ledger_get("v3@visitplan").status == DELETED
    assert store.ledger_get("v1@visitplan").status == CANCELLED


@pytest.mark.parametrize("change", ["deleted", "changed"])
def test_a_change_between_the_read_and_the_write_is_named_too(
    client, calendars, store, change: str
) -> None:
    """The worker's change lands after publishing read the calendar and before it writes the
    event: the server's 412 (If-Match) is read back to tell a deletion from an edit."""
    scenario = make_scenario(calendar_urls=calendars)
    first = [make_visit("v1", "w1"), make_visit("v2", "w1", hour=13)]
    publish_plan(client, store, first, scenario, NOW, context=CONTEXT)
    href = store.ledger_get("v2@visitplan").href

    def worker_acts(kind: str, entry: Any) -> None:
        if entry.uid == "v1@visitplan":
            (delete_on_server if change == "deleted" else edit_on_server)(client, href)

    moved = [make_visit("v1", "w1", hour=11), make_visit("v2", "w1", hour=14)]
    report = publish_plan(
        client, store, moved, scenario, NOW + timedelta(hours=1), on_write=worker_acts,
        context=CONTEXT,
    )  # fmt: skip
    assert [i.uid for i in report.updated] == ["v1@visitplan"]
    assert by_uid(report.conflicts) == {
        "v2@visitplan": (change, GONE if change == "deleted" else EDITED, "w1")
    }
