"""The scenario index and the time-of-day grid: what they hold, and that each is built once."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from scheduler.domain import Absence, BusyTime, Scenario
from scheduler.index import ScenarioIndex, index_of
from scheduler.timegrid import clock, minutes_of, part_of_day, time_of
from tests.builders import make_child, make_household, make_record, make_scenario, make_worker


def _scenario() -> Scenario:
    return make_scenario(
        children=(
            make_child("c2", household_ids=("h1", "h2")),
            make_child("c1"),
            make_child("c3", household_ids=("h2",)),
        ),
        households=(make_household("h1"), make_household("h2")),
        workers=(make_worker("w1"), make_worker("w2")),
        records=(
            make_record("c1", date(2026, 11, 2)),
            make_record("c3", date(2026, 11, 3)),
            make_record("c1", date(2026, 11, 1), record_id="r-c1-early"),
        ),
        absences=(
            Absence(worker_id="w2", start=date(2026, 12, 7), end=date(2026, 12, 8)),
            Absence(worker_id="w2", start=date(2026, 12, 1), end=date(2026, 12, 1)),
        ),
        busy=(
            BusyTime(
                worker_id="w1",
                start=datetime(2026, 12, 1, 9, tzinfo=UTC),
                end=datetime(2026, 12, 1, 10, tzinfo=UTC),
            ),
        ),
    )


def test_index_holds_items_by_id_and_lists_by_owner() -> None:
    """By id; records, absences and busy times in the scenario's order; residents by id."""
    scenario = _scenario()
    index = ScenarioIndex.build(scenario)
    assert set(index.children) == {"c1", "c2", "c3"}
    assert set(index.workers) == {"w1", "w2"}
    assert set(index.households) == {"h1", "h2"}
    assert [r.id for r in index.records_of("c1")] == ["r-c1-20261102", "r-c1-early"]
    assert index.records_of("c2") == ()
    assert [c.id for c in index.children_by_household["h1"]] == ["c1", "c2"]
    assert [c.id for c in index.children_by_household["h2"]] == ["c2", "c3"]
    assert [a.start for a in index.absences_by_worker["w2"]] == [
        date(2026, 12, 7),
        date(2026, 12, 1),
    ]
    assert "w1" not in index.absences_by_worker
    assert len(index.busy_by_worker["w1"]) == 1


def test_index_of_builds_once_per_scenario_object() -> None:
    """The same scenario object gets the same index; an equal but new object a new one."""
    scenario = _scenario()
    first = index_of(scenario)
    assert index_of(scenario) is first
    changed = scenario.model_copy(update={"records": ()})
    assert index_of(changed) is not first
    assert index_of(changed).records_of("c1") == ()


@pytest.mark.parametrize(
    ("start", "part"),
    [
        (time(11, 59), "morning"),
        (time(12, 0), "afternoon"),
        (time(16, 59), "afternoon"),
        (time(17, 0), "evening"),
    ],
)
def test_part_of_day_edges(start: time, part: str) -> None:
    """Morning before 12:00, afternoon to 16:59, evening from 17:00: each edge both sides."""
    assert part_of_day(start) == part


def test_minutes_round_trip_and_clock_text() -> None:
    """A time's minutes and back; HH:MM with leading zeros; seconds are dropped."""
    assert minutes_of(time(0, 0)) == 0
    assert minutes_of(time(23, 59, 30)) == 1439
    assert all(minutes_of(time_of(m)) == m for m in range(0, 24 * 60, 7))
    assert clock(9 * 60 + 5) == "09:05"
