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
from tests.builders import make_visit

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
    published = [make_visit("h1", MONDAY + timedelta(days=1))]
    moved = [make_visit("h1", MONDAY + timedelta(days=2))]
    solved, repair = result(moved, [1]), result(published, [1, 2])
    assert _better_of(ctx, solved, repair, tuple(published)) is solved  # type: ignore[arg-type]
    solved, repair = result(moved, [3]), result(published, [2])
    assert _better_of(ctx, solved, repair, tuple(published)) is repair  # type: ignore[arg-type]
    solved, repair = result(moved, [None]), result(published, [5])
    assert _better_of(ctx, solved, repair, tuple(published)) is repair  # type: ignore[arg-type]
    solved, repair = result(published, [2]), result(published, [2])
    assert _better_of(ctx, solved, repair, tuple(published)) is repair  # type: ignore[arg-type]


@pytest.mark.slow
def test_the_tuesday_whose_repair_misses_two_deadlines_keeps_the_repair() -> None:
    """M (seed 0), two weeks from Monday as `visitplan plan` makes them; on Tuesday the
    busiest Wednesday worker is off sick to Thursday and Monday is unrecorded. Their team's
    repair misses two children's deadlines, so it is refused and the full solve is tried;
    the full solve misses more, so the repair is kept: every displaced visit reassigned,
    nothing else changed, and only deadlines due during the absence at risk (before the
    fallback the full solve's plan left all six unplaced, 17 deadlines at risk)."""
    tuesday = MONDAY + timedelta(days=1)
    scenario = generate("M", seed=0, start=MONDAY)
    plan = plan_scenario(scenario, MONDAY, weeks=2, params=SolveParams(), processes=1)
    wednesday = Counter(v.worker_id for v in plan.visits if v.day == MONDAY + timedelta(days=2))
    worker = wednesday.most_common(1)[0][0]
    thursday = MONDAY + timedelta(days=3)
    sick = scenario.model_copy(
        update={
            "absences": (
                *scenario.absences,
                Absence(worker_id=worker, start=tuesday, end=thursday, reason="sickness"),
            )
        }
    )
    log: list[str] = []
    report = replan(sick, plan, tuesday, cp_sat_planner(PARAMS, log.append, processes=1))
    text = "\n".join(str(m) for m in log)
    assert "deadline(s) missed, so a full solve is tried too" in text
    assert "the full solve missed more deadlines; the repair is kept" in text
    verdict = check_plan(as_planned(sick, report.plan), report.plan)
    assert verdict.ok, [v.message for v in verdict.hard][:5]
    assert report.forced_changes == report.affected_visits > 0
    assert report.other_changes == 0
    assert all(c.kind == "reassigned" for c in report.changes)
    assert report.at_risk
    assert all(tuesday <= b.due <= thursday for b in report.at_risk)
