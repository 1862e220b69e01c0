"""A tester's sweep of the week: closed children, leavers, recording, check, pins, loads.

A real SQLite store holding a generated S authority planned by a real CP-SAT solve (once per
module), the command line through typer's CliRunner, and the service.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scheduler import service
from scheduler.cli import app
from scheduler.domain import Plan, Scenario, Visit
from scheduler.generate import generate
from scheduler.planning import plan_scenario
from scheduler.store import Store
from scheduler.workforce import worker_leaves
from solver import SolveParams

MONDAY = date(2026, 11, 30)
TUESDAY = MONDAY + timedelta(days=1)
NOW = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)
PARAMS = SolveParams(time_limit_s=1, seed=0, num_workers=1, deterministic=True)

Invoke = Callable[..., tuple[int, str, str]]


@pytest.fixture(scope="module")
def published() -> tuple[Scenario, Plan]:
    """A generated S authority and its two-week plan from Monday 30 Nov 2026."""
    scenario = generate("S", seed=0, start=MONDAY)
    return scenario, plan_scenario(scenario, MONDAY, weeks=2, params=PARAMS)


@pytest.fixture
def url(tmp_path: Path, published: tuple[Scenario, Plan]) -> str:
    """A store file holding the caseload and its plan, as `load` and `plan` leave it."""
    scenario, plan = published
    address = f"sqlite:///{tmp_path / 'week.db'}"
    store = Store(address)
    store.replace_caseload(scenario)
    store.save_plan(plan, NOW, by="manager")
    return address


@pytest.fixture
def invoke(url: str) -> Invoke:
    """The command line on the test's store, at `today` (default Tuesday 1 Dec 2026)."""
    runner = CliRunner()

    def run(
        *args: str, today: date = TUESDAY, env: dict[str, str] | None = None
    ) -> tuple[int, str, str]:
        environment = {
            "COLUMNS": "200",
            "VISITPLAN_DB": url,
            "VISITPLAN_TODAY": today.isoformat(),
            "VISITPLAN_USER": "tester",
            **(env or {}),
        }
        result = runner.invoke(app, list(args), env=environment)
        assert "Traceback" not in result.output
        return result.exit_code, result.stdout, result.stderr

    return run


def _one_child_visit(plan: Plan, after: date) -> Visit:
    """The first visit after `after` to a single child."""
    return next(v for v in plan.visits if v.day > after and len(v.child_ids) == 1)


# 1. A visit cancelled by `child close` -------------------------------------------------


def test_check_accepts_a_visit_cancelled_by_child_close(
    invoke: Invoke, url: str, published: tuple[Scenario, Plan]
) -> None:
    """The closed child's later visit is cancelled, not a plan error; `plan show` names the
    child by case reference in text and JSON."""
    scenario, plan = published
    visit = _one_child_visit(plan, TUESDAY)
    child = visit.child_ids[0]
    case_ref = next(c.case_ref for c in scenario.children if c.id == child)
    code, _, stderr = invoke(
        "child", "close", child, "--on", TUESDAY.isoformat(), "--reason", "moved away"
    )
    assert code == 0, stderr
    code, stdout, stderr = invoke("check")
    assert code == 0, stdout + stderr
    assert "unknown-id" not in stdout
    code, stdout, _ = invoke("plan", "show", "--json")
    row = next(v for v in json.loads(stdout)["visits"] if v["visit_id"] == visit.id)
    assert (row["case_refs"], row["state"]) == ([case_ref], "cancelled")
    code, stdout, _ = invoke("plan", "show")
    line = next(line for line in stdout.splitlines() if visit.id in line)
    assert case_ref in line
    assert child not in stdout


def test_check_accepts_a_closed_childs_visit_on_the_closing_day(
    url: str, published: tuple[Scenario, Plan]
) -> None:
    """A visit on the closing day keeps the child (it may have been made): the checker judges
    it for the open children only, and a visit left with none is not judged."""
    _scenario, plan = published
    visit = _one_child_visit(plan, TUESDAY)
    store = Store(url)
    store.close_child(visit.child_ids[0], visit.day, "moved away", by="manager")
    assert store.find_visit(visit.id) == visit  # not cancelled: its day is the closing day
    _scenario, report = service.check_current(store)
    assert report.hard == ()


# 2. A leaver's visits on the day they left ------------------------------------------------


def _monday_leaver(plan: Plan) -> tuple[str, list[Visit]]:
    """The worker who leads most visits on Monday, with those visits."""
    mondays = [v for v in plan.visits if v.day == MONDAY]
    leaver = max(
        sorted({v.worker_id for v in mondays}),
        key=lambda w: sum(1 for v in mondays if v.worker_id == w),
    )
    return leaver, [v for v in mondays if v.worker_id == leaver]


def _colleague(scenario: Scenario, worker_id: str) -> str:
    team = next(w.team_id for w in scenario.workers if w.id == worker_id)
    return next(w.id for w in scenario.workers if w.team_id == team and w.id != worker_id)


def test_a_leavers_visits_on_the_day_they_left_are_to_record_after_a_replan(
    invoke: Invoke, published: tuple[Scenario, Plan]
) -> None:
    """Left on Monday (the first day they did not work), recorded on Tuesday after Tuesday's
    re-plan was stored: their Monday visits with no outcome are counted and named as not
    made, whatever state the re-plan gave them; one with an outcome is not."""
    scenario, plan = published
    leaver, mondays = _monday_leaver(plan)
    assert len(mondays) >= 2
    code, _, stderr = invoke("replan", "--apply", "--processes", "1")
    assert code == 0, stderr
    code, _, stderr = invoke("record", mondays[0].id, "--outcome", "completed")
    assert code == 0, stderr
    to = _colleague(scenario, leaver)
    code, stdout, stderr = invoke(
        "workers", "leave", leaver, "--to", to, "--on", MONDAY.isoformat(), "--json"
    )
    assert code == 0, stderr
    assert json.loads(stdout)["visits_to_record"] == len(mondays) - 1


def test_a_leavers_visits_from_the_day_they_left_are_not_assumed_made(
    url: str, published: tuple[Scenario, Plan]
) -> None:
    """The re-plan and the checker take the leaver's visits from the day they left as not
    made: the re-plan keeps them awaiting their outcome, assumes the others made, and the
    checker accepts the re-plan it stores."""
    scenario, plan = published
    leaver, mondays = _monday_leaver(plan)
    store = Store(url)
    done = worker_leaves(store, leaver, MONDAY, TUESDAY, to=_colleague(scenario, leaver), now=NOW)
    assert done.visits_to_record == len(mondays)
    others = [v for v in plan.visits if v.day == MONDAY and v.worker_id != leaver]
    proposal = service.propose_replan(store, PARAMS, today=TUESDAY, processes=1)
    assert proposal.awaiting_visits == len(others)
    states = {v.id: v.status for v in proposal.plan.visits}
    assert {states[v.id] for v in mondays} == {"awaiting"}
    service.apply_replan(store, proposal, by="manager", now=NOW)
    _scenario, report = service.check_current(store)
    assert report.hard == ()


def test_a_record_of_a_leavers_visit_keeps_their_role(
    invoke: Invoke, url: str, published: tuple[Scenario, Plan]
) -> None:
    """Recorded after they left, each child's record carries the role the worker had."""
    scenario, plan = published
    leaver, mondays = _monday_leaver(plan)
    role = next(w.role for w in scenario.workers if w.id == leaver)
    code, _, stderr = invoke(
        "workers", "leave", leaver, "--to", _colleague(scenario, leaver), "--on", "2026-11-30"
    )
    assert code == 0, stderr
    code, stdout, stderr = invoke("record", mondays[0].id, "--outcome", "failed", "--json")
    assert code == 0, stderr
    assert {r["worker_role"] for r in json.loads(stdout)} == {role}
    code, _, stderr = invoke("record", "--day", MONDAY.isoformat(), "--completed")
    assert code == 0, stderr
    stored = Store(url).records_for_visits([v.id for v in mondays])
    assert {r.worker_role for records in stored.values() for r in records} == {role}


# 2b. An absence recorded after the day ----------------------------------------------------


def test_a_visit_on_a_day_its_worker_was_away_is_not_assumed_made(
    invoke: Invoke, url: str, published: tuple[Scenario, Plan]
) -> None:
    """Off sick on Monday, recorded on Tuesday: their Monday visits with no outcome did not
    take place. The re-plan keeps them awaiting their outcome without assuming them made
    (their children's clocks do not rest on them), assumes the others made, and the checker
    accepts the re-plan it stores. They were planned as made."""
    _scenario, plan = published
    sick, mondays = _monday_leaver(plan)
    assert len(mondays) >= 2
    day = MONDAY.isoformat()
    code, _, stderr = invoke("absence", "add", sick, "--from", day, "--to", day)
    assert code == 0, stderr
    store = Store(url)
    others = [v for v in plan.visits if v.day == MONDAY and v.worker_id != sick]
    proposal = service.propose_replan(store, PARAMS, today=TUESDAY, processes=1)
    assert proposal.awaiting_visits == len(others)
    states = {v.id: v.status for v in proposal.plan.visits}
    assert {states[v.id] for v in mondays} == {"awaiting"}
    refs = {c.id: c.case_ref for c in _scenario.children}
    theirs = {refs[c] for v in mondays for c in v.child_ids} - {
        refs[c] for v in others for c in v.child_ids
    }
    assert theirs
    assert not theirs & set(proposal.resting_on_assumption)
    service.apply_replan(store, proposal, by="manager", now=NOW)
    _scenario, report = service.check_current(store)
    assert report.hard == ()


# 3-6. Recording -------------------------------------------------------------------------


def _siblings_visit(plan: Plan) -> Visit:
    """A Monday visit to two children or more."""
    return next(v for v in plan.visits if v.day == MONDAY and len(v.child_ids) > 1)


@pytest.mark.parametrize("outcome", ["not-seen", "failed"])
def test_record_refuses_child_with_an_outcome_where_no_child_was_seen(
    invoke: Invoke, url: str, published: tuple[Scenario, Plan], outcome: str
) -> None:
    """--child names the children seen: with not-seen or failed it is refused, saying so,
    and nothing is written (it was ignored and every child recorded)."""
    _scenario, plan = published
    visit = _siblings_visit(plan)
    code, _, stderr = invoke(
        "record", visit.id, "--outcome", outcome, "--child", visit.child_ids[0]
    )
    assert code == 2
    assert "--child" in stderr
    assert "--outcome completed" in " ".join(stderr.split())
    assert not Store(url).records_for_visits([visit.id])


def test_record_child_with_completed_records_the_others_not_seen(
    invoke: Invoke, published: tuple[Scenario, Plan]
) -> None:
    """The edge pair: with --outcome completed, --child is honoured."""
    _scenario, plan = published
    visit = _siblings_visit(plan)
    seen = visit.child_ids[0]
    code, stdout, stderr = invoke(
        "record", visit.id, "--outcome", "completed", "--child", seen, "--json"
    )
    assert code == 0, stderr
    outcomes = {r["child_id"]: r["outcome"] for r in json.loads(stdout)}
    assert outcomes == {c: "completed" if c == seen else "not-seen" for c in visit.child_ids}


def test_record_csv_refuses_children_with_an_outcome_where_no_child_was_seen(
    invoke: Invoke, tmp_path: Path, published: tuple[Scenario, Plan]
) -> None:
    """The `children` column of an outcomes file means the same as --child."""
    _scenario, plan = published
    visit = _siblings_visit(plan)
    path = tmp_path / "outcomes.csv"
    path.write_text(f"visit_id,outcome,children\n{visit.id},not-seen,{visit.child_ids[0]}\n")
    code, _, stderr = invoke("record", "--csv", str(path))
    assert code == 2
    assert "outcomes.csv:2: children" in stderr


def test_record_json_carries_the_retry_deadline_and_escalations(
    invoke: Invoke, published: tuple[Scenario, Plan]
) -> None:
    """What the text prints after a failed visit (retry due by, not in the part of day,
    ESCALATE) is in the JSON as fields of each child's record."""
    scenario, plan = published
    protected = {c.id for c in scenario.children if c.category == "child-protection"}
    visit = next(v for v in plan.visits if v.day == MONDAY and set(v.child_ids) & protected)
    code, stdout, stderr = invoke("record", visit.id, "--outcome", "failed", "--json")
    assert code == 0, stderr
    records = json.loads(stdout)
    retries = [(r["child_id"], x) for r in records for x in r["retries"]]
    assert retries
    assert all(set(x) == {"rule_id", "due", "avoid_part_of_day"} for _c, x in retries)
    assert all(isinstance(r["escalations"], list) for r in records)
    code, text, _ = invoke("record", visit.id, "--outcome", "failed")  # the same again
    assert code == 0
    cases = {c.id: c.case_ref for c in scenario.children}
    for child, retry in retries:
        due = date.fromisoformat(retry["due"])
        line = f"{cases[child]}: retry due by {due:%a %d %b %Y}"
        if retry["avoid_part_of_day"]:
            line += f", not in the {retry['avoid_part_of_day']}"
        assert line in text
    escalations = [(r["child_id"], e) for r in records for e in r["escalations"]]
    assert text.count("ESCALATE") == len(escalations)


def test_record_a_future_visit_names_the_visit_and_its_day(
    invoke: Invoke, url: str, published: tuple[Scenario, Plan]
) -> None:
    """Without --on, a visit planned after today is refused naming VISIT and its day, not
    an --on never given; a visit of today is recorded (the edge pair)."""
    _scenario, plan = published
    later = next(v for v in plan.visits if v.day > TUESDAY)
    code, _, stderr = invoke("record", later.id, "--outcome", "completed")
    assert code == 2
    said = " ".join(stderr.split())
    assert "--on" not in said
    assert "VISIT: expected a visit planned for today or earlier" in said
    assert f"{later.id}, planned for {later.day:%a %d %b %Y}, after today" in said
    assert "on or after its day" in said
    assert not Store(url).records_for_visits([later.id])
    today = next(v for v in plan.visits if v.day == TUESDAY)
    assert invoke("record", today.id, "--outcome", "completed")[0] == 0


def test_record_day_outside_the_plan_is_refused(
    invoke: Invoke, url: str, published: tuple[Scenario, Plan]
) -> None:
    """A day the plan does not cover is refused with the days it covers, exit 2, nothing
    written (it said 'Recorded 0 visit(s)'); the plan's first day is recorded."""
    _scenario, plan = published
    before = Store(url).revision()
    code, stdout, stderr = invoke("record", "--day", "2026-11-23", "--completed")
    assert code == 2, stdout
    said = " ".join(stderr.split())
    assert f"the current plan covers (Mon 30 Nov 2026 to {plan.end:%a %d %b %Y})" in said
    assert Store(url).revision() == before
    code, stdout, _ = invoke("record", "--day", MONDAY.isoformat(), "--completed")
    assert code == 0
    assert "Recorded 0" not in stdout


# 7. The checker's verdict in words ------------------------------------------------------


def test_check_says_how_many_deadlines_the_plan_misses(
    invoke: Invoke, url: str, published: tuple[Scenario, Plan]
) -> None:
    """An accepted plan's verdict counts the deadlines it misses and where they are listed;
    nothing is 'listed above' (the check prints no breach)."""
    _scenario, report = service.check_current(Store(url))
    assert report.ok
    assert report.breaches_found
    code, stdout, _ = invoke("check")
    assert code == 0
    said = " ".join(stdout.replace("│", " ").split())
    assert "listed above" not in said
    assert f"the {len(report.breaches_found)} deadline(s) it misses are each reported" in said
    assert "plan show --breaches" in said


def test_check_of_a_plan_missing_no_deadline_says_so() -> None:
    """With no breach at all, the verdict says the plan misses no deadline."""
    from rich.console import Console

    from scheduler.check import CheckReport
    from scheduler.render import render_check

    console = Console(width=200, record=True)
    console.print(render_check(CheckReport(violations=(), breaches_found=())))
    said = " ".join(console.export_text().replace("│", " ").split())
    assert "the plan keeps every rule, and misses no deadline." in said
    assert "listed above" not in said


# 8. Pins --------------------------------------------------------------------------------


def test_pin_refuses_a_visit_not_still_to_be_made_as_move_does(
    invoke: Invoke, url: str, published: tuple[Scenario, Plan]
) -> None:
    """A past visit awaiting its outcome is refused in the words `visit move` uses, nothing
    written; a visit of today is pinned (the edge pair)."""
    _scenario, plan = published
    past = next(v for v in plan.visits if v.day == MONDAY)
    code, _, pin_said = invoke("visit", "pin", past.id)
    assert code == 2
    code, _, move_said = invoke("visit", "move", past.id, "--to", "2026-12-02")
    assert code == 2
    refusal = f"VISIT: expected a visit still to be made, got {past.id}"
    assert refusal in pin_said
    assert refusal in move_said
    assert not Store(url).find_visit(past.id).pinned
    today = next(v for v in plan.visits if v.day == TUESDAY)
    assert invoke("visit", "pin", today.id)[0] == 0
    assert Store(url).find_visit(today.id).pinned


# 9-10. Users and loads ------------------------------------------------------------------


def test_users_add_with_a_short_password_says_it_once(invoke: Invoke) -> None:
    """The refusal names the password's length once (it said 'password: password:')."""
    code, _, stderr = invoke(
        "users", "add", "ada", "--role", "admin", env={"VISITPLAN_PASSWORD": "short"}
    )
    assert code == 2
    assert "password: length: expected at least 12 characters, got 5 characters" in stderr
    assert "password: password" not in stderr
    assert "short" not in stderr  # the password itself is never echoed


def test_load_replace_of_the_same_file_reports_no_change(
    invoke: Invoke, tmp_path: Path, published: tuple[Scenario, Plan]
) -> None:
    """Loading the file the store holds says nothing changed (it said '1 absences added'
    every time); a file with an absence fewer says it was removed."""
    scenario, _plan = published
    assert scenario.absences
    path = tmp_path / "same.json"
    path.write_text(scenario.model_dump_json())
    code, stdout, stderr = invoke("load", "--replace", str(path), today=NOW.date())
    assert code == 0, stderr
    assert "absences" not in stdout
    assert "nothing changed" in stdout
    fewer = scenario.model_copy(update={"absences": scenario.absences[1:]})
    path.write_text(fewer.model_dump_json())
    code, stdout, stderr = invoke("load", "--replace", str(path), "--json", today=NOW.date())
    assert code == 0, stderr
    answer = json.loads(stdout)
    assert (answer["absences_added"], answer["absences_removed"]) == (0, 1)
