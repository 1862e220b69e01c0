"""Issue 9: every write kept. Real `visitplan` processes racing on one store (SQLite file, and
PostgreSQL where the suite has a server): nothing lost, nothing half-written.

A process is stopped at an exact point by a wrapper that patches one function before running
the command line (a kill between two children's records; a pause between a re-plan's proposal
and its apply), so the races are forced rather than hoped for.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from datetime import date
from pathlib import Path

import pytest

from scheduler.store import Store
from tests.conftest import backend_url
from tests.scenarios import north_somerset_team

MONDAY = date(2026, 11, 30)
ENV = {"VISITPLAN_TODAY": "2026-12-01", "VISITPLAN_USER": "racer", "COLUMNS": "200"}


def cli(db: str, *args: str) -> subprocess.Popen[str]:
    """A real `visitplan` process on `db`."""
    return subprocess.Popen(
        [sys.executable, "-c", "from scheduler.cli import main; main()", *args, "--db", db],
        env={**os.environ, **ENV},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wrapped(tmp_path: Path, db: str, patch: str, *args: str) -> subprocess.Popen[str]:
    """A `visitplan` process with `patch` (Python source) applied before the command runs."""
    script = tmp_path / f"wrapper_{len(list(tmp_path.iterdir()))}.py"
    script.write_text(
        "import os, sys, time\n"
        + textwrap.dedent(patch)
        + "\nfrom scheduler.cli import main\nsys.argv = ['visitplan', *sys.argv[1:]]\nmain()\n",
        encoding="utf-8",
    )
    return subprocess.Popen(
        [sys.executable, str(script), *args, "--db", db],
        env={**os.environ, **ENV},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=300)
    return process.returncode, out, err


pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store with the north-somerset team and a two-week plan from Monday."""
    url = backend_url(request, request.param, tmp_path, "race.db")
    store = Store(url)
    store.replace_caseload(north_somerset_team())
    store.close()
    code, _, err = finish(
        cli(url, "plan", "--start", str(MONDAY), "--weeks", "2", "--time-limit", "1")
    )
    assert code == 0, err
    return url


def visit_with_two_children(db: str) -> str:
    plan = Store(db).current_plan()
    assert plan is not None
    return next(v.id for v in plan.visits if len(v.child_ids) >= 2)


def test_child_add_racing_record_and_absences_loses_nothing(db: str) -> None:
    """Five child additions, a record and three absences at once: every write is kept."""
    visit = visit_with_two_children(db)
    processes = [
        cli(db, "child", "add", f"c-new-{i}", "--case-ref", f"CR-NEW-{i}",
            "--category", "child-in-need", "--household", "h1", "--worker", "w1")
        for i in range(5)
    ]  # fmt: skip
    processes.append(cli(db, "record", visit, "--outcome", "completed"))
    processes += [
        cli(db, "absence", "add", "w2", "--from", f"2026-12-{d:02d}", "--reason", "training")
        for d in (7, 8, 9)
    ]
    results = [finish(p) for p in processes]
    assert [code for code, _, _ in results] == [0] * len(processes), [e for _, _, e in results]
    store = Store(db)
    children = {c.id for c in store.read_scenario().children}
    assert {f"c-new-{i}" for i in range(5)} <= children
    assert len(store.records_for_visits([visit])[visit]) >= 2
    assert len(store.list_absences("w2")) == 3
    history = store.changes_since(0)
    assert sum(1 for e in history if e.action == "child added" and e.by == "racer") == 5


def test_record_killed_between_two_children_writes_nothing_then_completes(
    tmp_path: Path, db: str
) -> None:
    """Killed half-way through a two-child visit: no record at all; run again: both."""
    visit = visit_with_two_children(db)
    kill_on_second_row = """
    import scheduler.store.records as s
    real = s._record_row
    calls = []
    def dying(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            os.kill(os.getpid(), 9)
        return real(*args, **kwargs)
    s._record_row = dying
    """
    code, _, _ = finish(
        wrapped(tmp_path, db, kill_on_second_row, "record", visit, "--outcome", "completed")
    )
    assert code == -9
    assert Store(db).records_for_visits([visit]) == {}
    code, _, err = finish(cli(db, "record", visit, "--outcome", "completed"))
    assert code == 0, err
    code, _, err = finish(cli(db, "record", visit, "--outcome", "completed"))
    assert code == 0, err  # idempotent: a second run changes nothing and is no error
    records = Store(db).records_for_visits([visit])[visit]
    assert len(records) == len({r.child_id for r in records}) >= 2


def test_replan_apply_racing_record_refuses_and_keeps_the_record(tmp_path: Path, db: str) -> None:
    """A record lands while a re-plan is being worked out: Apply refuses (exit 1), says what
    changed, and the record is kept; the current plan is untouched."""
    visit = visit_with_two_children(db)
    before = Store(db).current_plan()
    ready, go = tmp_path / "proposed", tmp_path / "go"
    pause_after_proposal = f"""
    import scheduler.service as service
    real = service.propose_replan
    def paused(*args, **kwargs):
        report = real(*args, **kwargs)
        open({str(ready)!r}, "w").close()
        while not os.path.exists({str(go)!r}):
            time.sleep(0.05)
        return report
    service.propose_replan = paused
    """
    replan = wrapped(tmp_path, db, pause_after_proposal, "replan", "--apply")
    deadline = time.monotonic() + 240
    while not ready.exists():
        assert replan.poll() is None, replan.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    code, _, err = finish(cli(db, "record", visit, "--outcome", "failed"))
    assert code == 0, err
    go.touch()
    code, _, err = finish(replan)
    assert code == 1
    assert "changed since this proposal" in err
    assert "record added" in err
    store = Store(db)
    assert store.current_plan() == before
    assert {r.outcome for r in store.records_for_visits([visit])[visit]} == {"failed"}


def wait_for(path: Path, process: subprocess.Popen[str]) -> None:
    """Wait until `process` creates `path` (it signals it has got that far)."""
    deadline = time.monotonic() + 240
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)


def pause_in_save(ready: Path, go: Path) -> str:
    """A patch that holds a re-plan's save open (after its revision went up) until `go`."""
    return f"""
    import scheduler.store.engine as e
    real = e._Tx.bump
    def paused(self):
        first = self.revision is None
        revision = real(self)
        if first and not os.path.exists({str(go)!r}):
            open({str(ready)!r}, "w").close()
            while not os.path.exists({str(go)!r}):
                time.sleep(0.05)
        return revision
    e._Tx.bump = paused
    """


def signal_on_reaching(db: str, signal: Path, module: str, owner: str, method: str) -> str:
    """A patch that creates `signal` once the command is about to write: on entering
    `owner.method` (PostgreSQL), or on opening the store (SQLite, where opening it waits for
    a writer, as any write does)."""
    if db.startswith("sqlite"):
        module, owner, method = "scheduler.store.engine", "StoreBase", "__init__"
    return f"""
    import {module} as m
    real = m.{owner}.{method}
    def signalled(*args, **kwargs):
        open({str(signal)!r}, "w").close()
        return real(*args, **kwargs)
    m.{owner}.{method} = signalled
    """


def test_pin_while_a_replan_is_saved_lands_in_the_current_plan(tmp_path: Path, db: str) -> None:
    """A pin written while `replan --apply` is storing its plan: it said 'Pinned' and the audit
    kept 'visit pinned', but on PostgreSQL it went into the plan being replaced, so the
    current plan's visit was not pinned. Writers now queue as SQLite's do."""
    plan = Store(db).current_plan()
    assert plan is not None
    visit = next(v.id for v in plan.visits if v.day >= date(2026, 12, 1))
    saving, go, writing = tmp_path / "saving", tmp_path / "go", tmp_path / "writing"
    replan = wrapped(tmp_path, db, pause_in_save(saving, go), "replan", "--apply")
    wait_for(saving, replan)
    patch = signal_on_reaching(db, writing, "scheduler.store.plans", "PlanStore", "update_visit")
    pin = wrapped(tmp_path, db, patch, "visit", "pin", visit)
    wait_for(writing, pin)
    time.sleep(1)  # the pin's transaction reaches the store while the save is open
    go.touch()
    code, _, err = finish(replan)
    assert code == 0, err
    code, out, err = finish(pin)
    assert code == 0, err
    assert "Pinned" in out
    current = Store(db).find_visit(visit)
    assert current is not None
    assert current.pinned, "the pin is in the current plan"


def test_the_same_record_twice_at_once_is_recorded_once(tmp_path: Path, db: str) -> None:
    """Two `record V --outcome completed` at once: both succeed and the visit has one record
    per child. On PostgreSQL the second to write failed with 'database error:
    UniqueViolation', where running the command again is to change nothing."""
    visit = visit_with_two_children(db)
    ready, go, writing = tmp_path / "ready", tmp_path / "go", tmp_path / "writing"
    pause_after_reading = f"""
    import scheduler.store.records as r
    real = r._next_position
    def paused(*args, **kwargs):
        open({str(ready)!r}, "w").close()
        while not os.path.exists({str(go)!r}):
            time.sleep(0.05)
        return real(*args, **kwargs)
    r._next_position = paused
    """
    first = wrapped(tmp_path, db, pause_after_reading, "record", visit, "--outcome", "completed")
    wait_for(ready, first)
    patch = signal_on_reaching(db, writing, "scheduler.store.records", "RecordStore", "add_records")
    second = wrapped(tmp_path, db, patch, "record", visit, "--outcome", "completed")
    wait_for(writing, second)
    time.sleep(1)  # the second reaches the store while the first is between read and write
    go.touch()
    results = [finish(first), finish(second)]
    assert [code for code, _, _ in results] == [0, 0], [e for _, _, e in results]
    records = Store(db).records_for_visits([visit])[visit]
    assert len(records) == len({r.child_id for r in records}) >= 2
    assert {r.outcome for r in records} == {"completed"}
