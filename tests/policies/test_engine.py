"""The rule engine's counting conventions (DESIGN.md section 3) with a real calendar.

Rule: no network, no clock.
"""

from __future__ import annotations

from datetime import date

import pytest

from policies import OverrideError, Period, RuleOverride, add_period, load_pack
from policies.engine import add_months
from scheduler.calendar import WorkingCalendar
from tests.policies.builders import child, due_of, seen

ENG = WorkingCalendar("ENG")


@pytest.mark.parametrize(
    ("period", "counting", "expected"),
    [
        pytest.param(
            Period(amount=10, unit="working_days"),
            "day0",
            date(2026, 12, 30),
            id="working-days-day0",
        ),
        pytest.param(
            Period(amount=20, unit="working_days"),
            "inclusive",
            date(2027, 1, 13),
            id="working-days-inclusive",
        ),
        pytest.param(Period(amount=28, unit="days"), "day0", date(2027, 1, 11), id="days"),
        pytest.param(Period(amount=6, unit="weeks"), "day0", date(2027, 1, 25), id="weeks"),
        pytest.param(Period(amount=48, unit="hours"), "day0", date(2026, 12, 16), id="hours"),
        pytest.param(Period(amount=3, unit="months"), "day0", date(2027, 3, 14), id="months"),
    ],
)
def test_add_period_counting(period: Period, counting: str, expected: date) -> None:
    """From Mon 14 Dec 2026: N working days (day 0 or inclusive), days, weeks, hours, months."""
    assert add_period(date(2026, 12, 14), period, ENG, counting) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        pytest.param(date(2026, 11, 30), 3, date(2027, 2, 28), id="clipped-to-february"),
        pytest.param(date(2027, 11, 30), 3, date(2028, 2, 29), id="leap-year"),
        pytest.param(date(2026, 12, 31), 1, date(2027, 1, 31), id="over-year-end"),
    ],
)
def test_add_months_uses_month_end_where_day_missing(
    start: date, months: int, expected: date
) -> None:
    """'N months' is the same day N months later, or that month's last day."""
    assert add_months(start, months) == expected


@pytest.mark.parametrize(
    ("every", "expected"),
    [
        pytest.param(Period(amount=5, unit="working_days"), date(2026, 12, 21), id="tightened"),
        pytest.param(Period(amount=10, unit="working_days"), date(2026, 12, 30), id="same"),
    ],
)
def test_child_plan_override_tightens_due_date(every: Period, expected: date) -> None:
    """'Or more frequently if indicated in the plan': a child's override shortens the clock."""
    facts = child(
        "child-protection",
        overrides=(RuleOverride(rule_id="ns_cp_seen_every_10_working_days", every=every),),
    )
    due = due_of(
        "north-somerset",
        "ns_cp_seen_every_10_working_days",
        facts,
        [seen(date(2026, 12, 14))],
        date(2026, 12, 14),
    )
    assert due == expected


def test_loosening_override_raises_when_computing_due_dates() -> None:
    """A child's override may never loosen a rule: due dates refuse it."""
    facts = child(
        "child-protection",
        overrides=(
            RuleOverride(
                rule_id="ns_cp_seen_every_10_working_days",
                every=Period(amount=11, unit="working_days"),
            ),
        ),
    )
    with pytest.raises(OverrideError):
        due_of(
            "north-somerset",
            "ns_cp_seen_every_10_working_days",
            facts,
            [seen(date(2026, 12, 14))],
            date(2026, 12, 14),
        )


def test_every_pack_resolves_its_base_rules() -> None:
    """Authority packs inherit every england base rule they do not omit."""
    base = {r.id for r in load_pack("england").rules}
    for pack_id in ("north-somerset", "trust-standards", "camden", "cin-guidance"):
        assert base <= {r.id for r in load_pack(pack_id).rules}
