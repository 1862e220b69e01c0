"""Friday's plan for the next fortnight keeps the visits already published for next week.

A manager plans two weeks at a time, every week. Before this, Friday's plan made the next
fortnight afresh and moved most of next week's published visits (on M, 40 of 55 changed
time or worker): families told a time, and workers' calendars, changed for nothing. Now the
days the current plan covers are re-planned as `visitplan replan` does, and the week after
is planned afresh. On a real SQLite store with real solves, judged by the checker.
"""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta

import pytest
from click.testing import Result
from typer.testing import CliRunner

from scheduler import service
from scheduler.cli import app
from scheduler.domain import Absence, Plan, Visit
from scheduler.generate import generate
from scheduler.store import Store

pytestmark = pytest.mark.slow  # three real plans

MONDAY = date(2026, 11, 30)
NEXT_MONDAY = MONDAY + timedelta(days=7)
FRIDAY_TEATIME = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)


@pytest.fixture
def fortnight(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A one-team authority planned for two weeks from Mon 30 Nov 2026 (made the Friday
    before), the first week's visits recorded as made up to Thursday (Friday's await their
    outcome): the store's URL."""
    url = f"sqlite:///{tmp_path_factory.mktemp('rolling') / 'visitplan.db'}"
    with Store(url) as store:
        store.replace_caseload(generate("S", seed=0, start=MONDAY))
        made = datetime(2026, 11, 27, 16, tzinfo=UTC)
        service.plan_store(store, MONDAY, 2, service.solve_params(0.4, 0), now=made)
        current = store.current_plan()
        assert current is not None
        for visit in current.visits:
            if visit.day < MONDAY + timedelta(days=4):
                service.record_outcome(store, visit.id, "completed")
    return url


def _next_week(plan: Plan) -> dict[str, tuple[datetime, str | None, str | None]]:
    """Each visit of the week of 7 Dec: its start and workers, by id."""
    return {
        v.id: (v.start, v.worker_id, v.second_worker_id)
        for v in plan.visits
        if NEXT_MONDAY <= v.day < NEXT_MONDAY + timedelta(days=7) and v.status == "planned"
    }


def _plan(store: Store, start: date, weeks: int) -> service.PlanResult:
    return service.plan_store(
        store,
        start,
        weeks,
        service.solve_params(0.4, 0),
        now=FRIDAY_TEATIME,
        processes=1,
        not_before=FRIDAY_TEATIME,
    )


def test_next_weeks_published_visits_are_kept_and_the_week_after_planned(
    fortnight: str,
) -> None:
    with Store(fortnight) as store:
        before = store.current_plan()
        assert before is not None
        published = _next_week(before)
        assert published, "the first plan has visits next week"
        result = _plan(store, NEXT_MONDAY, 2)
        _scenario, verdict = service.check_current(store)
    plan = result.plan
    assert result.published_until == before.end
    assert result.published_changes == 0
    assert _next_week(plan) == published, "every visit next week as published"
    assert (plan.start, plan.end) == (NEXT_MONDAY, NEXT_MONDAY + timedelta(days=13))
    assert any(v.day > before.end for v in plan.visits), "the week after is planned"
    assert not verdict.hard, [v.message for v in verdict.hard]


def _first_visit_next_week_off(store: Store) -> tuple[Plan, Visit]:
    """The current plan and next week's first visit, its worker now recorded off sick that
    day (on Friday at teatime)."""
    before = store.current_plan()
    assert before is not None
    first = min(
        (v for v in before.visits if NEXT_MONDAY <= v.day < before.end), key=lambda v: v.start
    )
    away = Absence(worker_id=first.worker_id, start=first.day, end=first.day, reason="sickness")
    service.add_absences(store, [away], by="sam", now=FRIDAY_TEATIME)
    return before, first


def test_a_visit_next_week_that_cannot_stay_is_the_only_change(fortnight: str) -> None:
    """The worker of next week's first visit is off that day: their visits that day are
    handed over or moved, and nothing else next week changes."""
    with Store(fortnight) as store:
        before, first = _first_visit_next_week_off(store)
        that_day = first.day
        result = _plan(store, NEXT_MONDAY, 2)
        _scenario, verdict = service.check_current(store)
    theirs = {
        i
        for i, (_start, lead, _second) in _next_week(before).items()
        if lead == first.worker_id and i.endswith(f"{that_day:%Y%m%d}")
    }
    after = _next_week(result.plan)
    changed = {i for i, crew in _next_week(before).items() if after.get(i) != crew}
    assert first.id in changed
    assert changed <= theirs | {i for i in changed if i not in after}
    assert result.published_changes >= len(theirs)
    assert result.published_changes == len(result.changes)
    assert {c.visit_id for c in result.changes if c.forced} >= theirs
    assert not any(
        lead == first.worker_id and i.endswith(f"{that_day:%Y%m%d}")
        for i, (_start, lead, _second) in after.items()
    )
    assert not verdict.hard, [v.message for v in verdict.hard]


def test_a_plan_after_the_published_one_is_planned_afresh(fortnight: str) -> None:
    """The edge: a plan starting the day after the current plan ends keeps nothing."""
    with Store(fortnight) as store:
        before = store.current_plan()
        assert before is not None
        result = _plan(store, before.end + timedelta(days=1), 1)
    assert result.published_until is None
    assert result.published_changes == 0
    assert result.plan.start == before.end + timedelta(days=1)


def _command(fortnight: str, *more: str) -> Result:
    """`visitplan plan --start NEXT_MONDAY --weeks 2` on Friday at teatime."""
    env = {
        "COLUMNS": "200",
        "VISITPLAN_DB": fortnight,
        "VISITPLAN_NOW": "2026-12-04T15:00",
        "VISITPLAN_USER": "test-manager",
    }
    args = ["plan", "--start", NEXT_MONDAY.isoformat(), "--weeks", "2", *more]
    return CliRunner().invoke(app, args, env=env)


def test_the_command_says_what_it_kept(fortnight: str) -> None:
    done = _command(fortnight)
    assert done.exit_code == 0, done.stderr
    words = " ".join(done.stderr.split())
    assert "The visits already published up to Sun 13 Dec were kept" in words
    assert "0 changed" in words


def test_the_command_lists_each_published_visit_it_changed(fortnight: str) -> None:
    """A worker off next Monday: Friday's plan lists the published visits it had to change,
    each with its reason, as `replan` does (the manager tells those families)."""
    with Store(fortnight) as store:
        _before, first = _first_visit_next_week_off(store)
        name = store.worker_names()[first.worker_id]
    done = _command(fortnight)
    assert done.exit_code == 0, done.stderr
    table = " ".join(done.stdout.split())
    assert "change(s) to the published plan" in table
    assert first.id in table
    assert f"{name} is away (sickness)" in table
    assert "(listed above)" in done.stderr


def test_fresh_plans_every_day_afresh(fortnight: str) -> None:
    """`plan --fresh` keeps nothing: the week already published is planned again."""
    done = _command(fortnight, "--fresh")
    assert done.exit_code == 0, done.stderr
    assert "already published" not in done.stderr


@pytest.mark.parametrize("weeks", [1, 2])
def test_a_shorter_plan_warns_of_the_published_visits_it_drops(fortnight: str, weeks: int) -> None:
    """Friday, a plan of one week from Monday (so from today to Sunday) replaces the
    fortnight: next week's published visits are not in it, and the command warns that
    publishing will cancel them. The other half of the edge pair: two weeks drop nothing."""
    path = fortnight.removeprefix("sqlite:///")
    copy = f"{path}-{weeks}.db"
    shutil.copy(path, copy)  # the same fortnight, for the command line
    with Store(fortnight) as store:
        before = store.current_plan()
        assert before is not None
        next_week = _next_week(before)
        result = _plan(store, MONDAY, weeks)
    assert next_week, "the fortnight has visits next week"
    assert result.dropped == (len(next_week) if weeks == 1 else 0)
    env = {
        "COLUMNS": "200",
        "VISITPLAN_DB": f"sqlite:///{copy}",
        "VISITPLAN_NOW": "2026-12-04T15:00",
    }
    args = ["plan", "--start", MONDAY.isoformat(), "--weeks", str(weeks)]
    done = CliRunner().invoke(app, args, env=env)
    assert done.exit_code == 0, done.stderr
    words = " ".join(done.stderr.split())
    warned = "will cancel them on workers' calendars" in words
    assert warned is (weeks == 1)
