"""Children's due dates kept between store revisions: only the children whose inputs changed
are worked out again.

Rule: a child's requirements are `due.child_due` of the child, the child's visit records, the
roles of the workers who made them, the pack and the day; this module keeps each child's
result with exactly those inputs and reuses it only while every one of them is equal. It
never computes a due date itself.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from policies import Pack, Role
from scheduler.calendar import WorkingCalendar
from scheduler.domain import Child, ChildDue, Scenario, VisitRecord
from scheduler.due import calendar_for, child_due
from scheduler.gc_pause import paused_gc
from scheduler.reports import DueRow, MadeRows


@dataclass(frozen=True)
class _Kept:
    """One child's requirements and the inputs they were worked out from."""

    as_of: date
    child: Child
    records: tuple[VisitRecord, ...]
    roles: tuple[Role | None, ...]
    due: ChildDue


class DueMemory:
    """Each child's last `child_due`, reused while its inputs are unchanged (thread-safe)."""

    def __init__(self) -> None:
        """An empty memory."""
        self._lock = threading.Lock()
        self._authority: str | None = None
        self._kept: dict[str, _Kept] = {}
        self._seed: tuple[Scenario, date, Sequence[ChildDue]] | None = None
        self.worked_out = 0
        """Children worked out afresh by the last call (the rest were reused)."""
        self.rows: MadeRows = {}
        """The authority-wide rows made from these requirements (`reports.rows_from_due`)."""

    def seed_later(self, scenario: Scenario, as_of: date, dues: Sequence[ChildDue]) -> None:
        """Remember that `dues` are `due.child_due` of every child of `scenario` as of
        `as_of` (a report kept at the scenario's revision): the next call takes them as
        worked out, unless something was worked out before it."""
        with self._lock:
            if not self._kept:
                self._seed = (scenario, as_of, dues)

    def _take_seed(self) -> None:
        """Keep the seeded children's requirements with their inputs (under the lock)."""
        seed, self._seed = self._seed, None
        if seed is None or self._kept:
            return
        scenario, as_of, dues = seed
        self._authority = scenario.authority.id
        roles = {w.id: w.role for w in scenario.workers}
        by_child = _records_by_child(scenario)
        children = {c.id: c for c in scenario.children}
        fields = tuple(ChildDue.model_fields)
        for due in dues:
            child = children.get(due.child_id)
            if child is None:
                continue
            records = tuple(by_child[child.id])
            their_roles = tuple(roles.get(r.worker_id) if r.worker_id else None for r in records)
            # Already validated when the kept report was read: copied, not validated again.
            plain = ChildDue.model_construct(**{f: getattr(due, f) for f in fields})
            self._kept[child.id] = _Kept(as_of, child, records, their_roles, plain)
            if isinstance(due, DueRow):  # the row itself, with what it was made from
                made = (due.state, due.team_id, due.worker_name)
                awaited = (due.awaiting_visit, due.awaiting_on)
                self.rows[child.id] = (plain, (*made, *awaited), due)

    def scenario_due(self, scenario: Scenario, pack: Pack, as_of: date) -> tuple[ChildDue, ...]:
        """`due.scenario_due(scenario, as_of)`: the same rows in the same order, each child
        worked out again only when its record, its visits, their workers' roles or the day
        differ from the last time."""
        calendar: WorkingCalendar = calendar_for(pack)
        roles = {w.id: w.role for w in scenario.workers}
        by_child = _records_by_child(scenario)
        with self._lock:
            if self._seed is not None:
                with paused_gc():
                    self._take_seed()
            if self._authority != scenario.authority.id:
                self._kept.clear()
                self.rows.clear()
                self._authority = scenario.authority.id
            kept = dict(self._kept)
        with paused_gc():
            rows, fresh = self._work_out(scenario, pack, calendar, roles, by_child, kept, as_of)
        with self._lock:
            self._kept.update(fresh)
            self.worked_out = len(fresh)
        return _in_order(rows)

    @staticmethod
    def _work_out(
        scenario: Scenario,
        pack: Pack,
        calendar: WorkingCalendar,
        roles: dict[str, Role],
        by_child: dict[str, list[VisitRecord]],
        kept: dict[str, _Kept],
        as_of: date,
    ) -> tuple[list[ChildDue], dict[str, _Kept]]:
        """Each child's kept requirements where the inputs are unchanged, else worked out
        afresh (the rows in the scenario's order, and the fresh ones by child)."""
        rows: list[ChildDue] = []
        fresh: dict[str, _Kept] = {}
        for child in scenario.children:
            records = tuple(by_child[child.id])
            their_roles = tuple(roles.get(r.worker_id) if r.worker_id else None for r in records)
            old = kept.get(child.id)
            if (
                old is not None
                and old.as_of == as_of
                and old.child == child
                and old.records == records
                and old.roles == their_roles
            ):
                rows.append(old.due)
                continue
            due = child_due(pack, calendar, child, records, roles, as_of)
            fresh[child.id] = _Kept(as_of, child, records, their_roles, due)
            rows.append(due)
        return rows, fresh


def _records_by_child(scenario: Scenario) -> dict[str, list[VisitRecord]]:
    """The scenario's visit records by child, in stored order."""
    by_child: dict[str, list[VisitRecord]] = defaultdict(list)
    for record in scenario.records:
        by_child[record.child_id].append(record)
    return by_child


def _in_order(rows: Sequence[ChildDue]) -> tuple[ChildDue, ...]:
    """`due.scenario_due`'s order: most days overdue first, then soonest due, then case
    reference."""
    return tuple(sorted(rows, key=lambda r: (-r.overdue_days, r.next_due or date.max, r.case_ref)))
