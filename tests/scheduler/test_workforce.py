"""Editing workers after an import: days, hours, base office, team; refusals write nothing."""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from scheduler.errors import InputError, NotFoundError
from scheduler.store import Store
from scheduler.workforce import (
    WorkerChanges,
    edit_workers,
    parse_days,
    parse_hours,
    team_worker_ids,
)
from tests.scenarios import north_somerset_team

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(f"sqlite:///{tmp_path / 'visitplan.db'}")
    s.replace_caseload(north_somerset_team())
    return s


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("mon-fri", (0, 1, 2, 3, 4)),
        ("mon,tue,thu", (0, 1, 3)),
        ("MON-WED, FRI", (0, 1, 2, 4)),
        ("sat-sun", (5, 6)),
        ("fri", (4,)),
    ],
)
def test_days_are_read_in_a_managers_words(text: str, days: tuple[int, ...]) -> None:
    assert parse_days(text) == days


@pytest.mark.parametrize("text", ["monday", "fri-mon", "", "mon-", "1-5"])
def test_days_that_are_not_days_are_refused_naming_the_option(text: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_days(text)
    assert caught.value.problems[0].field == "--days"


def test_hours_edge_pair() -> None:
    """A day of one minute is a day; a day that ends as it starts is not."""
    assert parse_hours("10:00-18:00") == (time(10), time(18))
    assert parse_hours("9:59-10:00") == (time(9, 59), time(10))
    for bad in ("10:00-10:00", "18:00-10:00", "10-18", "24:00-25:00", "10:60-11:00"):
        with pytest.raises(InputError) as caught:
            parse_hours(bad)
        assert caught.value.problems[0].field == "--hours"


def test_edit_changes_only_the_named_workers_and_keeps_history(store: Store) -> None:
    before = store.revision()
    changed = edit_workers(
        store,
        ["w1"],
        WorkerChanges(days=(0, 1, 2, 3), hours=(time(10), time(18))),
        by="manager-a",
        now=NOW,
    )
    assert set(changed) == {"w1"}
    assert changed["w1"]["day_end"] == ["17:00:00", "18:00:00"]
    assert changed["w1"]["days"] == [[0, 1, 2, 3, 4], [0, 1, 2, 3]]
    w1, w2 = (store.worker("w1"), store.worker("w2"))
    assert w1 is not None
    assert w2 is not None
    assert (w1.days, w1.day_start, w1.day_end) == ((0, 1, 2, 3), time(10), time(18))
    assert (w2.day_start, w2.day_end) == (time(9), time(17))
    entries = store.changes_since(before)
    assert [(e.action, e.entity_id, e.by) for e in entries] == [
        ("worker edited", "w1", "manager-a")
    ]


def test_edit_that_changes_nothing_writes_nothing(store: Store) -> None:
    before = store.revision()
    assert edit_workers(store, ["w1"], WorkerChanges(hours=(time(9), time(17)))) == {}
    assert store.revision() == before


def test_a_base_postcode_places_the_office(store: Store) -> None:
    """BS23 1UJ (North Somerset's Town Hall) is placed by the ONS directory."""
    edit_workers(store, ["w1", "w2"], WorkerChanges(base_postcode="BS23 1UJ"))
    for worker_id in ("w1", "w2"):
        worker = store.worker(worker_id)
        assert worker is not None
        assert worker.base_easting is not None
        assert worker.base_northing is not None
        assert 330_000 < worker.base_easting < 335_000
        assert 160_000 < worker.base_northing < 163_000
        assert 51.3 < worker.base_lat < 51.4
        assert -3.0 < worker.base_lon < -2.9


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        (WorkerChanges(base_postcode="BT1 1AA"), "--base"),
        (WorkerChanges(base_postcode="not a postcode"), "--base"),
        (WorkerChanges(team_id="t-none"), "--team"),
        (WorkerChanges(), "options"),
    ],
)
def test_refusals_name_the_option_and_write_nothing(
    store: Store, changes: WorkerChanges, field: str
) -> None:
    before = store.revision()
    with pytest.raises(InputError) as caught:
        edit_workers(store, ["w1", "w2"], changes)
    assert caught.value.problems[0].field == field
    assert store.revision() == before


def test_an_unknown_worker_refuses_the_whole_edit(store: Store) -> None:
    before = store.revision()
    with pytest.raises(NotFoundError):
        edit_workers(store, ["w1", "w-none"], WorkerChanges(hours=(time(10), time(18))))
    assert store.revision() == before
    worker = store.worker("w1")
    assert worker is not None
    assert worker.day_end == time(17)


def test_team_worker_ids(store: Store) -> None:
    assert team_worker_ids(store, "t1") == ["w1", "w2"]
    with pytest.raises(NotFoundError):
        team_worker_ids(store, "t-none")


def test_cli_workers_edit_a_team_and_refusals(tmp_path: Path, store: Store) -> None:
    """The command edits a whole team in one step, speaks in options, and exits 2 on bad input."""
    from tests.scheduler.test_cli import invoke

    code, stdout, stderr = invoke(
        "workers", "edit", "--in-team", "t1", "--hours", "10:00-18:00", "--db", store.url
    )
    assert code == 0, stderr
    assert "2 worker(s) changed" in stdout
    assert {w.day_end for w in store.read_scenario().workers} == {time(18)}
    before = store.revision()
    for args, option in [
        (("w1", "--hours", "18:00-10:00"), "--hours"),
        (("w1", "--days", "someday"), "--days"),
        (("w1", "--base", "BT1 1AA"), "--base"),
        (("w1",), "options"),
    ]:
        code, _, stderr = invoke("workers", "edit", *args, "--db", store.url)
        assert code == 2
        assert option in stderr
    assert store.revision() == before
    code, _, stderr = invoke(
        "workers", "edit", "w-none", "--hours", "9:00-17:00", "--db", store.url
    )
    assert code in (1, 2)
    assert "w-none" in stderr


@pytest.mark.parametrize(
    ("days", "text"),
    [
        ((0, 1, 2, 3, 4), "Mon-Fri"),
        ((0, 1, 2, 3), "Mon-Thu"),
        ((0, 2, 4), "Mon Wed Fri"),
        ((0, 1, 2, 4), "Mon-Wed Fri"),
        ((0, 1), "Mon Tue"),
        ((5, 6), "Sat Sun"),
    ],
)
def test_days_are_written_as_a_manager_writes_them(days: tuple[int, ...], text: str) -> None:
    from scheduler.reports import days_text

    assert days_text(days) == text
    assert parse_days(text.replace(" ", ",")) == days
