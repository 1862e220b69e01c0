"""One CSV file per extract table: header = column names, every row numbered (header = row 1).

Rule: columns are matched case-insensitively; columns we do not read are ignored (extracts
carry many); a missing required column or file is a problem, never an exception.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TextIO

from scheduler.extracts.cells import Problems, Where, parse_date, shown, text
from scheduler.extracts.drafts import HomeDraft


@dataclass(frozen=True, slots=True)
class Row:
    """One data row: where it is and its stripped cells by lower-case column name."""

    where: Where
    cells: dict[str, str]

    def get(self, column: str) -> str:
        """The stripped cell, blank when absent."""
        return self.cells.get(column, "")


def read_table(
    path: Path, required: Sequence[str], problems: Problems, *, optional: bool = False
) -> list[Row] | None:
    """The rows of a CSV table, or None (with problems) when it cannot be read.

    A missing optional file is an empty table.
    """
    rows = stream_table(path, required, problems, optional=optional)
    return None if rows is None else list(rows)


def stream_table(
    path: Path, required: Sequence[str], problems: Problems, *, optional: bool = False
) -> Iterator[Row] | None:
    """The rows of a CSV table one at a time (for tables too big to hold), or None (with
    problems) when its header cannot be read. A file that turns unreadable part-way adds a
    problem and ends the rows. A missing optional file is an empty table.
    """
    name = path.name
    if not path.is_file():
        if optional:
            return iter(())
        problems.add(Where(name, None), "(file)", "the file", "no such file")
        return None
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
        reader = csv.reader(handle)
        first = next(reader, None)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        problems.add(Where(name, None), "(file)", "a UTF-8 CSV file", type(exc).__name__)
        return None
    if first is None:
        handle.close()
        problems.add(Where(name, 1), "(header)", "a header row", "an empty file")
        return None
    header = [cell.strip().lower() for cell in first]
    missing = [column for column in required if column not in header]
    for column in missing:
        problems.add(Where(name, 1), column, "a required column", "no such column")
    if missing:
        handle.close()
        return None
    return _rows(name, handle, reader, header, problems)


def _rows(
    name: str, handle: TextIO, reader: Iterator[list[str]], header: list[str], problems: Problems
) -> Iterator[Row]:
    """The data rows (row 2 onwards), blank rows skipped; the file is closed at the end."""
    number = 1
    with handle:
        try:
            for number, cells in enumerate(reader, start=2):
                stripped = dict(zip(header, map(str.strip, cells), strict=False))
                if any(stripped.values()):
                    yield Row(Where(name, number), stripped)
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            problems.add(Where(name, number + 1), "(file)", "a UTF-8 CSV file", type(exc).__name__)


def rows_open_on(
    rows: list[Row], start: str, end: str, as_of: date, problems: Problems
) -> Iterator[tuple[Row, date | None, date | None]]:
    """Rows whose dates are readable and that are open on `as_of` (start <= as_of < end)."""
    for row in rows:
        first = problems.read(row.where, start, parse_date, row.get(start))
        last = problems.read(row.where, end, parse_date, row.get(end))
        bad = (row.get(start) and first is None) or (row.get(end) and last is None)
        if bad:
            continue
        if (first is None or first <= as_of) and (last is None or last > as_of):
            yield row, first, last


ADDRESS_COLUMNS = ("addr_person_id", "addr_address_postcode")


def read_addresses(
    path: Path, as_of: date, problems: Problems, *, optional: bool = False
) -> dict[str, tuple[Row, HomeDraft]] | None:
    """Each person's current address (latest start), as a home draft; None if unreadable.

    Rows in `ssd_address` column names: addr_person_id, addr_address_postcode and
    optionally addr_address_start_date, addr_address_end_date and addr_address_json (UPRN,
    EASTING, NORTHING, FLAT, HOUSE, BUILDING, STREET).
    """
    rows = read_table(path, ADDRESS_COLUMNS, problems, optional=optional)
    if rows is None:
        return None
    current: dict[str, tuple[date, Row, HomeDraft]] = {}
    for row, start, _ in rows_open_on(
        rows, "addr_address_start_date", "addr_address_end_date", as_of, problems
    ):
        person = row.get("addr_person_id")
        if not person:
            problems.add(row.where, "addr_person_id", "a person id", "nothing")
            continue
        home = _home(row, problems)
        if home is None:
            continue
        started = start or date.min
        if person not in current or started > current[person][0]:
            current[person] = (started, row, home)
    return {person: (row, home) for person, (_, row, home) in current.items()}


def _home(row: Row, problems: Problems) -> HomeDraft | None:
    """The address row as a home draft (JSON parts read when filled)."""
    raw = row.get("addr_address_json")
    parts: dict[str, object] = {}
    if raw:
        try:
            loaded = json.loads(raw)
        except json.JSONDecodeError:
            loaded = None
        if not isinstance(loaded, dict):
            problems.add(row.where, "addr_address_json", "a JSON object", "text that is not one")
            return None
        parts = {str(k).upper(): v for k, v in loaded.items()}
    grid: list[float] = []
    for key in ("EASTING", "NORTHING"):
        value = text(parts.get(key))
        if value:
            try:
                grid.append(float(value))
            except ValueError:
                problems.add(row.where, "addr_address_json", f"{key} as a number", shown(value))
                return None
    house = " ".join(text(parts.get(k)) for k in ("ROOM", "FLAT", "BUILDING", "HOUSE")).split()
    return HomeDraft(
        where=row.where,
        field="addr_address_postcode",
        postcode=row.get("addr_address_postcode"),
        uprn=text(parts.get("UPRN")),
        easting=grid[0] if len(grid) == 2 else None,
        northing=grid[1] if len(grid) == 2 else None,
        house=" ".join(house),
        street=text(parts.get("STREET")),
    )
