"""An event's description explains itself by case reference: the deadlines and rules it serves."""

from __future__ import annotations

from datetime import date

from icalendar import Calendar

from integrations.ics import render_calendar
from scheduler.domain import VisitReason
from tests.integrations.conftest import make_scenario, make_visit


def test_description_lists_reasons_by_case_reference() -> None:
    """Reasons name the case reference, the rule and the deadline; never the child's id or name."""
    visit = make_visit(
        reasons=(
            VisitReason(
                child_id="c1",
                rule_id="ns_cp_seen_every_10_working_days",
                due=date(2026, 12, 3),
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
    ics = render_calendar([visit], make_scenario(), "w1", {})
    event = next(iter(Calendar.from_ical(ics).walk("VEVENT")))
    description = str(event["DESCRIPTION"])
    assert "CR-000123: ns_cp_seen_every_10_working_days, due Thu 03 Dec 2026" in description
    assert "(2 day(s) to spare)" in description
    assert "CR-000124: ns_cp_home_every_28_days, due Mon 30 Nov 2026 (late)" in description
    assert "c1" not in description.replace("CR-", "")
    assert "Alice" not in description
