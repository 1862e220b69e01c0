"""Re-planning's fingerprint fast path: team groups whose inputs are unchanged since the plan
was made are kept from it without translation, with the same visits and breaches as the long
way, and the fingerprints survive the store.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from policies import load_pack
from scheduler import service
from scheduler.check import check_plan
from scheduler.domain import Absence, BusyTime, Plan, Scenario, Visit, VisitRecord
from scheduler.fingerprint import team_inputs
from scheduler.generate import generate
from scheduler.outcomes import as_planned, records_as_planned
from scheduler.planning import plan_scenario
from scheduler.replan import ReplanReport, cp_sat_planner, replan
from scheduler.store import Store, plans_table
from solver import SolveParams

pytestmark = pytest.mark.slow  # real solves of a two-team authority (~1 min)

MONDAY = date(2026, 11, 30)
PARAMS = SolveParams(time_limit_s=0.5, seed=0, num_workers=2, deterministic=True)
NOW = datetime(2026, 11, 29, 18, 0, tzinfo=UTC)


def three_team_authority() -> Scenario:
    """A generated authority of 300 children in three teams (no cross-team cover)."""
    scenario = generate("M", seed=0, start=MONDAY, children=300)
    assert [t.id for t in scenario.teams] == ["team-01", "team-02", "team-03"]
    assert not scenario.authority.cross_team_cover
    return scenario


@pytest.fixture(scope="module")
def published() -> tuple[Scenario, Plan]:
    """The three-team authority and its published one-week plan."""
    scenario = three_team_authority()
    return scenario, plan_scenario(scenario, MONDAY, weeks=1, params=PARAMS)


def inputs_of(scenario: Scenario, start: date = MONDAY) -> dict[str, str]:
    """The scenario's fingerprints for a one-week plan from `start` (4 weeks' look-ahead)."""
    return team_inputs(scenario, load_pack(scenario.authority.id), start, 1, 4)


def changed(before: dict[str, str], after: dict[str, str]) -> set[str]:
    assert before.keys() == after.keys()
    return {key for key in before if before[key] != after[key]}


def team_of_child(scenario: Scenario) -> dict[str, str | None]:
    team_of_home = {h.id: h.team_id for h in scenario.households}
    return {c.id: team_of_home[c.household_ids[0]] for c in scenario.children}


def replan_with_log(scenario: Scenario, plan: Plan, from_date: date) -> tuple[ReplanReport, str]:
    log: list[str] = []
    return replan(scenario, plan, from_date, cp_sat_planner(PARAMS, log.append)), "\n".join(log)


def assert_checked(scenario: Scenario, plan: Plan) -> None:
    """The checker accepts the plan under its own assumptions (awaiting visits made)."""
    verdict = check_plan(as_planned(scenario, plan), plan)
    assert verdict.ok, [v.message for v in verdict.hard][:5]


def skipped(log: str) -> set[str]:
    """Teams the log says were kept by their fingerprint."""
    return {
        line.split(":")[0].removeprefix("team ")
        for line in log.splitlines()
        if line.endswith("published visits kept (inputs unchanged)")
    }


# ------------------------------------------------------------------ the fingerprints


def test_plan_stores_stable_fingerprints_per_team_group(published: tuple[Scenario, Plan]) -> None:
    """One sha256 per team group, the same for the same input in any order."""
    scenario, plan = published
    assert set(plan.team_inputs) == {"team-01", "team-02", "team-03"}
    assert all(re.fullmatch("[0-9a-f]{64}", v) for v in plan.team_inputs.values())
    assert len(set(plan.team_inputs.values())) == 3
    assert inputs_of(scenario) == plan.team_inputs
    shuffled = scenario.model_copy(
        update={
            "teams": scenario.teams[::-1],
            "workers": scenario.workers[::-1],
            "households": scenario.households[::-1],
            "children": scenario.children[::-1],
            "records": scenario.records[::-1],
        }
    )
    assert inputs_of(shuffled) == plan.team_inputs


def test_fingerprint_changes_only_for_the_team_whose_input_changed(
    published: tuple[Scenario, Plan],
) -> None:
    """An absence, a new record or a household moving changes its own team's fingerprint."""
    scenario, plan = published
    before = plan.team_inputs
    worker = next(w for w in scenario.workers if w.team_id == "team-01")
    away = scenario.model_copy(
        update={
            "absences": (*scenario.absences, Absence(worker_id=worker.id, start=MONDAY, end=MONDAY))
        }
    )
    assert changed(before, inputs_of(away)) == {"team-01"}

    teams = team_of_child(scenario)
    child = next(c for c in scenario.children if teams[c.id] == "team-02")
    record = VisitRecord(
        id="r-fingerprint-test",
        child_id=child.id,
        household_id=child.household_ids[0],
        on=MONDAY - timedelta(days=1),
        outcome="failed",
    )
    seen = scenario.model_copy(update={"records": (*scenario.records, record)})
    assert changed(before, inputs_of(seen)) == {"team-02"}

    home = next(h for h in scenario.households if h.team_id == "team-03")
    moved = home.model_copy(update={"lat": home.lat + 0.01})
    households = tuple(moved if h.id == home.id else h for h in scenario.households)
    relocated = scenario.model_copy(update={"households": households})
    assert changed(before, inputs_of(relocated)) == {"team-03"}
    handed_over = home.model_copy(update={"team_id": "team-01"})
    households = tuple(handed_over if h.id == home.id else h for h in scenario.households)
    transferred = scenario.model_copy(update={"households": households})
    assert changed(before, inputs_of(transferred)) == {"team-01", "team-03"}


def test_fingerprint_covers_the_horizon_and_the_pack(published: tuple[Scenario, Plan]) -> None:
    """Another start, length, look-ahead or pack changes every team's fingerprint."""
    scenario, plan = published
    pack = load_pack(scenario.authority.id)
    closed = pack.model_copy(update={"closure_days": (MONDAY + timedelta(days=2),)})
    variants = [
        team_inputs(scenario, pack, MONDAY + timedelta(days=1), 1, 4),
        team_inputs(scenario, pack, MONDAY, 2, 4),
        team_inputs(scenario, pack, MONDAY, 1, 3),
        team_inputs(scenario, closed, MONDAY, 1, 4),
    ]
    for variant in variants:
        assert changed(plan.team_inputs, variant) == set(plan.team_inputs)


# ------------------------------------------------------------------ re-planning with them


def test_absence_replans_only_its_team_and_keeps_the_others_verbatim(
    published: tuple[Scenario, Plan],
) -> None:
    """The absent worker's team is re-planned; the others are kept by their fingerprint with
    their published visits and breaches exactly, and the result equals the long way's."""
    scenario, plan = published
    load = Counter(v.worker_id for v in plan.visits)
    worker = load.most_common(1)[0][0]
    team = next(w.team_id for w in scenario.workers if w.id == worker)
    last = MONDAY + timedelta(days=6)
    scenario = scenario.model_copy(
        update={
            "absences": (
                *scenario.absences,
                Absence(worker_id=worker, start=MONDAY, end=last, reason="sickness"),
            )
        }
    )
    report, log = replan_with_log(scenario, plan, MONDAY)
    assert_checked(scenario, report.plan)
    others = {"team-01", "team-02", "team-03"} - {team}
    assert skipped(log) == others
    assert f"team {team}: re-planned" in log
    assert report.forced_changes == report.affected_visits >= load[worker]  # + joint visits
    assert not [v for v in report.plan.visits if v.worker_id == worker]

    team_of_home = {h.id: h.team_id for h in scenario.households}
    teams = team_of_child(scenario)
    visits = {v.id: v for v in report.plan.visits}
    for visit in plan.visits:
        if team_of_home[visit.household_id] in others:
            assert visits[visit.id] == visit
    for other in others:
        assert [b for b in report.plan.breaches if teams[b.child_id] == other] == [
            b for b in plan.breaches if teams[b.child_id] == other
        ]
    assert {c.household_id for c in report.changes} <= {
        h for h, t in team_of_home.items() if t == team
    }
    assert report.plan.team_inputs == inputs_of(scenario)

    # The long way (no fingerprints: every team translated) gives the same re-plan.
    long_way, long_log = replan_with_log(
        scenario, plan.model_copy(update={"team_inputs": {}}), MONDAY
    )
    assert skipped(long_log) == set()
    assert long_log.count("published visits kept") == 2
    assert long_way.plan.visits == report.plan.visits
    assert long_way.plan.breaches == report.plan.breaches
    assert long_way.changes == report.changes


TUESDAY = MONDAY + timedelta(days=1)


def assert_same_as_the_long_way(
    scenario: Scenario, plan: Plan, report: ReplanReport, from_date: date, **kw: bool
) -> None:
    """The re-plan equals the one made with every team translated (no fingerprints)."""
    long_plan = plan.model_copy(update={"team_inputs": {}})
    long_log: list[str] = []
    long_way = replan(scenario, long_plan, from_date, cp_sat_planner(PARAMS, long_log.append), **kw)
    assert skipped("\n".join(long_log)) == set()
    assert long_way.plan.visits == report.plan.visits
    assert long_way.plan.breaches == report.plan.breaches
    assert long_way.changes == report.changes
    assert long_way.at_risk == report.at_risk


def monday_visits(plan: Plan, team: str, scenario: Scenario) -> list[Visit]:
    team_of_home = {h.id: h.team_id for h in scenario.households}
    return [v for v in plan.visits if v.day == MONDAY and team_of_home[v.household_id] == team]


def test_tuesday_replan_with_monday_unrecorded_keeps_every_team_by_fingerprint(
    published: tuple[Scenario, Plan],
) -> None:
    """From Tuesday, with Monday's visits awaiting outcome (assumed made), nothing changed
    since the plan was made: every team is kept untranslated, as the long way keeps it."""
    scenario, plan = published
    assert all(monday_visits(plan, t, scenario) for t in ("team-01", "team-02", "team-03"))
    report, log = replan_with_log(scenario, plan, TUESDAY)
    assert skipped(log) == {"team-01", "team-02", "team-03"}
    assert report.changes == ()
    assert report.at_risk == ()
    assert_checked(scenario, report.plan)
    assert_same_as_the_long_way(scenario, plan, report, TUESDAY)


def test_tuesday_replan_after_an_absence_translates_only_its_team(
    published: tuple[Scenario, Plan],
) -> None:
    """The Tuesday case: the busiest worker away Tuesday to Thursday; Monday recorded made for
    one team and unrecorded for the others. Only the absent worker's team is translated."""
    scenario, plan = published
    thursday = TUESDAY + timedelta(days=2)
    load = Counter(v.worker_id for v in plan.visits if TUESDAY <= v.day <= thursday)
    worker = load.most_common(1)[0][0]
    team = next(w.team_id for w in scenario.workers if w.id == worker)
    other = next(t for t in ("team-01", "team-02", "team-03") if t != team)
    children = {c.id: c for c in scenario.children}
    roles = {w.id: w.role for w in scenario.workers}
    made = [
        r
        for v in monday_visits(plan, other, scenario)
        for r in records_as_planned(v, children, roles)
    ]
    away = Absence(worker_id=worker, start=TUESDAY, end=thursday)
    scenario = scenario.model_copy(
        update={"absences": (*scenario.absences, away), "records": (*scenario.records, *made)}
    )
    report, log = replan_with_log(scenario, plan, TUESDAY)
    assert skipped(log) == {"team-01", "team-02", "team-03"} - {team}
    assert report.forced_changes >= load[worker] > 0
    assert not [
        v for v in report.plan.visits if v.worker_id == worker and TUESDAY <= v.day <= thursday
    ]
    assert_checked(scenario, report.plan)
    assert_same_as_the_long_way(scenario, plan, report, TUESDAY)


def test_a_team_with_breaches_still_open_on_tuesday_is_judged_again() -> None:
    """Team 3's workers are all away for the week when the plan is made, so some of its
    children's deadlines are still unmet from Tuesday: its breaches are judged again from
    Tuesday (the long way, not skipped); teams 1 and 2 are skipped, and the re-plan equals
    the long way's, reasons and all."""
    scenario = three_team_authority()
    away = tuple(
        Absence(worker_id=w.id, start=MONDAY, end=MONDAY + timedelta(days=6), reason="training")
        for w in scenario.workers
        if w.team_id == "team-03"
    )
    scenario = scenario.model_copy(update={"absences": (*scenario.absences, *away)})
    plan = plan_scenario(scenario, MONDAY, weeks=1, params=PARAMS)
    teams = team_of_child(scenario)
    open_on_tuesday = {
        teams[b.child_id]
        for b in plan.breaches
        if b.days_late is None or b.due + timedelta(days=b.days_late) >= TUESDAY
    }
    assert open_on_tuesday == {"team-03"}
    report, log = replan_with_log(scenario, plan, TUESDAY)
    assert skipped(log) == {"team-01", "team-02"}
    assert report.changes == ()
    assert {teams[b.child_id] for b in report.plan.breaches} == {"team-03"}
    assert all(
        "already overdue when the plan starts" not in b.reason or b.due < TUESDAY
        for b in report.plan.breaches
    )
    assert_checked(scenario, report.plan)
    assert_same_as_the_long_way(scenario, plan, report, TUESDAY)


@pytest.mark.parametrize("how", ["failed", "made-otherwise", "assume-missed", "cancelled"])
def test_a_monday_not_made_as_planned_is_never_kept_by_fingerprint(
    published: tuple[Scenario, Plan], how: str
) -> None:
    """A Monday visit recorded as failed, made otherwise (not seen alone), assumed missed or
    cancelled changes its team's clocks: that team goes the long way, the others do not."""
    scenario, plan = published
    visit = monday_visits(plan, "team-02", scenario)[0]
    children = {c.id: c for c in scenario.children}
    roles = {w.id: w.role for w in scenario.workers}
    records = records_as_planned(visit, children, roles)
    if how == "failed":
        records = tuple(r.model_copy(update={"outcome": "failed"}) for r in records)
    elif how == "made-otherwise":
        records = (records[0].model_copy(update={"at_home": False}), *records[1:])
    else:
        records = ()
    if how == "cancelled":
        visits = tuple(
            v.model_copy(update={"status": "cancelled"}) if v.id == visit.id else v
            for v in plan.visits
        )
        plan = plan.model_copy(update={"visits": visits})
    scenario = scenario.model_copy(update={"records": (*scenario.records, *records)})
    missed = how == "assume-missed"
    log: list[str] = []
    report = replan(scenario, plan, TUESDAY, cp_sat_planner(PARAMS, log.append), missed)
    expected = set() if missed else {"team-01", "team-03"}
    assert skipped("\n".join(log)) == expected
    assert_checked(scenario, report.plan)
    assert_same_as_the_long_way(scenario, plan, report, TUESDAY, assume_missed=missed)


def test_a_pin_added_after_the_plan_was_made_changes_the_fingerprint(
    published: tuple[Scenario, Plan],
) -> None:
    """A visit pinned by hand since the plan was made: its team goes the long way."""
    scenario, plan = published
    team_of_home = {h.id: h.team_id for h in scenario.households}
    visit = next(
        v for v in plan.visits if v.day > TUESDAY and team_of_home[v.household_id] == "team-03"
    )
    visits = tuple(
        v.model_copy(update={"pinned": True}) if v.id == visit.id else v for v in plan.visits
    )
    report, log = replan_with_log(scenario, plan.model_copy(update={"visits": visits}), TUESDAY)
    assert skipped(log) == {"team-01", "team-02"}
    assert_checked(scenario, report.plan)


def test_a_cancelled_published_visit_is_not_skipped(published: tuple[Scenario, Plan]) -> None:
    """A team whose published visits no longer stand as they were goes the long way."""
    scenario, plan = published
    team_of_home = {h.id: h.team_id for h in scenario.households}
    cancelled = next(v for v in plan.visits if team_of_home[v.household_id] == "team-02")
    visits = tuple(
        v.model_copy(update={"status": "cancelled"}) if v.id == cancelled.id else v
        for v in plan.visits
    )
    report, log = replan_with_log(scenario, plan.model_copy(update={"visits": visits}), MONDAY)
    assert skipped(log) == {"team-01", "team-03"}
    assert_checked(scenario, report.plan)


def test_shared_care_across_teams_is_never_skipped() -> None:
    """A child with a home in two teams ties both teams' breaches together: neither is
    skipped, the third team is, and nothing changes."""
    scenario = three_team_authority()
    homes = {h.id: h.team_id for h in scenario.households}
    child = next(
        c
        for c in scenario.children
        if len(c.household_ids) == 1 and homes[c.household_ids[0]] == "team-02"
    )
    other = next(h.id for h in scenario.households if h.team_id == "team-03")
    shared = child.model_copy(update={"household_ids": (child.household_ids[0], other)})
    scenario = Scenario.model_validate(
        scenario.model_copy(
            update={"children": tuple(shared if c.id == child.id else c for c in scenario.children)}
        ).model_dump()
    )
    plan = plan_scenario(scenario, MONDAY, weeks=1, params=PARAMS)
    report, log = replan_with_log(scenario, plan, MONDAY)
    assert skipped(log) == {"team-01"}
    assert log.count("published visits kept") == 3
    assert report.changes == ()
    assert report.plan.breaches == plan.breaches
    assert_checked(scenario, report.plan)


# ------------------------------------------------------------------ the store


def test_fingerprints_survive_the_store_and_drive_the_replan(
    published: tuple[Scenario, Plan], tmp_path: Path
) -> None:
    """A plan saved to SQLite and read back keeps its fingerprints; the stored caseload gives
    the same fingerprints, so `replan_caseload` skips the unchanged teams."""
    scenario, plan = published
    worker = next(w.id for w in scenario.workers if w.team_id == "team-01")
    with Store(f"sqlite:///{tmp_path / 'visitplan.db'}") as store:
        store.replace_caseload(scenario)
        store.save_plan(plan, NOW)
        loaded = store.current_plan()
        assert loaded is not None
        assert loaded.team_inputs == plan.team_inputs
        assert loaded == plan
        assert inputs_of(store.read_scenario()) == plan.team_inputs
        store.add_absence(Absence(worker_id=worker, start=MONDAY, end=MONDAY, reason="court"))
        log: list[str] = []
        report = service.replan_caseload(store, MONDAY, PARAMS, log.append)
        assert skipped("\n".join(log)) == {"team-02", "team-03"}
        assert_checked(store.read_scenario(), report.plan)


def test_stored_caseload_gives_the_same_fingerprints(tmp_path: Path) -> None:
    """Absences, busy times (aware datetimes) and all the rest read back from SQLite hash the
    same, so a plan's fingerprints still match after the caseload's round trip."""
    scenario = three_team_authority()
    london = ZoneInfo("Europe/London")
    worker = scenario.workers[0].id
    tuesday = datetime(2026, 12, 1, 10, 0, tzinfo=london)
    scenario = scenario.model_copy(
        update={
            "absences": (
                *scenario.absences,
                Absence(worker_id=worker, start=MONDAY, end=MONDAY, reason="court"),
            ),
            "busy": (BusyTime(worker_id=worker, start=tuesday, end=tuesday + timedelta(hours=1)),),
        }
    )
    with Store(f"sqlite:///{tmp_path / 'visitplan.db'}") as store:
        store.replace_caseload(scenario)
        assert inputs_of(store.read_scenario()) == inputs_of(scenario)


def test_plan_without_fingerprints_replans_the_long_way(
    published: tuple[Scenario, Plan], tmp_path: Path
) -> None:
    """A plan stored before fingerprints existed (no `team_inputs` in its JSON) still loads
    and re-plans correctly, every team translated."""
    scenario, plan = published
    header = plan.model_dump(mode="json")
    header["visits"] = []
    del header["team_inputs"]
    with Store(f"sqlite:///{tmp_path / 'visitplan.db'}") as store:
        store.replace_caseload(scenario)
        store.save_plan(plan, NOW)
        with store.engine.begin() as conn:
            conn.execute(update(plans_table).values(data=json.dumps(header)))
        old = store.current_plan()
        assert old is not None
        assert old.team_inputs == {}
        assert old.visits == plan.visits
        log: list[str] = []
        report = service.replan_caseload(store, MONDAY, PARAMS, log.append)
    text = "\n".join(log)
    assert skipped(text) == set()
    assert text.count("published visits kept") == 3
    assert report.changes == ()
    assert report.plan.team_inputs == plan.team_inputs
    assert_checked(scenario, report.plan)
