"""School days: an authority's term dates, or its nation's typical terms where it gives none.

A school day is a weekday in term time that is not a bank holiday. Term dates come from the
authority (`Authority.school_terms`, imported by `visitplan terms import` from CSV or ICS);
a school year (1 September to 31 August) none of them touches falls back on the nation's
typical pattern, documented with its limits in docs/school-terms.md.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from icalendar import Calendar

from scheduler.calendar import WorkingCalendar
from scheduler.domain import EARLIEST, LATEST, SchoolTerm
from scheduler.errors import InputError, InputProblem

HOLIDAY_WORDS = re.compile(r"holiday|half[ -]?term|inset|training day|closed|closure|break")
"""An ICS event or CSV row whose name matches is time off inside the terms, not term time."""


def easter_sunday(year: int) -> date:
    """Easter Sunday (Gregorian; the anonymous algorithm of Meeus, Jones and Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = (a + 11 * h + 22 * m) // 451
    month, day = divmod(h + m - 7 * n + 114, 31)
    return date(year, month, day + 1)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _on_or_after(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def _weekday_on_or_before(day: date) -> date:
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def _weekday_on_or_after(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _last_friday(year: int, month: int) -> date:
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - 4) % 7)


def _last_monday(year: int, month: int) -> date:
    next_month = date(year + month // 12, month % 12 + 1, 1)
    return _monday(next_month - timedelta(days=1))


def _week(monday: date, days: int = 5) -> tuple[date, date]:
    return monday, monday + timedelta(days=days - 1)


def _split(start: date, end: date, breaks: Sequence[tuple[date, date]]) -> list[tuple[date, date]]:
    """The days start .. end without the break ranges, as inclusive ranges."""
    out: list[tuple[date, date]] = []
    current = start
    for lo, hi in sorted(breaks):
        if hi < current or lo > end:
            continue
        if lo > current:
            out.append((current, lo - timedelta(days=1)))
        current = max(current, hi + timedelta(days=1))
    if current <= end:
        out.append((current, end))
    return out


@lru_cache(maxsize=64)
def typical_terms(nation: str, first_year: int) -> tuple[tuple[date, date], ...]:
    """The nation's typical term time for the school year starting in `first_year`.

    England (and Wales, and the default): autumn from 3 September (next weekday), half term
    in the week of the last Monday of October; Christmas holidays the two weeks from the
    Monday of the week of 25 December; spring half term the week from the Monday on or
    after 12 February; Easter holidays from the Monday of Good Friday's week to the Friday
    of Easter Monday's week; summer half term the week of the late May bank holiday; the
    year ends on 22 July (or the weekday before). Scotland: from the Wednesday on or after
    15 August, a week in October from the Monday on or after 12 October, two days in
    February, ending on the last Friday of June. Northern Ireland: from 1 September (next
    weekday), Halloween week, ending on 30 June (or the weekday before).
    """
    second = first_year + 1
    christmas = _monday(date(first_year, 12, 25))
    easter = easter_sunday(second)
    easter_break = (_monday(easter - timedelta(days=2)), _monday(easter) + timedelta(days=11))
    february = _on_or_after(date(second, 2, 12), 0)
    breaks = [(christmas, christmas + timedelta(days=13)), easter_break]
    if nation == "SCT":
        start = _on_or_after(date(first_year, 8, 15), 2)
        end = _last_friday(second, 6)
        breaks += [_week(_on_or_after(date(first_year, 10, 12), 0)), _week(february, 2)]
    elif nation == "NIR":
        start = _weekday_on_or_after(date(first_year, 9, 1))
        end = _weekday_on_or_before(date(second, 6, 30))
        breaks += [_week(_last_monday(first_year, 10)), _week(february, 3)]
    else:
        start = _weekday_on_or_after(date(first_year, 9, 3))
        end = _weekday_on_or_before(date(second, 7, 22))
        breaks += [
            _week(_last_monday(first_year, 10)),
            _week(february),
            _week(_last_monday(second, 5)),
        ]
    return tuple(_split(start, end, breaks))


def school_year_of(day: date) -> int:
    """The calendar year in which `day`'s school year (September to August) starts."""
    return day.year if day.month >= 9 else day.year - 1


class SchoolDays:
    """Knows which days are school days for one authority."""

    def __init__(self, nation: str = "ENG", terms: Iterable[SchoolTerm] = ()) -> None:
        """Build from the authority's term dates (may be empty) and its nation.

        Raises:
            ValueError: an unknown nation code.
        """
        self.bank_holidays = WorkingCalendar(nation)
        self.nation = nation
        self.terms = tuple(sorted((t.start, t.end) for t in terms))
        self.covered = {
            year
            for lo, hi in self.terms
            for year in range(school_year_of(lo), school_year_of(hi) + 1)
        }

    def is_term_time(self, day: date) -> bool:
        """True inside a term (given, or typical for a school year no given term touches)."""
        year = school_year_of(day)
        terms = self.terms if year in self.covered else typical_terms(self.nation, year)
        return any(lo <= day <= hi for lo, hi in terms)

    def is_school_day(self, day: date) -> bool:
        """A weekday in term time that is not a bank holiday."""
        return (
            day.weekday() < 5
            and not self.bank_holidays.is_bank_holiday(day)
            and self.is_term_time(day)
        )


def _problem(file: str, row: int | None, field: str, expected: str, got: str) -> InputProblem:
    return InputProblem(file, row, field, expected, got)


def terms_from_ranges(
    terms: Sequence[tuple[date, date, str | None]], holidays: Sequence[tuple[date, date]]
) -> tuple[SchoolTerm, ...]:
    """Term ranges with holiday ranges (half terms, training days) cut out of them."""
    out: list[SchoolTerm] = []
    for start, end, name in sorted(terms, key=lambda t: t[0]):
        for lo, hi in _split(start, end, holidays):
            out.append(SchoolTerm(start=lo, end=hi, name=name))
    return tuple(out)


def read_terms_csv(path: Path) -> tuple[SchoolTerm, ...]:
    """Term dates from a CSV file with columns start, end and optionally name and kind.

    `kind` is `term` (the default) or `holiday`; a holiday row (or a row whose name says
    half term, holiday, INSET or training day) is cut out of the terms.

    Raises:
        InputError: naming each bad row and column; nothing is returned in part.
    """
    name = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            [_problem(name, None, "(file)", "a UTF-8 CSV file", type(exc).__name__)]
        ) from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in ("start", "end") if c not in header]
    unknown = [c for c in header if c not in ("start", "end", "name", "kind")]
    problems = [_problem(name, 1, c, "a column named " + c, "no such column") for c in missing]
    problems += [_problem(name, 1, c, "columns start, end, name, kind", c) for c in unknown]
    if problems:
        raise InputError(problems)
    terms: list[tuple[date, date, str | None]] = []
    holidays: list[tuple[date, date]] = []
    for row_number, raw in enumerate(reader, start=2):
        extra = raw.get(None)
        if extra:
            cells = f"{len(header)} cells (one per column)"
            got = f"{len(header) + len(extra)} cells"
            problems.append(_problem(name, row_number, "(row)", cells, got))
            continue
        row = {k.strip(): (v or "").strip() for k, v in raw.items() if k}
        parsed: dict[str, date] = {}
        for column in ("start", "end"):
            try:
                parsed[column] = date.fromisoformat(row[column])
            except ValueError:
                problems.append(
                    _problem(name, row_number, column, "a date YYYY-MM-DD", row[column] or "")
                )
        kind = row.get("kind") or "term"
        if kind not in ("term", "holiday"):
            problems.append(_problem(name, row_number, "kind", "term or holiday", kind))
            continue
        if len(parsed) < 2:
            continue
        if parsed["end"] < parsed["start"]:
            problems.append(_problem(name, row_number, "end", "on or after start", row["end"]))
            continue
        label = row.get("name") or None
        if kind == "holiday" or (label and HOLIDAY_WORDS.search(label.lower())):
            holidays.append((parsed["start"], parsed["end"]))
        else:
            terms.append((parsed["start"], parsed["end"], label))
    if not terms and not problems:
        problems.append(_problem(name, None, "start", "at least one term row", "none"))
    if problems:
        raise InputError(problems)
    return terms_from_ranges(terms, holidays)


def _as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def _event_day(event: Any, key: str) -> date | None:
    """An event's DTSTART or DTEND as a day (None if absent).

    Raises:
        ValueError: the property is not a date (icalendar's broken property is a ValueError).
    """
    prop = event.get(key)
    if prop is None:
        return None
    value = prop.dt
    if not isinstance(value, date):
        raise ValueError(key)
    return _as_date(value)


def _ics_range(name: str, number: int, event: Any) -> tuple[date, date] | InputProblem:
    """One event's days, inclusive (DTEND is exclusive for dates, RFC 5545), or the problem
    with it: a missing or malformed date, an end before the start, a day outside the years
    the calendar covers, or a repeating event (one event per term is read)."""
    if event.get("RRULE") is not None:
        return _problem(name, number, "RRULE", "one event per term (not repeating)", "RRULE")
    days: dict[str, date | None] = {}
    for key in ("DTSTART", "DTEND"):
        try:
            days[key] = _event_day(event, key)
        except ValueError:
            raw = event.get(key)
            got = raw.to_ical().decode(errors="replace") if hasattr(raw, "to_ical") else "?"
            return _problem(name, number, key, "a date YYYYMMDD", got[:40])
    start, end = days["DTSTART"], days["DTEND"]
    if start is None:
        return _problem(name, number, "DTSTART", "a start date", "none")
    last = end - timedelta(days=1) if end is not None else start
    if end is not None and end <= start:
        return _problem(name, number, "DTEND", "a day after DTSTART", f"{end:%Y%m%d}")
    for key, day in (("DTSTART", start), ("DTEND", last)):
        if not EARLIEST <= day <= LATEST:
            expected = f"a date from {EARLIEST:%Y} to {LATEST:%Y}"
            return _problem(name, number, key, expected, f"{day:%Y%m%d}")
    return start, last


def read_terms_ics(path: Path) -> tuple[SchoolTerm, ...]:
    """Term dates from an ICS file: each all-day event is term time, except events whose
    summary says holiday, half term, INSET, training day or closure, which are cut out.
    DTEND is exclusive, as RFC 5545 says for dates.

    Raises:
        InputError: the file does not parse, or an event's dates are missing, malformed,
        reversed, out of range or repeating (every event is reported).
    """
    name = path.name
    try:
        calendar = Calendar.from_ical(path.read_bytes())
    except (OSError, ValueError) as exc:
        got = (
            "a file that cannot be read"
            if isinstance(exc, OSError)
            else "a file that is not iCalendar text (UTF-8, BEGIN:VCALENDAR)"
        )
        problem = _problem(name, None, "(file)", "an iCalendar (.ics) file", got)
        raise InputError([problem]) from None
    terms: list[tuple[date, date, str | None]] = []
    holidays: list[tuple[date, date]] = []
    problems: list[InputProblem] = []
    for number, event in enumerate(calendar.walk("VEVENT"), start=1):
        summary = str(event.get("SUMMARY", "")).strip() or None
        found = _ics_range(name, number, event)
        if isinstance(found, InputProblem):
            problems.append(found)
            continue
        start, end = found
        if summary and HOLIDAY_WORDS.search(summary.lower()):
            holidays.append((start, end))
        else:
            terms.append((start, end, summary))
    if not terms and not problems:
        problems.append(_problem(name, None, "VEVENT", "at least one term event", "none"))
    if problems:
        raise InputError(problems)
    return terms_from_ranges(terms, holidays)


def read_terms(path: Path) -> tuple[SchoolTerm, ...]:
    """Term dates from a .csv or .ics file.

    Raises:
        InputError: an unreadable file, another extension, or bad rows.
    """
    path = Path(path)
    if not path.is_file():
        got = "no such file" if not path.exists() else "not a plain file"
        raise InputError([_problem(str(path), None, "(file)", "an existing file", got)])
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return read_terms_csv(path)
    if suffix in (".ics", ".ical"):
        return read_terms_ics(path)
    got = suffix or "no extension"
    raise InputError([_problem(path.name, None, "(file)", "a .csv or .ics file", got)])
