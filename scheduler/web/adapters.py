"""Stand-ins for service functions the lead is building on main, in one place to swap out.

Each function here is the closest the current `scheduler.service` and store allow to a
function issue 9 or 10 adds (visit states, a whole day's outcomes, the revision check,
visit moves, due filters, the audit history). The desk calls only these names, so wiring
the real service function in is a one-line change per function. Rule: no planning logic of
its own; every write goes through the store's or the service's existing calls.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Literal

from sqlalchemy import func, select

from policies import Pack, load_pack
from scheduler import service
from scheduler.check import CheckReport, check_plan
from scheduler.domain import (
    Child,
    ChildDue,
    Household,
    Plan,
    Scenario,
    Visit,
    VisitRecord,
    Worker,
)
from scheduler.due import scenario_due
from scheduler.errors import NotFoundError, PlanError, VisitplanError
from scheduler.store import (
    absences_table,
    busy_table,
    children_table,
    households_table,
    plans_table,
    records_table,
    teams_table,
    workers_table,
)

if TYPE_CHECKING:
    from scheduler.replan import ReplanReport
    from scheduler.store import Store

log = logging.getLogger("visitplan.desk")

VisitState = Literal[
    "planned", "awaiting outcome", "completed", "failed", "not seen", "cancelled", "done"
]
DueState = Literal["overdue", "at risk", "planned", "due later"]
DUE_STATES: tuple[DueState, ...] = ("overdue", "at risk", "planned", "due later")

_REVISION_PARTS = {
    "teams": teams_table,
    "workers": workers_table,
    "households": households_table,
    "children": children_table,
    "absences": absences_table,
    "busy times": busy_table,
    "visit records": records_table,
}


class StaleProposalError(VisitplanError):
    """The store changed since a re-plan was proposed; `changed` names what changed."""

    def __init__(self, changed: Sequence[str]) -> None:
        """Keep what changed; the message lists it."""
        self.changed = tuple(changed)
        super().__init__(
            "the plan was changed since this preview was made ("
            + ", ".join(self.changed)
            + " changed): make a fresh preview"
        )


class MoveRefusedError(VisitplanError):
    """A hand change would break a hard rule; `reasons` says which."""

    def __init__(self, reasons: Sequence[str]) -> None:
        """Keep the reasons; the message joins them."""
        self.reasons = tuple(reasons)
        super().__init__("; ".join(self.reasons))


# ------------------------------------------------------------------ revision check


def store_revision(store: Store) -> dict[str, str]:
    """What the store holds, part by part, as short fingerprints (the revision check).

    Stand-in for the lead's revision check (issue 9): counts, highest positions and data
    lengths per caseload table, and the current plan's id and save time. It is cheap (one
    aggregate query per table) and changes with every write the store makes today.
    """
    parts: dict[str, str] = {}
    with store.engine.connect() as conn:
        for name, table in _REVISION_PARTS.items():
            row = conn.execute(
                select(
                    func.count(),
                    func.max(table.c.position),
                    func.sum(func.length(table.c.data)),
                )
            ).one()
            parts[name] = ":".join(str(v) for v in row)
        plan = conn.execute(
            select(plans_table.c.id, plans_table.c.saved_at).where(
                plans_table.c.is_current.is_(True)
            )
        ).first()
    parts["the current plan"] = "" if plan is None else f"{plan.id}@{plan.saved_at}"
    return parts


def revision_key(parts: dict[str, str]) -> str:
    """One short key for a revision."""
    text = "|".join(f"{k}={v}" for k, v in sorted(parts.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def what_changed(before: dict[str, str], now: dict[str, str]) -> list[str]:
    """The names of the parts that differ between two revisions."""
    return [name for name in now if before.get(name) != now[name]]


# ------------------------------------------------------------------------ snapshot


@dataclass
class Snapshot:
    """The caseload and the current plan at one revision, with the lookups pages need."""

    revision: dict[str, str]
    scenario: Scenario
    plan: Plan | None
    _due_cache: dict[date, tuple[ChildDue, ...]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def key(self) -> str:
        """The revision key."""
        return revision_key(self.revision)

    @cached_property
    def pack(self) -> Pack:
        """The authority's policy pack."""
        return load_pack(self.scenario.authority.id)

    @cached_property
    def rule_titles(self) -> dict[str, str]:
        """Rule id -> the pack's readable title."""
        return {r.id: r.title for r in self.pack.rules}

    @cached_property
    def workers(self) -> dict[str, Worker]:
        """Workers by id."""
        return {w.id: w for w in self.scenario.workers}

    @cached_property
    def households(self) -> dict[str, Household]:
        """Households by id."""
        return {h.id: h for h in self.scenario.households}

    @cached_property
    def children(self) -> dict[str, Child]:
        """Children by id."""
        return {c.id: c for c in self.scenario.children}

    @cached_property
    def team_names(self) -> dict[str, str]:
        """Team id -> name, in loaded order."""
        return {t.id: t.name for t in self.scenario.teams}

    @cached_property
    def visits(self) -> dict[str, Visit]:
        """The current plan's visits by id."""
        return {v.id: v for v in self.plan.visits} if self.plan else {}

    @cached_property
    def records_by_visit(self) -> dict[str, list[VisitRecord]]:
        """Visit records by the planned visit they record."""
        out: dict[str, list[VisitRecord]] = defaultdict(list)
        for record in self.scenario.records:
            if record.visit_id:
                out[record.visit_id].append(record)
        return out

    @cached_property
    def records_by_child(self) -> dict[str, list[VisitRecord]]:
        """Visit records by child, oldest first."""
        out: dict[str, list[VisitRecord]] = defaultdict(list)
        for record in sorted(self.scenario.records, key=lambda r: (r.on, r.start or 0)):
            out[record.child_id].append(record)
        return out

    @cached_property
    def planned_days(self) -> dict[str, list[date]]:
        """Child id -> the days of the plan's planned visits covering them, in order."""
        out: dict[str, list[date]] = defaultdict(list)
        for visit in self.plan.visits if self.plan else ():
            if visit.status == "planned":
                for child_id in visit.child_ids:
                    out[child_id].append(visit.day)
        return {k: sorted(v) for k, v in out.items()}

    @cached_property
    def breaches_by_child(self) -> dict[str, list[str]]:
        """Child id -> the plan's breach reasons for them."""
        out: dict[str, list[str]] = defaultdict(list)
        for breach in self.plan.breaches if self.plan else ():
            title = self.rule_titles.get(breach.rule_id, breach.rule_id)
            out[breach.child_id].append(f"{title} (due {breach.due:%d %b}): {breach.reason}")
        return out

    @cached_property
    def plan_check(self) -> CheckReport:
        """The checker's verdict on the current plan (computed once per revision)."""
        if self.plan is None:
            raise PlanError("no plan in the store")
        return check_plan(self.scenario, self.plan, self.pack)

    def team_of(self, visit: Visit) -> str | None:
        """The team whose patch the visited household is in."""
        home = self.households.get(visit.household_id)
        return home.team_id if home else None

    def team_children(self, team_id: str | None) -> list[Child]:
        """Children with a home in the team's patch (all children when `team_id` is None)."""
        if team_id is None:
            return list(self.scenario.children)
        homes = {h.id for h in self.scenario.households if h.team_id == team_id}
        return [c for c in self.scenario.children if homes.intersection(c.household_ids)]

    def due(self, as_of: date) -> tuple[ChildDue, ...]:
        """Every child's requirements as of `as_of`, overdue first (computed once)."""
        with self._lock:
            if as_of not in self._due_cache:
                self._due_cache[as_of] = scenario_due(self.scenario, as_of)
            return self._due_cache[as_of]

    def due_for(self, children: Sequence[Child], as_of: date) -> tuple[ChildDue, ...]:
        """Some children's requirements as of `as_of`, overdue first."""
        with self._lock:
            if as_of in self._due_cache:
                wanted = {c.id for c in children}
                return tuple(r for r in self._due_cache[as_of] if r.child_id in wanted)
        return service.children_due(self.scenario, [c.id for c in children], as_of)


class SnapshotCache:
    """The latest snapshot, rebuilt only when the store's revision changes."""

    def __init__(self, store: Store) -> None:
        """Cache snapshots of `store`."""
        self.store = store
        self._lock = threading.Lock()
        self._latest: Snapshot | None = None

    def get(self) -> Snapshot:
        """The snapshot at the store's current revision."""
        revision = store_revision(self.store)
        with self._lock:
            if self._latest is not None and self._latest.revision == revision:
                return self._latest
            snapshot = Snapshot(revision, self.store.read_scenario(), self.store.current_plan())
            self._latest = snapshot
            return snapshot


# ------------------------------------------------------------------- visit states


def visit_state(snapshot: Snapshot, visit: Visit, today: date) -> VisitState:
    """Stand-in for issue 9's visit states: recorded outcome, awaiting outcome or planned.

    A planned visit whose day has passed with no record is awaiting its outcome, never done.
    """
    if visit.status == "cancelled":
        return "cancelled"
    records = snapshot.records_by_visit.get(visit.id, ())
    if records:
        outcomes = {r.outcome for r in records}
        if "completed" in outcomes:
            return "completed"
        return "failed" if "failed" in outcomes else "not seen"
    if visit.day < today:
        return "awaiting outcome"
    return "planned"


def is_at_risk(visit: Visit) -> bool:
    """True when the visit meets a deadline on its last day or late: if it fails, there is
    no day left to retry before the deadline."""
    return any(r.slack_days <= 0 for r in visit.reasons)


# ------------------------------------------------------------------------ outcomes


def record_visit(store: Store, visit_id: str, outcome: str, by: str, **facts: bool) -> int:
    """Record one visit's outcome for every child it covered (service.record_outcome).

    Returns how many records were written.

    Raises:
        NotFoundError: no such visit in the current plan.
    """
    records = service.record_outcome(store, visit_id, outcome, **facts)
    audit(by, f"recorded {outcome}", visit_id)
    return len(records)


def record_rest_completed(store: Store, visit_ids: Sequence[str], by: str) -> int:
    """Stand-in for `record --day DATE --completed`: every listed awaiting visit completed.

    Returns how many visits were recorded.
    """
    for visit_id in visit_ids:
        service.record_outcome(store, visit_id, "completed")
    audit(by, f"recorded {len(visit_ids)} visit(s) completed", ",".join(visit_ids))
    return len(visit_ids)


# ------------------------------------------------------------------ compliance


def due_state(snapshot: Snapshot, row: ChildDue, as_of: date) -> DueState:
    """Where a child stands: overdue, at risk (the plan reports a breach), planned in
    time, or due after the plan."""
    if row.overdue_days > 0:
        return "overdue"
    if row.child_id in snapshot.breaches_by_child:
        return "at risk"
    if row.next_due is not None:
        days = snapshot.planned_days.get(row.child_id, ())
        if any(as_of <= day <= row.next_due for day in days):
            return "planned"
    return "due later"


# ------------------------------------------------------------------- re-planning


def apply_replan(
    store: Store, report: ReplanReport, revision: dict[str, str], now: datetime, by: str
) -> None:
    """Store a previewed re-plan, unless the store changed since the preview.

    Raises:
        StaleProposalError: anything the plan was computed from changed; nothing is written.
    """
    changed = what_changed(revision, store_revision(store))
    if changed:
        raise StaleProposalError(changed)
    store.save_plan(report.plan, now)
    audit(by, "applied a re-plan", report.plan.id)


# ------------------------------------------------------------------ hand changes


@dataclass(frozen=True)
class Verdict:
    """The checker's verdict on a hand change: hard reasons refuse it, warnings inform."""

    visit: Visit
    hard: tuple[str, ...]
    warnings: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True when nothing hard is broken."""
        return not self.hard


def moved_visit(snapshot: Snapshot, visit_id: str, start: datetime, worker_id: str | None) -> Visit:
    """The visit at a new start (and worker), or NotFoundError."""
    visit = snapshot.visits.get(visit_id)
    if visit is None or visit.status != "planned":
        raise NotFoundError(f"no planned visit {visit_id!r} in the current plan")
    if worker_id is not None and worker_id not in snapshot.workers:
        raise NotFoundError(f"unknown worker {worker_id!r}")
    update: dict[str, object] = {"start": start}
    if worker_id:
        update["worker_id"] = worker_id
    return visit.model_copy(update=update)


def judge_move(snapshot: Snapshot, moved: Visit) -> Verdict:
    """Stand-in for issue 10's `visit move` verdict: the checker on the plan with the move.

    Hard violations the move causes (those about this visit or its worker's day, and
    deadlines it newly leaves unmet) refuse it; anything already wrong before is not its fault.
    """
    plan = snapshot.plan
    if plan is None:
        raise PlanError("no plan in the store")
    after = plan.model_copy(
        update={"visits": tuple(moved if v.id == moved.id else v for v in plan.visits)}
    )
    before_report = snapshot.plan_check
    after_report = check_plan(snapshot.scenario, after, snapshot.pack)
    old = {(v.code, v.message) for v in before_report.violations}
    new = [v for v in after_report.violations if (v.code, v.message) not in old]
    hard = tuple(v.message for v in new if v.hard)
    warnings = tuple(v.message for v in new if not v.hard)
    return Verdict(moved, hard, warnings)


def save_move(store: Store, snapshot: Snapshot, verdict: Verdict, now: datetime, by: str) -> None:
    """Store a moved visit in the current plan, refusing a move that breaks a hard rule.

    Raises:
        MoveRefusedError: the checker found a hard rule broken.
        StaleProposalError: the plan changed since the verdict was given.
    """
    if not verdict.ok:
        raise MoveRefusedError(verdict.hard)
    changed = what_changed(snapshot.revision, store_revision(store))
    if changed:
        raise StaleProposalError(changed)
    assert snapshot.plan is not None
    visits = tuple(verdict.visit if v.id == verdict.visit.id else v for v in snapshot.plan.visits)
    store.save_plan(snapshot.plan.model_copy(update={"visits": visits}), now)
    audit(
        by,
        f"moved to {verdict.visit.start:%Y-%m-%d %H:%M} ({verdict.visit.worker_id})",
        verdict.visit.id,
    )


PIN_AVAILABLE = False
"""Pins need issue 10's `visit pin` (a pinned flag re-plans keep); until it lands the desk
says so rather than keep pins it cannot honour."""


# ---------------------------------------------------------------------- audit


def audit(by: str, action: str, subject: str) -> None:
    """Stand-in for issue 10's audit table: who did what to which ids, in the server log.

    Ids only: never a child's name, date of birth or address.
    """
    log.info("audit: %s %s %s", by, action, subject)


def week_days(start: date, days: int = 7) -> list[date]:
    """`days` consecutive dates from `start`."""
    return [start + timedelta(days=i) for i in range(days)]


Clock = Callable[[], datetime]
