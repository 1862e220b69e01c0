"""The clock, read here and nowhere else: today and now in the UK (VISITPLAN_TODAY fixes it)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from scheduler.cli.options import checked_date
from scheduler.cli.output import fail

LONDON = ZoneInfo("Europe/London")


def today() -> date:
    """The clock is read here and nowhere else: today in the UK.

    `VISITPLAN_TODAY=YYYY-MM-DD` fixes it (rehearsing a week, tests, replaying a day).
    """
    import os

    fixed = os.environ.get("VISITPLAN_TODAY")
    if fixed:
        try:
            return checked_date(date.fromisoformat(fixed), "VISITPLAN_TODAY")
        except ValueError:
            fail(f"VISITPLAN_TODAY: expected a date YYYY-MM-DD, got {fixed!r}", 2)
    return datetime.now(LONDON).date()


def now_local() -> datetime:
    """The clock for audit rows: now in the UK (on `VISITPLAN_TODAY` when that is set)."""
    import os

    moment = datetime.now(LONDON)
    if os.environ.get("VISITPLAN_TODAY"):
        return datetime.combine(today(), moment.timetz())
    return moment


def now_utc() -> datetime:
    """The clock, read here for calendar revisions: now in UTC."""
    from datetime import UTC

    return datetime.now(UTC)


def next_monday(day: date) -> date:
    """The Monday after `day` (or `day` itself when it is a Monday)."""
    from datetime import timedelta

    return day + timedelta(days=(7 - day.weekday()) % 7)
