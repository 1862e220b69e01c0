"""Re-planning: visits keep their ids across moves, and every change is reported with a reason."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from scheduler import render
from scheduler.domain import Absence, Visit, VisitReason
from scheduler.replan import ReplanReport, carry_ids, diff_plans, weeks_to_cover
from tests.scenarios import north_somerset_team

LONDON = ZoneInfo("Europe/London")


def visit(id: str, home: str, day: int, worker: str = "w1", hour: int = 10) -> Visit:
    return Visit(
        id=id,
        household_id=home,
        child_ids=(f"c-{home}",),
        worker_id=worker,
        start=datetime(2026, 12, day, hour, tzinfo=LONDON),
        duration_min=60,
    )


def test_moved_visit_keeps_its_id() -> None:
    """A visit to the same household moved by a day keeps the published id (and UID)."""
    old = [visit("v-h1-20261201", "h1", 1)]
    new = [visit("v-h1-20261202", "h1", 2, worker="w2")]
    assert [v.id for v in carry_ids(old, new)] == ["v-h1-20261201"]


def test_nearest_visits_pair_first() -> None:
    """With two visits to one household, each new visit takes the nearest old one's id."""
    old = [visit("a", "h1", 1), visit("b", "h1", 10)]
    new = [visit("x", "h1", 11), visit("y", "h1", 2)]
    assert {v.id: v.day.day for v in carry_ids(old, new)} == {"b": 11, "a": 2}


def test_unpaired_new_visit_gets_a_unique_id() -> None:
    """A new visit whose natural id is already inherited is made unique."""
    old = [visit("v-h1-20261201", "h1", 3)]
    new = [visit("v-h1-20261203", "h1", 3), visit("v-h1-20261201", "h1", 1)]
    ids = [v.id for v in carry_ids(old, new)]
    assert len(set(ids)) == 2
    assert "v-h1-20261201" in ids


def test_reassignment_of_an_absent_workers_visit_is_forced() -> None:
    """A visit moved off an absent worker is a forced change naming the absence."""
    old = [visit("a", "h1", 2, worker="w1"), visit("b", "h2", 2, worker="w2")]
    new = [visit("a", "h1", 2, worker="w3"), visit("b", "h2", 2, worker="w2")]
    absences = [
        Absence(worker_id="w1", start=date(2026, 12, 1), end=date(2026, 12, 3), reason="sickness")
    ]
    changes = diff_plans(old, new, absences)
    assert len(changes) == 1
    assert changes[0].kind == "reassigned"
    assert changes[0].forced
    assert "sickness" in changes[0].reason


@pytest.mark.parametrize(
    ("busy_from", "busy_to", "forced"),
    [
        ((10, 30), (12, 0), True),  # the commitment overlaps the visit (10:00-11:00)
        ((11, 0), (12, 0), False),  # it starts as the visit ends: no clash
        ((9, 0), (10, 0), False),  # it ends as the visit starts: no clash
    ],
)
def test_a_move_off_a_commitment_in_a_workers_calendar_is_forced(
    busy_from: tuple[int, int], busy_to: tuple[int, int], forced: bool
) -> None:
    """A published visit moved because its worker now has a commitment at that time (read
    from their calendar) had to change, and says why; one next to a commitment did not."""
    from scheduler.domain import BusyTime

    busy = BusyTime(
        worker_id="w1",
        start=datetime(2026, 12, 2, *busy_from, tzinfo=LONDON),
        end=datetime(2026, 12, 2, *busy_to, tzinfo=LONDON),
    )
    (change,) = diff_plans([visit("a", "h1", 2)], [visit("a", "h1", 3)], [], busy=[busy])
    assert change.forced is forced
    clash = "w1 has a commitment in their own calendar at that time"
    assert (change.reason == clash) is forced


def test_a_commitment_of_the_second_worker_forces_the_change() -> None:
    """A joint visit's second worker in court at its time: the change is forced, naming them."""
    from scheduler.domain import BusyTime

    joint = visit("a", "h1", 2).model_copy(update={"second_worker_id": "w2"})
    after = joint.model_copy(update={"second_worker_id": "w3"})
    busy = BusyTime(
        worker_id="w2",
        start=datetime(2026, 12, 2, 9, tzinfo=LONDON),
        end=datetime(2026, 12, 2, 17, tzinfo=LONDON),
    )
    (change,) = diff_plans([joint], [after], [], busy=[busy])
    assert change.forced
    assert change.reason.startswith("w2 has a commitment")


def test_unforced_move_is_reported_as_such() -> None:
    """A visit moved although its worker is present is an 'other' change."""
    changes = diff_plans([visit("a", "h1", 2)], [visit("a", "h1", 4)], [])
    assert [(c.kind, c.forced) for c in changes] == [("moved", False)]


def test_unchanged_plan_has_no_changes() -> None:
    """The same visits give no changes."""
    visits = [visit("a", "h1", 2), visit("b", "h2", 3)]
    assert diff_plans(visits, visits, []) == ()


def test_an_added_visit_names_its_rules_by_their_titles() -> None:
    """A new visit's reason is in the manager's words: each rule's title, not its id; a rule
    the titles do not know is named by its id (never dropped)."""
    reasons = tuple(
        VisitReason(child_id="c-h1", rule_id=rule, due=date(2026, 12, 2), slack_days=0)
        for rule in ("cin_20", "cin_home_28", "unknown_rule")
    )
    added = visit("a", "h1", 2).model_copy(update={"reasons": reasons})
    titles = {
        "cin_20": "Child in need seen at least every 20 working days",
        "cin_home_28": "Child in need seen at home at least every 28 days",
    }
    (change,) = diff_plans([], [added], [], titles=titles)
    assert change.kind == "added"
    assert change.reason == (
        "new visit needed: Child in need seen at home at least every 28 days; "
        "Child in need seen at least every 20 working days; unknown_rule"
    )
    assert "cin_20" not in change.reason


def test_weeks_to_cover_reaches_the_end() -> None:
    """Whole weeks from the re-plan day reach the plan's last day."""
    assert weeks_to_cover(date(2026, 12, 2), date(2026, 12, 13)) == 2
    assert weeks_to_cover(date(2026, 12, 13), date(2026, 12, 13)) == 1


def _joint(second: str | None, day: int = 8) -> Visit:
    return visit("j", "h9", day, worker="w-0006").model_copy(update={"second_worker_id": second})


@pytest.mark.parametrize(
    ("before", "after", "kind", "words"),
    [
        # The lead stays and only the second worker changes: not "from Ben to Ben".
        (
            _joint("w-0002"),
            _joint("w-0001", 10),
            "reassigned",
            "Ben Kaur (w-0006); second worker George Taylor (w-0002) -> Farah Green (w-0001)",
        ),
        # The same two workers on another day: a move, with the second named.
        (
            _joint("w-0002"),
            _joint("w-0002", 10),
            "moved",
            "Ben Kaur (w-0006) with George Taylor (w-0002)",
        ),
    ],
    ids=["second-worker-changed", "same-workers-moved"],
)
def test_a_joint_visit_change_names_its_second_worker(
    before: Visit, after: Visit, kind: str, words: str
) -> None:
    """The edge pair of a joint visit re-planned: who makes it, both workers, in words."""
    (change,) = diff_plans([before], [after], [])
    assert change.kind == kind
    assert (change.second_worker_before, change.second_worker_after) == (
        before.second_worker_id,
        after.second_worker_id,
    )
    names = {"w-0006": "Ben Kaur", "w-0002": "George Taylor", "w-0001": "Farah Green"}
    report = ReplanReport.model_construct(from_date=date(2026, 12, 8), changes=(change,))
    table = render.render_changes(report.changes, north_somerset_team(), names)
    assert words in "".join(str(cell) for cell in table.columns[4].cells)


def test_children_now_at_risk_are_each_named_once() -> None:
    """Two rules of one child due the same day read as one entry; another due day is added
    to it; another child is an entry of their own."""
    from scheduler.domain import Breach, Plan

    def breach(child: str, rule: str, day: int) -> Breach:
        return Breach(child_id=child, rule_id=rule, due=date(2026, 12, day), days_late=2, reason="")

    at_risk = (breach("c1", "r10", 8), breach("c1", "r28", 8), breach("c1", "r10", 9))
    at_risk += (breach("c2", "r10", 8),)
    plan = Plan(id="p", authority="camden", start=date(2026, 12, 8), end=date(2026, 12, 13))
    report = ReplanReport(from_date=date(2026, 12, 8), plan=plan, at_risk=at_risk)
    titles = {"r10": "every 10 days", "r28": "at home every 28 days"}
    table = render.render_replan_summary(report, north_somerset_team(), titles)
    words = " ".join(str(c) for c in table.columns[1].cells)
    assert (
        "CR-c1 (every 10 days and at home every 28 days, due 08 Dec; every 10 days, due 09 Dec), "
        "CR-c2 (every 10 days, due 08 Dec)"
    ) in words
