"""A recorded visit stays in the plan, in its state, through every later re-plan.

A re-plan keeps a visit whose outcome was recorded on or before its first day, in that state.
The next re-plan from a day on or before the visit's own (a second re-plan the same day, or a
visit recorded early) used to drop it: it was neither kept (its state was no longer
`planned`) nor re-planned. The visit and its record vanished from `plan show`, and a new
visit could take its id.

The command line through typer's CliRunner, on a real SQLite file and on PostgreSQL, with
real CP-SAT solves.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scheduler.store import Store
from tests.conftest import backend_url
from tests.scenarios import north_somerset_team
from tests.scheduler.test_cli import invoke

MONDAY, TUESDAY = "2026-11-30", "2026-12-01"
VISIT = "v-h1-20261201"
"""The north Somerset team's Tuesday visit (c1 and c4 at h1), its only visit after Monday."""


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The north Somerset team with a two-week plan from Monday 30 Nov 2026."""
    url = backend_url(request, request.param, tmp_path, "visitplan.db")
    with Store(url) as store:
        store.replace_caseload(north_somerset_team())
    code, _, stderr = invoke(
        "plan", "--start", MONDAY, "--weeks", "2", "--time-limit", "1", "--db", url
    )
    assert code == 0, stderr
    return url


def states(db: str, today: str) -> list[tuple[str, str]]:
    """(visit, state) of every visit of `plan show --json`, in its order."""
    code, stdout, stderr = invoke("plan", "show", "--json", "--db", db, today=today)
    assert code == 0, stderr
    return [(v["visit_id"], v["state"]) for v in json.loads(stdout)["visits"]]


def replan(db: str, today: str) -> None:
    code, _, stderr = invoke("replan", "--apply", "--processes", "1", "--db", db, today=today)
    assert code == 0, stderr
    code, stdout, stderr = invoke("check", "--db", db, today=today)
    assert code == 0, stdout + stderr


def test_a_visit_recorded_before_two_replans_the_same_day_stays_in_the_plan(db: str) -> None:
    """Tuesday: the visit is made and recorded, then the plan is re-planned twice (a second
    outcome or absence comes in): the completed visit is in the plan once, completed, after
    each (the second re-plan dropped it)."""
    assert VISIT in dict(states(db, TUESDAY))
    code, _, stderr = invoke("record", VISIT, "--outcome", "completed", "--db", db, today=TUESDAY)
    assert code == 0, stderr
    for _ in range(2):
        replan(db, TUESDAY)
        kept = [(v, s) for v, s in states(db, TUESDAY) if v == VISIT]
        assert kept == [(VISIT, "completed")]


def test_a_visit_recorded_early_stays_in_the_plan_on_its_own_day(db: str) -> None:
    """Tuesday's visit made on Monday (`--on`), Monday's re-plan keeps it completed; Tuesday's
    re-plan keeps it too (it dropped it: the visit's day was not before the re-plan's)."""
    code, _, stderr = invoke(
        "record", VISIT, "--outcome", "completed", "--on", MONDAY, "--db", db, today=MONDAY
    )
    assert code == 0, stderr
    for today in (MONDAY, TUESDAY):
        replan(db, today)
        kept = [(v, s) for v, s in states(db, today) if v == VISIT]
        assert kept == [(VISIT, "completed")]


def test_a_recorded_visit_of_children_since_closed_stays_through_replans(db: str) -> None:
    """The visit recorded and kept by Tuesday's re-plan, then both its children's cases close
    that day: the store's caseload no longer holds their records, and the visit stays
    completed through two more re-plans (the first stored it as planned again, and the next
    took it for a visit still to make)."""
    code, _, stderr = invoke("record", VISIT, "--outcome", "completed", "--db", db, today=TUESDAY)
    assert code == 0, stderr
    replan(db, TUESDAY)
    for child in ("c1", "c4"):
        code, _, stderr = invoke(
            "child", "close", child, "--on", TUESDAY, "--reason", "moved away", "--db", db,
            today=TUESDAY,
        )  # fmt: skip
        assert code == 0, stderr
    for _ in range(2):
        replan(db, TUESDAY)
        kept = [(v, s) for v, s in states(db, TUESDAY) if v == VISIT]
        assert kept == [(VISIT, "completed")]
        plan = Store(db).current_plan()
        assert plan is not None
        assert [v.status for v in plan.visits if v.id == VISIT] == ["completed"]
