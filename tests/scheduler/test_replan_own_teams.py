"""A manager's re-plan changes only their own teams; another team's pending changes wait.

Two teams, each with a worker off sick on Wednesday, recorded on Tuesday. The manager of
the first re-plans: their absent worker's visits are handed over, the other team's visits
stay exactly as published (its absent worker's too), and applying it leaves the other team
to be re-planned by its own manager, which then hands its visits over in turn.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from scheduler import service
from scheduler.check import check_plan
from scheduler.domain import Absence, Plan, Scenario, Visit
from scheduler.errors import InputError
from scheduler.generate import generate
from scheduler.outcomes import as_planned
from scheduler.planning import plan_scenario
from scheduler.store import Store

MONDAY = date(2026, 11, 30)
TUESDAY, WEDNESDAY = MONDAY + timedelta(days=1), MONDAY + timedelta(days=2)
NOW = datetime(2026, 12, 1, 8, tzinfo=UTC)


def _team_of(scenario: Scenario) -> dict[str, str | None]:
    """Household -> its team."""
    return {h.id: h.team_id for h in scenario.households}


def _busiest_on(plan: Plan, scenario: Scenario, team: str, day: date) -> str:
    """The worker of `team` with most visits on `day`."""
    staff = {w.id for w in scenario.workers if w.team_id == team}
    counts: dict[str, int] = {}
    for v in plan.visits:
        if v.day == day and v.worker_id in staff:
            counts[v.worker_id] = counts.get(v.worker_id, 0) + 1
    return max(sorted(counts), key=lambda w: counts[w])


@pytest.fixture
def two_sick(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, str]]:
    """A generated two-team authority planned from Mon 30 Nov 2026, with the busiest
    Wednesday worker of each team off sick on Wednesday: the store's URL and team -> worker."""
    url = f"sqlite:///{tmp_path_factory.mktemp('own') / 'visitplan.db'}"
    scenario = generate("M", seed=0, start=MONDAY, children=250)
    assert len(scenario.teams) == 2
    assert not scenario.authority.cross_team_cover
    plan = plan_scenario(
        scenario, MONDAY, weeks=2, params=service.solve_params(0.5, 0), processes=1
    )
    sick = {t.id: _busiest_on(plan, scenario, t.id, WEDNESDAY) for t in scenario.teams}
    with Store(url) as store:
        store.replace_caseload(scenario)
        store.save_plan(plan, datetime(2026, 11, 27, 16, tzinfo=UTC))
        absences = [
            Absence(worker_id=w, start=WEDNESDAY, end=WEDNESDAY, reason="sickness")
            for w in sick.values()
        ]
        service.add_absences(store, absences, by="sam", now=NOW)
    return url, sick


def _propose(
    store: Store, teams: list[str] | None, said: list[str] | None = None
) -> service.ReplanReport:
    return service.propose_replan(
        store,
        service.solve_params(0.5, 0),
        today=TUESDAY,
        processes=1,
        teams=teams,
        progress=None if said is None else lambda m: said.append(str(m)),
    )


def _ahead(plan: Plan, households: dict[str, str | None], team: str) -> list[Visit]:
    """The team's visits from Tuesday on, as published."""
    return sorted(
        (v for v in plan.visits if households[v.household_id] == team and v.day >= TUESDAY),
        key=lambda v: v.id,
    )


def test_a_managers_replan_changes_only_their_team(
    two_sick: tuple[str, dict[str, str]],
) -> None:
    url, sick = two_sick
    mine, theirs = sorted(sick)
    with Store(url) as store:
        scenario = store.read_scenario()
        published = store.current_plan()
        assert published is not None
        households = _team_of(scenario)
        whole = _propose(store, None)
        said: list[str] = []
        own = _propose(store, [mine], said)

    # Only this team's visits awaiting an outcome are named as resting on an assumption.
    mine_earlier = {
        v.id for v in published.visits if v.day < TUESDAY and households[v.household_id] == mine
    }
    assert own.awaiting_visits == len(mine_earlier)
    assert whole.awaiting_visits > own.awaiting_visits
    # The other team is not even planned: its visits are left as they are.
    assert any("not one of the teams re-planned" in line for line in said), said
    # The whole re-plan hands over both teams' Wednesday visits.
    touched = {households[c.household_id] for c in whole.changes if c.forced}
    assert touched == {mine, theirs}
    # The manager's re-plan: their team only, every change forced by their own absence.
    assert own.changes
    assert {households[c.household_id] for c in own.changes} == {mine}
    assert all(c.worker_before == sick[mine] for c in own.changes if c.forced)
    assert own.affected_visits == sum(
        1 for v in published.visits if v.worker_id == sick[mine] and v.day == WEDNESDAY
    )
    # The other team's visits are exactly as published, its absent worker's included.
    assert _ahead(own.plan, households, theirs) == _ahead(published, households, theirs)
    assert any(
        v.worker_id == sick[theirs] and v.day == WEDNESDAY
        for v in _ahead(own.plan, households, theirs)
    )
    # Its fingerprint is dropped, so its own manager's re-plan plans it again.
    assert theirs not in own.plan.team_inputs
    assert mine in own.plan.team_inputs
    # The checker finds nothing wrong but the other team's visits still led by its absent
    # worker, which are for its own manager to hand over.
    verdict = check_plan(as_planned(scenario, own.plan), own.plan)
    assert verdict.hard
    assert {v.worker_id for v in verdict.hard} == {sick[theirs]}


def test_the_other_team_replans_after_the_first_applied(
    two_sick: tuple[str, dict[str, str]],
) -> None:
    url, sick = two_sick
    mine, theirs = sorted(sick)
    with Store(url) as store:
        service.apply_replan(store, _propose(store, [mine]), by="ann", now=NOW)
        households = _team_of(store.read_scenario())
        second = _propose(store, [theirs])
        service.apply_replan(store, second, by="bo", now=NOW)
        final = store.current_plan()
        _scenario, verdict = service.check_current(store)
    assert second.changes
    assert {households[c.household_id] for c in second.changes} == {theirs}
    assert second.affected_visits > 0
    assert final is not None
    assert not verdict.hard
    assert not [
        v
        for v in final.visits
        if v.day == WEDNESDAY and v.worker_id in sick.values() and v.status == "planned"
    ]


def test_an_unknown_team_is_refused_in_words(two_sick: tuple[str, dict[str, str]]) -> None:
    url, _sick = two_sick
    with Store(url) as store, pytest.raises(InputError) as caught:
        _propose(store, ["team-99"])
    assert "team-99" in str(caught.value.problems[0])
