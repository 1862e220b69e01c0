"""Planning edge pairs on tiny hand-built scenarios, determinism, and the checker's verdict."""

from __future__ import annotations

from datetime import date, time

import pytest

from scheduler.domain import (
    Absence,
    Authority,
    Child,
    ChildEvents,
    FamilyWindow,
    Household,
    Plan,
    Scenario,
    Team,
    VisitRecord,
    Worker,
)
from scheduler.planning import plan_scenario
from solver import SolveParams

MONDAY = date(2026, 11, 30)
PARAMS = SolveParams(time_limit_s=5, seed=0, num_workers=1)
LAT, LON = 51.45, -2.6


def make_worker(worker_id: str = "w1", **changes: object) -> Worker:
    fields: dict[str, object] = {
        "id": worker_id,
        "name": f"Worker {worker_id}",
        "role": "social-worker",
        "team_id": "t1",
        "base_lat": LAT,
        "base_lon": LON,
    }
    fields.update(changes)
    return Worker.model_validate(fields)


def make_household(household_id: str = "h1", **changes: object) -> Household:
    fields: dict[str, object] = {
        "id": household_id,
        "area": "BS1",
        "lat": LAT,
        "lon": LON,
        "team_id": "t1",
    }
    fields.update(changes)
    return Household.model_validate(fields)


def make_child(
    child_id: str = "c1",
    household_id: str = "h1",
    category: str = "child-protection",
    birth_date: date = date(2024, 1, 1),
) -> Child:
    return Child.model_validate(
        {
            "id": child_id,
            "case_ref": f"CR-{child_id}",
            "birth_date": birth_date,
            "category": category,
            "events": ChildEvents(plan_start=date(2026, 9, 1)),
            "household_ids": (household_id,),
        }
    )


def seen_on(child: Child, day: date) -> VisitRecord:
    """A completed unannounced home visit: resets the seen, home and unannounced clocks."""
    return VisitRecord(
        id=f"r-{child.id}-{day:%Y%m%d}",
        child_id=child.id,
        household_id=child.household_ids[0],
        on=day,
        start=time(10, 0),
        worker_id="w1",
        outcome="completed",
        announced=False,
    )


def make_scenario(
    children: list[Child],
    households: list[Household],
    workers: list[Worker],
    records: list[VisitRecord],
    authority: str = "north-somerset",
    absences: tuple[Absence, ...] = (),
) -> Scenario:
    return Scenario(
        authority=Authority(id=authority),
        as_of=MONDAY,
        teams=(Team(id="t1", name="Team 1"),),
        workers=tuple(workers),
        households=tuple(households),
        children=tuple(children),
        records=tuple(records),
        absences=absences,
    )


def plan_of(scenario: Scenario, lookahead_weeks: int = 1) -> Plan:
    return plan_scenario(scenario, MONDAY, weeks=1, lookahead_weeks=lookahead_weeks, params=PARAMS)


def breach_rules(plan: Plan) -> set[str]:
    return {b.rule_id for b in plan.breaches}


@pytest.mark.parametrize(
    ("last_seen", "breached"),
    [
        pytest.param(date(2026, 11, 18), False, id="due-wednesday-reachable"),
        pytest.param(date(2026, 11, 17), True, id="due-tuesday-not-reachable"),
    ],
)
def test_deadline_reachable_only_on_the_worker_day(last_seen: date, breached: bool) -> None:
    """Seen every 10 working days (north-somerset CP); the only worker works Wednesdays."""
    child = make_child()
    scenario = make_scenario(
        [child], [make_household()], [make_worker(days=(2,))], [seen_on(child, last_seen)]
    )
    plan = plan_of(scenario)
    assert [v.day for v in plan.visits] == [date(2026, 12, 2)]
    assert ("ns_cp_seen_every_10_working_days" in breach_rules(plan)) is breached
    if breached:
        breach = next(b for b in plan.breaches if b.rule_id == "ns_cp_seen_every_10_working_days")
        assert breach.due == date(2026, 12, 1)
        assert breach.days_late == 1
        assert "not contracted" in breach.reason


def test_absent_worker_breach_names_the_absence() -> None:
    """The only registered social worker is on leave until the deadline has passed."""
    child = make_child()
    scenario = make_scenario(
        [child],
        [make_household()],
        [make_worker()],
        [seen_on(child, date(2026, 11, 17))],
        absences=(Absence(worker_id="w1", start=MONDAY, end=date(2026, 12, 1), reason="leave"),),
    )
    plan = plan_of(scenario)
    breach = next(b for b in plan.breaches if b.rule_id == "ns_cp_seen_every_10_working_days")
    assert "Worker w1 (w1): leave 2026-11-30 to 2026-12-01" in breach.reason
    assert plan.visits[0].day == date(2026, 12, 2)


def test_joint_visit_gets_two_workers() -> None:
    """A household flagged for joint visits is visited by two different workers at once."""
    child = make_child()
    scenario = make_scenario(
        [child],
        [make_household(joint_visit=True)],
        [make_worker("w1"), make_worker("w2")],
        [seen_on(child, date(2026, 11, 17))],
    )
    plan = plan_of(scenario)
    visit = plan.visits[0]
    assert visit.day == MONDAY
    assert visit.second_worker_id is not None
    assert visit.second_worker_id != visit.worker_id
    assert not plan.breaches


def test_joint_visit_with_one_worker_is_a_breach() -> None:
    """With one worker a joint visit cannot happen: a breach with the reason, no visit."""
    child = make_child()
    scenario = make_scenario(
        [child],
        [make_household(joint_visit=True)],
        [make_worker("w1")],
        [seen_on(child, date(2026, 11, 17))],
    )
    plan = plan_of(scenario)
    assert plan.visits == ()
    breach = next(b for b in plan.breaches if b.rule_id == "ns_cp_seen_every_10_working_days")
    assert "joint visit needs two workers" in breach.reason


@pytest.mark.parametrize(
    ("window_start", "visited"),
    [
        pytest.param(time(16, 0), True, id="window-fits-before-17"),
        pytest.param(time(16, 15), False, id="window-ends-after-workers-day"),
    ],
)
def test_family_window(window_start: time, visited: bool) -> None:
    """The family is in only on Wednesday late afternoon; the worker stops at 17:00."""
    child = make_child()
    household = make_household(
        windows=(FamilyWindow(weekday=2, start=window_start, end=time(18, 0)),)
    )
    scenario = make_scenario(
        [child], [household], [make_worker()], [seen_on(child, date(2026, 11, 17))]
    )
    plan = plan_of(scenario)
    if visited:
        assert [(v.day, v.start.time()) for v in plan.visits] == [(date(2026, 12, 2), time(16))]
    else:
        assert plan.visits == ()
        breach = next(b for b in plan.breaches if b.rule_id == "ns_cp_seen_every_10_working_days")
        assert "no slot in the family's window" in breach.reason


def test_school_age_child_is_visited_after_school() -> None:
    """trust-standards: statutory visits to school-age children start after school."""
    child = make_child(birth_date=date(2016, 1, 1))
    scenario = make_scenario(
        [child],
        [make_household()],
        [make_worker(day_end=time(18, 0))],
        [seen_on(child, date(2026, 11, 17))],
        authority="trust-standards",
    )
    plan = plan_of(scenario)
    assert plan.visits
    assert all(v.start.time() >= time(15, 30) for v in plan.visits)


def test_child_protection_preferred_when_capacity_is_short() -> None:
    """One visit is possible; a CP child and a CIN child are both overdue: CP is seen."""
    cp, cin = make_child("c1", "h1"), make_child("c2", "h2", category="child-in-need")
    scenario = make_scenario(
        [cp, cin],
        [make_household("h1"), make_household("h2")],
        [make_worker(days=(0,), max_visits_per_day=1)],
        [seen_on(cp, date(2026, 10, 1)), seen_on(cin, date(2026, 10, 1))],
    )
    plan = plan_scenario(scenario, MONDAY, weeks=1, lookahead_weeks=0, params=PARAMS)
    assert [v.household_id for v in plan.visits] == ["h1"]
    assert {b.child_id for b in plan.breaches if b.days_late is None} == {"c2"}


def test_visit_carries_ids_times_and_reasons() -> None:
    """Stable id from household and date, aware London time, reasons with slack."""
    child = make_child()
    scenario = make_scenario(
        [child], [make_household()], [make_worker(days=(2,))], [seen_on(child, date(2026, 11, 18))]
    )
    visit = plan_of(scenario).visits[0]
    assert visit.id == "v-h1-20261202"
    assert visit.start.tzinfo is not None
    assert str(visit.start.tzinfo) == "Europe/London"
    reason = next(r for r in visit.reasons if r.rule_id == "ns_cp_seen_every_10_working_days")
    assert (reason.child_id, reason.due, reason.slack_days) == ("c1", date(2026, 12, 2), 0)


@pytest.mark.parametrize("num_workers", [1, 2])
def test_same_seed_gives_the_same_plan(num_workers: int) -> None:
    """Determinism: the same scenario and seed give byte-identical plans (bar the runtime)."""
    from scheduler.generate import generate

    scenario = generate("S", seed=3, start=MONDAY, children=14)
    params = SolveParams(time_limit_s=2, seed=7, num_workers=num_workers, deterministic=True)
    first = plan_scenario(scenario, MONDAY, weeks=1, lookahead_weeks=1, params=params)
    second = plan_scenario(scenario, MONDAY, weeks=1, lookahead_weeks=1, params=params)
    assert first.visits
    assert first.model_dump_json() == second.model_dump_json()


@pytest.mark.slow
def test_planning_teams_in_two_processes_gives_the_same_plan() -> None:
    """Teams translated, solved and simulated in a process pool: same plan as in sequence."""
    from scheduler.generate import generate

    scenario = generate("M", seed=2, start=MONDAY, children=200)
    params = SolveParams(time_limit_s=0.3, num_workers=1, deterministic=True, budget_s=None)
    plans = [
        plan_scenario(scenario, MONDAY, weeks=1, lookahead_weeks=1, params=params, processes=n)
        for n in (1, 2)
    ]
    assert len({h.team_id for h in scenario.households}) > 1
    assert plans[0].visits
    assert plans[0].model_dump_json() == plans[1].model_dump_json()


def test_checker_finds_no_hard_violation_in_a_generated_plan() -> None:
    """The independent checker (scheduler.check) accepts a plan for a generated scenario."""
    from scheduler.check import check_plan
    from scheduler.generate import generate

    scenario = generate("S", seed=1, start=MONDAY)
    plan = plan_scenario(
        scenario, MONDAY, weeks=1, lookahead_weeks=2, params=SolveParams(time_limit_s=3)
    )
    assert plan.visits
    report = check_plan(scenario, plan)
    assert [v.message for v in report.hard] == []


def test_travel_min_is_zero_for_the_same_point_and_rounds_up() -> None:
    """Shared helper: 0 for identical points; otherwise whole minutes rounded up."""
    from scheduler.visiting import travel_min

    assert travel_min(LAT, LON, LAT, LON, 25.0) == 0
    assert travel_min(LAT, LON, LAT + 0.0001, LON, 25.0) == 1


def test_visit_duration_adds_a_slot_per_extra_child_seen_alone() -> None:
    """Camden sees children alone from 3: two such children make 60 + 15 minutes."""
    from policies import load_pack
    from scheduler.visiting import visit_duration_min

    pack = load_pack("camden")
    older = [
        make_child("a", birth_date=date(2015, 1, 1)),
        make_child("b", birth_date=date(2016, 1, 1)),
    ]
    baby = [make_child("a", birth_date=date(2026, 1, 1))]
    assert visit_duration_min(pack, older, MONDAY) == pack.visit_minutes + pack.per_child_minutes
    assert visit_duration_min(pack, baby, MONDAY) == pack.visit_minutes


def test_unannounced_clock_makes_an_unannounced_visit() -> None:
    """north-somerset CP: an unannounced visit every 3 months; the last was 1 Sept."""
    child = make_child()
    record = seen_on(child, date(2026, 9, 1))
    announced = record.model_copy(update={"on": date(2026, 11, 20), "announced": True})
    scenario = make_scenario(
        [child],
        [make_household()],
        [make_worker()],
        [record, announced.model_copy(update={"id": "r-announced"})],
    )
    plan = plan_of(scenario)
    assert plan.visits
    first = plan.visits[0]
    assert first.day <= date(2026, 12, 1)
    assert first.announced is False
    assert "ns_cp_unannounced_every_3_months" in first.rule_ids
    assert not plan.breaches


def test_shared_care_child_is_seen_at_either_home() -> None:
    """A child with two homes: a visit to either home meets the seen clock."""
    child = make_child().model_copy(update={"household_ids": ("h1", "h2")})
    scenario = make_scenario(
        [child],
        [make_household("h1"), make_household("h2", lat=LAT + 0.01)],
        [make_worker()],
        [seen_on(child, date(2026, 11, 17))],
    )
    plan = plan_of(scenario)
    assert plan.visits
    assert plan.visits[0].day == MONDAY
    assert "ns_cp_seen_every_10_working_days" not in breach_rules(plan)


@pytest.mark.slow
def test_team_processes_do_not_change_the_plan() -> None:
    """Two teams solved in a process pool give the same plan as solved in sequence.

    Deterministic limits: a wall-clock limit reached on a busy machine gives a different
    (equally valid) plan on each run, in sequence or not.
    """
    from scheduler.generate import generate

    scenario = generate("M", seed=2, start=MONDAY, children=200)
    assert len(scenario.teams) == 2
    params = SolveParams(time_limit_s=1, num_workers=1, deterministic=True)
    plans = [
        plan_scenario(
            scenario, MONDAY, weeks=1, lookahead_weeks=1, params=params, processes=n
        ).model_dump_json()
        for n in (1, 2)
    ]
    assert plans[0] == plans[1]


@pytest.mark.parametrize(
    ("visits_per_day", "short_households"),
    [pytest.param(3, 0, id="three-fit-on-the-one-day"), pytest.param(1, 2, id="one-fits")],
)
def test_capacity_breach_arithmetic_adds_up(visits_per_day: int, short_households: int) -> None:
    """Three households due on Wednesday 2 Dec; the only worker works Wednesdays only.

    The reason gives the team-week's figures, and they add up: needed = planned + missed,
    short by = needed - what the team could make.
    """
    import re

    children = [make_child(f"c{i}", household_id=f"h{i}") for i in range(3)]
    scenario = make_scenario(
        children,
        [make_household(f"h{i}") for i in range(3)],
        [make_worker(days=(2,), max_visits_per_day=visits_per_day)],
        [seen_on(c, date(2026, 11, 18)) for c in children],
    )
    plan = plan_of(scenario)
    late = [b for b in plan.breaches if b.rule_id == "ns_cp_seen_every_10_working_days"]
    assert len({b.child_id for b in late}) == short_households
    pattern = re.compile(
        r"team capacity short in Team 1 in week 49 \(30 Nov to Sun 6 Dec 2026\): "
        r"(\d+) visits needed \((\d+) planned \+ (\d+) that did not fit\); the team's "
        r"1 worker could make at most (\d+) \((\d+) working days? .*\): short by (\d+) visit"
    )
    for breach in late:
        assert breach.due == date(2026, 12, 2)
        found = pattern.match(breach.reason)
        assert found, breach.reason
        needed, planned, missed, slots, days, short = map(int, found.groups())
        assert needed == planned + missed
        assert short == needed - slots
        assert (planned, missed, slots, days) == (1, short_households, visits_per_day, 1)


def test_hours_shortfall_arithmetic_adds_up() -> None:
    """Visits limited by hours, not by count: the hours add up the same way."""
    import re

    children = [make_child(f"c{i}", household_id=f"h{i}") for i in range(4)]
    scenario = make_scenario(
        children,
        [make_household(f"h{i}") for i in range(4)],
        [make_worker(days=(2,), max_visits_per_day=8, day_start=time(9), day_end=time(11))],
        [seen_on(c, date(2026, 11, 18)) for c in children],
    )
    plan = plan_of(scenario)
    late = [b for b in plan.breaches if b.rule_id == "ns_cp_seen_every_10_working_days"]
    assert late
    pattern = re.compile(
        r".*: ([\d.]+) visit-hours needed \(([\d.]+) planned \+ ([\d.]+) that did not "
        r"fit\); the team's 1 worker had ([\d.]+) h .*: short by ([\d.]+) h"
    )
    for breach in late:
        found = pattern.match(breach.reason)
        assert found, breach.reason
        needed, planned, missed, available, short = map(float, found.groups())
        assert needed == pytest.approx(planned + missed, abs=0.05)
        assert short == pytest.approx(needed - available, abs=0.05)
        assert available == 2.0


def _burn(seconds: float) -> None:
    """Keeps one core busy (another job on the machine)."""
    import time as clock

    end = clock.perf_counter() + seconds
    while clock.perf_counter() < end:
        sum(i * i for i in range(10_000))


@pytest.mark.slow
def test_issue_9_same_plan_on_a_busy_machine_and_with_any_processes() -> None:
    """Issue 9 point 4: the same scenario, start, weeks and seed give the same plan JSON byte
    for byte, planned alone, while another process burns CPU, and in two processes."""
    import multiprocessing

    from scheduler.generate import generate

    scenario = generate("M", seed=5, start=MONDAY, children=120)
    quiet = plan_scenario(scenario, MONDAY, weeks=2, processes=1)
    burner = multiprocessing.get_context("spawn").Process(target=_burn, args=(60.0,))
    burner.start()
    try:
        busy = plan_scenario(scenario, MONDAY, weeks=2, processes=1)
        two = plan_scenario(scenario, MONDAY, weeks=2, processes=2)
    finally:
        burner.terminate()
        burner.join()
    assert quiet.visits
    assert not quiet.safety_net
    assert quiet.runtime_s is None
    assert quiet.model_dump_json() == busy.model_dump_json() == two.model_dump_json()


def test_cover_joins_only_neighbouring_teams_in_pairs() -> None:
    """Cross-team cover: each team joins one neighbour (id order), never the whole authority."""
    from scheduler.generate import generate
    from scheduler.translate import team_groups

    scenario = generate("M", seed=0, start=MONDAY, children=400)
    covered = scenario.model_copy(
        update={"authority": scenario.authority.model_copy(update={"cross_team_cover": True})}
    )
    groups = team_groups(covered)
    neighbours = {t.id: set(t.neighbours) for t in scenario.teams}
    assert sorted(t for g in groups for t in g) == sorted(t.id for t in scenario.teams)
    assert all(len(g) <= 2 for g in groups)
    assert all(b in neighbours[a] for a, b in (g for g in groups if len(g) == 2))
    assert team_groups(scenario) == [(t.id,) for t in sorted(scenario.teams, key=lambda t: t.id)]


def test_cover_plan_passes_the_checker() -> None:
    """With cover on, every visit is by the household's team or a neighbour (checker 4)."""
    from scheduler.check import check_plan
    from scheduler.generate import generate

    scenario = generate("M", seed=1, start=MONDAY, children=150)
    covered = scenario.model_copy(
        update={"authority": scenario.authority.model_copy(update={"cross_team_cover": True})}
    )
    plan = plan_scenario(covered, MONDAY, weeks=1, processes=1)
    assert plan.visits
    assert [v.message for v in check_plan(covered, plan).hard] == []


def test_a_team_groups_own_context_translates_to_the_same_problem() -> None:
    """A TeamJob carries only its group's part of the context: same problem as the whole."""
    from policies import load_pack
    from scheduler.due import calendar_for
    from scheduler.generate import generate
    from scheduler.planning import group_context
    from scheduler.translate import households_by_group, make_context, team_groups, to_problem

    scenario = generate("M", seed=3, start=MONDAY, children=300)
    pack = load_pack(scenario.authority.id)
    ctx = make_context(scenario, pack, calendar_for(pack), MONDAY, 1, 1)
    groups = team_groups(scenario)
    assert len(groups) > 1
    homes = households_by_group(scenario, groups)
    for g in groups:
        small = group_context(ctx, g, (h.id for h in homes[g]))
        assert len(small.scenario.children) < len(scenario.children)
        assert to_problem(small, g).problem == to_problem(ctx, g).problem


def test_a_finished_team_job_comes_back_without_its_problem() -> None:
    """What a process sends back for a group whose children are all its own: the visits,
    breaches and figures, not the group's problem or drafts (the parent kept ~1 GB of them
    on 4 x L); the visits are those the group's problem planned."""
    import pickle

    from policies import load_pack
    from scheduler.due import calendar_for
    from scheduler.generate import generate
    from scheduler.planning import TeamJob, group_context, plan_team_job
    from scheduler.translate import households_by_group, make_context, team_groups

    scenario = generate("S", seed=3, start=MONDAY)
    pack = load_pack(scenario.authority.id)
    ctx = make_context(scenario, pack, calendar_for(pack), MONDAY, 1, 1)
    (group,) = team_groups(scenario)
    homes = households_by_group(scenario, [group])[group]
    job = TeamJob(
        group_context(ctx, group, (h.id for h in homes)),
        (),
        None,
        group,
        SolveParams(time_limit_s=0.2, seed=0, penalties=False),
    )
    result = plan_team_job(job)
    assert result.finished is not None
    visits, _breaches, children = result.finished
    assert visits
    assert children == {c.id for c in scenario.children}
    assert result.tp is None
    assert result.drafts == []
    assert result.solution is not None
    assert len(result.solution.assignments) >= len(visits)
    assert pickle.loads(pickle.dumps(result)).finished == result.finished  # as a process sends it


def test_a_team_groups_context_keeps_the_scenarios_order() -> None:
    """`group_context` cuts by index (`Positions`): the same items, in the scenario's order,
    as filtering the whole scenario for the group; a worker of another team is not taken."""
    from policies import load_pack
    from scheduler.due import calendar_for
    from scheduler.generate import generate
    from scheduler.planning import Positions, group_context
    from scheduler.translate import households_by_group, make_context, team_groups

    scenario = generate("M", seed=5, start=MONDAY, children=300)
    assert scenario.absences
    assert scenario.records
    pack = load_pack(scenario.authority.id)
    ctx = make_context(scenario, pack, calendar_for(pack), MONDAY, 1, 1)
    groups = team_groups(scenario)
    homes = households_by_group(scenario, groups)
    positions = Positions.of(scenario)
    for g in groups:
        small = group_context(ctx, g, (h.id for h in homes[g]), positions).scenario
        kids = {c.id for c in small.children}
        ids = {w.id for w in scenario.workers if w.team_id in g}
        shared = {h for c in small.children for h in c.household_ids}
        assert small.workers == tuple(w for w in scenario.workers if w.id in ids)
        assert small.households == tuple(
            h for h in scenario.households if h.id in shared | {x.id for x in homes[g]}
        )
        assert small.records == tuple(r for r in scenario.records if r.child_id in kids)
        assert small.absences == tuple(a for a in scenario.absences if a.worker_id in ids)
        assert small.busy == tuple(b for b in scenario.busy if b.worker_id in ids)
        assert group_context(ctx, g, (h.id for h in homes[g])).scenario == small


@pytest.mark.slow
def test_more_time_never_worsens_a_generated_team() -> None:
    """Issue 12: on a generated team, a longer limit never measures worse (breaches,
    lateness, continuity, retry buffer, travel, lexicographically) than a shorter one."""
    from policies import load_pack
    from scheduler.due import calendar_for
    from scheduler.generate import generate
    from scheduler.translate import make_context, team_groups, to_problem
    from solver import solve

    scenario = generate("S", seed=4, start=MONDAY, children=60)
    pack = load_pack(scenario.authority.id)
    ctx = make_context(scenario, pack, calendar_for(pack), MONDAY, 2, 4)
    (group,) = team_groups(scenario)
    problem = to_problem(ctx, group).problem
    keys = []
    for limit in (0.01, 0.4, 1.6):
        solution = solve(problem, SolveParams(time_limit_s=limit))
        assert solution.measures is not None
        keys.append(solution.measures.key())
    assert keys == sorted(keys, reverse=True)


SOLVER_TERMS = ("OPTIMAL", "FEASIBLE", "objective", "bound", "cut round", "clocks", "pass")


def test_progress_is_plain_and_the_solver_figures_are_details() -> None:
    """Each team gets one plain line and the plan a last one, in a manager's words; the
    solver's figures (status, cut rounds, clocks) come only as `Detail` messages."""
    from scheduler.generate import generate
    from scheduler.planning import Detail

    scenario = generate("S", seed=0, start=MONDAY)
    messages: list[str] = []
    plan = plan_scenario(scenario, MONDAY, weeks=1, params=PARAMS, progress=messages.append)
    plain = [m for m in messages if not isinstance(m, Detail)]
    details = [m for m in messages if isinstance(m, Detail)]
    at_risk = f"{len(plan.breaches)} deadlines at risk"
    assert plain == [
        f"team 1 of 1 (Patch 1) planned: {len(plan.visits)} visits, {at_risk}",
        f"plan ready: {len(plan.visits)} visits, {at_risk}",
    ]
    assert any("OPTIMAL" in m or "FEASIBLE" in m for m in details)
    assert any("cut rounds" in m for m in details)
    assert not [m for m in plain if any(term in m for term in SOLVER_TERMS)]


@pytest.mark.slow
def test_cut_rounds_never_end_worse_than_the_warm_start() -> None:
    """M's team-11 (seed 0, two weeks) needs cut rounds: stage 2 cannot sequence some of
    stage 1's after-school days (team-02 did until the search swapped crossed cover back).
    The warm start is still measured against the result, so the team's plan is at least as
    good as its warm start on the manager's measures."""
    from policies import load_pack
    from scheduler.due import calendar_for
    from scheduler.generate import generate
    from scheduler.translate import make_context, team_groups, to_problem
    from solver import solve

    scenario = generate("M", seed=0, start=MONDAY)
    pack = load_pack(scenario.authority.id)
    ctx = make_context(scenario, pack, calendar_for(pack), MONDAY, 2, 4)
    group = next(g for g in team_groups(scenario) if "team-11" in g)
    solution = solve(to_problem(ctx, group).problem, SolveParams())
    assert solution.cut_rounds > 0
    assert solution.warm_measures is not None
    assert solution.measures is not None
    assert solution.measures.key() <= solution.warm_measures.key()
