"""`visitplan plan show`'s title: the days its visits cover, and a re-plan's first day."""

from __future__ import annotations

import io
from datetime import date

import pytest
from rich.console import Console

from scheduler.render import render_plan_view
from scheduler.reports import PlanRow, PlanView


def _row(day: date, state: str) -> PlanRow:
    return PlanRow(
        visit_id=f"v-h1-{day:%Y%m%d}",
        day=day,
        start="10:00",
        end="11:00",
        worker_id="w1",
        worker_name="Worker One",
        area="BS1",
        case_refs=("CR-1",),
        state=state,  # type: ignore[arg-type]
        announced=True,
        pinned=False,
    )


def _title(view: PlanView) -> str:
    console = Console(file=io.StringIO(), width=300)
    console.print(render_plan_view(view))
    return console.file.getvalue().splitlines()[0].strip()  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("start", "first", "expected"),
    [
        pytest.param(
            date(2026, 12, 1),
            date(2026, 11, 30),
            "Mon 30 Nov to Sun 13 Dec 2026, re-planned from Tue 01 Dec",
            id="re-plan-keeps-monday",
        ),
        pytest.param(
            date(2026, 11, 30), date(2026, 11, 30), "Mon 30 Nov to Sun 13 Dec 2026", id="plan"
        ),
    ],
)
def test_the_title_covers_the_visits_it_lists(start: date, first: date, expected: str) -> None:
    """After a Tuesday re-plan the list still holds Monday's visits: the title's days cover
    them and say where the re-plan starts (it said Tue 01 Dec to Sun 13 Dec over Monday)."""
    view = PlanView(
        plan_id="p1",
        start=start,
        end=date(2026, 12, 13),
        as_of=date(2026, 12, 1),
        counts={"completed": 1, "planned": 1},
        visits=(_row(first, "completed"), _row(date(2026, 12, 2), "planned")),
    )
    assert expected in _title(view)
