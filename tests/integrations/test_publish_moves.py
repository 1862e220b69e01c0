"""A visit given to another worker, published to a real Radicale on 127.0.0.1: the report names
the calendar each write touched, and the SEQUENCE each side holds.

Rule: what the report says is checked against what the server holds, read back over CalDAV;
no host other than 127.0.0.1.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from integrations import write_ics
from integrations.publish import publish_plan
from scheduler.store import Store
from tests.integrations.conftest import CONTEXT, NOW, make_scenario, make_visit
from tests.integrations.test_dav import server_events
from tests.integrations.test_publish_conflicts import EDITED, edit_on_server

pytestmark = [pytest.mark.integration, pytest.mark.allow_hosts(["127.0.0.1"])]
LATER = NOW + timedelta(hours=1)


@pytest.fixture
def store(tmp_path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'ledger.db'}")


def items(report: Any, kind: str) -> list[tuple[str, str, int, str | None]]:
    return [(i.uid, i.worker_id, i.sequence, i.reason) for i in getattr(report, kind)]


def test_a_move_names_the_old_calendar_for_the_delete_and_the_new_for_the_create(
    client, calendars, store
) -> None:
    """Defect 1: the delete named the new worker. The old calendar held SEQUENCE 0 and loses
    it; the new calendar gets the same UID at its next revision, SEQUENCE 1 (RFC 5545 3.8.7.4:
    one component, revised), never 0 again. The dry run says exactly what the real run does."""
    scenario = make_scenario(calendar_urls=calendars)
    publish_plan(client, store, [make_visit("v1", "w1")], scenario, NOW, context=CONTEXT)
    assert int(server_events(client, calendars["w1"])["v1@visitplan"]["SEQUENCE"]) == 0
    moved = [make_visit("v1", "w2")]
    dry = publish_plan(client, store, moved, scenario, LATER, dry_run=True, context=CONTEXT)
    real = publish_plan(client, store, moved, scenario, LATER, context=CONTEXT)
    for report in (dry, real):
        assert items(report, "deleted") == [("v1@visitplan", "w1", 0, "moved to w2's calendar")]
        assert items(report, "created") == [("v1@visitplan", "w2", 1, "moved from w1's calendar")]
        assert report.conflicts == []
    assert server_events(client, calendars["w1"]) == {}
    (event,) = server_events(client, calendars["w2"]).values()
    assert int(event["SEQUENCE"]) == 1
    assert store.ledger_get("v1@visitplan").held_by == "w2"


def test_a_move_still_names_the_old_calendar_after_an_export_revised_the_ledger(
    client, calendars, store, tmp_path
) -> None:
    """The edge of the above: `export-ics` (or a feed) revises the ledger between the move
    and the publish, so the ledger's worker is already the new one; the old calendar is
    still the one named for the delete."""
    scenario = make_scenario(calendar_urls=calendars)
    publish_plan(client, store, [make_visit("v1", "w1")], scenario, NOW, context=CONTEXT)
    moved = [make_visit("v1", "w2")]
    write_ics(store, moved, scenario, tmp_path / "ics", LATER, context=CONTEXT)
    assert store.ledger_get("v1@visitplan").worker_id == "w2"
    report = publish_plan(client, store, moved, scenario, LATER, context=CONTEXT)
    assert [(i.worker_id, i.sequence) for i in report.deleted] == [("w1", 0)]
    assert [(i.worker_id, i.sequence) for i in report.created] == [("w2", 1)]
    assert server_events(client, calendars["w1"]) == {}


def test_a_dry_run_move_to_a_calendar_still_to_be_made_reports_the_delete(client, store) -> None:
    """A move to a worker whose service calendar does not exist yet: the dry run (which makes
    no calendar) still reports the delete from the old one, as the real run does."""
    old, new = f"w-{uuid.uuid4().hex[:8]}", f"w-{uuid.uuid4().hex[:8]}"
    scenario = make_scenario(workers=(old, new))
    publish_plan(client, store, [make_visit("v1", old)], scenario, NOW, context=CONTEXT)
    moved = [make_visit("v1", new)]
    dry = publish_plan(client, store, moved, scenario, LATER, dry_run=True, context=CONTEXT)
    real = publish_plan(client, store, moved, scenario, LATER, context=CONTEXT)
    for report in (dry, real):
        assert [(i.worker_id, i.sequence) for i in report.deleted] == [(old, 0)]
        assert [(i.worker_id, i.sequence) for i in report.created] == [(new, 1)]


def test_an_edit_on_the_old_calendar_is_a_conflict_there(client, calendars, store) -> None:
    """The old worker edited the event before the move was published: the conflict names
    their calendar, and nothing is written on the new one until it is settled."""
    scenario = make_scenario(calendar_urls=calendars)
    publish_plan(client, store, [make_visit("v1", "w1")], scenario, NOW, context=CONTEXT)
    edit_on_server(client, store.ledger_get("v1@visitplan").href)
    report = publish_plan(client, store, [make_visit("v1", "w2")], scenario, LATER, context=CONTEXT)
    assert [(i.worker_id, i.change, i.reason) for i in report.conflicts] == [
        ("w1", "changed", f"{EDITED}; the visit moved to w2's calendar")
    ]
    assert report.writes == 0
    assert server_events(client, calendars["w2"]) == {}
