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
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'race.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
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
