"""Cells of case-system extracts: dates, yes/no flags and coded values, and the problem list.

Rule: a value that cannot be read becomes an InputProblem naming file, row and field; values
of sensitive fields (birth dates, names, addresses, postcodes) are never echoed in problems.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TypeVar

from scheduler.errors import InputProblem

T = TypeVar("T")

DATE_FORMS = "a date dd/mm/yyyy, YYYY-MM-DD or YYYY-MM-DD hh:mm:ss"
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
_UK = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?: \d{2}:\d{2}(?::\d{2})?)?")
_LETTER_PREFIX = re.compile(r"^[a-z]{1,2}\)\s*", re.IGNORECASE)
_TRUE = frozenset({"y", "yes", "true", "1"})
_FALSE = frozenset({"n", "no", "false", "0"})
_UNKNOWN = frozenset({"unknown", "not known", "u"})
_READ_FLAGS: dict[str, bool | None] = {
    "": None,
    **dict.fromkeys(_UNKNOWN),
    **dict.fromkeys(_TRUE, True),
    **dict.fromkeys(_FALSE, False),
}
"""The plain spellings, looked up before the letter prefix ("a) Yes") is taken off."""


class CellError(ValueError):
    """A cell that cannot be read; carries what was expected."""

    def __init__(self, expected: str) -> None:
        """Keep what was expected."""
        super().__init__(expected)
        self.expected = expected


def text(value: object) -> str:
    """A cell as stripped text; blank for None."""
    if type(value) is str:
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_./:-]{0,39}")
"""What an identifier in an extract looks like: no spaces, at most 40 characters."""
SHOWN_MAX = 60
"""The most characters of a cell a problem shows (a 40,000-character cell is cut)."""


def shown_id(value: object) -> str:
    """An id cell as a problem may show it: quoted when it looks like an id; otherwise not
    shown, as a name or address typed into an id column is personal data."""
    cell = text(value)
    if _ID.fullmatch(cell):
        return repr(cell)
    return "a value that is not an id (not shown: it may be personal data)"


def shown(value: object) -> str:
    """A cell as a problem shows it: quoted, and cut after `SHOWN_MAX` characters."""
    cell = text(value)
    if len(cell) <= SHOWN_MAX:
        return repr(cell)
    return f"{cell[:SHOWN_MAX]!r}... ({len(cell):,} characters)"


def parse_date(value: object) -> date | None:
    """A date from an Excel date, an SQL datetime, ISO date-only or dd/mm/yyyy; None if blank.

    Raises:
        CellError: anything else, or a day that does not exist.
    """
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    cell = text(value)
    if not cell:
        return None
    try:
        if match := _ISO.fullmatch(cell):
            return date(int(match[1]), int(match[2]), int(match[3]))
        if match := _UK.fullmatch(cell):
            return date(int(match[3]), int(match[2]), int(match[1]))
    except ValueError:
        raise CellError(DATE_FORMS + " that exists") from None
    raise CellError(DATE_FORMS)


def parse_flag(value: object) -> bool | None:
    """Y/N, Yes/No, 'a) Yes'/'b) No', true/false or 1/0; None when blank or unknown.

    Raises:
        CellError: anything else.
    """
    if isinstance(value, bool):
        return value
    cell = text(value).lower()
    if cell in _READ_FLAGS:
        return _READ_FLAGS[cell]
    cell = _LETTER_PREFIX.sub("", cell)
    if not cell or cell in _UNKNOWN:
        return None
    if cell in _TRUE:
        return True
    if cell in _FALSE:
        return False
    raise CellError("Y or N (also Yes/No, 'a) Yes'/'b) No')")


def code_of(value: object) -> str:
    """The code of a coded cell: 'k) P1: Placed with parents' -> 'P1', 'C2: FCO' -> 'C2'."""
    cell = _LETTER_PREFIX.sub("", text(value))
    return cell.split(":", 1)[0].strip().upper()


@dataclass(frozen=True)
class Where:
    """A row of an extract file, for problems and warnings."""

    file: str
    row: int | None


@dataclass
class Problems:
    """Every problem found while reading an extract, what was skipped, and codes read over."""

    items: list[InputProblem] = field(default_factory=list)
    skip_orphans: bool = False
    skipped: int = 0
    skip_unknown_codes: bool = False
    skipped_codes: list[str] = field(default_factory=list)
    """Children left out for a code visitplan cannot read: id, file, row, field and code."""
    readings: Counter[str] = field(default_factory=Counter)
    """How many children each code reading (e.g. 'R5 ... read as residential') applied to."""

    def add(self, where: Where, field_name: str, expected: str, got: str) -> None:
        """Record one problem."""
        self.items.append(InputProblem(where.file, where.row, field_name, expected, got))

    def orphan(self, where: Where, field_name: str, expected: str, got: str) -> None:
        """A row referring to something the extract does not hold: a problem, or skipped."""
        if self.skip_orphans:
            self.skipped += 1
        else:
            self.add(where, field_name, expected, got + " (or use --skip-orphans)")

    def unknown_code(
        self, where: Where, field_name: str, expected: str, got: str, child: str
    ) -> None:
        """A code that cannot be read: a problem, or (when skipping) the child left out, named."""
        if self.skip_unknown_codes:
            shown = f"{child} ({where.file} row {where.row}, {field_name}: {got})"
            self.skipped_codes.append(shown)
        else:
            self.add(where, field_name, expected, got + " (or use --skip-unknown-codes)")

    def read(
        self,
        where: Where,
        field_name: str,
        parse: Callable[[object], T],
        value: object,
        *,
        sensitive: bool = False,
    ) -> T | None:
        """`parse(value)`, or None with a problem recorded (the value hidden if sensitive)."""
        try:
            return parse(value)
        except CellError as bad:
            got = "a value in another form" if sensitive else shown(value)
            self.add(where, field_name, bad.expected, got)
            return None
