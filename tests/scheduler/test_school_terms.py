"""School days: each nation's typical terms, an authority's own term dates (CSV or ICS), and
`visitplan terms import`. Edge pairs at the last day of term and the first of the holidays.
Rule: real files in tmp_path, a real SQLite store; no network, no clock."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scheduler.cli import app
from scheduler.domain import SchoolTerm
from scheduler.errors import InputError
from scheduler.school_terms import SchoolDays, easter_sunday, read_terms
from scheduler.store import Store
from tests.builders import make_scenario

D = date


@pytest.mark.parametrize(
    ("year", "expected"),
    [(2026, D(2026, 4, 5)), (2027, D(2027, 3, 28)), (2028, D(2028, 4, 16)), (2038, D(2038, 4, 25))],
)
def test_easter_sunday(year: int, expected: date) -> None:
    """Easter Sunday by the Gregorian computus (2038 is one of the latest)."""
    assert easter_sunday(year) == expected


@pytest.mark.parametrize(
    ("nation", "last_school_day", "first_holiday"),
    [
        pytest.param("ENG", D(2026, 12, 18), D(2026, 12, 21), id="eng-christmas"),
        pytest.param("ENG", D(2026, 10, 23), D(2026, 10, 26), id="eng-october-half-term"),
        pytest.param("ENG", D(2027, 2, 12), D(2027, 2, 15), id="eng-february-half-term"),
        pytest.param("ENG", D(2027, 3, 19), D(2027, 3, 22), id="eng-easter"),
        pytest.param("ENG", D(2027, 5, 28), D(2027, 5, 31), id="eng-may-half-term"),
        pytest.param("ENG", D(2027, 7, 22), D(2027, 7, 23), id="eng-summer"),
        pytest.param("WLS", D(2026, 12, 18), D(2026, 12, 21), id="wls-christmas"),
        pytest.param("SCT", D(2027, 6, 25), D(2027, 6, 28), id="sct-summer"),
        pytest.param("SCT", D(2026, 10, 9), D(2026, 10, 12), id="sct-october-week"),
        pytest.param("NIR", D(2027, 6, 30), D(2027, 7, 1), id="nir-summer"),
    ],
)
def test_typical_terms_edge_pairs(nation: str, last_school_day: date, first_holiday: date) -> None:
    """Each nation's typical year: the last day of a term is a school day, the first day of
    the holiday after it is not (docs/school-terms.md)."""
    days = SchoolDays(nation)
    assert days.is_school_day(last_school_day)
    assert not days.is_school_day(first_holiday)


@pytest.mark.parametrize(
    ("day", "school"),
    [
        pytest.param(D(2027, 1, 4), True, id="inside-spring-term-starts"),
        pytest.param(D(2027, 3, 26), False, id="outside-good-friday"),
        pytest.param(D(2027, 4, 5), True, id="inside-summer-term-starts"),
        pytest.param(D(2027, 5, 3), False, id="outside-may-bank-holiday-in-term"),
        pytest.param(D(2026, 12, 19), False, id="outside-saturday-in-term"),
        pytest.param(D(2026, 9, 3), True, id="inside-autumn-term-starts"),
        pytest.param(D(2026, 9, 2), False, id="outside-last-day-of-summer"),
    ],
)
def test_school_days_are_term_weekdays_not_bank_holidays(day: date, school: bool) -> None:
    """Weekends and bank holidays inside term time are not school days."""
    assert SchoolDays("ENG").is_school_day(day) is school


def test_given_terms_replace_typical_ones_for_the_years_they_cover() -> None:
    """Imported terms decide their school year; a year they do not touch stays typical."""
    terms = (SchoolTerm(start=D(2026, 9, 1), end=D(2026, 12, 16)),)
    days = SchoolDays("ENG", terms)
    assert days.is_school_day(D(2026, 12, 16))
    assert not days.is_school_day(D(2026, 12, 17))
    assert not days.is_school_day(D(2027, 1, 4)), "2026/27 is covered: spring not imported"
    assert days.is_school_day(D(2027, 12, 17)), "2027/28 is not covered: typical terms"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


GOOD_CSV = """start,end,name,kind
2026-09-02,2026-12-18,Autumn,term
2026-10-26,2026-10-30,October half term,holiday
2027-01-05,2027-03-26,Spring,
2027-02-15,2027-02-19,Half term,
"""


def test_csv_terms_cut_out_holidays(tmp_path: Path) -> None:
    """A holiday row (kind or name) is cut out of the term it falls in."""
    terms = read_terms(_write(tmp_path, "terms.csv", GOOD_CSV))
    spans = [(t.start, t.end) for t in terms]
    assert spans == [
        (D(2026, 9, 2), D(2026, 10, 25)),
        (D(2026, 10, 31), D(2026, 12, 18)),
        (D(2027, 1, 5), D(2027, 2, 14)),
        (D(2027, 2, 20), D(2027, 3, 26)),
    ]
    days = SchoolDays("ENG", terms)
    assert days.is_school_day(D(2026, 10, 23))
    assert not days.is_school_day(D(2026, 10, 26))


GOOD_ICS = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//terms//EN
BEGIN:VEVENT
UID:t1@test
DTSTAMP:20260101T000000Z
DTSTART;VALUE=DATE:20260902
DTEND;VALUE=DATE:20261219
SUMMARY:Autumn term
END:VEVENT
BEGIN:VEVENT
UID:t2@test
DTSTAMP:20260101T000000Z
DTSTART;VALUE=DATE:20261026
DTEND;VALUE=DATE:20261031
SUMMARY:Half term
END:VEVENT
BEGIN:VEVENT
UID:t3@test
DTSTAMP:20260101T000000Z
DTSTART;VALUE=DATE:20261120
SUMMARY:INSET day
END:VEVENT
END:VCALENDAR
"""


def _event(start: str, end: str, extra: str = "") -> str:
    """A calendar with one all-day event from `start` to `end` (raw ICS values)."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "BEGIN:VEVENT",
        f"DTSTART;VALUE=DATE:{start}",
        f"DTEND;VALUE=DATE:{end}",
        *([extra] if extra else []),
        "SUMMARY:Autumn term",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(lines) + "\r\n"


def test_ics_terms_with_exclusive_end_and_days_off(tmp_path: Path) -> None:
    """DTEND is exclusive; half term and a one-day INSET event are cut out."""
    terms = read_terms(_write(tmp_path, "terms.ics", GOOD_ICS))
    days = SchoolDays("ENG", terms)
    assert days.is_school_day(D(2026, 12, 18))
    assert not days.is_school_day(D(2026, 12, 21))
    assert days.is_school_day(D(2026, 11, 19))
    assert not days.is_school_day(D(2026, 11, 20))
    assert not days.is_school_day(D(2026, 10, 30))


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        pytest.param("t.csv", "from,to\n2026-09-01,2026-12-18\n", (1, "start"), id="no-start"),
        pytest.param("t.csv", "start,end\n01/09/2026,2026-12-18\n", (2, "start"), id="bad-date"),
        pytest.param("t.csv", "start,end\n2026-12-18,2026-09-01\n", (2, "end"), id="backwards"),
        pytest.param(
            "t.csv", "start,end,kind\n2026-09-01,2026-12-18,inset\n", (2, "kind"), id="bad-kind"
        ),
        pytest.param("t.csv", "start,end\n", (None, "start"), id="no-rows"),
        pytest.param("t.ics", "not a calendar", (None, "(file)"), id="bad-ics"),
        pytest.param(
            "t.csv", "start,end\n2026-09-01,2026-12-18,Autumn\n", (2, "(row)"), id="extra-cell"
        ),
        pytest.param("t.ics", _event("20260230", "20261219"), (1, "DTSTART"), id="no-such-day"),
        pytest.param("t.ics", _event("20260901", "2026121"), (1, "DTEND"), id="bad-end"),
        pytest.param("t.ics", _event("99991230", "99991231"), (1, "DTSTART"), id="year-9999"),
        pytest.param("t.ics", _event("20261219", "20260901"), (1, "DTEND"), id="ics-backwards"),
        pytest.param(
            "t.ics", _event("20260901", "20260905", "RRULE:FREQ=YEARLY"), (1, "RRULE"), id="rrule"
        ),
        pytest.param("t.txt", "start,end\n", (None, "(file)"), id="bad-extension"),
    ],
)
def test_bad_term_files_name_row_and_field(
    tmp_path: Path, name: str, text: str, where: tuple[int | None, str]
) -> None:
    """Every problem names the file, the row (header = row 1) and the field."""
    with pytest.raises(InputError) as caught:
        read_terms(_write(tmp_path, name, text))
    assert (caught.value.problems[0].row, caught.value.problems[0].field) == where
    assert caught.value.problems[0].file == name


runner = CliRunner()


def test_terms_import_stores_terms_on_the_authority(tmp_path: Path) -> None:
    """`visitplan terms import FILE` keeps the caseload and puts the terms on the authority."""
    url = f"sqlite:///{tmp_path / 'visitplan.db'}"
    with Store(url) as store:
        store.replace_caseload(make_scenario())
    path = _write(tmp_path, "terms.csv", GOOD_CSV)
    result = runner.invoke(app, ["terms", "import", str(path), "--db", url])
    assert result.exit_code == 0, result.stderr
    assert "Stored 4 stretches of term time" in result.stdout
    with Store(url) as store:
        scenario = store.read_scenario()
    assert len(scenario.authority.school_terms) == 4
    assert [c.id for c in scenario.children] == ["c1", "c2"]


def test_terms_import_bad_file_writes_nothing(tmp_path: Path) -> None:
    """A bad file exits 2 naming the row, and the stored terms are unchanged."""
    url = f"sqlite:///{tmp_path / 'visitplan.db'}"
    with Store(url) as store:
        store.replace_caseload(make_scenario())
    path = _write(tmp_path, "terms.csv", "start,end\n2026-09-01,18/12/2026\n")
    result = runner.invoke(app, ["terms", "import", str(path), "--db", url])
    assert result.exit_code == 2
    assert "terms.csv:2: end" in result.stderr
    with Store(url) as store:
        assert store.read_scenario().authority.school_terms == ()


def test_terms_import_needs_a_caseload(tmp_path: Path) -> None:
    """With nothing loaded there is no authority to put the terms on: exit 2, a message."""
    url = f"sqlite:///{tmp_path / 'visitplan.db'}"
    path = _write(tmp_path, "terms.csv", GOOD_CSV)
    result = runner.invoke(app, ["terms", "import", str(path), "--db", url])
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
