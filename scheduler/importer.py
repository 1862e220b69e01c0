"""Reads case-system CSV exports (docs/import-format.md) into a Scenario, reporting every problem.

Rule: reads files only; writes nothing. Either the whole directory is valid and a Scenario is
returned, or InputError lists every problem found with file, row (header = row 1), column and
what was expected, so the caller can store all or nothing.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from policies import CATEGORIES, FLAGS, PLACEMENT_TYPES, ROLES, Period
from scheduler.domain import (
    Absence,
    Authority,
    Child,
    Household,
    Scenario,
    Team,
    VisitRecord,
    Worker,
)
from scheduler.errors import InputError, InputProblem
from scheduler.scenario_io import (
    PERSONAL_FIELDS,
    authority_problems,
    describe_expected,
    describe_got,
    reference_problems,
)

SEPARATOR = ";"
"""Separates the values of a multi-valued cell (household ids, weekdays, flags, windows)."""

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
OUTCOMES: tuple[str, ...] = ("completed", "failed", "not-seen")
_TRUE = frozenset({"yes", "y", "true", "1"})
_FALSE = frozenset({"no", "n", "false", "0"})
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME = re.compile(r"\d{2}:\d{2}")
_WINDOW = re.compile(r"(?P<day>\w+)\s+(?P<start>\d{2}:\d{2})\s*-\s*(?P<end>\d{2}:\d{2})")


class _CellError(ValueError):
    """A cell that does not parse; carries what was expected."""

    def __init__(self, expected: str) -> None:
        super().__init__(expected)
        self.expected = expected


def _text(cell: str) -> str:
    return cell


def _date(cell: str) -> date:
    try:
        if not _DATE.fullmatch(cell):
            raise ValueError(cell)
        return date.fromisoformat(cell)
    except ValueError:
        raise _CellError("a date YYYY-MM-DD") from None


def _time(cell: str) -> time:
    try:
        if not _TIME.fullmatch(cell):
            raise ValueError(cell)
        return time.fromisoformat(cell)
    except ValueError:
        raise _CellError("a time HH:MM") from None


def _number(cell: str) -> float:
    try:
        return float(cell)
    except ValueError:
        raise _CellError("a number") from None


def _whole(cell: str) -> int:
    try:
        return int(cell)
    except ValueError:
        raise _CellError("a whole number") from None


def _boolean(cell: str) -> bool:
    lowered = cell.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise _CellError("yes or no")


def _one_of(choices: Sequence[str]) -> Callable[[str], str]:
    def parse(cell: str) -> str:
        if cell not in choices:
            raise _CellError("one of: " + ", ".join(choices))
        return cell

    return parse


def _period(cell: str) -> dict[str, Any]:
    try:
        return Period.parse(cell).model_dump()
    except ValueError:
        raise _CellError("a period like '10 working days', '3 weeks' or '1 month'") from None


def _many(parse: Callable[[str], Any], what: str) -> Callable[[str], list[Any]]:
    def parse_all(cell: str) -> list[Any]:
        values = [part.strip() for part in cell.split(SEPARATOR) if part.strip()]
        try:
            return [parse(value) for value in values]
        except _CellError as bad:
            raise _CellError(f"{what} separated by '{SEPARATOR}'") from bad

    return parse_all


def _weekday(cell: str) -> int:
    lowered = cell.lower()[:3]
    if lowered in WEEKDAYS and cell.lower() in (lowered, _full_day(lowered)):
        return WEEKDAYS.index(lowered)
    if cell.isdigit() and int(cell) < len(WEEKDAYS):
        return int(cell)
    raise _CellError("a weekday mon ... sun")


def _full_day(short: str) -> str:
    names = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    return names[WEEKDAYS.index(short)]


def _window(cell: str) -> dict[str, Any]:
    match = _WINDOW.fullmatch(cell)
    if match is None:
        raise _CellError("a window like 'mon 16:00-19:00'")
    return {
        "weekday": _weekday(match["day"]),
        "start": _time(match["start"]),
        "end": _time(match["end"]),
    }


@dataclass(frozen=True)
class Col:
    """One CSV column: its name, parser, whether it is required and where it goes."""

    name: str
    parse: Callable[[str], Any]
    required: bool = False
    target: tuple[str, ...] = ()

    @property
    def path(self) -> tuple[str, ...]:
        """Where the value goes in the model's input (the column name by default)."""
        return self.target or (self.name,)


@dataclass(frozen=True)
class FileSpec:
    """One CSV file of the export."""

    name: str
    collection: str
    model: type[BaseModel]
    columns: tuple[Col, ...]
    required: bool = True


_EVENT_COLUMNS = tuple(
    Col(name, _date, target=("events", name))
    for name in (
        "referral",
        "plan_start",
        "placement_start",
        "care_order",
        "notification",
        "conference",
        "adoption_order",
    )
)

FILES: tuple[FileSpec, ...] = (
    FileSpec(
        "teams.csv",
        "teams",
        Team,
        (
            Col("id", _text, required=True),
            Col("name", _text, required=True),
            Col("neighbours", _many(_text, "team ids")),
        ),
    ),
    FileSpec(
        "workers.csv",
        "workers",
        Worker,
        (
            Col("id", _text, required=True),
            Col("name", _text, required=True),
            Col("role", _one_of(ROLES), required=True),
            Col("team_id", _text, required=True),
            Col("base_lat", _number, required=True),
            Col("base_lon", _number, required=True),
            Col("days", _many(_weekday, "weekdays mon ... sun")),
            Col("day_start", _time),
            Col("day_end", _time),
            Col("max_visits_per_day", _whole),
            Col("calendar_url", _text),
        ),
    ),
    FileSpec(
        "households.csv",
        "households",
        Household,
        (
            Col("id", _text, required=True),
            Col("area", _text, required=True),
            Col("lat", _number, required=True),
            Col("lon", _number, required=True),
            Col("address", _text),
            Col("team_id", _text),
            Col("windows", _many(_window, "windows like 'mon 16:00-19:00'")),
            Col("joint_visit", _boolean),
            Col("school_day_start", _time),
        ),
    ),
    FileSpec(
        "children.csv",
        "children",
        Child,
        (
            Col("id", _text, required=True),
            Col("case_ref", _text, required=True),
            Col("category", _one_of(CATEGORIES), required=True),
            Col("household_ids", _many(_text, "household ids"), required=True),
            Col("name", _text),
            Col("birth_date", _date),
            Col("placement_type", _one_of(PLACEMENT_TYPES)),
            Col("allocated_worker", _text),
            Col("flags", _many(_one_of(FLAGS), "flags from: " + ", ".join(FLAGS))),
            Col("every", _period, target=("frequency", "every")),
            Col("every_source", _text, target=("frequency", "source")),
            *_EVENT_COLUMNS,
        ),
    ),
    FileSpec(
        "visits.csv",
        "records",
        VisitRecord,
        (
            Col("id", _text, required=True),
            Col("child_id", _text, required=True),
            Col("date", _date, required=True, target=("on",)),
            Col("outcome", _one_of(OUTCOMES), required=True),
            Col("household_id", _text),
            Col("start", _time),
            Col("worker_id", _text),
            Col("at_home", _boolean),
            Col("announced", _boolean),
            Col("seen_alone", _boolean),
            Col("bedroom_seen", _boolean),
            Col("seen_awake", _boolean),
            Col("visit_id", _text),
        ),
        required=False,
    ),
    FileSpec(
        "absences.csv",
        "absences",
        Absence,
        (
            Col("worker_id", _text, required=True),
            Col("start", _date, required=True),
            Col("end", _date, required=True),
            Col("reason", _text),
        ),
        required=False,
    ),
)
_FILE_ORDER = {spec.name: i for i, spec in enumerate(FILES)}


@dataclass
class _Parsed:
    """The valid rows of one file, their row numbers, and ids of invalid rows."""

    items: list[Any]
    rows: list[int]
    broken_ids: set[str]
    readable: bool = True


def read_csv_dir(directory: Path, authority_id: str, as_of: date) -> Scenario:
    """The scenario described by the CSV exports in `directory`.

    Args:
        directory: Holds teams.csv, workers.csv, households.csv, children.csv and optionally
            visits.csv (visit history) and absences.csv.
        authority_id: The policy pack that applies.
        as_of: The date the exports are correct to.

    Raises:
        InputError: listing every problem in every file; nothing is returned in part.
    """
    directory = Path(directory)
    problems: list[InputProblem] = []
    problems.extend(authority_problems(authority_id, directory.name, None, "authority"))
    if not directory.is_dir():
        problems.append(
            InputProblem(directory.name, None, "(directory)", "a directory", "no such directory")
        )
        raise InputError(problems)

    parsed: dict[str, _Parsed] = {}
    for spec in FILES:
        parsed[spec.collection] = _read_file(directory / spec.name, spec, problems)

    def locate(collection: str, index: int, field: str) -> tuple[str, int | None, str]:
        spec = next(s for s in FILES if s.collection == collection)
        column = next((c.name for c in spec.columns if c.path[0] == field), field)
        return spec.name, parsed[collection].rows[index], column

    problems.extend(
        reference_problems(
            parsed["teams"].items,
            parsed["workers"].items,
            parsed["households"].items,
            parsed["children"].items,
            parsed["absences"].items,
            (),
            parsed["records"].items,
            locate,
            extra_ids={name: p.broken_ids for name, p in parsed.items()},
            unreadable=[name for name, p in parsed.items() if not p.readable],
        )
    )
    if problems:
        raise InputError(_sorted(problems))
    try:
        return Scenario(
            authority=Authority(id=authority_id),
            as_of=as_of,
            teams=tuple(parsed["teams"].items),
            workers=tuple(parsed["workers"].items),
            households=tuple(parsed["households"].items),
            children=tuple(parsed["children"].items),
            absences=tuple(parsed["absences"].items),
            records=tuple(parsed["records"].items),
        )
    except ValidationError as exc:  # a scenario rule the row checks above do not cover
        raise InputError(
            InputProblem(directory.name, None, "(scenario)", "a consistent caseload", e["msg"])
            for e in exc.errors()
        ) from exc


def _read_file(path: Path, spec: FileSpec, problems: list[InputProblem]) -> _Parsed:
    """Parse one CSV file, appending its problems; missing optional files are empty."""
    result = _Parsed([], [], set())
    if not path.is_file():
        if spec.required:
            problems.append(InputProblem(spec.name, None, "(file)", "the file", "no such file"))
            result.readable = False
        return result
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            table = list(csv.reader(handle))
    except UnicodeDecodeError as exc:
        problems.append(
            InputProblem(
                spec.name,
                None,
                "(file)",
                "UTF-8 text (save the export as CSV UTF-8)",
                f"a byte that is not UTF-8 at offset {exc.start}",
            )
        )
        result.readable = False
        return result
    except csv.Error as exc:
        got = "NUL bytes (a binary or UTF-16 file?)" if "NUL" in str(exc) else str(exc)
        problems.append(InputProblem(spec.name, None, "(file)", "a text CSV file", got))
        result.readable = False
        return result
    except OSError as exc:
        problems.append(
            InputProblem(spec.name, None, "(file)", "a readable file", exc.strerror or "unreadable")
        )
        result.readable = False
        return result
    if not table:
        problems.append(InputProblem(spec.name, 1, "(header)", "a header row", "an empty file"))
        result.readable = False
        return result

    header = [name.strip().lower() for name in table[0]]
    known = {c.name for c in spec.columns}
    header_ok = True
    for name in header:
        if name not in known:
            expected = "one of the columns: " + ", ".join(c.name for c in spec.columns)
            problems.append(
                InputProblem(spec.name, 1, name or "(blank)", expected, "an unknown column")
            )
    for name in [n for n in header if header.count(n) > 1 and n][::2]:
        problems.append(InputProblem(spec.name, 1, name, "each column once", "a repeated column"))
    for col in spec.columns:
        if col.required and col.name not in header:
            problems.append(
                InputProblem(spec.name, 1, col.name, "a required column", "no such column")
            )
            header_ok = False
    if not header_ok:
        result.readable = False
        return result

    columns = {c.name: c for c in spec.columns}
    for row, cells in enumerate(table[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        item, row_problems = _read_row(spec, header, columns, cells, row)
        problems.extend(row_problems)
        if item is not None:
            result.items.append(item)
            result.rows.append(row)
        elif "id" in header and len(cells) > header.index("id"):
            result.broken_ids.add(cells[header.index("id")].strip())
    return result


def _read_row(
    spec: FileSpec, header: list[str], columns: dict[str, Col], cells: list[str], row: int
) -> tuple[Any | None, list[InputProblem]]:
    """One data row as a model, or None with the row's problems."""
    problems: list[InputProblem] = []
    broken = next((i for i, cell in enumerate(cells) if "\n" in cell or "\r" in cell), None)
    if broken is not None:
        # A quote opened and never closed reads the rest of the file as one cell.
        name = header[broken] if broken < len(header) else "(row)"
        lines = cells[broken].count("\n") + 1
        got = f"a cell over {lines} lines (a quote opened and not closed?)"
        problems.append(InputProblem(spec.name, row, name, "a cell on one line", got))
        return None, problems
    if len(cells) > len(header):
        problems.append(
            InputProblem(spec.name, row, "(row)", f"{len(header)} cells", f"{len(cells)} cells")
        )
        return None, problems
    data: dict[str, Any] = {}
    for name, raw in zip(header, cells + [""] * (len(header) - len(cells)), strict=True):
        col = columns.get(name)
        if col is None:
            continue
        cell = raw.strip()
        if not cell:
            if col.required:
                problems.append(InputProblem(spec.name, row, name, "a value (required)", "nothing"))
            continue
        try:
            value = col.parse(cell)
        except _CellError as bad:
            problems.append(InputProblem(spec.name, row, name, bad.expected, _shown(name, cell)))
            continue
        target = data
        for key in col.path[:-1]:
            target = target.setdefault(key, {})
        target[col.path[-1]] = value
    if problems:
        return None, problems
    try:
        return spec.model.model_validate(data), []
    except ValidationError as exc:
        for error in exc.errors():
            column = _column_for(spec, error["loc"], error["msg"])
            got = (
                _shown(column, cells[header.index(column)].strip())
                if column in header
                else describe_got(error.get("input"))
            )
            problems.append(
                InputProblem(spec.name, row, column, describe_expected(error["msg"]), got)
            )
        return None, problems


def _shown(column: str, cell: str) -> str:
    """A cell as a problem may show it: never a child's or family's personal data."""
    return (
        "a value that does not fit (not shown: personal data)"
        if column in PERSONAL_FIELDS
        else describe_got(cell)
    )


def _column_for(spec: FileSpec, loc: Sequence[int | str], message: str) -> str:
    """The column a pydantic error is about; for a row-level rule, the column it names."""
    if "end before start" in message:
        return "end"
    keys = [part for part in loc if isinstance(part, str)]
    for col in spec.columns:
        if keys and tuple(keys[: len(col.path)]) == col.path:
            return col.name
    for col in spec.columns:
        if col.name != "id" and col.path[-1] in message:
            return col.name
    if "household" in message:
        return "household_ids"
    if "window" in message:
        return "windows"
    return spec.columns[0].name


def _sorted(problems: list[InputProblem]) -> list[InputProblem]:
    """Problems by file (in import order), then row; stable within a row."""
    return sorted(problems, key=lambda p: (_FILE_ORDER.get(p.file, -1), p.row or 0))
