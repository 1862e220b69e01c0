"""What an event says to the worker: rule titles (not ids), deadlines in days to spare, and the
recorded outcome of the visit. Rule: no network and no clock in this file."""

from __future__ import annotations

from datetime import date

import pytest
from icalendar import Calendar

from integrations.events import EventContext, content_hash, spare_words
from integrations.ics import render_calendar
from integrations.ledger import revise
from scheduler.domain import Outcome, VisitReason, VisitRecord
from tests.integrations.conftest import CONTEXT, CP_TITLE, NOW, make_scenario, make_visit

HOME_TITLE = "Child protection: seen at home every 28 days"
TITLES = EventContext(
    {"ns_cp_seen_every_10_working_days": CP_TITLE, "ns_cp_home_every_28_days": HOME_TITLE}
)


def event_of(data: bytes):
    (event,) = Calendar.from_ical(data).walk("VEVENT")
    return event


def record(
    child: str, outcome: Outcome, visit_id: str | None = "v1", record_id: str | None = None
) -> VisitRecord:
    return VisitRecord(
        id=record_id or f"r-{child}-{outcome}",
        child_id=child,
        on=date(2026, 12, 1),
        outcome=outcome,
        visit_id=visit_id,
    )


def test_description_speaks_in_rule_titles_and_days_to_spare() -> None:
    """Each reason names the case reference, the rule's title and the deadline in words."""
    visit = make_visit(
        reasons=(
            VisitReason(
                child_id="c1",
                rule_id="ns_cp_seen_every_10_working_days",
                due=date(2026, 12, 10),
                slack_days=2,
            ),
            VisitReason(
                child_id="c2",
                rule_id="ns_cp_home_every_28_days",
                due=date(2026, 11, 30),
                slack_days=-1,
            ),
        )
    )
    description = str(
        event_of(render_calendar([visit], make_scenario(), "w1", {}, context=TITLES))["DESCRIPTION"]
    )
    assert f"CR-000123: {CP_TITLE} - due Thu 10 Dec, 2 days to spare" in description
    assert f"CR-000124: {HOME_TITLE} - due Mon 30 Nov, 1 day late" in description
    assert "ns_cp_" not in description
    assert "c1" not in description.replace("CR-", "")
    assert "Alice" not in description


def test_a_rule_the_pack_does_not_title_is_shown_by_its_id() -> None:
    """A rule id missing from the titles (an older plan's rule) still says which rule it was."""
    visit = make_visit(rule_ids=("old_rule",))
    description = str(
        event_of(render_calendar([visit], make_scenario(), "w1", {}, context=CONTEXT))[
            "DESCRIPTION"
        ]
    )
    assert "- old_rule" in description


@pytest.mark.parametrize(
    ("slack", "words"),
    [
        pytest.param(2, "2 days to spare", id="two-days"),
        pytest.param(1, "1 day to spare", id="one-day"),
        pytest.param(0, "due that day", id="on-the-day"),
        pytest.param(-1, "1 day late", id="one-late"),
        pytest.param(-3, "3 days late", id="three-late"),
    ],
)
def test_days_to_spare_in_words(slack: int, words: str) -> None:
    assert spare_words(slack) == words


@pytest.mark.parametrize(
    ("outcomes", "summary", "line"),
    [
        pytest.param(
            ("completed", "completed"),
            "Completed: Visit CR-000123 (+1)",
            "CR-000124: completed",
            id="completed",
        ),
        pytest.param(
            ("failed", "failed"), "Failed: Visit CR-000123 (+1)", "CR-000123: failed", id="failed"
        ),
        pytest.param(
            ("not-seen", "not-seen"),
            "Child not seen: Visit CR-000123 (+1)",
            "CR-000124: child not seen",
            id="not-seen",
        ),
        pytest.param(
            ("completed", "not-seen"),
            "Mixed outcome: Visit CR-000123 (+1)",
            "CR-000124: child not seen",
            id="mixed",
        ),
        pytest.param(
            ("failed", None),
            "Outcome part recorded: Visit CR-000123 (+1)",
            "CR-000124: no outcome yet",
            id="part",
        ),
    ],
)
def test_recorded_outcome_shows_on_the_event(
    outcomes: tuple[Outcome, Outcome | None], summary: str, line: str
) -> None:
    """A visit whose outcome is recorded says so; a failed visit is no plain visit any more."""
    records = [record(c, o) for c, o in zip(("c1", "c2"), outcomes, strict=True) if o]
    context = EventContext(CONTEXT.rule_titles, records)
    event = event_of(render_calendar([make_visit()], make_scenario(), "w1", {}, context=context))
    assert str(event["SUMMARY"]) == summary
    assert f"- {line}" in str(event["DESCRIPTION"])
    assert str(event["DESCRIPTION"]).startswith("Outcome recorded:")


def test_no_outcome_without_a_record_of_that_visit() -> None:
    """Records of other visits, or with no visit id, leave the event as planned."""
    records = [record("c1", "failed", visit_id="v9"), record("c2", "failed", visit_id=None)]
    context = EventContext(CONTEXT.rule_titles, records)
    event = event_of(render_calendar([make_visit()], make_scenario(), "w1", {}, context=context))
    assert str(event["SUMMARY"]) == "Visit CR-000123 (+1)"
    assert "Outcome" not in str(event["DESCRIPTION"])


def test_the_latest_record_of_a_child_wins() -> None:
    """An amendment (a later record for the same child and visit) replaces the earlier outcome."""
    records = [
        record("c1", "failed", record_id="r1"),
        record("c2", "completed", record_id="r2"),
        record("c1", "completed", record_id="r1-amended"),
    ]
    context = EventContext(CONTEXT.rule_titles, records)
    event = event_of(render_calendar([make_visit()], make_scenario(), "w1", {}, context=context))
    assert str(event["SUMMARY"]) == "Completed: Visit CR-000123 (+1)"


def test_recording_an_outcome_is_a_new_revision() -> None:
    """Recording a failure changes the event's content, so SEQUENCE rises and calendars update."""
    scenario = make_scenario()
    visit = make_visit()
    failed = EventContext(CONTEXT.rule_titles, [record("c1", "failed"), record("c2", "failed")])
    assert content_hash(visit, scenario, "w1", context=CONTEXT) != content_hash(
        visit, scenario, "w1", context=failed
    )
    entries = revise([], [visit], scenario, NOW, context=CONTEXT)
    (after,) = revise(entries, [visit], scenario, NOW, context=failed)
    assert after.sequence == 1


def test_retry_of_a_failed_visit_is_its_own_event() -> None:
    """Once planned, the retry is a second event beside the failed visit, which stays marked."""
    failed = EventContext(CONTEXT.rule_titles, [record("c1", "failed"), record("c2", "failed")])
    retry = make_visit("v2", day=date(2026, 12, 3), hour=16)
    data = render_calendar([make_visit(), retry], make_scenario(), "w1", {}, context=failed)
    summaries = {str(e["UID"]): str(e["SUMMARY"]) for e in Calendar.from_ical(data).walk("VEVENT")}
    assert summaries == {
        "v1@visitplan": "Failed: Visit CR-000123 (+1)",
        "v2@visitplan": "Visit CR-000123 (+1)",
    }


def test_calendar_files_carry_no_calendar_level_uid() -> None:
    """vdirsyncer and others take a VCALENDAR UID as every event's id: there is none."""
    data = render_calendar(
        [make_visit(), make_visit("v2", hour=14)], make_scenario(), "w1", {}, context=CONTEXT
    )
    cal = Calendar.from_ical(data)
    assert "UID" not in cal
    assert [str(e["UID"]) for e in cal.walk("VEVENT")] == ["v1@visitplan", "v2@visitplan"]


def test_events_use_the_callers_index_of_the_scenario() -> None:
    """Given the caller's lookups, events read them (here a case reference the scenario lacks);
    the scheduler's event context hands over its scenario index."""
    from integrations import Lookups
    from scheduler.feed_source import event_context
    from scheduler.index import index_of

    scenario = make_scenario()
    base = Lookups.of(scenario)
    renamed = {**base.children, "c1": base.children["c1"].model_copy(update={"case_ref": "CR-X"})}
    context = EventContext(
        TITLES.rule_titles, index=Lookups(renamed, base.households, base.workers)
    )
    summary = str(
        event_of(render_calendar([make_visit()], scenario, "w1", {}, context=context))["SUMMARY"]
    )
    assert "CR-X" in summary
    assert "CR-000123" not in summary

    given = event_context(scenario)
    assert given.index is not None
    assert given.index.children is index_of(scenario).children
    assert given.index.workers is index_of(scenario).workers


@pytest.mark.parametrize("text", ["Bed\x00room seen", "Bedroom\x1b seen", "Bedroom seen"])
def test_a_control_character_an_older_store_holds_never_reaches_a_calendar(text: str) -> None:
    """New input refuses control characters; one already in a store (here a checklist item
    the visit holds, set past validation as a stored row is read) is left out of the event,
    whose text stays valid iCalendar."""
    visit = make_visit().model_copy(update={"checklist": (text,)})
    data = render_calendar([visit], make_scenario(), "w1", {}, context=TITLES)
    assert not any(b < 0x20 and b not in (0x0D, 0x0A, 0x09) for b in data)
    assert "Bedroom seen" in str(event_of(data)["DESCRIPTION"])
