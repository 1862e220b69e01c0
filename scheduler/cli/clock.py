"""The clock, read here and nowhere else: today and now in the UK (VISITPLAN_TODAY fixes the
day, VISITPLAN_NOW the moment)."""

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
    moment = _fixed_now()
    return (moment or datetime.now(LONDON)).date()


def now_local() -> datetime:
    """The clock for audit rows: now in the UK (on `VISITPLAN_TODAY` when that is set)."""
    import os

    moment = _fixed_now() or datetime.now(LONDON)
    if os.environ.get("VISITPLAN_TODAY"):
        return datetime.combine(today(), moment.timetz())
    return moment


def _fixed_now() -> datetime | None:
    """`VISITPLAN_NOW=YYYY-MM-DDTHH:MM` (UK time) as an aware moment, if it is set."""
    import os

    fixed = os.environ.get("VISITPLAN_NOW")
    if not fixed:
        return None
    try:
        moment = datetime.fromisoformat(fixed)
    except ValueError:
        fail(f"VISITPLAN_NOW: expected a time YYYY-MM-DDTHH:MM (UK time), got {fixed!r}", 2)
    if moment.tzinfo is not None:
        fail(f"VISITPLAN_NOW: give UK time with no offset, got {fixed!r}", 2)
    checked_date(moment.date(), "VISITPLAN_NOW")
    return moment.replace(tzinfo=LONDON)


def planning_moment() -> datetime:
    """The moment a plan or re-plan is made, before which it places nothing new: now in the UK.

    `VISITPLAN_NOW` fixes it, to rehearse or replay a re-plan made at a given time; with
    `VISITPLAN_TODAY` alone it is the start of that day, so a rehearsed day is planned whole
    and the proposal does not depend on the hour the rehearsal runs at.
    """
    fixed = _fixed_now()
    if fixed is not None:
        return fixed
    import os

    if os.environ.get("VISITPLAN_TODAY"):
        return datetime.combine(today(), datetime.min.time(), tzinfo=LONDON)
    return datetime.now(LONDON)


def now_utc() -> datetime:
    """The clock, read here for calendar revisions: now in UTC."""
    from datetime import UTC

    return datetime.now(UTC)


def next_monday(day: date) -> date:
    """The Monday after `day` (or `day` itself when it is a Monday)."""
    from datetime import timedelta

    return day + timedelta(days=(7 - day.weekday()) % 7)
