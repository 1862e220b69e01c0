"""A restarted desk reads the authority-wide due rows kept in the store, and never stale ones.

Rule: a real SQLite store with a planned two-team authority (`conftest`); the proof that kept
rows are right is equality with rows worked out afresh (`reports.due_rows`, the engine's own),
and every kind of change (a write, an import, a new day, another pack, other code) is shown
to find nothing kept.
"""

from __future__ import annotations

import gc
import re
import shutil
import threading
import warnings
import weakref
import zlib
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select

from scheduler import caseload, due_kept
from scheduler.due import scenario_due
from scheduler.due_kept import KEPT_NAME, DueKeeper, rows_digest, source_digest
from scheduler.generate import generate
from scheduler.reports import DueReport, MadeRows, due_rows, rows_from_due
from scheduler.store import Store, audit_table
from scheduler.web.app import create_app
from scheduler.web.context import DeskServices
from scheduler.web.snapshot import Snapshot, SnapshotCache
from tests.web.conftest import NOW, SECRET, Desk, make_client, sign_in

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

TODAY = NOW.date()


def fresh_rows(store: Store, as_of: date = TODAY) -> str:
    """The authority-wide report worked out afresh from the store, as JSON."""
    _revision, scenario, plan = store.snapshot()
    records = SnapshotCache(store).get().records_by_visit
    return due_rows(scenario, plan, records, as_of).model_dump_json()


def kept_once(store: Store, as_of: date = TODAY) -> SnapshotCache:
    """A desk that worked out the rows and kept them (the write waited for)."""
    cache = SnapshotCache(store)
    cache.get().due(as_of)
    keeper(cache).flush()
    return cache


def keeper(cache: SnapshotCache) -> DueKeeper:
    """The cache's keeper (every cache here has one)."""
    assert cache.keeper is not None
    return cache.keeper


def test_a_restarted_desk_reads_the_kept_rows_equal_to_fresh_ones(store: Store) -> None:
    first = kept_once(store)
    snapshot = first.get()
    assert keeper(first).load(snapshot.revision, TODAY, snapshot.pack) is not None
    restarted = SnapshotCache(store)
    report = restarted.get().due(TODAY)
    assert report.model_dump_json() == fresh_rows(store)
    assert report == first.get().due(TODAY)
    # One team's page is cut from the kept report: the same as working that team out.
    team = restarted.get().due(TODAY, "team-01")
    alone = SnapshotCache(store)
    alone.keeper = None  # works the team out alone
    assert team == alone.get().due(TODAY, "team-01")


def test_the_kept_rows_are_what_the_desk_serves(store: Store) -> None:
    """The restarted desk uses what is kept (a marked report proves it is read, not redone)."""
    cache = kept_once(store)
    snapshot = cache.get()
    marked = snapshot.due(TODAY).model_copy(update={"total": -1})
    data = zlib.compress(marked.model_dump_json().encode())
    assert store.keep(KEPT_NAME, snapshot.revision, TODAY, rows_digest(snapshot.pack), data)
    assert SnapshotCache(store).get().due(TODAY).total == -1


def test_keeping_changes_neither_the_revision_nor_the_audit(store: Store) -> None:
    revision = store.revision()
    with store.engine.connect() as conn:
        audit = conn.execute(select(func.count()).select_from(audit_table)).scalar_one()
    kept_once(store)
    assert store.revision() == revision
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(audit_table)).scalar_one() == audit


def test_a_write_finds_nothing_kept_and_the_rows_follow_it(store: Store, desk: Desk) -> None:
    cache = kept_once(store)
    before = cache.get()
    child = before.scenario.children[0]
    caseload.edit_child(store, child.id, case_ref="KEPT-0001", by="test", now=NOW)
    assert (
        store.kept(KEPT_NAME, before.revision, TODAY, rows_digest(before.pack)) is None
    )  # the store moved on
    restarted = SnapshotCache(store)
    snapshot = restarted.get()
    assert keeper(restarted).load(snapshot.revision, TODAY, snapshot.pack) is None
    report = snapshot.due(TODAY)
    assert report.model_dump_json() == fresh_rows(store)
    assert any(r.case_ref == "KEPT-0001" for r in report.children)
    # A report worked out at the old revision is refused by the store now.
    old = before.due(TODAY)
    assert not store.keep(KEPT_NAME, before.revision, TODAY, rows_digest(before.pack), b"x")
    assert old is not None


def test_an_import_finds_nothing_kept(store: Store) -> None:
    cache = kept_once(store)
    scenario = cache.get().scenario
    ours = scenario.children[1:]
    store.replace_caseload(scenario.model_copy(update={"children": ours}), by="import", now=NOW)
    restarted = SnapshotCache(store)
    snapshot = restarted.get()
    assert keeper(restarted).load(snapshot.revision, TODAY, snapshot.pack) is None
    report = snapshot.due(TODAY)
    assert report.model_dump_json() == fresh_rows(store)
    assert report.total == len(ours)


def test_a_new_day_finds_nothing_kept(store: Store) -> None:
    cache = kept_once(store)
    snapshot = cache.get()
    tomorrow = TODAY + timedelta(days=1)
    assert keeper(cache).load(snapshot.revision, tomorrow, snapshot.pack) is None
    restarted = SnapshotCache(store)
    report = restarted.get().due(tomorrow)
    assert report.as_of == tomorrow
    assert report.model_dump_json() == fresh_rows(store, tomorrow)


def test_another_pack_finds_nothing_kept(store: Store) -> None:
    cache = kept_once(store)
    snapshot = cache.get()
    pack = snapshot.pack
    rule = pack.rules[0]
    changed = pack.model_copy(
        update={"rules": (rule.model_copy(update={"title": rule.title + " (v2)"}), *pack.rules[1:])}
    )
    assert rows_digest(changed) != rows_digest(pack)
    assert keeper(cache).load(snapshot.revision, TODAY, changed) is None
    assert keeper(cache).load(snapshot.revision, TODAY, pack) is not None


def test_other_code_finds_nothing_kept(store: Store, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # The digest covers every source file: one byte changed in one changes it.
    root = Path(due_kept.__file__).parents[1]
    copy = tmp_path / "src"
    for package in ("policies", "scheduler"):
        shutil.copytree(root / package, copy / package, ignore=shutil.ignore_patterns("*.pyc"))
    same = source_digest((copy / "policies", copy / "scheduler"))
    assert same == source_digest((copy / "policies", copy / "scheduler"))
    engine = copy / "policies" / "engine.py"
    engine.write_text(engine.read_text() + "\n# changed\n")
    assert source_digest((copy / "policies", copy / "scheduler")) != same
    # And a desk whose code digest differs does not read what the other kept.
    cache = kept_once(store)
    snapshot = cache.get()
    monkeypatch.setattr(due_kept, "code_digest", lambda: "other code")
    assert keeper(cache).load(snapshot.revision, TODAY, snapshot.pack) is None


def test_unreadable_kept_rows_are_ignored(store: Store) -> None:
    snapshot = SnapshotCache(store).get()
    digest = rows_digest(snapshot.pack)
    for data in (b"not compressed", zlib.compress(b'{"as_of": "not a date"}')):
        assert store.keep(KEPT_NAME, snapshot.revision, TODAY, digest, data)
        restarted = SnapshotCache(store)
        assert restarted.get().due(TODAY).model_dump_json() == fresh_rows(store)


def test_after_a_restart_a_change_elsewhere_works_out_only_that_child(store: Store) -> None:
    kept_once(store)
    restarted = SnapshotCache(store)
    restarted.get().due(TODAY)  # read from the store, not worked out
    child = restarted.get().scenario.children[2]
    caseload.edit_child(store, child.id, case_ref="KEPT-0002", by="test", now=NOW)
    snapshot = restarted.get()
    report = snapshot.due(TODAY)
    assert restarted.memory.worked_out == 1
    assert report.model_dump_json() == fresh_rows(store)
    rows = restarted.memory.scenario_due(snapshot.scenario, snapshot.pack, TODAY)
    assert rows == scenario_due(snapshot.scenario, TODAY)


def test_the_page_of_a_restarted_desk_is_the_page_of_a_fresh_one(store: Store, desk: Desk) -> None:
    first = make_client(store)
    sign_in(first, "ada")
    page = first.get("/due").text
    first.app.state.desk.cache.keeper.flush()  # type: ignore[attr-defined]
    second_store = Store(f"sqlite:///{desk.path}")
    second = make_client(second_store)
    sign_in(second, "ada")
    assert _without_tokens(second.get("/due").text) == _without_tokens(page)
    second_store.close()


def _without_tokens(page: str) -> str:
    """The page without its CSRF tokens (they differ between sessions)."""
    return re.sub(r'name="csrftoken" value="[^"]*"', "", page)


def test_a_dropped_snapshot_is_freed_without_the_cycle_collector(store: Store) -> None:
    """The desk freezes what a whole read built (`snapshot.bulk`): that is safe only while
    a snapshot, its rows and its page models hold no reference cycles."""
    client = make_client(store)
    sign_in(client, "ada")
    for page in ("/due", "/teams/team-01/due", "/teams/team-01/week?start=2026-11-30"):
        assert client.get(page).status_code == 200
    cache = client.app.state.desk.cache  # type: ignore[attr-defined]
    keeper(cache).flush()
    snapshot = cache.get()
    snapshot.readable("rule ids and worker ids")
    ref = weakref.ref(snapshot)
    rows = weakref.ref(snapshot.due(TODAY))
    gc.disable()
    try:
        del snapshot
        cache.drop()
        assert ref() is None
        assert rows() is None
    finally:
        gc.enable()


def at_once(snapshot: Snapshot, n: int = 3) -> list[DueReport]:
    """The authority-wide report asked for by `n` threads at once."""
    reports: list[DueReport] = []
    threads = [
        threading.Thread(target=lambda: reports.append(snapshot.due(TODAY))) for _ in range(n)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return reports


def test_threads_asking_at_once_share_one_read_of_the_kept_rows(store: Store) -> None:
    """The watcher and a first page at start-up: neither works the rows out."""
    kept_once(store)
    restarted = SnapshotCache(store)
    snapshot = restarted.get()
    first, *others = at_once(snapshot)
    assert all(other is first for other in others)
    assert restarted.memory.worked_out == 0  # nothing worked out: all read what was kept
    assert first.model_dump_json() == fresh_rows(store)


def test_threads_asking_at_once_share_one_working_out(store: Store) -> None:
    """Nothing kept: one thread works the rows out and the others wait for it."""
    cache = SnapshotCache(store)
    first, *others = at_once(cache.get())
    assert all(other is first for other in others)
    assert first.model_dump_json() == fresh_rows(store)


def test_a_warm_desk_restarted_serves_the_kept_rows_from_its_first_page(
    store: Store, desk: Desk
) -> None:
    first = make_client(store)
    sign_in(first, "ada")
    page = first.get("/due").text
    keeper(first.app.state.desk.cache).flush()  # type: ignore[attr-defined]
    second_store = Store(f"sqlite:///{desk.path}")
    services = DeskServices(lambda *a: "", lambda *a: False, None)
    app = create_app(second_store, lambda: NOW, SECRET, services, "http://testserver", warm=True)
    with TestClient(app, follow_redirects=True) as second:  # the watcher starts, as in `serve`
        sign_in(second, "ada")
        assert _without_tokens(second.get("/due").text) == _without_tokens(page)
        assert second.app.state.desk.cache.memory.worked_out == 0  # type: ignore[attr-defined]
    second_store.close()


def test_rows_made_before_are_reused_only_while_all_their_inputs_are_equal() -> None:
    scenario = generate("S", seed=19, start=date(2026, 11, 30), children=150)
    as_of = date(2026, 12, 2)
    dues = scenario_due(scenario, as_of)
    made: MadeRows = {}
    first = rows_from_due(scenario, None, {}, as_of, dues, made=made)
    assert first == rows_from_due(scenario, None, {}, as_of, dues)
    assert len(made) == len(scenario.children)
    # A worker renamed: their children's rows are made again, every other row is reused.
    worker = next(w for w in scenario.workers if any(c.allocated_worker == w.id for c in dues))
    renamed = scenario.model_copy(
        update={
            "workers": tuple(
                w.model_copy(update={"name": "Renamed Worker"}) if w.id == worker.id else w
                for w in scenario.workers
            )
        }
    )
    second = rows_from_due(renamed, None, {}, as_of, dues, made=made)
    assert (
        second.model_dump_json() == rows_from_due(renamed, None, {}, as_of, dues).model_dump_json()
    )
    before = {r.child_id: r for r in first.children}
    for row in second.children:
        assert (row is before[row.child_id]) == (row.allocated_worker != worker.id)
    # Equal requirements in another object (worked out again): a new row, equal to the old.
    again = scenario_due(renamed, as_of)
    third = rows_from_due(renamed, None, {}, as_of, again, made=made)
    assert third == second
    assert not any(r is s for r, s in zip(third.children, second.children, strict=True))


def test_a_store_that_cannot_keep_leaves_the_desk_working(store: Store) -> None:
    with store.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE kept_results")  # every read and write of it fails
    cache = SnapshotCache(store)
    report = cache.get().due(TODAY)
    keeper(cache).flush()  # the failed write is logged, and the writer ends
    assert report.model_dump_json() == fresh_rows(store)
    restarted = SnapshotCache(store)
    assert restarted.get().due(TODAY).model_dump_json() == fresh_rows(store)


class _Cycle:
    """An object that refers to itself: freed only by the cycle collector."""

    def __init__(self) -> None:
        self.me = self


def test_garbage_from_before_a_whole_read_is_collected_not_frozen(store: Store) -> None:
    garbage = _Cycle()
    ref = weakref.ref(garbage)
    del garbage
    gc.disable()  # so that only the desk's own collection can free it
    try:
        SnapshotCache(store).get()  # a whole read
        assert ref() is None
    finally:
        gc.enable()


def _filters(store: Store) -> list[dict[str, str]]:
    """Filter sets `visitplan due` takes: none, each alone, and two together."""
    _revision, scenario, _plan = store.snapshot()
    worker = next(c.allocated_worker for c in scenario.children if c.allocated_worker)
    return [
        {},
        {"team": "team-01"},
        {"worker": worker},
        {"category": "child-protection"},
        {"state": "due soon"},
        {"team": "team-02", "state": "on track"},
        {"team": "team-01", "category": "child-in-need", "state": "overdue"},
    ]


def test_visitplan_due_reads_the_kept_rows_and_filters_them_as_worked_out(store: Store) -> None:
    """`service.due_report` (what `visitplan due` prints) cut from the desk's kept report is
    the report worked out afresh with the same filters, row for row and count for count."""
    from scheduler import service

    kept_once(store)
    _revision, scenario, plan = store.snapshot()
    records = SnapshotCache(store).get().records_by_visit
    for filters in _filters(store):
        from_kept = service.due_report(store, TODAY, **filters)
        fresh = due_rows(scenario, plan, records, TODAY, **filters)
        assert from_kept.model_dump_json() == fresh.model_dump_json(), filters
        assert from_kept.total == len(from_kept.children)


def test_visitplan_due_uses_the_kept_rows_only_at_their_revision(store: Store, desk: Desk) -> None:
    """A marked kept report proves the command reads it rather than working it out; after a
    write (another revision) the same command works the rows out afresh."""
    from scheduler import service

    snapshot = kept_once(store).get()
    marked = snapshot.due(TODAY)
    marked = marked.model_copy(update={"children": marked.children[1:]})  # one child dropped
    data = zlib.compress(marked.model_dump_json().encode())
    assert store.keep(KEPT_NAME, snapshot.revision, TODAY, rows_digest(snapshot.pack), data)
    assert service.due_report(store, TODAY).total == len(marked.children)
    child = snapshot.scenario.children[0]
    caseload.edit_child(store, child.id, case_ref="CR-EDITED", by="test", now=NOW)
    assert service.due_report(store, TODAY).model_dump_json() == fresh_rows(store)
