"""Stand-ins for service functions the lead is building on main, in one place to swap out.

Each function here is the closest the current `scheduler.service` and store allow to a
function issue 9 or 10 adds (visit states, a whole day's outcomes, the revision check,
visit moves, due filters, the audit history). The desk calls only these names, so wiring
the real service function in is a one-line change per function. Rule: no planning logic of
its own; every write goes through the store's or the service's existing calls.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from policies import Pack, load_pack
from scheduler import service
from scheduler.check import CheckReport, check_plan
from scheduler.domain import (
    Absence,
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
from scheduler.errors import NotFoundError, PlanError, StaleError, VisitplanError

if TYPE_CHECKING:
    from scheduler.replan import ReplanReport
    from scheduler.store import Store

log = logging.getLogger("visitplan.desk")

VisitState = Literal["planned", "awaiting outcome", "completed", "failed", "not seen", "cancelled"]
DueState = Literal["overdue", "at risk", "planned", "due later"]
DUE_STATES: tuple[DueState, ...] = ("overdue", "at risk", "planned", "due later")


class StaleProposalError(VisitplanError):
    """The store changed since a proposal was made; `changed` lists what changed."""

    def __init__(self, changed: Sequence[str]) -> None:
        """Keep what changed; the message says so."""
        self.changed = tuple(changed)
        super().__init__("the plan or the caseload changed since this was worked out")


class MoveRefusedError(VisitplanError):
    """A hand change would break a hard rule; `reasons` says which."""

    def __init__(self, reasons: Sequence[str]) -> None:
        """Keep the reasons; the message joins them."""
        self.reasons = tuple(reasons)
        super().__init__("; ".join(self.reasons))


# ------------------------------------------------------------------ revision check


def changes_since(store: Store, revision: int) -> list[str]:
    """What changed in the store after `revision`, as the audit summarises it (a few lines)."""
    entries = store.changes_since(revision)
    lines = [f"{e.summary()} (by {e.by})" for e in entries[:5]]
    if len(entries) > 5:
        lines.append(f"and {len(entries) - 5} more")
    return lines


# ------------------------------------------------------------------------ snapshot


@dataclass
class Snapshot:
    """The caseload and the current plan at one revision, with the lookups pages need."""

    revision: int
    scenario: Scenario
    plan: Plan | None
    _due_cache: dict[date, tuple[ChildDue, ...]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @cached_property
    def pack(self) -> Pack:
        """The authority's policy pack."""
        return load_pack(self.scenario.authority.id)

    @cached_property
    def tz(self) -> ZoneInfo:
        """The authority's time zone."""
        return ZoneInfo(self.scenario.authority.timezone)

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
            reason = self.readable(breach.reason)
            out[breach.child_id].append(f"{title} (due {breach.due:%d %b}): {reason}")
        return out

    @cached_property
    def plan_check(self) -> CheckReport:
        """The checker's verdict on the current plan (computed once per revision)."""
        if self.plan is None:
            raise PlanError("no plan in the store")
        return check_plan(self.scenario, self.plan, self.pack)

    @cached_property
    def _id_words(self) -> re.Pattern[str]:
        names = {**self.rule_titles, **{w.id: w.name for w in self.scenario.workers}}
        return re.compile("|".join(re.escape(k) for k in sorted(names, key=len, reverse=True)))

    def readable(self, text: str) -> str:
        """`text` with rule ids and worker ids replaced by rule titles and workers' names."""
        names = {**self.rule_titles, **{w.id: w.name for w in self.scenario.workers}}
        return self._id_words.sub(lambda m: names[m.group(0)], text) if names else text

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
        revision = self.store.revision()
        with self._lock:
            if self._latest is not None and self._latest.revision == revision:
                return self._latest
            # Read at a revision no older than `revision`; a write in between only makes the
            # next request rebuild it.
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
    outcomes = {r.outcome for r in records} | (
        {visit.status} if visit.status in ("completed", "failed", "not-seen") else set()
    )
    if "completed" in outcomes:
        return "completed"
    if outcomes:
        return "failed" if "failed" in outcomes else "not seen"
    if visit.day < today:
        return "awaiting outcome"
    return "planned"


def is_at_risk(visit: Visit) -> bool:
    """True when the visit meets a deadline on its last day or late: if it fails, there is
    no day left to retry before the deadline."""
    return any(r.slack_days <= 0 for r in visit.reasons)


# ------------------------------------------------------------------------ outcomes


class _WritingAs:
    """The store, with `by` and `now` on the record writes `service.record_outcome` makes.

    Stand-in until `record_outcome` takes `by` itself (issue 10's `--by`).
    """

    def __init__(self, store: Store, by: str, now: datetime) -> None:
        self._store, self._by, self._now = store, by, now

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)

    def add_record(self, record: VisitRecord) -> None:
        self._store.add_record(record, by=self._by, now=self._now)


def record_visit(
    store: Store, visit_id: str, outcome: str, by: str, now: datetime, **facts: bool
) -> int:
    """Record one visit's outcome for every child it covered (service.record_outcome).

    Returns how many records were written.

    Raises:
        NotFoundError: no such visit in the current plan.
    """
    writer: Any = _WritingAs(store, by, now)
    return len(service.record_outcome(writer, visit_id, outcome, **facts))


def record_rest_completed(store: Store, visit_ids: Sequence[str], by: str, now: datetime) -> int:
    """Stand-in for `record --day DATE --completed`: every listed visit completed.

    Returns how many visits were recorded.
    """
    writer: Any = _WritingAs(store, by, now)
    for visit_id in visit_ids:
        service.record_outcome(writer, visit_id, "completed")
    return len(visit_ids)


def add_absence(store: Store, absence: Absence, by: str, now: datetime) -> None:
    """Record an absence with who recorded it (`service.add_absences` has no `by` yet).

    Raises:
        NotFoundError: the worker is unknown.
    """
    store.add_absences([absence], by=by, now=now)


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


def apply_replan(store: Store, report: ReplanReport, revision: int, now: datetime, by: str) -> None:
    """Store a previewed re-plan, unless the store changed since the preview.

    Uses the store's revision check (`save_plan(expected_revision=...)`).

    Raises:
        StaleProposalError: anything changed since `revision`; nothing is written.
    """
    try:
        store.save_plan(report.plan, now, by=by, expected_revision=revision)
    except StaleError:
        raise StaleProposalError(changes_since(store, revision)) from None


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
    hard = tuple(snapshot.readable(v.message) for v in new if v.hard)
    warnings = tuple(snapshot.readable(v.message) for v in new if not v.hard)
    return Verdict(moved, hard, warnings)


def save_move(store: Store, snapshot: Snapshot, verdict: Verdict, now: datetime, by: str) -> None:
    """Store a moved visit in the current plan, refusing a move that breaks a hard rule.

    Raises:
        MoveRefusedError: the checker found a hard rule broken.
        StaleProposalError: the store changed since the verdict was given.
    """
    if not verdict.ok:
        raise MoveRefusedError(verdict.hard)
    if store.revision() != snapshot.revision:
        raise StaleProposalError(changes_since(store, snapshot.revision))
    moved = verdict.visit
    store.update_visit(
        moved,
        "visit moved",
        by=by,
        now=now,
        to=f"{moved.start.isoformat()}",
        worker=moved.worker_id,
    )


def set_pinned(
    store: Store, snapshot: Snapshot, visit_id: str, pinned: bool, now: datetime, by: str
) -> None:
    """Pin a visit (re-plans keep it where it is) or unpin it.

    Raises:
        NotFoundError: no planned visit of that id.
    """
    visit = snapshot.visits.get(visit_id)
    if visit is None or visit.status != "planned":
        raise NotFoundError(f"no planned visit {visit_id!r} in the current plan")
    store.update_visit(
        visit.model_copy(update={"pinned": pinned}),
        "visit pinned" if pinned else "visit unpinned",
        by=by,
        now=now,
    )


# ---------------------------------------------------------------------- audit


def audit(by: str, action: str, subject: str) -> None:
    """Who did what to which ids, in the server log (the store's audit keeps planning
    changes; this also covers sign-ins, feeds and publishing). Ids only: never a child's
    name, date of birth or address."""
    log.info("audit: %s %s %s", by, action, subject)


def week_days(start: date, days: int = 7) -> list[date]:
    """`days` consecutive dates from `start`."""
    return [start + timedelta(days=i) for i in range(days)]


Clock = Callable[[], datetime]
