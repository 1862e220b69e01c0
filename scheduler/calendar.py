"""The working-day calendar: weekends, the nation's bank holidays and authority closure days."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from functools import lru_cache

import holidays

SUBDIVISIONS = {"ENG": "ENG", "WLS": "WLS", "SCT": "SCT", "NIR": "NIR"}


@lru_cache(maxsize=16)
def _bank_holidays(nation: str, year: int) -> frozenset[date]:
    days = holidays.country_holidays("GB", subdiv=SUBDIVISIONS[nation], years=year)
    return frozenset(days.keys())


class WorkingCalendar:
    """Implements `policies.BusinessCalendar` for one nation and one authority's closures."""

    def __init__(self, nation: str = "ENG", closure_days: Iterable[date] = ()) -> None:
        """Build the calendar.

        Raises:
            ValueError: an unknown nation code.
        """
        if nation not in SUBDIVISIONS:
            raise ValueError(f"unknown nation {nation!r}; expected one of {sorted(SUBDIVISIONS)}")
        self.nation = nation
        self.closure_days = frozenset(closure_days)

    def is_bank_holiday(self, day: date) -> bool:
        """True on a bank holiday (including substitute days) of this nation."""
        return day in _bank_holidays(self.nation, day.year)

    def is_working_day(self, day: date) -> bool:
        """True when `day` is not a weekend, bank holiday or closure day."""
        return day.weekday() < 5 and not self.is_bank_holiday(day) and day not in self.closure_days

    def add_working_days(self, day: date, days: int) -> date:
        """The `days`-th working day after `day` (before it when negative; `day` at 0).

        Remembered per nation, closure days, day and count (the due engine asks the same
        question for many children)."""
        return _add_working_days(self.nation, self.closure_days, day, days)

    def working_days_between(self, start: date, end: date) -> int:
        """Signed count of working days from `start` to `end`: the n with add_working_days(start, n)
        landing on `end` when `end` is a working day (days in (start, end], or minus those in
        [end, start))."""
        if end >= start:
            span = range(1, (end - start).days + 1)
            return sum(1 for i in span if self.is_working_day(start + timedelta(days=i)))
        span = range((start - end).days)
        return -sum(1 for i in span if self.is_working_day(end + timedelta(days=i)))

    def working_days(self, start: date, end: date) -> list[date]:
        """Every working day from `start` to `end` inclusive."""
        return [
            start + timedelta(days=i)
            for i in range((end - start).days + 1)
            if self.is_working_day(start + timedelta(days=i))
        ]


@lru_cache(maxsize=65536)
def _add_working_days(nation: str, closure_days: frozenset[date], day: date, days: int) -> date:
    """`WorkingCalendar.add_working_days`, walked day by day."""
    step = 1 if days >= 0 else -1
    remaining = abs(days)
    current = day
    while remaining:
        current += timedelta(days=step)
        if (
            current.weekday() < 5
            and current not in _bank_holidays(nation, current.year)
            and current not in closure_days
        ):
            remaining -= 1
    return current
