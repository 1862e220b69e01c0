"""Visit outcomes: each planned visit's state, and the records a manager's assumptions imply.

Rule: pure functions of plans, records and dates (no store, no clock). A visit whose day has
passed with no recorded outcome is *awaiting outcome*, never done; re-planning assumes such
visits were made as planned (what a manager does on a Tuesday) unless told they were missed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date

from policies import Role
from scheduler.domain import (
    Absence,
    Child,
    ChildId,
    Outcome,
    Plan,
    Scenario,
    Visit,
    VisitRecord,
    VisitStatus,
)
from scheduler.index import index_of

FINAL_STATES: frozenset[VisitStatus] = frozenset({"completed", "failed", "not-seen"})
"""States a recorded outcome gives a visit."""


def by_visit(records: Iterable[VisitRecord]) -> dict[str, tuple[VisitRecord, ...]]:
    """Records made at planned visits, by visit id (records with no visit are left out)."""
    out: dict[str, list[VisitRecord]] = {}
    for record in records:
        if record.visit_id is not None:
            out.setdefault(record.visit_id, []).append(record)
    return {k: tuple(v) for k, v in out.items()}


def outcome_of(records: Sequence[VisitRecord]) -> Outcome | None:
    """One visit's outcome from its children's records: completed when any child was seen."""
    if not records:
        return None
    outcomes = {r.outcome for r in records}
    if "completed" in outcomes:
        return "completed"
    return "failed" if "failed" in outcomes else "not-seen"


def visit_state(visit: Visit, records: Sequence[VisitRecord], today: date) -> VisitStatus:
    """A visit's state on `today`: its recorded outcome, awaiting outcome, planned or cancelled."""
    if visit.status == "cancelled":
        return "cancelled"
    recorded = outcome_of(records)
    if recorded is not None:
        return recorded
    return "awaiting" if visit.day < today else "planned"


def with_states(
    plan: Plan, records_by_visit: Mapping[str, Sequence[VisitRecord]], today: date
) -> Plan:
    """The plan with every visit's state as of `today` (the stored plan is left as it is)."""
    visits = tuple(
        v.model_copy(update={"status": visit_state(v, records_by_visit.get(v.id, ()), today)})
        for v in plan.visits
    )
    return plan.model_copy(update={"visits": visits})


def awaiting(
    visits: Iterable[Visit], records_by_visit: Mapping[str, Sequence[VisitRecord]], before: date
) -> tuple[Visit, ...]:
    """Visits before `before` with no recorded outcome (not cancelled), by time."""
    return tuple(
        sorted(
            (
                v
                for v in visits
                if v.day < before and v.status != "cancelled" and not records_by_visit.get(v.id)
            ),
            key=lambda v: (v.start, v.id),
        )
    )


def checklist_for(visit: Visit, child: Child) -> set[str]:
    """The checklist items a visit holds for one child (items carry a case-reference prefix
    on visits to several children)."""
    prefix = f"{child.case_ref}: "
    several = len(visit.child_ids) > 1
    items = set()
    for item in visit.checklist:
        if several and item.startswith(prefix):
            items.add(item.removeprefix(prefix))
        elif not several:
            items.add(item)
    return items


def records_as_planned(
    visit: Visit,
    children: Mapping[ChildId, Child],
    roles: Mapping[str, Role],
    record_id: str = "{visit}-{child}-{day:%Y%m%d}",
) -> tuple[VisitRecord, ...]:
    """The records of a visit made as planned: every child seen at home, its checklist done."""
    out = []
    for child_id in visit.child_ids:
        child = children.get(child_id)
        items = checklist_for(visit, child) if child is not None else set()
        out.append(
            VisitRecord(
                id=record_id.format(visit=visit.id, child=child_id, day=visit.day),
                child_id=child_id,
                household_id=visit.household_id,
                on=visit.day,
                start=visit.start.timetz().replace(tzinfo=None),
                worker_id=visit.worker_id,
                outcome="completed",
                at_home=True,
                announced=visit.announced,
                seen_alone="seen-alone" in items,
                bedroom_seen="bedroom" in items,
                seen_awake="seen-awake" in items,
                visit_id=visit.id,
                worker_role=roles.get(visit.worker_id),
            )
        )
    return tuple(out)


def assume_made(
    scenario: Scenario, visits: Sequence[Visit], left: Mapping[str, Role] | None = None
) -> Scenario:
    """The scenario as if these awaiting visits were made as planned (records added).

    `left` gives the roles of workers who made such a visit and have left since (they are
    not in the scenario), so a visit of theirs counts as made by their role. Assumed records
    have ids starting `assumed-`; they live only in the planning run, never in the store.
    """
    if not visits:
        return scenario
    index = index_of(scenario)
    children = index.children
    roles = {**(left or {}), **{w.id: w.role for w in index.workers.values()}}
    extra = [
        record
        for visit in visits
        for record in records_as_planned(
            visit, children, roles, "assumed-{visit}-{child}-{day:%Y%m%d}"
        )
        if record.child_id in children
    ]
    return scenario.model_copy(update={"records": (*scenario.records, *extra)})


def children_resting_on(visits: Iterable[Visit], scenario: Scenario) -> tuple[str, ...]:
    """Case references of open children covered by these visits, sorted."""
    refs = {c.id: c.case_ref for c in scenario.children}
    return tuple(sorted({refs[c] for v in visits for c in v.child_ids if c in refs}))


def not_made(
    visits: Iterable[Visit], left_on: Mapping[str, date], absences: Iterable[Absence] = ()
) -> frozenset[str]:
    """Ids of visits led by a worker on or after the day they left (`left_on`: the first day
    each no longer worked), or on a day their worker is recorded away (`absences`: a
    sickness recorded the day after). They did not take place, so they are never assumed
    made. A joint visit whose second worker was away is left to its lead, as for leavers."""
    away: dict[str, list[Absence]] = {}
    for absence in absences:
        away.setdefault(absence.worker_id, []).append(absence)
    return frozenset(
        v.id
        for v in visits
        if (v.worker_id in left_on and v.day >= left_on[v.worker_id])
        or any(a.covers(v.day) for a in away.get(v.worker_id, ()))
    )


def as_planned(
    scenario: Scenario, plan: Plan, left_on: Mapping[str, date] | None = None
) -> Scenario:
    """The scenario a plan was made from: its visits before its start that have no recorded
    outcome made as planned, unless the plan assumed them missed. A visit led by a worker
    on or after the day they left (`left_on`), or on a day the scenario records them away,
    did not take place and is not assumed made."""
    if plan.assume_missed:
        return scenario
    gone = not_made(plan.visits, left_on or {}, scenario.absences)
    pending = awaiting(plan.visits, by_visit(scenario.records), plan.start)
    return assume_made(scenario, tuple(v for v in pending if v.id not in gone))
