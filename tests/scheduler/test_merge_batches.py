"""Tests of the store's bulk merge path (Store.merge_caseload) on a real SQLite file.

Rule: batches are made small with `BATCH_ROWS` so edge pairs need few rows; one transaction
either way (a failure after a first batch leaves nothing written).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import scheduler.store.records
from scheduler.domain import Scenario, Team, VisitRecord
from scheduler.store import Store
from tests.scheduler.test_store import small_scenario

NOW = datetime(2024, 3, 1, 9, 30, tzinfo=ZoneInfo("Europe/London"))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'visitplan.db'}") as opened:
        opened.merge_caseload(small_scenario(), source="first", now=NOW)
        yield opened


def _with_records(scenario: Scenario, count: int) -> Scenario:
    """The scenario plus `count` new records for c-1, one a day from 1 January 2024."""
    extra = tuple(
        VisitRecord(
            id=f"r-new-{i:02d}",
            child_id="c-1",
            household_id="h-1",
            on=date(2024, 1, 1 + i),
            outcome="completed",
        )
        for i in range(count)
    )
    return scenario.model_copy(update={"records": (*scenario.records, *extra)})


@pytest.mark.parametrize("count", [3, 4], ids=["one-full-batch", "one-more-than-a-batch"])
def test_merge_writes_every_new_record_across_batches(
    store: Store, monkeypatch: pytest.MonkeyPatch, count: int
) -> None:
    """A batch exactly full, and one row more: every record is stored, once."""
    monkeypatch.setattr(scheduler.store.records, "BATCH_ROWS", 3)
    before = [r.id for r in store.records_for("c-1")]
    report = store.merge_caseload(_with_records(small_scenario(), count), source="s", now=NOW)
    assert report.records_added == count
    ids = [r.id for r in store.records_for("c-1")]
    assert len(ids) == len(set(ids)) == len(before) + count
    assert set(ids) == {*before, *(f"r-new-{i:02d}" for i in range(count))}


def test_merge_amends_records_read_back_in_batches(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Records whose id exists with other content become new versions, the old ones kept."""
    monkeypatch.setattr(scheduler.store.records, "BATCH_ROWS", 1)
    scenario = small_scenario()
    changed = tuple(r.model_copy(update={"seen_alone": not r.seen_alone}) for r in scenario.records)
    report = store.merge_caseload(
        scenario.model_copy(update={"records": changed}), source="s", now=NOW
    )
    assert report.records_amended == len(changed) >= 2
    for record in changed:
        assert record in store.records_for(record.child_id)
        versions = store.record_versions(record.child_id)
        old = next(r for r in small_scenario().records if r.id == record.id)
        assert any(v.record == old and v.version == 1 for v in versions)
        assert any(v.record == record and v.version == 2 for v in versions)


def test_merge_failure_after_a_first_batch_writes_nothing(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches of 2, five new records and an amended one that fails: nothing is written."""
    monkeypatch.setattr(scheduler.store.records, "BATCH_ROWS", 2)

    def failing(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(scheduler.store.records, "_supersede", failing)
    scenario = _with_records(small_scenario(), 5)
    first = scenario.records[0]
    scenario = scenario.model_copy(
        update={
            "records": (
                first.model_copy(update={"seen_alone": not first.seen_alone}),
                *scenario.records[1:],
            )
        }
    )
    revision = store.revision()
    before = {c.id: store.records_for(c.id) for c in scenario.children}
    with pytest.raises(RuntimeError, match="disk full"):
        store.merge_caseload(scenario, source="s", now=NOW)
    assert store.revision() == revision
    assert {c.id: store.records_for(c.id) for c in scenario.children} == before


def test_merge_moves_staff_and_homes_between_teams_and_brings_back_a_leaver(
    store: Store,
) -> None:
    """Workers' and homes' team columns follow the data (an emptied team is dropped), and a
    worker missing from one merge and back in the next is current again."""
    old = small_scenario()
    without_ben = old.model_copy(
        update={"workers": tuple(w for w in old.workers if w.id != "w-ben")}
    )
    report = store.merge_caseload(without_ben, source="s", now=NOW)
    assert report.workers_left == 1
    assert "w-ben" not in {w.id for w in store.read_scenario().workers}
    south = Team(id="south", name="South")
    moved = old.model_copy(
        update={
            "teams": (south,),
            "workers": tuple(w.model_copy(update={"team_id": "south"}) for w in old.workers),
            "households": tuple(h.model_copy(update={"team_id": "south"}) for h in old.households),
        }
    )
    store.merge_caseload(Scenario.model_validate(moved.model_dump()), source="s", now=NOW)
    scenario = store.read_scenario()
    assert scenario.teams == (south,)
    assert {w.id: w.team_id for w in scenario.workers} == {
        "w-ada": "south",
        "w-ben": "south",
        "w-cara": "south",
    }
    assert {h.team_id for h in scenario.households} == {"south"}


def test_merge_of_the_same_caseload_changes_nothing(store: Store) -> None:
    """Merging what is stored again adds, changes and amends nothing."""
    report = store.merge_caseload(small_scenario(), source="again", now=NOW)
    assert report.counts() == {
        "children added": 0,
        "children changed": 0,
        "children closed": 0,
        "children reopened": 0,
        "workers added": 0,
        "workers left": 0,
        "workers back": 0,
        "households added": 0,
        "households changed": 0,
        "records added": 0,
        "records amended": 0,
        "absences added": 0,
        "absences removed": 0,
    }
    assert store.read_scenario() == small_scenario()
