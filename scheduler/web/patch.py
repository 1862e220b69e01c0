"""A new snapshot from the last one and the store's audit: the common changes (an outcome
recorded or corrected, a child edited or closed, a visit moved or pinned, a new plan, an
absence added or removed) are read one by one instead of reading the whole caseload again.

Rule: only through `Store`'s public reads; the result must equal what `Store.snapshot()`
would give at the same revision (the tests compare them), so anything this module does not
know how to apply, or a store that moves on while it reads, gives None and the caller reads
the whole store.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from scheduler.domain import Absence, Plan, Scenario, VisitRecord

if TYPE_CHECKING:
    from scheduler.store import AuditEntry, Store

MAX_CHANGES = 200
"""More changes than this since the last snapshot: read the whole store instead."""
_PLAN_ACTIONS = {
    ("visit moved", "visit"),
    ("visit pinned", "visit"),
    ("visit unpinned", "visit"),
    ("plan saved", "plan"),
}
"""Changes to the current plan only (a new plan writes nothing else)."""


def patched(
    store: Store, revision: int, scenario: Scenario, plan: Plan | None
) -> tuple[int, Scenario, Plan | None] | None:
    """The snapshot at the store's current revision, made from the one at `revision`, or
    None when the changes since are not all of the kinds read one by one."""
    now = store.revision()
    entries = [e for e in store.changes_since(revision) if e.revision <= now]
    if not entries or len(entries) > MAX_CHANGES or max(e.revision for e in entries) != now:
        return None
    if any(not _known(e) for e in entries):
        return None
    children = {c.id: c for c in scenario.children}
    records = list(scenario.records)
    workers = {w.id for w in scenario.workers}
    absences = list(scenario.absences)
    plan_changed = False
    for entry in entries:
        child_id = entry.child_id or ""
        if entry.action == "child edited":
            row = store.child_row(child_id)
            if row is None or row.closed_on is not None or child_id not in children:
                return None
            children[child_id] = row.child
        elif entry.action == "child closed":
            children.pop(child_id, None)
            records = [r for r in records if r.child_id != child_id]
        elif entry.action in ("record added", "record amended"):
            found = _record(store, child_id, entry.entity_id or "")
            if found is None or (found.worker_role is None and found.worker_id not in workers):
                return None  # a departed worker's role is filled in by the whole read
            at = next((i for i, r in enumerate(records) if r.id == found.id), None)
            if entry.action == "record added" and at is None:
                records.append(found)
            elif entry.action == "record amended" and at is not None:
                records[at] = found
            else:
                return None
        elif entry.action in ("absence added", "absence removed"):
            worker, start = entry.entity_id or "", _day(entry.detail.get("start"))
            if start is None:
                return None
            absences = [a for a in absences if (a.worker_id, a.start) != (worker, start)]
            if entry.action == "absence added":
                absence = _absence(store, worker, start)
                if absence is None:
                    return None
                absences.append(absence)
        else:
            plan_changed = True
    new_plan = store.current_plan() if plan_changed else plan
    if store.revision() != now:
        return None  # the store moved on while we read: the pieces may not agree
    update = {
        "children": tuple(children[c.id] for c in scenario.children if c.id in children),
        "records": tuple(r for r in records if r.child_id in children),
        "absences": tuple(absences),
    }
    return now, scenario.model_copy(update=update), new_plan


def _known(entry: AuditEntry) -> bool:
    """True for a change this module can apply."""
    if entry.action in ("child edited", "child closed"):
        return entry.entity == "child" and bool(entry.child_id)
    if entry.action in ("record added", "record amended"):
        return entry.entity == "record" and bool(entry.child_id) and bool(entry.entity_id)
    if entry.action in ("absence added", "absence removed"):
        return entry.entity == "absence" and bool(entry.entity_id)
    return (entry.action, entry.entity) in _PLAN_ACTIONS


def _day(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def _absence(store: Store, worker_id: str, start: date) -> Absence | None:
    """The worker's absence starting on `start`, as stored now."""
    return next((a for a in store.list_absences(worker_id) if a.start == start), None)


def _record(store: Store, child_id: str, record_id: str) -> VisitRecord | None:
    """The current version of one of the child's records."""
    return next((r for r in store.records_for(child_id) if r.id == record_id), None)
