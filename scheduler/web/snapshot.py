"""The desk's view of the store: one consistent snapshot per store revision, with lookups.

Rule: read-only and derived. Every state, due date and report comes from the scheduler's own
functions (`outcomes.visit_state`, `reports.due_rows`); this module only keeps their results
for as long as the store's revision is unchanged, and puts managers' words on them.
"""

from __future__ import annotations

import gc
import re
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING, TypeVar, overload
from zoneinfo import ZoneInfo

from policies import Pack, load_pack
from scheduler.domain import Child, Household, Plan, Scenario, Visit, VisitRecord, Worker
from scheduler.due_kept import DueKeeper
from scheduler.gc_pause import paused_gc
from scheduler.outcomes import by_visit, visit_state
from scheduler.reports import DueReport, child_teams, filter_report, id_pattern, rows_from_due
from scheduler.web.due_memory import DueMemory
from scheduler.web.patch import patched
from scheduler.web.refusals import british_days

if TYPE_CHECKING:
    from scheduler.store import Store

T = TypeVar("T")
MEMO_SIZE = 500
"""At most this many page models are kept per revision (then they are all let go)."""
STATE_WORDS = {
    "planned": "planned",
    "awaiting": "awaiting outcome",
    "done": "awaiting outcome",
    "completed": "completed",
    "failed": "failed",
    "not-seen": "not seen",
    "cancelled": "cancelled",
}
"""A visit's state as the desk says it."""
_WORD = re.compile(r"(?<![\w-])\w[\w-]*(?![\w-])")
"""A run of letters, digits, `_` and `-`: a candidate id in a sentence."""
_PADDED_DAY = re.compile(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun) 0(\d) (?=[A-Z][a-z]{2}\b)")
"""A day the planner writes with a leading zero (Tue 01 Dec); the desk writes Tue 1 Dec."""


@dataclass
class Snapshot:
    """The caseload and the current plan at one store revision."""

    revision: int
    scenario: Scenario
    plan: Plan | None
    memory: DueMemory = field(default_factory=DueMemory)
    """Children's due dates kept from earlier revisions (shared by a cache's snapshots)."""
    keeper: DueKeeper | None = None
    """Where the authority-wide report is kept across restarts (None: nowhere)."""
    left: tuple[tuple[Worker, date], ...] = ()
    """Workers who have left, each with the day they left (`Store.left_workers`): shown by
    name on their visits and records, never offered in a form."""
    closed: dict[str, Child] = field(default_factory=dict)
    """Closed children the plan's visits still name (a visit made before the case closed), by
    id, with their records at those visits (`closed_records`): shown by case reference, with
    their outcome, never listed as due (`closed_of`)."""
    closed_records: tuple[VisitRecord, ...] = ()
    _due: dict[tuple[date, str | None], DueReport] = field(default_factory=dict)
    _memo: dict[tuple[object, ...], object] = field(default_factory=dict)
    _tried: set[date] = field(default_factory=set)
    _whole: threading.Lock = field(default_factory=threading.Lock)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def memo(self, key: tuple[object, ...], make: Callable[[], T]) -> T:
        """`make()`, worked out once per key for this revision (a page's model, say)."""
        with self._lock:
            if key in self._memo:
                return self._memo[key]  # type: ignore[return-value]
        value = make()
        with self._lock:
            if len(self._memo) > MEMO_SIZE:
                self._memo.clear()
            self._memo[key] = value
        return value

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
    def everyone(self) -> dict[str, Worker]:
        """Current workers and those who have left, by id: for names, not for choices."""
        return {**{w.id: w for w, _on in self.left}, **self.workers}

    @overload
    def worker_name(self, worker_id: str | None, default: str) -> str: ...

    @overload
    def worker_name(self, worker_id: str | None, default: None = None) -> str | None: ...

    def worker_name(self, worker_id: str | None, default: str | None = None) -> str | None:
        """A worker's name, current or left; `default` when there is no such worker."""
        worker = self.everyone.get(worker_id or "")
        return worker.name if worker is not None else default

    @cached_property
    def left_on(self) -> dict[str, date]:
        """The day each worker who has left left, by id."""
        return {w.id: on for w, on in self.left if w.id not in self.workers}

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

    def child(self, child_id: str) -> Child | None:
        """A child a visit names, open or closed since (None: neither)."""
        return self.children.get(child_id) or self.closed.get(child_id)

    @cached_property
    def records_by_visit(self) -> dict[str, tuple[VisitRecord, ...]]:
        """Visit records by the planned visit they record (closed children's included)."""
        return by_visit((*self.scenario.records, *self.closed_records))

    @cached_property
    def records_by_child(self) -> dict[str, list[VisitRecord]]:
        """Visit records by child, oldest first."""
        out: dict[str, list[VisitRecord]] = defaultdict(list)
        records = (*self.scenario.records, *self.closed_records)
        for record in sorted(records, key=lambda r: (r.on, r.start or 0)):
            out[record.child_id].append(record)
        return out

    @cached_property
    def breaches_by_child(self) -> dict[str, list[str]]:
        """Child id -> the plan's breach reasons for them, in words."""
        out: dict[str, list[str]] = defaultdict(list)
        for breach in self.plan.breaches if self.plan else ():
            title = self.rule_titles.get(breach.rule_id, breach.rule_id)
            reason = self.readable(breach.reason)
            due = f"{breach.due:%a} {breach.due.day} {breach.due:%b}"
            out[breach.child_id].append(f"{title} (due {due}): {reason}")
        return out

    @cached_property
    def _id_pattern(self) -> re.Pattern[str] | None:
        return id_pattern(self._id_words)

    @cached_property
    def _id_words(self) -> dict[str, str]:
        return {**self.rule_titles, **{w.id: w.name for w in self.everyone.values()}}

    @cached_property
    def _thing_words(self) -> dict[str, str]:
        """Team, home, child and visit ids -> what a manager calls them: the team's name, "the
        home in <area>", the case reference, "the visit to <case references>"."""
        words = dict(self.team_names)
        words |= {h.id: f"the home in {h.area}" for h in self.scenario.households}
        words |= {c.id: c.case_ref for c in (*self.scenario.children, *self.closed.values())}
        for visit in self.plan.visits if self.plan else ():
            refs = case_refs(self, visit.child_ids)
            words[visit.id] = f"the visit to {refs}" if refs else "a visit"
        return words

    def readable(self, text: str) -> str:
        """`text` with ids replaced by a manager's words (rule titles, workers' and teams'
        names, case references, homes by area, visits by their children), and dates written
        the British way (Tue 1 Dec 2026, also for the planner's Tue 01 Dec).

        Teams, homes, children and visits are looked up word by word (an id is a run of
        letters, digits, `_` and `-`; one of digits only is left alone, being more likely a
        number than an id): the few rules and workers go through one pattern, as before, but
        an authority's thousands of children and visits would make that pattern slow.
        """
        text = _PADDED_DAY.sub(r"\1 \2 ", british_days(text))
        things = self._thing_words
        text = _WORD.sub(lambda m: m[0] if m[0].isdigit() else things.get(m[0], m[0]), text)
        pattern = self._id_pattern
        return text if pattern is None else pattern.sub(lambda m: self._id_words[m[0]], text)

    def team_of(self, visit: Visit) -> str | None:
        """The team whose patch the visited household is in."""
        home = self.households.get(visit.household_id)
        return home.team_id if home else None

    def state(self, visit: Visit, today: date) -> str:
        """The visit's state on `today` in words (`outcomes.visit_state`)."""
        return STATE_WORDS[visit_state(visit, self.records_by_visit.get(visit.id, ()), today)]

    def due(self, as_of: date, team: str | None = None) -> DueReport:
        """Every child's (or one team's children's) state and requirements as of `as_of`
        (`reports.due_rows`), worked out once per revision, day and team.

        The authority-wide report is read from the store when it was kept there at this
        revision and day by the same code and pack (`DueKeeper`), and kept there when it is
        worked out here. One thread reads or works it out; another asking for it meanwhile
        (the watcher and a page) waits for that one, and a team's page that finds it under
        way works out only its own children.
        """
        key = (as_of, team)
        with self._lock:
            if key in self._due:
                return self._due[key]
            whole = self._due.get((as_of, None))
        if team is None:
            with self._whole:
                return self._whole_report(as_of)
        if whole is None and self.keeper is not None and self._whole.acquire(blocking=False):
            try:
                whole = self._kept(as_of)
            finally:
                self._whole.release()
        report = (
            filter_report(whole, team=team) if whole is not None else self._work_out(as_of, team)
        )
        with self._lock:
            self._due[key] = report
        return report

    def _whole_report(self, as_of: date) -> DueReport:
        """The authority-wide report: already made, kept in the store, or worked out now and
        kept (the caller holds `_whole`)."""
        with self._lock:
            if (as_of, None) in self._due:
                return self._due[(as_of, None)]
        report = self._kept(as_of) if self.keeper is not None else None
        if report is None:
            with bulk():
                report = self._work_out(as_of, None)
            if self.keeper is not None:
                self.keeper.save(self.revision, self.pack, report)
            with self._lock:
                self._due[(as_of, None)] = report
        return report

    def _work_out(self, as_of: date, team: str | None) -> DueReport:
        """The report worked out: the due memory's requirements, then the rows."""
        scenario = self.scenario
        if team is not None:
            teams = child_teams(scenario)
            ours = tuple(c for c in scenario.children if teams.get(c.id) == team)
            scenario = scenario.model_copy(update={"children": ours})
        dues = self.memory.scenario_due(scenario, self.pack, as_of)
        made = self.memory.rows if team is None else None
        with paused_gc():
            return rows_from_due(
                scenario, self.plan, self.records_by_visit, as_of, dues, team=team, made=made
            )

    def _kept(self, as_of: date) -> DueReport | None:
        """The authority-wide report kept in the store at this revision and day (tried once
        per snapshot and day; the caller holds `_whole`); the memory is seeded with its
        children's requirements."""
        with self._lock:
            if (as_of, None) in self._due:
                return self._due[(as_of, None)]
            if as_of in self._tried:
                return None
            self._tried.add(as_of)
        assert self.keeper is not None
        with bulk():
            report = self.keeper.load(self.revision, as_of, self.pack)
        if report is not None:
            self.memory.seed_later(self.scenario, as_of, report.children)
            with self._lock:
                self._due.setdefault((as_of, None), report)
        return report


@contextmanager
def bulk() -> Iterator[None]:
    """Around a bulk read or computation (the store's whole read, the kept rows, every
    child's rows): first collect what is garbage now, then take every object alive at the
    end out of the cycle collector's sight (`gc.freeze`).

    The bulk builds up to a million objects with the collector held off (`gc_pause`); left
    in its youngest generation, the next few collections would scan them all (0.3 CPU s on
    L, paid by whichever page came next). Frozen objects are still freed by reference
    counting when dropped, and a snapshot, its rows and page models hold no reference
    cycles (tested). The collection before is cheap (earlier bulks are frozen, so it scans
    only what came since) and means no cyclic garbage is frozen with the bulk.
    """
    gc.collect()
    try:
        yield
    finally:
        gc.freeze()


OPEN_STATES = ("planned", "awaiting outcome")
"""States in which a visit may still fail: it has not happened, or its outcome is not in."""


def is_at_risk(visit: Visit, state: str = "planned") -> bool:
    """True when the visit meets a deadline on its last day or late, so that if it fails
    there is no day left to retry before the deadline; never once its outcome is recorded
    (`state`, as the desk says it: completed, failed or not seen) or it is cancelled."""
    return state in OPEN_STATES and any(r.slack_days <= 0 for r in visit.reasons)


class SnapshotCache:
    """The latest snapshot, read again when the store's revision changes; one read at a time.

    The common changes are read one by one from the audit (`patch.patched`), anything else
    by reading the whole store; children's due dates are kept across revisions
    (`DueMemory`), so a new revision works out only the children whose inputs changed.
    """

    def __init__(self, store: Store) -> None:
        """Cache snapshots of `store`."""
        self.store = store
        self.memory = DueMemory()
        self.keeper: DueKeeper | None = DueKeeper(store)
        """Where the authority-wide report is kept across restarts (None: not kept)."""
        self._lock = threading.Lock()
        self._reading = threading.Lock()
        self._latest: Snapshot | None = None

    @property
    def latest(self) -> Snapshot | None:
        """The last snapshot read, whatever the store's revision is now."""
        return self._latest

    def get(self) -> Snapshot:
        """The snapshot at the store's current revision (read now if the cache is behind)."""
        revision = self.store.revision()
        latest = self._latest
        if latest is not None and latest.revision == revision:
            return latest
        return self.read()

    def read(self) -> Snapshot:
        """Read the store unless the snapshot is already at its revision. A read under way in
        another thread is waited for, not repeated."""
        with self._reading:
            revision = self.store.revision()
            latest = self._latest
            if latest is not None and latest.revision == revision:
                return latest
            found = None
            if latest is not None:
                found = patched(self.store, latest.revision, latest.scenario, latest.plan)
            if found is None:
                with bulk():
                    found = self.store.snapshot()
            closed, closed_records = closed_of(self.store, found[1], found[2])
            snapshot = Snapshot(
                *found,
                memory=self.memory,
                keeper=self.keeper,
                left=self.store.left_workers(),
                closed=closed,
                closed_records=closed_records,
            )
            with self._lock:
                if self._latest is None or snapshot.revision >= self._latest.revision:
                    self._latest = snapshot
            return snapshot

    def behind(self) -> bool:
        """True when the store has changed since the last snapshot (or none was read)."""
        latest = self._latest
        return latest is None or latest.revision != self.store.revision()

    def drop(self) -> None:
        """Forget the snapshot and the kept due dates (the next page reads everything)."""
        with self._lock:
            self._latest = None
        self.memory = DueMemory()


def closed_of(
    store: Store, scenario: Scenario, plan: Plan | None
) -> tuple[dict[str, Child], tuple[VisitRecord, ...]]:
    """The closed children the plan's visits name, and their records at those visits (two
    small reads, and none at all when no visit names a closed child)."""
    if plan is None:
        return {}, ()
    open_ids = {c.id for c in scenario.children}
    named = {c for v in plan.visits for c in v.child_ids} - open_ids
    if not named:
        return {}, ()
    closed = store.closed_children(named)
    visits = [v.id for v in plan.visits if not closed.keys().isdisjoint(v.child_ids)]
    found = store.records_for_visits(visits) if visits else {}
    return closed, tuple(r for rs in found.values() for r in rs if r.child_id in closed)


def case_refs(snapshot: Snapshot, child_ids: Sequence[str]) -> str:
    """Case references of children, in order (closed children's too)."""
    children = (snapshot.child(c) for c in child_ids)
    return ", ".join(child.case_ref for child in children if child is not None)
