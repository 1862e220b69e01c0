"""Reading a user's text file (CSV, JSON): UTF-8 or one clear problem naming the file.

Rule: the problem never quotes the file's content, only where the bad byte is.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from scheduler.errors import InputError, InputProblem

MAX_BYTES = 200_000_000
"""A file larger than this is refused before it is read (an L authority's scenario is 15 MB)."""


def read_text(path: Path) -> str:
    """The file's text, decoded as UTF-8 (a byte-order mark from Excel is fine).

    Raises:
        InputError: the file is missing or unreadable, too large, not UTF-8, or holds NUL
            bytes (a binary or UTF-16 file).
    """
    name = path.name
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise InputError(
                [
                    InputProblem(
                        name,
                        None,
                        "(file)",
                        f"a file of at most {MAX_BYTES // 1_000_000} MB",
                        f"{size // 1_000_000} MB",
                    )
                ]
            )
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(
            [InputProblem(name, None, "(file)", "a readable file", exc.strerror or "unreadable")]
        ) from None
    nul = data.find(b"\x00")
    if nul >= 0:
        raise InputError(
            [
                InputProblem(
                    name,
                    None,
                    "(file)",
                    "UTF-8 text",
                    f"NUL bytes from offset {nul} (a binary or UTF-16 file?)",
                )
            ]
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            [
                InputProblem(
                    name,
                    None,
                    "(file)",
                    "UTF-8 text (save it as CSV UTF-8 or UTF-8 JSON)",
                    f"a byte that is not UTF-8 at offset {exc.start}",
                )
            ]
        ) from None


@dataclass(frozen=True)
class CsvRow:
    """One data row of a CSV file: its number (the header is row 1) and its stripped cells by
    lower-case column name."""

    number: int
    cells: dict[str, str]

    def get(self, column: str) -> str:
        """The stripped cell, blank when the column is absent."""
        return self.cells.get(column, "")


@dataclass(frozen=True)
class CsvTable:
    """A CSV file read for checking: its header, its well-formed rows and what is wrong."""

    columns: tuple[str, ...]
    rows: tuple[CsvRow, ...]
    problems: tuple[InputProblem, ...]


def read_csv(path: Path) -> CsvTable:
    """The header (stripped, lower-case) and the data rows of a CSV file, blank rows skipped.

    A row with more or fewer cells than the header, or a column named twice, is a problem
    (file, row, what was expected); such a row is left out of `rows`, so a caller lists every
    problem and writes nothing.

    Raises:
        InputError: the file cannot be read as UTF-8 text (see `read_text`) or as CSV.
    """
    name = path.name
    try:
        table = list(csv.reader(io.StringIO(read_text(path), newline="")))
    except csv.Error as exc:
        raise InputError([InputProblem(name, None, "(file)", "a CSV file", str(exc))]) from None
    if not table:
        return CsvTable((), (), ())
    columns = tuple(c.strip().lower() for c in table[0])
    problems = [
        InputProblem(name, 1, column, "each column once", "a repeated column")
        for column in sorted({c for c in columns if c and columns.count(c) > 1})
    ]
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(columns):
            problems.append(
                InputProblem(name, number, "(row)", _cells(len(columns)), _cells(len(cells)))
            )
            continue
        rows.append(CsvRow(number, dict(zip(columns, (c.strip() for c in cells), strict=True))))
    return CsvTable(columns, tuple(rows), tuple(problems))


def _cells(count: int) -> str:
    """'1 cell', '4 cells'."""
    return f"{count} cell" + ("" if count == 1 else "s")
