"""Tests of the store on a real SQLite file (and PostgreSQL when a server binary is present).

Runs with pytest-socket's --disable-socket: the PostgreSQL test talks over a unix socket only.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from scheduler.domain import (
    Absence,
    Authority,
    Breach,
    BusyTime,
    Child,
    ChildEvents,
    FamilyWindow,
    Household,
    LedgerEntry,
    Plan,
    Scenario,
    Team,
    Visit,
    VisitRecord,
    Worker,
)
from scheduler.errors import InputError, NotFoundError, StoreError
from scheduler.store import Store
from tests.conftest import backend_url

NOW = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)


def small_scenario(as_of: date = date(2024, 3, 1)) -> Scenario:
    """Two teams, three workers, three households, four children (c-2 in shared care)."""
    return Scenario(
        authority=Authority(id="england", name="Test Borough"),
        as_of=as_of,
        teams=(
            Team(id="north", name="North", neighbours=("south",)),
            Team(id="south", name="South"),
        ),
        workers=(
            Worker(
                id="w-ada",
                name="Ada",
                role="social-worker",
                team_id="north",
                base_lat=51.45,
                base_lon=-2.58,
            ),
            Worker(
                id="w-ben",
                name="Ben",
                role="family-support-worker",
                team_id="north",
                days=(0, 2, 4),
                day_start=time(9, 30),
                base_lat=51.45,
                base_lon=-2.58,
            ),
            Worker(
                id="w-cara",
                name="Cara",
                role="social-worker",
                team_id="south",
                base_lat=51.35,
                base_lon=-2.97,
                max_visits_per_day=3,
            ),
        ),
        households=(
            Household(
                id="h-1",
                area="BS1",
                lat=51.455,
                lon=-2.59,
                team_id="north",
                windows=(FamilyWindow(weekday=0, start=time(16), end=time(19)),),
            ),
            Household(
                id="h-2", area="BS2", lat=51.46, lon=-2.57, team_id="north", joint_visit=True
            ),
            Household(id="h-3", area="BS23", lat=51.34, lon=-2.98, team_id="south"),
        ),
        children=(
            Child(
                id="c-1",
                case_ref="CR-1",
                category="child-protection",
                household_ids=("h-1",),
                allocated_worker="w-ada",
                birth_date=date(2015, 3, 2),
                events=ChildEvents(plan_start=date(2024, 1, 20), conference=date(2024, 1, 20)),
            ),
            Child(
                id="c-2",
                case_ref="CR-2",
                category="child-in-need",
                household_ids=("h-1", "h-2"),
                allocated_worker="w-ada",
            ),
            Child(
                id="c-3",
                case_ref="CR-3",
                category="child-in-care",
                placement_type="foster",
                household_ids=("h-3",),
                allocated_worker="w-cara",
                events=ChildEvents(placement_start=date(2024, 2, 1)),
            ),
            Child(
                id="c-4",
                case_ref="CR-4",
                category="early-help",
                household_ids=("h-2",),
                flags=("under-5-missing-school",),
            ),
        ),
        absences=(Absence(worker_id="w-cara", start=date(2024, 3, 11), end=date(2024, 3, 15)),),
        busy=(
            BusyTime(
                worker_id="w-ada",
                start=datetime(2024, 3, 4, 10, tzinfo=UTC),
                end=datetime(2024, 3, 4, 12, tzinfo=UTC),
            ),
        ),
        records=(
            VisitRecord(
                id="r-1",
                child_id="c-1",
                household_id="h-1",
                on=date(2024, 2, 20),
                start=time(10),
                worker_id="w-ada",
                outcome="completed",
                seen_alone=True,
            ),
            VisitRecord(
                id="r-2",
                child_id="c-2",
                household_id="h-2",
                on=date(2024, 2, 12),
                worker_id="w-ada",
                outcome="completed",
                announced=False,
            ),
            VisitRecord(id="r-3", child_id="c-3", on=date(2024, 2, 5), outcome="failed"),
        ),
    )


def small_plan(plan_id: str = "plan-1") -> Plan:
    """A plan with two visits and one breach."""
    return Plan(
        id=plan_id,
        authority="england",
        start=date(2024, 3, 4),
        end=date(2024, 3, 15),
        seed=3,
        visits=(
            Visit(
                id="v-1",
                household_id="h-1",
                child_ids=("c-1", "c-2"),
                worker_id="w-ada",
                start=datetime(2024, 3, 4, 16, tzinfo=UTC),
                duration_min=75,
                checklist=("seen alone",),
            ),
            Visit(
                id="v-2",
                household_id="h-3",
                child_ids=("c-3",),
                worker_id="w-cara",
                start=datetime(2024, 3, 6, 10, tzinfo=UTC),
                duration_min=60,
                announced=False,
            ),
        ),
        breaches=(
            Breach(
                child_id="c-4", rule_id="eh_first_visit", due=date(2024, 3, 5), reason="capacity"
            ),
        ),
        status="OPTIMAL",
        objective=12.0,
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """An empty store in a SQLite file."""
    with Store(f"sqlite:///{tmp_path / 'visitplan.db'}") as opened:
        yield opened


@pytest.fixture
def loaded(store: Store) -> Store:
    """A store holding the small scenario."""
    store.replace_caseload(small_scenario())
    return store


def test_caseload_round_trips_exactly(loaded: Store) -> None:
    """What `replace_caseload` stores, `read_scenario` gives back equal, order included."""
    assert loaded.read_scenario() == small_scenario()


def test_caseload_survives_reopening(tmp_path: Path) -> None:
    """The caseload lives in the file, not in the Store object."""
    url = f"sqlite:///{tmp_path / 'v.db'}"
    with Store(url) as first:
        first.replace_caseload(small_scenario())
    with Store(url) as second:
        assert second.read_scenario() == small_scenario()


def test_read_scenario_refuses_empty_store(store: Store) -> None:
    """An empty store says how to fill it."""
    assert not store.has_caseload()
    with pytest.raises(StoreError, match="visitplan load FILE"):
        store.read_scenario()


def test_has_caseload_after_load(loaded: Store) -> None:
    """A loaded store has a caseload."""
    assert loaded.has_caseload()


def test_replace_caseload_keeps_history(loaded: Store) -> None:
    """A replacing load closes children it lacks and replaces absences, but keeps records."""
    old = small_scenario()
    smaller = old.model_copy(
        update={"children": old.children[:1], "records": old.records[:1], "absences": ()}
    )
    before = {c.id: loaded.records_for(c.id) for c in old.children}
    report = loaded.replace_caseload(Scenario.model_validate(smaller.model_dump()))
    scenario = loaded.read_scenario()
    assert scenario.children == smaller.children
    assert scenario.absences == ()
    assert set(report.closed) == {c.id for c in old.children[1:]}
    for child in old.children:
        assert loaded.records_for(child.id) == before[child.id]
    closed = loaded.child_row("c-2")
    assert closed is not None
    assert closed.closed_on == smaller.as_of


def test_replace_caseload_is_atomic_when_a_write_fails(
    loaded: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure half-way through a replacement leaves the previous caseload intact."""

    def failing(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(Store, "_merge_records", failing)
    other = small_scenario(as_of=date(2024, 4, 1))
    other = other.model_copy(update={"children": other.children[:2]})
    revision = loaded.revision()
    with pytest.raises(RuntimeError, match="disk full"):
        loaded.replace_caseload(other)
    monkeypatch.undo()
    assert loaded.read_scenario() == small_scenario()
    assert loaded.revision() == revision


def test_add_record_appends_to_history(loaded: Store) -> None:
    """A new record is listed with the child's others, oldest first."""
    record = VisitRecord(
        id="r-9", child_id="c-1", household_id="h-1", on=date(2024, 3, 4), outcome="completed"
    )
    loaded.add_record(record)
    assert [r.id for r in loaded.records_for("c-1")] == ["r-1", "r-9"]
    assert loaded.read_scenario().records[-1] == record


@pytest.mark.parametrize(
    ("update", "field", "expected"),
    [
        pytest.param({"child_id": "c-9"}, "child_id", "a known child id", id="child"),
        pytest.param({"worker_id": "w-9"}, "worker_id", "a known worker id", id="worker"),
        pytest.param({"household_id": "h-9"}, "household_id", "a known household id", id="home"),
        pytest.param(
            {"id": "r-1"},
            "id",
            "a record not yet made (use --amend to correct one)",
            id="duplicate",
        ),
    ],
)
def test_add_record_refuses_bad_reference(
    loaded: Store, update: dict[str, str], field: str, expected: str
) -> None:
    """A record naming an unknown child, worker or household, or a taken id, is refused."""
    record = VisitRecord(id="r-9", child_id="c-1", on=date(2024, 3, 4), outcome="completed")
    with pytest.raises(InputError) as caught:
        loaded.add_record(record.model_copy(update=update))
    [problem] = caught.value.problems
    assert (problem.field, problem.expected) == (field, expected)
    assert loaded.read_scenario() == small_scenario()


def test_add_record_refuses_empty_store(store: Store) -> None:
    """Recording needs a caseload."""
    record = VisitRecord(id="r-9", child_id="c-1", on=date(2024, 3, 4), outcome="completed")
    with pytest.raises(StoreError, match="empty"):
        store.add_record(record)


def test_absences_add_list_remove(loaded: Store) -> None:
    """Absences are added, listed by start (all or per worker) and removed by start date."""
    added = Absence(worker_id="w-ada", start=date(2024, 3, 5), end=date(2024, 3, 6), reason="court")
    loaded.add_absence(added)
    assert [a.worker_id for a in loaded.list_absences()] == ["w-ada", "w-cara"]
    assert loaded.list_absences("w-ada") == (added,)
    assert loaded.remove_absence("w-ada", date(2024, 3, 5))
    assert not loaded.remove_absence("w-ada", date(2024, 3, 5))
    assert loaded.list_absences("w-ada") == ()


def test_add_absence_never_replaces_another(loaded: Store) -> None:
    """An absence with a day in common with another of the worker's is refused, naming how
    to change that one; the stored one is kept. The same absence again changes nothing."""
    (stored,) = loaded.list_absences("w-cara")
    longer = Absence(worker_id="w-cara", start=stored.start, end=date(2024, 3, 22))
    with pytest.raises(InputError) as caught:
        loaded.add_absence(longer)
    [problem] = caught.value.problems
    assert f"visitplan absence remove w-cara --from {stored.start}" in problem.expected
    assert loaded.list_absences("w-cara") == (stored,)
    loaded.add_absence(stored)
    assert loaded.list_absences("w-cara") == (stored,)


def test_add_absence_refuses_unknown_worker(loaded: Store) -> None:
    """An absence of an unknown worker is refused."""
    with pytest.raises(NotFoundError, match="w-zed"):
        loaded.add_absence(Absence(worker_id="w-zed", start=date(2024, 3, 5), end=date(2024, 3, 5)))


def test_save_plan_becomes_current(loaded: Store) -> None:
    """A saved plan comes back equal and is the current plan."""
    assert loaded.current_plan() is None
    loaded.save_plan(small_plan(), NOW)
    assert loaded.current_plan() == small_plan()
    assert loaded.plan("plan-1") == small_plan()
    assert loaded.plan("plan-0") is None


def test_save_plan_later_plan_replaces_current(loaded: Store) -> None:
    """The plan saved last is current; earlier plans stay readable by id."""
    loaded.save_plan(small_plan("plan-1"), NOW)
    second = small_plan("plan-2").model_copy(update={"visits": small_plan().visits[:1]})
    loaded.save_plan(second, NOW)
    assert loaded.current_plan() == second
    assert loaded.plan("plan-1") == small_plan("plan-1")
    assert loaded.find_visit("v-2") is None


def test_save_plan_same_id_overwrites(loaded: Store) -> None:
    """Saving a plan again under its id replaces its visits."""
    loaded.save_plan(small_plan(), NOW)
    changed = small_plan().model_copy(update={"visits": small_plan().visits[1:]})
    loaded.save_plan(changed, NOW)
    assert loaded.current_plan() == changed


def test_find_visit_in_current_plan(loaded: Store) -> None:
    """A visit id is looked up in the current plan."""
    loaded.save_plan(small_plan(), NOW)
    assert loaded.find_visit("v-2") == small_plan().visits[1]
    assert loaded.find_visit("v-9") is None


def test_ledger_put_get_all_delete(store: Store) -> None:
    """Ledger entries are upserted by UID, listed per worker and deleted."""
    first = LedgerEntry(uid="v-1@visitplan", worker_id="w-ada", content_hash="aa")
    other = LedgerEntry(uid="v-2@visitplan", worker_id="w-cara", content_hash="bb")
    store.ledger_put(first)
    store.ledger_put(other)
    bumped = first.model_copy(update={"sequence": 1, "etag": '"e2"', "href": "/cal/v-1.ics"})
    store.ledger_put(bumped)
    assert store.ledger_get("v-1@visitplan") == bumped
    assert store.ledger_all() == (bumped, other)
    assert store.ledger_all("w-cara") == (other,)
    assert store.ledger_delete("v-2@visitplan")
    assert not store.ledger_delete("v-2@visitplan")
    assert store.ledger_get("v-2@visitplan") is None


def test_feed_token_issue_and_revoke(loaded: Store) -> None:
    """A live token finds its worker; a revoked one finds nobody."""
    loaded.feed_token_put("w-ada", "hash-1", NOW)
    assert loaded.feed_worker_for("hash-1") == "w-ada"
    assert loaded.feed_token_revoke("w-ada", NOW)
    assert loaded.feed_worker_for("hash-1") is None
    assert not loaded.feed_token_revoke("w-ada", NOW)


def test_feed_token_new_token_revokes_old(loaded: Store) -> None:
    """Issuing a worker a new token revokes the worker's previous one."""
    loaded.feed_token_put("w-ada", "hash-1", NOW)
    loaded.feed_token_put("w-ada", "hash-2", NOW)
    assert loaded.feed_worker_for("hash-1") is None
    assert loaded.feed_worker_for("hash-2") == "w-ada"


def test_feed_token_refuses_unknown_worker(loaded: Store) -> None:
    """Only known workers get feeds."""
    with pytest.raises(NotFoundError, match="w-zed"):
        loaded.feed_token_put("w-zed", "hash-1", NOW)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        pytest.param("nonsense://", "not a kind of database visitplan knows", id="scheme"),
        pytest.param("mysql://u@h/d", "no driver for this kind of database", id="no-driver"),
        pytest.param("sqlite:///{tmp}/nodir/x.db", "the folder '{tmp}/nodir' does not", id="dir"),
    ],
)
def test_store_refuses_bad_url(tmp_path: Path, url: str, why: str) -> None:
    """A URL that cannot be opened is a StoreError saying why in words, not a traceback."""
    with pytest.raises(StoreError, match="cannot open the store") as caught:
        Store(url.format(tmp=tmp_path))
    assert why.format(tmp=tmp_path) in str(caught.value)
    assert "sqlite:///FILE" in str(caught.value) or "folder" in str(caught.value)


@pytest.mark.integration
def test_caseload_round_trips_on_postgresql(postgres_url: str) -> None:
    """The same store works on PostgreSQL: caseload, plans and atomic replacement."""
    with Store(postgres_url) as store:
        store.replace_caseload(small_scenario())
        store.replace_caseload(small_scenario())
        assert store.read_scenario() == small_scenario()
        store.save_plan(small_plan(), NOW)
        assert store.current_plan() == small_plan()
        store.feed_token_put("w-ada", "hash-1", NOW)
        assert store.feed_worker_for("hash-1") == "w-ada"


@pytest.mark.integration
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_kept_results_hold_for_one_revision_only(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A kept result (the desk's due rows) reads back only at the revision, day and digest it
    was kept for; a write moves the revision, so it finds nothing and cannot keep old work;
    keeping changes neither the revision nor the caseload. On SQLite and on PostgreSQL."""
    url = backend_url(request, backend, tmp_path, "visitplan.db")
    day = date(2026, 12, 1)
    data = bytes(range(256)) * 8  # binary, as the desk keeps compressed rows
    with Store(url) as store:
        store.replace_caseload(small_scenario())
        revision = store.revision()
        assert store.kept("due", revision, day, "d1") is None
        assert store.keep("due", revision, day, "d1", data)
        assert store.revision() == revision
        assert store.kept("due", revision, day, "d1") == data
        assert store.kept("due", revision, day, "d2") is None
        assert store.kept("due", revision, day + timedelta(days=1), "d1") is None
        assert store.keep("due", revision, day, "d1", data[::-1])  # replaces, one per name
        assert store.kept("due", revision, day, "d1") == data[::-1]
        store.add_absence(Absence(worker_id="w-ada", start=day, end=day, reason="court"))
        assert store.revision() != revision
        assert store.kept("due", revision, day, "d1") is None
        assert not store.keep("due", revision, day, "d1", data)
        assert store.read_scenario().absences[-1].reason == "court"


@pytest.mark.integration
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
@pytest.mark.parametrize(
    ("moment", "shown"),
    [
        (datetime(2024, 7, 1, 10, 15, tzinfo=ZoneInfo("Europe/London")), "01 Jul 2024 10:15"),
        (datetime(2024, 1, 8, 10, 15, tzinfo=ZoneInfo("Europe/London")), "08 Jan 2024 10:15"),
    ],
    ids=["summer", "winter"],
)
def test_audit_times_read_back_as_the_moment_written(
    tmp_path: Path, request: pytest.FixtureRequest, backend: str, moment: datetime, shown: str
) -> None:
    """A change made at 10:15 UK time reads back as that moment (aware), and the history
    shows 10:15, in summer as in winter: SQLite drops a time's zone, so a London time kept
    as written read back an hour out in summer."""
    from scheduler import service
    from scheduler.render import render_history

    url = backend_url(request, backend, tmp_path, "visitplan.db")
    with Store(url) as store:
        store.replace_caseload(small_scenario())
        service.edit_child(store, "c-1", case_ref="REF-NEW", by="sam", now=moment)
        history = service.child_history(store, "c-1")
    at = history.changes[-1].at
    assert at is not None
    assert at.tzinfo is not None
    assert at == moment
    from rich.console import Console

    console = Console(width=200, record=True)
    for table in render_history(history):
        console.print(table)
    assert shown in console.export_text()
