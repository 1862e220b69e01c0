"""A worker's own change on their calendar, against a real Radicale on 127.0.0.1: a deletion is
reported as deleted and an edit as changed, on whichever path publishing meets it.

Rule: the worker's change is made on the server itself (caldav's Event, an HTTP DELETE or a
PUT of an edited body), never by touching the ledger; no host other than 127.0.0.1.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from integrations.ledger import CANCELLED, DELETED
from integrations.publish import publish_plan
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


# ------------------------------------------------------------------ settling conflicts


def edit_sequence(client: Any, href: str, sequence: int) -> None:
    """The worker's app bumps SEQUENCE as it edits (as organisers' clients do)."""
    from caldav import Calendar, Event

    obj = Event(
        client=client, url=href, parent=Calendar(client=client, url=href.rsplit("/", 1)[0] + "/")
    )
    obj.load()
    with obj.edit_icalendar_component() as comp:
        comp["SUMMARY"] = "Moved by me - worker"
        comp.pop("SEQUENCE", None)
        comp.add("SEQUENCE", sequence)
    obj.save(increase_seqno=False)


def worker_acted(client: Any, store: Store, scenario: Any) -> None:
    """Published v1 (w1) and v2 (w2); then w1 deleted v1 and w2 edited v2 on the server."""
    publish_plan(client, store, visits_two(), scenario, NOW, context=CONTEXT)
    delete_on_server(client, store.ledger_get("v1@visitplan").href)
    edit_on_server(client, store.ledger_get("v2@visitplan").href)


def test_overwrite_puts_the_plans_version_back_and_it_stays_settled(
    client, calendars, store
) -> None:
    """`--overwrite`: the deleted event is made again and the edited one written over (If-Match
    with the server's ETag as it is now), each as a new revision; the next publish has nothing
    to write or report."""
    from integrations.publish import Resolution
    from tests.integrations.test_dav import server_events

    scenario = make_scenario(calendar_urls=calendars)
    worker_acted(client, store, scenario)
    report = publish_plan(
        client, store, visits_two(), scenario, NOW + timedelta(hours=1), context=CONTEXT,
        resolution=Resolution("overwrite"),
    )  # fmt: skip
    assert report.conflicts == []
    assert by_uid(report.overwritten) == {
        "v1@visitplan": ("deleted", GONE, "w1"),
        "v2@visitplan": ("changed", EDITED, "w2"),
    }
    assert [i.sequence for i in report.overwritten] == [1, 1]
    for worker, uid in (("w1", "v1@visitplan"), ("w2", "v2@visitplan")):
        event = server_events(client, calendars[worker])[uid]
        assert int(event["SEQUENCE"]) == 1
        assert "Moved by me" not in str(event["SUMMARY"])
        assert store.ledger_get(uid).status == "published"
    again = publish_plan(
        client, store, visits_two(), scenario, NOW + timedelta(hours=2), context=CONTEXT
    )
    assert (again.writes, again.conflicts, again.unchanged) == (0, [], 2)


def test_overwrite_rises_above_a_sequence_the_workers_app_raised(client, calendars, store) -> None:
    """The edge of the above: the worker's app raised SEQUENCE to 5 as it edited; the plan's
    version goes back at 6, so no client takes it for an older revision."""
    from integrations.publish import Resolution
    from tests.integrations.test_dav import server_events

    scenario = make_scenario(calendar_urls=calendars)
    publish_plan(client, store, visits_two(), scenario, NOW, context=CONTEXT)
    edit_sequence(client, store.ledger_get("v2@visitplan").href, 5)
    report = publish_plan(
        client, store, visits_two(), scenario, NOW + timedelta(hours=1), context=CONTEXT,
        resolution=Resolution("overwrite"),
    )  # fmt: skip
    assert [(i.uid, i.sequence) for i in report.overwritten] == [("v2@visitplan", 6)]
    assert int(server_events(client, calendars["w2"])["v2@visitplan"]["SEQUENCE"]) == 6
    assert store.ledger_get("v2@visitplan").sequence == 6


def test_accept_keeps_the_workers_version_until_the_plan_changes_the_visit(
    client, calendars, store
) -> None:
    """`--accept`: nothing is written on the server, the ledger takes what it holds (the
    edited event's ETag; the deletion), and the next publish reports nothing. A later change
    of the visit is published as usual: over the accepted edit, and the deleted event anew."""
    from integrations.publish import Resolution
    from tests.integrations.test_dav import server_events

    scenario = make_scenario(calendar_urls=calendars)
    worker_acted(client, store, scenario)
    report = publish_plan(
        client, store, visits_two(), scenario, NOW + timedelta(hours=1), context=CONTEXT,
        resolution=Resolution("accept"),
    )  # fmt: skip
    assert report.writes == 0
    assert report.conflicts == []
    assert by_uid(report.accepted) == {
        "v1@visitplan": ("deleted", GONE, "w1"),
        "v2@visitplan": ("changed", EDITED, "w2"),
    }
    assert server_events(client, calendars["w1"]) == {}
    edited = server_events(client, calendars["w2"])["v2@visitplan"]
    assert str(edited["SUMMARY"]) == "Moved by me - worker"
    quiet = publish_plan(
        client, store, visits_two(), scenario, NOW + timedelta(hours=2), context=CONTEXT
    )
    assert (quiet.writes, quiet.conflicts, quiet.unchanged) == (0, [], 2)
    changed = [
        make_visit("v1", "w1", hour=15),
        make_visit("v2", "w2", household="h2", children=("c3",), announced=False, hour=16),
    ]
    later = publish_plan(
        client, store, changed, scenario, NOW + timedelta(hours=3), context=CONTEXT
    )
    assert later.conflicts == []
    assert [i.uid for i in later.created] == ["v1@visitplan"]
    assert [i.uid for i in later.updated] == ["v2@visitplan"]
    assert "Moved by me" not in str(
        server_events(client, calendars["w2"])["v2@visitplan"]["SUMMARY"]
    )


@pytest.mark.parametrize(
    ("workers", "visits"),
    [pytest.param({"w1"}, set(), id="worker"), pytest.param(set(), {"v1"}, id="visit")],
)
def test_settling_one_workers_or_visits_conflicts_leaves_the_others_reported(
    client, calendars, store, workers: set[str], visits: set[str]
) -> None:
    from integrations.publish import Resolution

    scenario = make_scenario(calendar_urls=calendars)
    worker_acted(client, store, scenario)
    report = publish_plan(
        client, store, visits_two(), scenario, NOW + timedelta(hours=1), context=CONTEXT,
        resolution=Resolution("accept", frozenset(workers), frozenset(visits)),
    )  # fmt: skip
    assert [i.uid for i in report.accepted] == ["v1@visitplan"]
    assert [i.uid for i in report.conflicts] == ["v2@visitplan"]
    assert store.ledger_get("v1@visitplan").status == "removed"
    assert store.ledger_get("v2@visitplan").status == "published"


@pytest.mark.parametrize("action", ["overwrite", "accept"])
def test_a_dry_run_settles_nothing(client, calendars, store, action: str) -> None:
    """A dry run says what --overwrite or --accept would do, and writes nothing anywhere."""
    from integrations.publish import Resolution
    from tests.integrations.test_dav import server_events

    scenario = make_scenario(calendar_urls=calendars)
    worker_acted(client, store, scenario)
    ledger = store.ledger_all()
    on_server = {w: server_events(client, url) for w, url in calendars.items()}
    dry = publish_plan(
        client, store, visits_two(), scenario, NOW + timedelta(hours=1), dry_run=True,
        context=CONTEXT, resolution=Resolution(action),  # type: ignore[arg-type]
    )  # fmt: skip
    assert len(getattr(dry, "overwritten" if action == "overwrite" else "accepted")) == 2
    assert dry.conflicts == []
    assert store.ledger_all() == ledger
    assert {w: server_events(client, url) for w, url in calendars.items()} == on_server


@pytest.mark.parametrize("action", ["overwrite", "accept"])
def test_settling_an_edit_that_meets_a_change_of_the_visit(
    client, calendars, store, action: str
) -> None:
    """The plan moved v2 to 16:00 after the worker edited it: overwrite publishes the move over
    the edit, accept keeps the edit and the move waits for the visit's next change."""
    from integrations.publish import Resolution
    from tests.integrations.test_dav import server_events

    scenario = make_scenario(calendar_urls=calendars)
    publish_plan(client, store, visits_two(), scenario, NOW, context=CONTEXT)
    edit_on_server(client, store.ledger_get("v2@visitplan").href)
    moved = [visits_two()[0], make_visit("v2", "w2", household="h2", children=("c3",), hour=16)]
    report = publish_plan(
        client, store, moved, scenario, NOW + timedelta(hours=1), context=CONTEXT,
        resolution=Resolution(action),  # type: ignore[arg-type]
    )  # fmt: skip
    assert report.conflicts == []
    event = server_events(client, calendars["w2"])["v2@visitplan"]
    assert ("Moved by me" in str(event["SUMMARY"])) == (action == "accept")
    assert event["DTSTART"].dt.hour == (16 if action == "overwrite" else 10)
    assert int(event["SEQUENCE"]) == (1 if action == "overwrite" else 0)
    again = publish_plan(client, store, moved, scenario, NOW + timedelta(hours=2), context=CONTEXT)
    assert (again.writes, again.conflicts) == (0, [])


@pytest.mark.parametrize("action", ["overwrite", "accept"])
def test_settling_a_cancelled_event_someone_changed(client, calendars, store, action: str) -> None:
    """After the grace: overwrite deletes the changed cancelled event as planned; accept lets
    it go, left as the worker made it and never deleted by a later publish."""
    from integrations.publish import Resolution
    from tests.integrations.test_dav import server_events

    scenario = make_scenario(calendar_urls=calendars)
    publish_plan(client, store, visits_two(), scenario, NOW, context=CONTEXT)
    only_v2 = visits_two()[1:]
    publish_plan(client, store, only_v2, scenario, NOW + timedelta(hours=1), context=CONTEXT)
    edit_on_server(client, store.ledger_get("v1@visitplan").href)
    week = NOW + timedelta(days=8)
    report = publish_plan(
        client, store, only_v2, scenario, week, context=CONTEXT,
        resolution=Resolution(action),  # type: ignore[arg-type]
    )  # fmt: skip
    assert report.conflicts == []
    assert store.ledger_get("v1@visitplan").status == DELETED
    left = server_events(client, calendars["w1"])
    assert list(left) == ([] if action == "overwrite" else ["v1@visitplan"])
    again = publish_plan(
        client, store, only_v2, scenario, week + timedelta(days=8), context=CONTEXT
    )
    assert (again.writes, again.conflicts) == (0, [])
    assert list(server_events(client, calendars["w1"])) == list(left)


@pytest.mark.parametrize("action", ["overwrite", "accept"])
def test_settling_the_old_workers_edit_of_a_moved_visit(
    client, calendars, store, action: str
) -> None:
    """The visit moved from w1 to w2 after w1 edited it: overwrite deletes w1's edited copy,
    accept leaves it on w1's calendar; either way w2's calendar gets the visit."""
    from integrations.publish import Resolution
    from tests.integrations.test_dav import server_events

    scenario = make_scenario(calendar_urls=calendars)
    publish_plan(client, store, [make_visit("v1", "w1")], scenario, NOW, context=CONTEXT)
    edit_on_server(client, store.ledger_get("v1@visitplan").href)
    report = publish_plan(
        client, store, [make_visit("v1", "w2")], scenario, NOW + timedelta(hours=1),
        context=CONTEXT, resolution=Resolution(action),  # type: ignore[arg-type]
    )  # fmt: skip
    assert report.conflicts == []
    settled = report.overwritten if action == "overwrite" else report.accepted
    assert [(i.worker_id, i.change) for i in settled] == [("w1", "changed")]
    assert [i.worker_id for i in report.created] == ["w2"]
    assert list(server_events(client, calendars["w1"])) == (
        [] if action == "overwrite" else ["v1@visitplan"]
    )
    assert list(server_events(client, calendars["w2"])) == ["v1@visitplan"]


def test_a_put_back_never_writes_over_an_event_made_meanwhile(client, calendars, store) -> None:
    """The edge of overwriting a deletion: the worker restores the event (edited) after
    publishing read the calendar and before it puts the plan's back; the put-back (only where
    nothing is) leaves theirs and reports a change."""
    from caldav import Calendar

    from integrations.publish import Resolution
    from tests.integrations.test_dav import server_events

    scenario = make_scenario(calendar_urls=calendars)
    first = [make_visit("v1", "w1"), make_visit("v2", "w1", hour=13)]
    publish_plan(client, store, first, scenario, NOW, context=CONTEXT)
    hrefs = {uid: store.ledger_get(uid).href for uid in ("v1@visitplan", "v2@visitplan")}
    kept = server_events(client, calendars["w1"])["v2@visitplan"]
    for href in hrefs.values():
        delete_on_server(client, href)

    def worker_restores(kind: str, entry: Any) -> None:
        if entry.uid == "v1@visitplan":
            kept["SUMMARY"] = "Restored by me - worker"
            event = kept.to_ical().decode()
            body = f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n{event}END:VCALENDAR\r\n"
            Calendar(client=client, url=calendars["w1"]).add_event(body, increase_seqno=False)

    report = publish_plan(
        client, store, first, scenario, NOW + timedelta(hours=1), on_write=worker_restores,
        context=CONTEXT, resolution=Resolution("overwrite"),
    )  # fmt: skip
    assert [i.uid for i in report.overwritten] == ["v1@visitplan"]
    assert by_uid(report.conflicts) == {"v2@visitplan": ("changed", EDITED, "w1")}
    restored = server_events(client, calendars["w1"])["v2@visitplan"]
    assert str(restored["SUMMARY"]) == "Restored by me - worker"


def test_a_put_back_is_refused_by_the_server_where_an_event_is(client, calendars, store) -> None:
    """What makes the put-back safe in the last instant: If-None-Match: *, which the server
    answers 412 when an event is at the URL; the event is left as it is."""
    from caldav import Calendar

    from integrations.ics import CANCEL_GRACE
    from integrations.publish import _Publisher
    from tests.integrations.test_dav import server_events

    scenario = make_scenario(calendar_urls=calendars)
    publish_plan(client, store, visits_two(), scenario, NOW, context=CONTEXT)
    edit_on_server(client, store.ledger_get("v1@visitplan").href)
    publisher = _Publisher(client, store, scenario, NOW, False, CANCEL_GRACE, None, CONTEXT)
    entry = store.ledger_get("v1@visitplan")
    cal = Calendar(client=client, url=calendars["w1"])
    assert publisher.put(cal, entry, publisher.data(entry), again=True) == "changed"
    assert "Moved by me" in str(server_events(client, calendars["w1"])["v1@visitplan"]["SUMMARY"])
    delete_on_server(client, entry.href)
    href, etag = publisher.put(cal, entry, publisher.data(entry), again=True)
    assert (href, etag is not None) == (entry.href, True)
    assert "Moved by me" not in str(
        server_events(client, calendars["w1"])["v1@visitplan"]["SUMMARY"]
    )
