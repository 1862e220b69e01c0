"""The working-day calendar: weekends, each nation's bank holidays and closure days.

Rule: no network, no clock.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.calendar import WorkingCalendar

D = date
ENG = WorkingCalendar("ENG")
SCT = WorkingCalendar("SCT")


@pytest.mark.parametrize(
    ("day", "eng", "sct"),
    [
        pytest.param(D(2026, 12, 25), False, False, id="christmas-2026"),
        pytest.param(D(2026, 12, 28), False, False, id="boxing-day-substitute-2026"),
        pytest.param(D(2027, 1, 1), False, False, id="new-year-2027"),
        pytest.param(D(2027, 1, 4), True, False, id="scottish-2-jan-substitute-2027"),
        pytest.param(D(2026, 11, 30), True, False, id="st-andrews-day-2026"),
        pytest.param(D(2027, 3, 26), False, False, id="good-friday-2027"),
        pytest.param(D(2027, 3, 29), False, True, id="easter-monday-2027-england-only"),
        pytest.param(D(2027, 8, 2), True, False, id="scottish-summer-holiday-2027"),
        pytest.param(D(2027, 8, 30), False, True, id="english-late-summer-2027"),
        pytest.param(D(2027, 12, 27), False, False, id="christmas-substitute-2027"),
        pytest.param(D(2027, 12, 28), False, False, id="boxing-day-substitute-2027"),
        pytest.param(D(2027, 12, 29), True, True, id="ordinary-wednesday"),
        pytest.param(D(2027, 1, 2), False, False, id="saturday"),
    ],
)
def test_is_working_day_by_nation(day: date, eng: bool, sct: bool) -> None:
    """England and Scotland share Christmas and Good Friday but differ on 2 January,
    St Andrew's Day, Easter Monday and the August bank holiday."""
    assert ENG.is_working_day(day) is eng
    assert SCT.is_working_day(day) is sct


@pytest.mark.parametrize(
    ("calendar", "start", "n", "expected"),
    [
        pytest.param(ENG, D(2026, 12, 14), 10, D(2026, 12, 30), id="eng-christmas-2026"),
        pytest.param(SCT, D(2026, 12, 14), 10, D(2026, 12, 30), id="sct-christmas-2026"),
        pytest.param(ENG, D(2026, 12, 14), 15, D(2027, 1, 7), id="eng-new-year-2027"),
        pytest.param(SCT, D(2026, 12, 14), 15, D(2027, 1, 8), id="sct-new-year-2027"),
        pytest.param(ENG, D(2027, 3, 25), 1, D(2027, 3, 30), id="eng-easter-2027"),
        pytest.param(SCT, D(2027, 3, 25), 1, D(2027, 3, 29), id="sct-easter-2027"),
        pytest.param(ENG, D(2027, 12, 24), 1, D(2027, 12, 29), id="eng-substitutes-2027"),
        pytest.param(ENG, D(2026, 11, 27), 1, D(2026, 11, 30), id="eng-st-andrews"),
        pytest.param(SCT, D(2026, 11, 27), 1, D(2026, 12, 1), id="sct-st-andrews"),
        pytest.param(ENG, D(2026, 12, 30), -3, D(2026, 12, 23), id="backwards"),
        pytest.param(ENG, D(2026, 12, 26), 0, D(2026, 12, 26), id="zero-is-the-day"),
    ],
)
def test_add_working_days(calendar: WorkingCalendar, start: date, n: int, expected: date) -> None:
    """The n-th working day after `start` (before it when negative; `start` itself at 0)."""
    assert calendar.add_working_days(start, n) == expected


@pytest.mark.parametrize(
    ("closures", "expected"),
    [
        pytest.param((), D(2026, 12, 30), id="no-closure"),
        pytest.param(
            (D(2026, 12, 29), D(2026, 12, 30), D(2026, 12, 31)),
            D(2027, 1, 5),
            id="closed-between-christmas-and-new-year",
        ),
    ],
)
def test_closure_days_are_not_working_days(closures: tuple[date, ...], expected: date) -> None:
    """An authority's closure days are skipped like bank holidays."""
    calendar = WorkingCalendar("ENG", closures)
    assert calendar.add_working_days(D(2026, 12, 14), 10) == expected


def test_unknown_nation_refused() -> None:
    """Only ENG, WLS, SCT and NIR are known nations."""
    with pytest.raises(ValueError, match="unknown nation"):
        WorkingCalendar("FRA")


def test_working_days_lists_inclusive_range() -> None:
    """Working days from 24 Dec 2026 to 4 Jan 2027 inclusive, England."""
    assert ENG.working_days(D(2026, 12, 24), D(2027, 1, 4)) == [
        D(2026, 12, 24),
        D(2026, 12, 29),
        D(2026, 12, 30),
        D(2026, 12, 31),
        D(2027, 1, 4),
    ]


days = st.dates(min_value=D(2024, 1, 1), max_value=D(2029, 12, 31))
nations = st.sampled_from(["ENG", "WLS", "SCT", "NIR"])
counts = st.integers(min_value=0, max_value=60)


@settings(max_examples=60, deadline=None)
@given(nation=nations, start=days, n=st.integers(min_value=1, max_value=60))
def test_add_working_days_lands_on_a_working_day(nation: str, start: date, n: int) -> None:
    """A positive number of working days always ends on a working day after the start."""
    calendar = WorkingCalendar(nation)
    end = calendar.add_working_days(start, n)
    assert calendar.is_working_day(end)
    assert end > start


@settings(max_examples=60, deadline=None)
@given(nation=nations, start=days, n=counts)
def test_add_working_days_monotonic(nation: str, start: date, n: int) -> None:
    """One more working day is always strictly later."""
    calendar = WorkingCalendar(nation)
    assert calendar.add_working_days(start, n + 1) > calendar.add_working_days(start, n)


@settings(max_examples=60, deadline=None)
@given(start=days, n=counts, closure=st.integers(min_value=0, max_value=90))
def test_closure_day_never_moves_due_date_earlier(start: date, n: int, closure: int) -> None:
    """Adding a closure day (like a bank holiday) never brings a working-day due date forward."""
    before = WorkingCalendar("ENG").add_working_days(start, n)
    after = WorkingCalendar("ENG", [start + timedelta(days=closure)]).add_working_days(start, n)
    assert after >= before


@settings(max_examples=60, deadline=None)
@given(nation=nations, start=days, n=counts)
def test_working_days_between_inverts_add_working_days(nation: str, start: date, n: int) -> None:
    """Counting the working days from `start` to `add_working_days(start, n)` gives back n."""
    calendar = WorkingCalendar(nation)
    assert calendar.working_days_between(start, calendar.add_working_days(start, n)) == n


def test_working_days_between_inverts_backwards_count() -> None:
    """One working day before Mon 1 Jan 2024 (a bank holiday) is Fri 29 Dec 2023: -1 back."""
    end = ENG.add_working_days(D(2024, 1, 1), -1)
    assert end == D(2023, 12, 29)
    assert ENG.working_days_between(D(2024, 1, 1), end) == -1


def _walked(calendar: WorkingCalendar, day: date, days: int) -> date:
    """The reference: step a day at a time, counting `is_working_day`."""
    step, remaining, current = (1 if days >= 0 else -1), abs(days), day
    while remaining:
        current += timedelta(days=step)
        remaining -= calendar.is_working_day(current)
    return current


def test_remembered_working_day_sums_keep_each_calendar_apart() -> None:
    """`add_working_days` is remembered across calendars: the same question asked of
    calendars with other nations or closure days still gets each one's own answer (edge pair:
    the day before a closure lands on it without the closure, the day after with it)."""
    closed = D(2026, 12, 29)
    with_closure = WorkingCalendar("ENG", [closed])
    start = D(2026, 12, 24)  # Thu; Fri 25, Mon 28 are bank holidays
    assert ENG.add_working_days(start, 1) == closed
    assert with_closure.add_working_days(start, 1) == D(2026, 12, 30)
    assert ENG.add_working_days(start, 1) == closed  # asked again after the other calendar
    assert SCT.add_working_days(D(2026, 11, 27), 1) == D(2026, 12, 1)  # St Andrew's (Mon 30)
    assert ENG.add_working_days(D(2026, 11, 27), 1) == D(2026, 11, 30)
    for calendar in (ENG, SCT, with_closure):
        for offset in range(0, 400, 7):
            day = D(2026, 6, 1) + timedelta(days=offset)
            for days in (-12, -1, 0, 1, 5, 10, 20):
                assert calendar.add_working_days(day, days) == _walked(calendar, day, days)
