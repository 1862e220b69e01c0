"""The CSV import carries the facts the desk can give (issue 10 point 4): the plan's own
frequency with its source, besides two homes and the notification and adoption-order dates
the children file already has. Bad inputs change one cell of a copy of tests/data/import_ok."""

from __future__ import annotations

import csv
import shutil
from datetime import date
from pathlib import Path

import pytest

from policies.models import Period
from scheduler.errors import InputError
from scheduler.importer import read_csv_dir

OK = Path(__file__).parent.parent / "data" / "import_ok"
AS_OF = date(2024, 3, 1)


def export_with(tmp_path: Path, every: str, source: str) -> Path:
    """A copy of the good export whose first child has the two frequency columns set."""
    target = tmp_path / "export"
    shutil.copytree(OK, target)
    path = target / "children.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        table = list(csv.reader(handle))
    table[0] += ["every", "every_source"]
    for i, row in enumerate(table[1:], start=1):
        row += [every, source] if i == 1 else ["", ""]
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(table)
    return target


def test_import_reads_the_plans_frequency_and_its_source(tmp_path: Path) -> None:
    """`every` and `every_source` become the child's frequency, an override of the base rule
    eng_plan_frequency that the due engine applies on top of the pack."""
    scenario = read_csv_dir(
        export_with(tmp_path, "10 working days", "CP conference 3 Dec"), "camden", AS_OF
    )
    child = scenario.children[0]
    assert child.frequency is not None
    assert child.frequency.every == Period(amount=10, unit="working_days")
    assert child.frequency.source == "CP conference 3 Dec"
    [override] = child.facts().overrides
    assert override.rule_id == "eng_plan_frequency"
    assert all(c.frequency is None for c in scenario.children[1:])


def test_import_keeps_two_homes_and_event_dates() -> None:
    """Shared care (two household ids) is already a column; so are the event dates."""
    scenario = read_csv_dir(OK, "camden", AS_OF)
    assert any(len(c.household_ids) == 2 for c in scenario.children)


@pytest.mark.parametrize(
    ("every", "source", "column", "expected"),
    [
        pytest.param("fortnightly", "", "every", "a period like", id="bad-period"),
        pytest.param("", "CP conference", "every", "", id="source-without-period"),
    ],
)
def test_import_reports_a_bad_frequency(
    tmp_path: Path, every: str, source: str, column: str, expected: str
) -> None:
    """A bad period, or a source with no period, is reported on the child's row and the
    column concerned; nothing is returned."""
    with pytest.raises(InputError) as caught:
        read_csv_dir(export_with(tmp_path, every, source), "camden", AS_OF)
    [problem] = caught.value.problems
    assert (problem.file, problem.row, problem.field) == ("children.csv", 2, column)
    assert problem.expected.startswith(expected)
