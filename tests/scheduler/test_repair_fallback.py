"""A refused repair is kept when the full solve misses more deadlines (`_better_of`), and the
re-plan around a team that cannot cover everything still moves only what it must."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest

from scheduler.check import check_plan
from scheduler.domain import Absence, Breach, Visit
from scheduler.generate import generate
from scheduler.outcomes import as_planned
from scheduler.planning import _better_of, _TeamResult, plan_scenario
from scheduler.replan import cp_sat_planner, replan
from scheduler.translate import make_context
from solver import SolveParams
from tests.builders import at, make_visit

MONDAY = date(2026, 11, 30)
PARAMS = SolveParams(time_limit_s=0.5, seed=0, num_workers=1, deterministic=True)


def result(visits: list[Visit], late: list[int | None]) -> _TeamResult:
    breaches = [
        Breach(child_id=f"c{i}", rule_id="r", due=MONDAY, days_late=d, reason="-")
        for i, d in enumerate(late)
    ]
    return _TeamResult(None, finished=(visits, breaches, set()))


@pytest.fixture(scope="module")
def ctx() -> object:
    from policies import load_pack
    from scheduler.due import calendar_for

    scenario = generate("S", seed=1, start=MONDAY, children=20)
    pack = load_pack(scenario.authority.id)
    return make_context(scenario, pack, calendar_for(pack), MONDAY, 1, 4)


def test_the_result_missing_fewer_deadlines_wins(ctx: object) -> None:
    """Fewer breaches first, then fewer days late; a tie keeps the repair (it moves least)."""
    published = [make_visit("v1", at(MONDAY + timedelta(days=1), 10))]
    moved = [make_visit("v1", at(MONDAY + timedelta(days=2), 10))]
    solved, repair = result(moved, [1]), result(published, [1, 2])
    assert _better_of(ctx, solved, repair, tuple(published)) is solved  # type: ignore[arg-type]
    solved, repair = result(moved, [3]), result(published, [2])
    assert _better_of(ctx, solved, repair, tuple(published)) is repair  # type: ignore[arg-type]
    solved, repair = result(moved, [None]), result(published, [5])
    assert _better_of(ctx, solved, repair, tuple(published)) is repair  # type: ignore[arg-type]
    solved, repair = result(published, [2]), result(published, [2])
    assert _better_of(ctx, solved, repair, tuple(published)) is repair  # type: ignore[arg-type]


def test_a_team_that_cannot_cover_a_day_keeps_the_repair_or_better() -> None:
    """All but one worker away on the plan's busiest day: the repair cannot meet every
    deadline, so the full solve is tried too; whichever is kept, the absent workers' visits
    are the only forced changes and the checker accepts the plan."""
    scenario = generate("S", seed=1, start=MONDAY)
    plan = plan_scenario(scenario, MONDAY, weeks=1, params=PARAMS, processes=1)
    busy_day = Counter(v.day for v in plan.visits).most_common(1)[0][0]  # the busiest day
    load = Counter(v.worker_id for v in plan.visits if v.day == busy_day)
    keep = load.most_common(1)[0][0]
    away = [w.id for w in scenario.workers if w.id != keep]
    scenario = scenario.model_copy(
        update={
            "absences": (
                *scenario.absences,
                *(Absence(worker_id=w, start=busy_day, end=busy_day) for w in away),
            )
        }
    )
    log: list[str] = []
    report = replan(scenario, plan, MONDAY, cp_sat_planner(PARAMS, log.append, processes=1))
    text = "\n".join(str(m) for m in log)
    assert "so a full solve is tried too" in text
    verdict = check_plan(as_planned(scenario, report.plan), report.plan)
    assert verdict.ok, [v.message for v in verdict.hard][:5]
    affected = sum(1 for v in plan.visits if v.worker_id in away and v.day == busy_day)
    assert report.affected_visits == report.forced_changes == affected
    assert not [v for v in report.plan.visits if v.worker_id in away and v.day == busy_day]
