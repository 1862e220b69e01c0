"""A worker who leaves: children to a colleague, feed stopped, visits re-planned as forced.

A real SQLite store, a generated S authority planned by real CP-SAT solves, and the checker
on every plan; refusals write nothing.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scheduler import service
from scheduler.accounts import User
from scheduler.cli import app
from scheduler.domain import Absence, Plan, Scenario
from scheduler.errors import InputError, NotFoundError
from scheduler.generate import generate
from scheduler.outcomes import assume_made
from scheduler.planning import plan_scenario
from scheduler.store import Store
from scheduler.workforce import worker_leaves
from solver import SolveParams

MONDAY = date(2026, 11, 30)
TUESDAY = MONDAY + timedelta(days=1)
WEDNESDAY = MONDAY + timedelta(days=2)
NOW = datetime(2026, 12, 2, 8, 30, tzinfo=UTC)
PARAMS = SolveParams(time_limit_s=1, seed=0, num_workers=1, deterministic=True)


@pytest.fixture(scope="module")
def published() -> tuple[Scenario, Plan]:
    """A generated S authority, one worker with an absence, and its plan from Monday."""
    scenario = generate("S", seed=3, start=MONDAY)
    return scenario, plan_scenario(scenario, MONDAY, weeks=2, params=PARAMS)


@pytest.fixture
def store(tmp_path: Path, published: tuple[Scenario, Plan]) -> Store:
    scenario, plan = published
    s = Store(f"sqlite:///{tmp_path / 'leavers.db'}")
    s.replace_caseload(scenario)
    s.save_plan(plan, NOW - timedelta(days=2), by="manager")
    return s


def _busiest(plan: Plan, since: date) -> str:
    """The worker with most planned visits from `since` (the leaver of these tests)."""
    counts = Counter(v.worker_id for v in plan.visits if v.day >= since)
    return counts.most_common(1)[0][0]


def _colleague(scenario: Scenario, worker_id: str) -> str:
    team = next(w.team_id for w in scenario.workers if w.id == worker_id)
    return next(w.id for w in scenario.workers if w.team_id == team and w.id != worker_id)


def test_a_leavers_children_go_to_the_colleague_and_their_feed_stops(
    store: Store, published: tuple[Scenario, Plan]
) -> None:
    scenario, plan = published
    leaver = _busiest(plan, WEDNESDAY)
    to = _colleague(scenario, leaver)
    theirs = [c.id for c in scenario.children if c.allocated_worker == leaver]
    assert theirs
    store.feed_token_put(leaver, "hash-of-their-token", NOW)
    store.user_add(User(name="their-sign-in", role="worker", worker_id=leaver), "x", NOW)
    store.user_add(User(name="colleague", role="worker", worker_id=to), "x", NOW)
    store.add_absence(
        Absence(worker_id=leaver, start=MONDAY + timedelta(days=9), end=MONDAY + timedelta(days=10))
    )
    before = store.revision()
    done = worker_leaves(store, leaver, WEDNESDAY, WEDNESDAY, to=to, by="manager-a", now=NOW)
    assert done.children == tuple(theirs)
    assert done.visits_to_replan == sum(
        1 for v in plan.visits if v.day >= WEDNESDAY and leaver in (v.worker_id, v.second_worker_id)
    )
    assert done.visits_to_replan > 0
    assert store.worker(leaver) is None
    assert [(w.id, on) for w, on in store.left_workers()] == [(leaver, WEDNESDAY)]
    assert store.feed_worker_for("hash-of-their-token") is None
    assert done.sign_ins == ("their-sign-in",)
    assert {u.name: u.disabled for u in store.user_list()} == {
        "their-sign-in": True,
        "colleague": False,
    }
    now_read = store.read_scenario()
    assert leaver not in {w.id for w in now_read.workers}
    assert leaver not in {a.worker_id for a in now_read.absences}
    assert {c.id for c in now_read.children if c.allocated_worker == to} >= set(theirs)
    assert leaver in {a.worker_id for a in store.list_absences()}  # kept as history
    entries = store.changes_since(before)
    assert Counter(e.action for e in entries) == {"child edited": len(theirs), "worker left": 1}
    assert {e.by for e in entries} == {"manager-a"}


@pytest.mark.parametrize("to", [None, "same", "unknown"])
def test_a_leaver_with_children_needs_another_current_worker(
    store: Store, published: tuple[Scenario, Plan], to: str | None
) -> None:
    """Refused with the option named, and nothing written."""
    _scenario, plan = published
    leaver = _busiest(plan, WEDNESDAY)
    before = store.revision()
    target = {"same": leaver, "unknown": "w-nobody"}.get(to or "")
    with pytest.raises(InputError) as caught:
        worker_leaves(store, leaver, WEDNESDAY, WEDNESDAY, to=target, now=NOW)
    assert caught.value.problems[0].field == "--to"
    assert store.revision() == before
    assert store.worker(leaver) is not None


def test_the_leaving_day_edge_pair(store: Store, published: tuple[Scenario, Plan]) -> None:
    """Today is accepted; tomorrow is refused (someone leaving later is away until then)."""
    scenario, plan = published
    leaver = _busiest(plan, WEDNESDAY)
    to = _colleague(scenario, leaver)
    with pytest.raises(InputError) as caught:
        worker_leaves(store, leaver, WEDNESDAY + timedelta(days=1), WEDNESDAY, to=to, now=NOW)
    assert caught.value.problems[0].field == "--on"
    assert store.worker(leaver) is not None
    worker_leaves(store, leaver, WEDNESDAY, WEDNESDAY, to=to, now=NOW)
    assert store.worker(leaver) is None
    with pytest.raises(NotFoundError):
        worker_leaves(store, leaver, WEDNESDAY, WEDNESDAY, to=to, now=NOW)


def test_no_colleague_is_needed_once_the_last_child_is_reallocated(
    store: Store, published: tuple[Scenario, Plan]
) -> None:
    """The edge pair of the refusal: one open child still allocated is refused; none is
    accepted without --to."""
    scenario, plan = published
    leaver = _busiest(plan, WEDNESDAY)
    to = _colleague(scenario, leaver)
    theirs = [c for c in scenario.children if c.allocated_worker == leaver]
    for child in theirs[:-1]:
        store.update_child(child.model_copy(update={"allocated_worker": to}))
    with pytest.raises(InputError) as caught:
        worker_leaves(store, leaver, WEDNESDAY, WEDNESDAY, now=NOW)
    assert "the 1 children" in caught.value.problems[0].expected
    store.update_child(theirs[-1].model_copy(update={"allocated_worker": to}))
    done = worker_leaves(store, leaver, WEDNESDAY, WEDNESDAY, now=NOW)
    assert done.children == ()
    assert done.to is None
    assert store.worker(leaver) is None


def test_the_replan_after_a_leaver_moves_their_visits_as_forced_and_the_checker_accepts(
    store: Store, published: tuple[Scenario, Plan]
) -> None:
    """Left on Tuesday, recorded on Wednesday: their visits from Wednesday are forced changes
    ("has left"); before the re-plan the checker names their visits from Tuesday as a worker
    away, and their Monday visits (before they left) are judged as any other; after it, the
    plan is accepted (Tuesday's visit is history awaiting its outcome)."""
    scenario, plan = published
    leaver = _busiest(plan, WEDNESDAY)
    to = _colleague(scenario, leaver)
    done = worker_leaves(store, leaver, TUESDAY, WEDNESDAY, to=to, now=NOW)
    _scenario, report = service.check_current(store)
    flagged = {v.visit_id for v in report.hard}
    theirs = {v.id: v.day for v in plan.visits if leaver in (v.worker_id, v.second_worker_id)}
    assert flagged == {i for i, day in theirs.items() if day >= TUESDAY}
    assert {v.code for v in report.hard} == {"worker-absent"}
    # Only visits they led did not take place: a joint visit's lead may have made it.
    led = [v for v in plan.visits if v.worker_id == leaver and v.day == TUESDAY]
    assert done.visits_to_record == len(led)
    proposal = service.propose_replan(store, PARAMS, today=WEDNESDAY)
    moved = [c for c in proposal.changes if c.worker_before == leaver]
    assert len(moved) == done.visits_to_replan > 0
    assert all(c.forced and c.reason == f"{leaver} has left" for c in moved)
    assert proposal.affected_visits == len(moved)
    assert not [
        v
        for v in proposal.plan.visits
        if v.day >= WEDNESDAY and leaver in (v.worker_id, v.second_worker_id)
    ]
    service.apply_replan(store, proposal, by="manager", now=NOW)
    _scenario, after = service.check_current(store)
    assert after.hard == ()  # Tuesday's visit is now history, awaiting its outcome


def test_workers_leave_on_the_command_line(
    store: Store,
    tmp_path: Path,
    published: tuple[Scenario, Plan],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scenario, plan = published
    monkeypatch.setenv("VISITPLAN_DB", f"sqlite:///{tmp_path / 'leavers.db'}")  # `store`'s file
    monkeypatch.setenv("VISITPLAN_TODAY", WEDNESDAY.isoformat())
    leaver = _busiest(plan, WEDNESDAY)
    to = _colleague(scenario, leaver)
    runner = CliRunner()
    refused = runner.invoke(app, ["workers", "leave", leaver])
    assert refused.exit_code == 2
    assert "--to" in refused.output
    assert "Traceback" not in refused.output
    later = runner.invoke(app, ["workers", "leave", leaver, "--to", to, "--on", "2026-12-03"])
    assert later.exit_code == 2
    assert "absence add" in later.output
    done = runner.invoke(app, ["workers", "leave", leaver, "--to", to, "--json"])
    assert done.exit_code == 0, done.output
    answer = json.loads(done.output)
    assert (answer["worker_id"], answer["to"]) == (leaver, to)
    assert answer["left_on"] == WEDNESDAY.isoformat()
    assert answer["visits_to_replan"] > 0
    again = runner.invoke(app, ["workers", "leave", leaver, "--to", to])
    assert again.exit_code == 2
    assert "no current worker" in again.output
    listed = runner.invoke(app, ["workers", "list", "--json"])
    assert leaver not in {w["id"] for w in json.loads(listed.output)}
    gone = runner.invoke(app, ["workers", "list", "--left", "--json"])
    assert [(w["id"], w["left_on"]) for w in json.loads(gone.output)] == [
        (leaver, WEDNESDAY.isoformat())
    ]
    shown = runner.invoke(app, ["plan", "show", "--worker", leaver, "--json"])
    assert shown.exit_code == 0, shown.output
    name = next(w.name for w in scenario.workers if w.id == leaver)
    visits = json.loads(shown.output)["visits"]
    assert visits
    assert {v["worker_name"] for v in visits if v["worker_id"] == leaver} == {name}


def test_an_awaiting_visit_of_a_leaver_is_assumed_made_in_their_role(
    published: tuple[Scenario, Plan],
) -> None:
    """A re-plan assumes awaiting visits made; one by a worker who has left since counts in
    their role when the re-plan is told it (`left`), and in none when it is not."""
    scenario, plan = published
    leaver = _busiest(plan, WEDNESDAY)
    role = next(w.role for w in scenario.workers if w.id == leaver)
    visit = next(v for v in plan.visits if v.worker_id == leaver)
    gone = scenario.model_copy(
        update={"workers": tuple(w for w in scenario.workers if w.id != leaver)}
    )
    told = [r for r in assume_made(gone, [visit], {leaver: role}).records if r.visit_id == visit.id]
    assert told
    assert {r.worker_role for r in told} == {role}
    untold = [r for r in assume_made(gone, [visit]).records if r.visit_id == visit.id]
    assert {r.worker_role for r in untold} == {None}


def test_a_csv_import_says_which_leavers_are_back() -> None:
    """`visitplan import DIR` prints the merge in one paragraph: leavers listed again are
    named with what to do; none, nothing said."""
    from scheduler.render import render_merge
    from scheduler.store import MergeReport

    back = render_merge(MergeReport(source="csv", workers_back=("w-0003",)), "Imported")
    assert "1 workers back" in back
    assert "Back (recorded as left" in back
    assert "w-0003" in back
    assert "Back" not in render_merge(MergeReport(source="csv", workers_added=1), "Imported")
