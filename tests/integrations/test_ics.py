"""ICS rendering and revisions. Rule: no network and no clock in this file."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar
from typer.testing import CliRunner

from integrations.events import content_hash, event_uid
from integrations.ics import render_calendar, render_object, worker_calendar
from integrations.ledger import CANCELLING, PENDING, Revision, merged, revise
from scheduler.cli import app
from scheduler.domain import Privacy
from scheduler.store import Store
from tests.integrations.conftest import (
    CONTEXT,
    CP_TITLE,
    LONDON,
    NOW,
    make_plan,
    make_scenario,
    make_visit,
)


def events_of(data: bytes) -> list:
    return list(Calendar.from_ical(data).walk("VEVENT"))


def test_event_carries_case_reference_checklist_area_but_no_names_or_address() -> None:
    """By default an event shows the case reference, checklist and area, never names/address."""
    scenario = make_scenario()
    data = render_calendar([make_visit()], scenario, "w1", {}, context=CONTEXT)
    text = data.decode()
    (event,) = events_of(data)
    assert str(event["SUMMARY"]) == "Visit CR-000123 (+1)"
    assert str(event["LOCATION"]) == "Kentish Town"
    assert "see each child alone" in str(event["DESCRIPTION"])
    assert "Due by: Fri 4 Dec 2026" in str(event["DESCRIPTION"])
    assert CP_TITLE in str(event["DESCRIPTION"])
    assert "cp_every_10_working_days" not in str(event["DESCRIPTION"])
    assert str(event["CLASS"]) == "CONFIDENTIAL"
    assert str(event["STATUS"]) == "CONFIRMED"
    for secret in ("Alice", "Bob", "Secret Road", "NW5"):
        assert secret not in text


def test_privacy_opt_in_shows_names_and_address() -> None:
    """An authority that opts in gets names in the description and the address as location."""
    scenario = make_scenario(privacy=Privacy(show_names=True, show_address=True))
    (event,) = events_of(render_calendar([make_visit()], scenario, "w1", {}, context=CONTEXT))
    assert "Alice Example" in str(event["DESCRIPTION"])
    assert "1 Secret Road" in str(event["LOCATION"])


def test_unannounced_visit_is_marked_for_the_worker() -> None:
    (event,) = events_of(
        render_calendar([make_visit(announced=False)], make_scenario(), "w1", {}, context=CONTEXT)
    )
    assert str(event["SUMMARY"]).startswith("Unannounced visit CR-000123")
    assert "Unannounced" in str(event["DESCRIPTION"])


def test_uid_sequence_and_dtstamp_come_from_the_revision() -> None:
    """UID is the visit id; SEQUENCE and DTSTAMP are the revision's, not render time."""
    stamp = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    data = render_calendar(
        [make_visit()], make_scenario(), "w1", {"v1@visitplan": Revision(4, stamp)}, context=CONTEXT
    )
    (event,) = events_of(data)
    assert str(event["UID"]) == "v1@visitplan"
    assert int(event["SEQUENCE"]) == 4
    assert event["DTSTAMP"].dt == stamp


def test_times_are_utc_and_dst_does_not_stretch_a_visit() -> None:
    """At 01:30 on the autumn change a 45-minute visit lasts 45 minutes (UTC arithmetic)."""
    visit = make_visit(day=date(2026, 10, 25), hour=1, minute=30, duration_min=45)
    (event,) = events_of(render_calendar([visit], make_scenario(), "w1", {}, context=CONTEXT))
    start, end = event["DTSTART"].dt, event["DTEND"].dt
    assert start.utcoffset() == timedelta(0)
    assert end - start == timedelta(minutes=45)
    assert b"TZID" not in render_calendar([visit], make_scenario(), "w1", {}, context=CONTEXT)


def test_empty_calendar_is_a_valid_file() -> None:
    data = render_calendar([], make_scenario(), "w1", {}, context=CONTEXT)
    cal = Calendar.from_ical(data)
    assert events_of(data) == []
    assert str(cal["VERSION"]) == "2.0"


def test_feed_headers_have_duration_value_types() -> None:
    """REFRESH-INTERVAL needs VALUE=DURATION; X-PUBLISHED-TTL must be PT1H, not 1:00:00."""
    text = render_calendar([], make_scenario(), "w1", {}, context=CONTEXT).decode()
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H" in text
    assert "X-PUBLISHED-TTL:PT1H" in text
    assert "METHOD:PUBLISH" in text


def test_caldav_object_has_no_method_and_no_calendar_uid() -> None:
    data = render_object(make_visit(), make_scenario(), "w1", Revision(0, NOW), context=CONTEXT)
    cal = Calendar.from_ical(data)
    assert "METHOD" not in cal
    assert "UID" not in cal


def test_joint_visit_appears_on_both_calendars_with_own_uids() -> None:
    scenario = make_scenario()
    visit = make_visit(second_worker_id="w2")
    (first,) = events_of(render_calendar([visit], scenario, "w1", {}, context=CONTEXT))
    (second,) = events_of(render_calendar([visit], scenario, "w2", {}, context=CONTEXT))
    assert str(first["UID"]) == event_uid("v1")
    assert str(second["UID"]) == event_uid("v1", joint=True)
    assert "Worker w1" in str(second["DESCRIPTION"])


def test_revise_same_plan_twice_changes_nothing() -> None:
    scenario = make_scenario()
    visits = [make_visit()]
    first = revise([], visits, scenario, NOW, context=CONTEXT)
    assert [(e.sequence, e.status) for e in first] == [(0, PENDING)]
    assert revise(first, visits, scenario, NOW + timedelta(hours=1), context=CONTEXT) == []


def test_moving_a_visit_bumps_sequence_and_stamp() -> None:
    scenario = make_scenario()
    entries = revise([], [make_visit()], scenario, NOW, context=CONTEXT)
    later = NOW + timedelta(hours=2)
    (moved,) = revise(entries, [make_visit(hour=14)], scenario, later, context=CONTEXT)
    assert moved.uid == "v1@visitplan"
    assert moved.sequence == 1
    assert moved.revised_at == later


def test_removed_visit_becomes_a_cancellation_with_a_higher_sequence() -> None:
    scenario = make_scenario()
    entries = revise([], [make_visit()], scenario, NOW, context=CONTEXT)
    (gone,) = revise(entries, [], scenario, NOW + timedelta(hours=1), context=CONTEXT)
    assert gone.status == CANCELLING
    assert gone.sequence == 1
    data = worker_calendar(
        merged(entries, [gone]), [], scenario, "w1", NOW + timedelta(hours=1), context=CONTEXT
    )
    (event,) = events_of(data)
    assert str(event["STATUS"]) == "CANCELLED"
    assert int(event["SEQUENCE"]) == 1
    after_grace = worker_calendar(
        merged(entries, [gone]), [], scenario, "w1", NOW + timedelta(days=8), context=CONTEXT
    )
    assert events_of(after_grace) == []


def test_content_hash_ignores_unrelated_fields_but_not_time() -> None:
    scenario = make_scenario()
    base = content_hash(make_visit(), scenario, "w1", context=CONTEXT)
    assert content_hash(make_visit(), scenario, "w1", context=CONTEXT) == base
    assert content_hash(make_visit(hour=11), scenario, "w1", context=CONTEXT) != base
    assert content_hash(make_visit(), scenario, "w1", cancelled=True, context=CONTEXT) != base


texts = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40)


@settings(max_examples=60, deadline=None)
@given(
    checklist=st.lists(texts, max_size=4),
    day=st.dates(min_value=date(2026, 1, 1), max_value=date(2028, 12, 31)),
    minute=st.integers(min_value=0, max_value=23 * 60 + 59),
    duration=st.integers(min_value=1, max_value=600),
    sequence=st.integers(min_value=0, max_value=1000),
    announced=st.booleans(),
)
def test_ics_round_trips(
    checklist: list[str], day: date, minute: int, duration: int, sequence: int, announced: bool
) -> None:
    """Whatever the checklist text and time, the written ICS reads back to the same event."""
    start = datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=LONDON)
    visit = make_visit(
        checklist=tuple(checklist), start=start, duration_min=duration, announced=announced
    )
    data = render_calendar(
        [visit], make_scenario(), "w1", {"v1@visitplan": Revision(sequence, NOW)}, context=CONTEXT
    )
    (event,) = events_of(data)
    assert str(event["UID"]) == "v1@visitplan"
    assert int(event["SEQUENCE"]) == sequence
    assert event["DTSTART"].dt == start.astimezone(UTC)
    assert event["DTEND"].dt - event["DTSTART"].dt == timedelta(minutes=duration)
    description = str(event["DESCRIPTION"])
    for item in checklist:
        assert f"- {item}" in description
    assert (
        Calendar.from_ical(Calendar.from_ical(data).to_ical()).to_ical()
        == Calendar.from_ical(data).to_ical()
    )


def test_cli_export_ics_writes_one_file_per_worker(tmp_path) -> None:
    """`visitplan export-ics --out DIR` writes every worker's calendar from the current plan."""
    db = f"sqlite:///{tmp_path / 'v.db'}"
    store = Store(db)
    store.replace_caseload(make_scenario())
    store.save_plan(
        make_plan((make_visit(), make_visit("v2", "w2", household="h2", children=("c3",)))), NOW
    )
    result = CliRunner().invoke(app, ["export-ics", "--out", str(tmp_path / "ics"), "--db", db])
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in (tmp_path / "ics").iterdir())
    assert files == ["w1.ics", "w2.ics"]
    (event,) = events_of((tmp_path / "ics" / "w2.ics").read_bytes())
    assert str(event["UID"]) == "v2@visitplan"
    again = CliRunner().invoke(app, ["export-ics", "--out", str(tmp_path / "ics2"), "--db", db])
    assert again.exit_code == 0
    assert (tmp_path / "ics2" / "w2.ics").read_bytes() == (tmp_path / "ics" / "w2.ics").read_bytes()
    assert [e.sequence for e in store.ledger_all()] == [0, 0]


def test_cli_export_ics_without_plan_is_a_usage_error(tmp_path) -> None:
    db = f"sqlite:///{tmp_path / 'v.db'}"
    Store(db).replace_caseload(make_scenario())
    result = CliRunner().invoke(app, ["export-ics", "--out", str(tmp_path), "--db", db])
    assert result.exit_code == 2


def test_cli_export_ics_refuses_an_existing_file_as_out(tmp_path) -> None:
    """Issue 11: `--out` naming an existing file is a usage error; the file is untouched."""
    db = f"sqlite:///{tmp_path / 'v.db'}"
    store = Store(db)
    store.replace_caseload(make_scenario())
    store.save_plan(make_plan((make_visit(),)), NOW)
    target = tmp_path / "calendars"
    target.write_text("keep me", encoding="utf-8")
    result = CliRunner().invoke(app, ["export-ics", "--out", str(target), "--db", db])
    assert result.exit_code == 2
    assert "is a file, not a folder" in result.stderr
    assert "Traceback" not in result.output
    assert target.read_text(encoding="utf-8") == "keep me"


def test_cli_export_ics_writes_all_or_nothing(tmp_path) -> None:
    """A folder in the way of one worker's file: no file is written, the ledger is untouched
    and the message names the file (it wrote the workers before it, then failed)."""
    db = f"sqlite:///{tmp_path / 'v.db'}"
    store = Store(db)
    store.replace_caseload(make_scenario())
    store.save_plan(
        make_plan((make_visit(), make_visit("v2", "w2", household="h2", children=("c3",)))), NOW
    )
    target = tmp_path / "ics"
    (target / "w2.ics").mkdir(parents=True)
    result = CliRunner().invoke(app, ["export-ics", "--out", str(target), "--db", db])
    assert result.exit_code == 2
    assert "w2.ics: it is a folder" in " ".join(result.stderr.split())
    assert "Traceback" not in result.output
    assert sorted(p.name for p in target.iterdir()) == ["w2.ics"]
    assert store.ledger_all() == ()
