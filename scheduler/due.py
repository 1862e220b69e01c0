"""The due engine: every child's requirements and escalations from the packs and the history."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date

from policies import Category, Contact, Pack, Role, due_dates, escalations, load_pack
from scheduler.calendar import WorkingCalendar
from scheduler.domain import Child, ChildDue, Requirement, Scenario, VisitRecord, WorkerId
from scheduler.gc_pause import paused_gc
from scheduler.index import index_of


def calendar_for(pack: Pack) -> WorkingCalendar:
    """The working-day calendar of a pack's nation and closure days."""
    return WorkingCalendar(pack.nation, pack.closure_days)


def category_pack(pack: Pack, category: Category) -> Pack:
    """The pack cut down to one category's rules: the same due dates, far fewer scope checks."""
    rules = tuple(r for r in pack.rules if category in r.scope.categories)
    return pack.model_copy(update={"rules": rules})


def contacts_for(records: Iterable[VisitRecord], roles: Mapping[WorkerId, Role]) -> list[Contact]:
    """Visit records as policy contacts, with each visiting worker's role."""
    return [r.contact(roles.get(r.worker_id) if r.worker_id else None) for r in records]


def child_due(
    pack: Pack,
    calendar: WorkingCalendar,
    child: Child,
    records: Sequence[VisitRecord],
    roles: Mapping[WorkerId, Role],
    as_of: date,
) -> ChildDue:
    """One child's outstanding requirements and escalations as of `as_of`."""
    facts = child.facts()
    contacts = contacts_for((r for r in records if r.on <= as_of), roles)
    requirements = tuple(
        Requirement(
            child_id=child.id,
            rule_id=d.rule_id,
            title=d.title,
            kind=d.kind,
            clock=d.clock,
            due=d.due,
            last=d.last,
            household_id=d.home_id,
            count=d.count,
            overdue_days=max(0, (as_of - d.due).days),
            severity=d.severity,
            window=d.window,
            avoid_part_of_day=d.avoid_part_of_day,
        )
        for d in due_dates(pack, facts, contacts, calendar, as_of)
    )
    raised = tuple(
        f"{e.title}: {e.detail}" for e in escalations(pack, facts, contacts, calendar, as_of)
    )
    next_due = min((r.due for r in requirements), default=None)
    return ChildDue(
        child_id=child.id,
        case_ref=child.case_ref,
        category=child.category,
        allocated_worker=child.allocated_worker,
        requirements=requirements,
        escalations=raised,
        next_due=next_due,
        overdue_days=max((r.overdue_days for r in requirements), default=0),
    )


def scenario_due(scenario: Scenario, as_of: date | None = None) -> tuple[ChildDue, ...]:
    """Every child's requirements as of `as_of` (the scenario's date by default).

    Sorted overdue first (most days overdue first), then soonest due, then case reference.
    """
    as_of = as_of or scenario.as_of
    pack = load_pack(scenario.authority.id)
    calendar = calendar_for(pack)
    index = index_of(scenario)
    roles = {w.id: w.role for w in index.workers.values()}
    with paused_gc():
        rows = [
            child_due(pack, calendar, child, index.records_of(child.id), roles, as_of)
            for child in scenario.children
        ]
    return tuple(
        sorted(
            rows,
            key=lambda r: (-r.overdue_days, r.next_due or date.max, r.case_ref),
        )
    )
