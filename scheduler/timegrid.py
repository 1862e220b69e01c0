"""Time of day on the minute grid: a time's minutes after midnight, the time of a minute, the
clock text of a minute, and the part of the day a visit starts in."""

from __future__ import annotations

from datetime import time

from policies import PartOfDay

NOON = time(12, 0)
EVENING = time(17, 0)


def minutes_of(moment: time) -> int:
    """Minutes after midnight (seconds dropped)."""
    return moment.hour * 60 + moment.minute


def time_of(minutes: int) -> time:
    """The time `minutes` after midnight (0 to 1439)."""
    return time(minutes // 60, minutes % 60)


def clock(minutes: int) -> str:
    """`minutes` after midnight as HH:MM."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def part_of_day(start: time) -> PartOfDay:
    """Morning before 12:00, afternoon 12:00-16:59, evening from 17:00."""
    if start < NOON:
        return "morning"
    if start < EVENING:
        return "afternoon"
    return "evening"
