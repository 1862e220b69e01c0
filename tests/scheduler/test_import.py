"""Tests of the case-system CSV import (docs/import-format.md): all problems, or a scenario.

Bad inputs are made in tmp_path from tests/data/import_ok by changing one cell.
Runs with pytest-socket's --disable-socket.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterator
from datetime import date, time
from pathlib import Path

import pytest

from scheduler.errors import InputError, InputProblem
from scheduler.importer import read_csv_dir
from scheduler.scenario_io import PERSONAL_FIELDS
from scheduler.store import Store

OK = Path(__file__).parent.parent / "data" / "import_ok"
AS_OF = date(2024, 3, 1)


def copy_ok(tmp_path: Path) -> Path:
    """A writable copy of the good export."""
    target = tmp_path / "export"
    shutil.copytree(OK, target)
    return target


def set_cell(directory: Path, file: str, row: int, column: str, value: str) -> None:
    """Change one cell; `row` counts the header as row 1."""
    path = directory / file
    with path.open(encoding="utf-8", newline="") as handle:
        table = list(csv.reader(handle))
    table[row - 1][table[0].index(column)] = value
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(table)


def drop_column(directory: Path, file: str, column: str) -> None:
    """Remove one column from a file."""
    path = directory / file
    with path.open(encoding="utf-8", newline="") as handle:
        table = list(csv.reader(handle))
    index = table[0].index(column)
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([r[:index] + r[index + 1 :] for r in table])


def problems_of(directory: Path, authority: str = "england") -> tuple[InputProblem, ...]:
    """The problems the import reports (failing the test if it succeeds)."""
    with pytest.raises(InputError) as caught:
        read_csv_dir(directory, authority, AS_OF)
    return caught.value.problems


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """An empty store in a SQLite file."""
    with Store(f"sqlite:///{tmp_path / 'visitplan.db'}") as opened:
        yield opened


def test_import_reads_every_file() -> None:
    """The good export becomes a scenario with every entity, in file order."""
    scenario = read_csv_dir(OK, "england", AS_OF)
    assert scenario.authority.id == "england"
    assert scenario.as_of == AS_OF
    assert [t.id for t in scenario.teams] == ["north", "south"]
    assert [w.id for w in scenario.workers] == ["w-ada", "w-ben", "w-cara"]
    assert [h.id for h in scenario.households] == ["h-1", "h-2", "h-3"]
    assert [c.id for c in scenario.children] == ["c-1", "c-2", "c-3", "c-4"]
    assert [r.id for r in scenario.records] == ["r-1", "r-2", "r-3"]
    assert len(scenario.absences) == 2


def test_import_parses_multi_valued_and_typed_cells() -> None:
    """`;` separates values; dates, times, yes/no and windows become typed values."""
    scenario = read_csv_dir(OK, "england", AS_OF)
    shared = scenario.children[1]
    assert shared.household_ids == ("h-1", "h-2")
    assert scenario.workers[1].days == (0, 2, 4)
    assert scenario.workers[1].day_start == time(9, 30)
    assert scenario.workers[2].days == (0, 1, 2, 3, 4)
    home = scenario.households[0]
    assert [(w.weekday, w.start, w.end) for w in home.windows] == [
        (0, time(16), time(19)),
        (5, time(10), time(12)),
    ]
    assert scenario.households[1].joint_visit
    assert scenario.households[1].address == "Flat 2, 7 Hill Road"
    care = scenario.children[2]
    assert (care.placement_type, care.events.placement_start) == ("foster", date(2024, 2, 1))
    assert scenario.records[1].announced is False
    assert scenario.records[2].outcome == "failed"


def test_import_then_store_round_trips(store: Store) -> None:
    """An imported caseload is stored and read back unchanged."""
    scenario = read_csv_dir(OK, "england", AS_OF)
    store.replace_caseload(scenario)
    assert store.read_scenario() == scenario


def test_import_optional_files_may_be_absent(tmp_path: Path) -> None:
    """Without visits.csv and absences.csv the import has no history and no absences."""
    export = copy_ok(tmp_path)
    (export / "visits.csv").unlink()
    (export / "absences.csv").unlink()
    scenario = read_csv_dir(export, "england", AS_OF)
    assert (scenario.records, scenario.absences) == ((), ())


@pytest.mark.parametrize(
    ("file", "row", "column", "value", "expected"),
    [
        pytest.param("households.csv", 3, "lat", "north", "a number", id="wrong-type"),
        pytest.param(
            "children.csv", 3, "category", "cin", "one of: early-help, child-in-need", id="category"
        ),
        pytest.param("workers.csv", 2, "role", "boss", "one of: social-worker", id="role"),
        pytest.param("children.csv", 2, "birth_date", "02/03/2015", "a date YYYY-MM-DD", id="date"),
        pytest.param("visits.csv", 2, "date", "2024-2-20", "a date YYYY-MM-DD", id="date-form"),
        pytest.param("visits.csv", 3, "start", "4pm", "a time HH:MM", id="time"),
        pytest.param("households.csv", 2, "joint_visit", "maybe", "yes or no", id="boolean"),
        pytest.param("workers.csv", 3, "days", "mon;funday", "weekdays mon ... sun", id="weekday"),
        pytest.param(
            "children.csv", 4, "allocated_worker", "w-zed", "a known worker id", id="worker"
        ),
        pytest.param("visits.csv", 4, "worker_id", "w-zed", "a known worker id", id="visit-worker"),
        pytest.param("absences.csv", 2, "worker_id", "w-zed", "a known worker id", id="absence"),
        pytest.param(
            "children.csv", 3, "household_ids", "h-1;h-9", "a known household id", id="household"
        ),
        pytest.param("workers.csv", 4, "team_id", "east", "a known team id", id="team"),
        pytest.param("visits.csv", 3, "id", "r-1", "a unique id", id="duplicate-id"),
        pytest.param("children.csv", 5, "case_ref", "", "a value (required)", id="required"),
        pytest.param(
            "children.csv", 2, "placement_type", "foster", "child c-1: placement_type", id="rule"
        ),
        pytest.param("absences.csv", 3, "end", "2024-03-01", "absence of w-ben", id="order"),
    ],
)
def test_import_reports_bad_cell(
    tmp_path: Path, file: str, row: int, column: str, value: str, expected: str
) -> None:
    """A bad cell is reported with its file, row (header = row 1), column and expectation."""
    export = copy_ok(tmp_path)
    set_cell(export, file, row, column, value)
    problems = problems_of(export)
    [problem] = [p for p in problems if (p.file, p.row) == (file, row)]
    assert problem.field == column
    assert problem.expected.startswith(expected)
    if column in PERSONAL_FIELDS:
        assert problem.got == "a value that does not fit (not shown: personal data)"
        assert value not in str(problem)  # a child's date of birth is never repeated
    else:
        assert problem.got in (value or "nothing")  # one value of a multi-valued cell


def test_import_cuts_a_long_cell_in_its_message(tmp_path: Path) -> None:
    """A 40,000-character cell is named by its start, not repeated whole."""
    export = copy_ok(tmp_path)
    set_cell(export, "workers.csv", 2, "role", "x" * 40_000)
    [problem] = [p for p in problems_of(export) if p.file == "workers.csv"]
    assert problem.field == "role"
    assert problem.got.startswith("xxx")
    assert len(problem.got) <= 60


def test_import_names_a_quote_left_open_at_its_row(tmp_path: Path) -> None:
    """A quote opened and never closed swallows the rest of the file into one cell: the row
    where it opens is named, not the rows it hides (reported as unknown references)."""
    export = copy_ok(tmp_path)
    path = export / "children.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = lines[2].replace(",", ',"', 1)  # row 3: a quote opened after the first comma
    path.write_text("".join(lines), encoding="utf-8")
    problems = problems_of(export)
    opened = [p for p in problems if (p.file, p.row) == ("children.csv", 3)]
    assert [p.expected for p in opened] == ["a cell on one line"]
    assert "a quote opened and not closed?" in opened[0].got


def test_import_rule_error_names_column(tmp_path: Path) -> None:
    """A row-level rule (working day ends before it starts) is put on the column it names."""
    export = copy_ok(tmp_path)
    set_cell(export, "workers.csv", 2, "day_end", "08:00")
    [problem] = problems_of(export)
    assert (problem.row, problem.field) == (2, "day_start")


def test_import_reference_error_names_referencing_row(tmp_path: Path) -> None:
    """An unknown household is reported on the child's row, not on households.csv."""
    export = copy_ok(tmp_path)
    set_cell(export, "children.csv", 3, "household_ids", "h-1;h-9")
    assert problems_of(export) == (
        InputProblem("children.csv", 3, "household_ids", "a known household id", "h-9"),
    )


def test_import_bad_row_is_not_reported_again_by_references(tmp_path: Path) -> None:
    """A household row with a bad cell does not make its children unknown-household errors."""
    export = copy_ok(tmp_path)
    set_cell(export, "households.csv", 3, "lat", "north")
    assert [p.file for p in problems_of(export)] == ["households.csv"]


def test_import_reports_missing_required_column(tmp_path: Path) -> None:
    """A missing required column is reported once, on the header row."""
    export = copy_ok(tmp_path)
    drop_column(export, "children.csv", "category")
    assert problems_of(export) == (
        InputProblem("children.csv", 1, "category", "a required column", "no such column"),
    )


def test_import_reports_unknown_column(tmp_path: Path) -> None:
    """An unknown column (often a misspelling) is reported on the header row."""
    export = copy_ok(tmp_path)
    set_cell(export, "teams.csv", 1, "neighbours", "neighbors")
    [problem] = problems_of(export)
    assert (problem.file, problem.row, problem.field) == ("teams.csv", 1, "neighbors")
    assert "neighbours" in problem.expected


def test_import_reports_missing_required_file(tmp_path: Path) -> None:
    """A required file that is absent is named."""
    export = copy_ok(tmp_path)
    (export / "workers.csv").unlink()
    problems = problems_of(export)
    assert InputProblem("workers.csv", None, "(file)", "the file", "no such file") in problems


def test_import_reports_unknown_authority(tmp_path: Path) -> None:
    """An authority with no policy pack is refused."""
    [problem] = problems_of(OK, authority="atlantis")
    assert (problem.field, problem.got) == ("authority", "atlantis")
    assert problem.expected.startswith("a known authority")


def test_import_reports_every_problem(tmp_path: Path) -> None:
    """All problems in all files are reported together, by file then row."""
    export = copy_ok(tmp_path)
    set_cell(export, "children.csv", 5, "category", "cin")
    set_cell(export, "children.csv", 2, "birth_date", "2015/03/02")
    set_cell(export, "workers.csv", 3, "base_lat", "x")
    set_cell(export, "visits.csv", 2, "child_id", "c-9")
    problems = problems_of(export)
    assert [(p.file, p.row, p.field) for p in problems] == [
        ("workers.csv", 3, "base_lat"),
        ("children.csv", 2, "birth_date"),
        ("children.csv", 5, "category"),
        ("visits.csv", 2, "child_id"),
    ]


def test_import_error_leaves_store_unchanged(store: Store, tmp_path: Path) -> None:
    """A bad export stores nothing: the previous caseload stays."""
    good = read_csv_dir(OK, "england", AS_OF)
    store.replace_caseload(good)
    export = copy_ok(tmp_path)
    set_cell(export, "children.csv", 3, "category", "cin")
    with pytest.raises(InputError):
        store.replace_caseload(read_csv_dir(export, "england", AS_OF))
    assert store.read_scenario() == good


def test_import_message_lists_problems(tmp_path: Path) -> None:
    """The error's text is one `file:row: field: expected X, got Y` line per problem."""
    export = copy_ok(tmp_path)
    set_cell(export, "children.csv", 3, "category", "cin")
    with pytest.raises(InputError) as caught:
        read_csv_dir(export, "england", AS_OF)
    assert str(caught.value).startswith(
        "children.csv:3: category: expected one of: early-help, child-in-need"
    )
    assert str(caught.value).endswith(", got cin")
