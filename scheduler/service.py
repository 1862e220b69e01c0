"""Orchestration: one function per user job, wiring packs, the store and the engines.

The command line and the web desk are front doors on these functions: they read the clock and
the user, and pass `today`, `now` and `by` in.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from pydantic import Field, computed_field

from policies import (
    Category,
    ChildFacts,
    Contact,
    Due,
    Event,
    Flag,
    IntervalRule,
    Pack,
    PlacementType,
    PolicyModel,
    Severity,
    applicable_rules,
    due_dates,
    load_pack,
    pack_ids,
)
from scheduler.caseload import add_child, child_history, child_named, close_child, edit_child
from scheduler.domain import (
    Absence,
    BusyTime,
    DomainModel,
    Plan,
    PlanFrequency,
    Scenario,
    Visit,
    VisitRecord,
    Worker,
)
from scheduler.due import calendar_for
from scheduler.due_kept import DueKeeper
from scheduler.errors import InputError, InputProblem, PlanError, StoreError
from scheduler.moves import move_visit, set_pinned
from scheduler.outcomes import as_planned, by_visit, not_made, visit_state
from scheduler.recording import import_outcomes, record_day, record_outcome
from scheduler.replan import VisitChange
from scheduler.reports import (
    DueReport,
    PlanView,
    WorkerRow,
    due_rows,
    filter_report,
    plan_rows,
    worker_rows,
)
from scheduler.store import MergeReport, Store
from scheduler.textfile import CsvRow, read_csv

__all__ = [
    "DeskChild",
    "DueDateAnswer",
    "DueReport",
    "PlanResult",
    "PlanView",
    "add_absences",
    "add_child",
    "apply_replan",
    "calculate_due_dates",
    "check",
    "check_current",
    "child_history",
    "child_named",
    "close_child",
    "due_report",
    "edit_child",
    "import_csv_dir",
    "import_outcomes",
    "list_packs",
    "load_scenario_file",
    "move_visit",
    "plan_caseload",
    "plan_store",
    "plan_view",
    "propose_replan",
    "read_absence_rows",
    "read_absences_csv",
    "record_day",
    "record_outcome",
    "replan_caseload",
    "set_pinned",
    "workers_list",
]

if TYPE_CHECKING:
    from scheduler.check import CheckReport
    from scheduler.domain import ChildDue
    from scheduler.extracts.importing import ImportReport, Kind
    from scheduler.replan import ReplanReport
    from solver import SolveParams


class DueDateRequirement(PolicyModel):
    """One requirement in the calculator's answer; `rule` is the pack rule's id."""

    rule: str = Field(description="The pack rule's id.")
    title: str = Field(description="The rule's title.")
    kind: str = Field(description="Rule kind (interval, first_visit, retry ...).")
    due: date = Field(description="Latest date the requirement is met on time.")
    window: str = Field(description="The rule's window in words.")
    last: date | None = Field(default=None, description="When the clock last reset.")
    clock: str | None = Field(default=None, description="seen, home, unannounced, each_home.")
    count: int | None = Field(default=None, description="Visits still needed this month.")
    avoid_part_of_day: str | None = Field(default=None, description="Retry at another time.")
    severity: Severity = Field(default="statutory", description="statutory or practice.")
    home: str | None = Field(default=None, description="first-home or second-home (shared care).")

    @classmethod
    def of(cls, due: Due) -> DueDateRequirement:
        """The engine's `Due` under the names of the command-line contract."""
        return cls(
            rule=due.rule_id,
            title=due.title,
            kind=due.kind,
            due=due.due,
            window=due.window,
            last=due.last,
            clock=due.clock,
            count=due.count,
            avoid_part_of_day=due.avoid_part_of_day,
            severity=due.severity,
            home=due.home_id,
        )


class DueDateAnswer(PolicyModel):
    """The one-off calculator's answer (`visitplan due-date --json`)."""

    authority: str
    category: Category
    requirements: tuple[DueDateRequirement, ...] = Field(default=())
    next_due: date | None = None
    uncounted: tuple[str, ...] = Field(
        default=(),
        description="Rules that apply but have no date to count from (no visit, no start).",
    )


def list_packs() -> list[Pack]:
    """Every shipped policy pack, resolved."""
    return [load_pack(pack_id) for pack_id in pack_ids()]


def due_report(
    store: Store,
    as_of: date,
    *,
    team: str | None = None,
    worker: str | None = None,
    category: str | None = None,
    state: str | None = None,
) -> DueReport:
    """Every matching child's state and requirements as of `as_of`, most urgent first.

    When the desk has kept the authority-wide report in the store at this very revision and
    day, with the same code and pack (`due_kept`), that report is read and filtered instead of
    working every child out again (the same rows: `reports.filter_report`).

    Raises:
        InputError: an unknown team or worker.
    """
    revision, scenario, plan = store.snapshot()
    _check_filters(scenario, team, worker)
    kept = DueKeeper(store).load(revision, as_of, load_pack(scenario.authority.id))
    if kept is not None:
        return filter_report(kept, team=team, worker=worker, category=category, state=state)
    return due_rows(
        scenario,
        plan,
        by_visit(scenario.records),
        as_of,
        team=team,
        worker=worker,
        category=category,
        state=state,
    )


def _check_filters(scenario: Scenario, team: str | None, worker: str | None) -> None:
    problems = []
    if team is not None and team not in {t.id for t in scenario.teams}:
        problems.append(InputProblem("command line", None, "--team", "a known team id", team))
    if worker is not None and worker not in {w.id for w in scenario.workers}:
        problems.append(
            InputProblem("command line", None, "--worker", "a current worker id", worker)
        )
    if problems:
        raise InputError(problems)


def plan_view(
    store: Store,
    today: date,
    *,
    team: str | None = None,
    worker: str | None = None,
    day: date | None = None,
) -> PlanView:
    """The current plan's visits with their states, names and rule titles.

    Raises:
        PlanError: no current plan.
        InputError: an unknown team or worker.
    """
    _revision, scenario, plan = store.snapshot()
    if plan is None:
        raise PlanError("no plan in the store: run `visitplan plan` first")
    scenario = with_leavers(scenario, plan, store.left_workers())  # their names and visits
    _check_filters(scenario, team, worker)
    closed = store.closed_case_refs()
    records = by_visit(scenario.records)
    # The scenario holds open children's records only: a visit naming a closed child takes
    # its state from all of its records.
    records.update(
        store.records_for_visits([v.id for v in plan.visits if set(v.child_ids) & set(closed)])
    )
    return plan_rows(
        scenario, plan, records, today, team=team, worker=worker, day=day, closed=closed
    )


def workers_list(
    store: Store, today: date, *, team: str | None = None, left: bool = False
) -> tuple[WorkerRow, ...]:
    """The workers (of one team, or all) with caseload sizes and today's absences; with
    `left`, the workers who have left instead, each with the day they left.

    Raises:
        InputError: an unknown team.
    """
    scenario = store.read_scenario()
    _check_filters(scenario, team, None)
    return worker_rows(scenario, today, team, store.left_workers() if left else None)


FIRST_HOME, SECOND_HOME = "first-home", "second-home"
"""The two homes of a shared-care child described at the desk."""


class DeskChild(PolicyModel):
    """One child described at the desk (`visitplan due-date`): the facts the seeds need."""

    category: Category
    placement_type: PlacementType | None = None
    birth_date: date | None = None
    flags: tuple[Flag, ...] = ()
    events: dict[Event, date] = Field(default_factory=dict)
    last_visit: date | None = Field(default=None, description="Last seen (at the first home).")
    last_home_visit: date | None = Field(default=None, description="Last seen at home.")
    last_unannounced: date | None = None
    second_home_last_visit: date | None = Field(
        default=None, description="Shared care: last seen at the second home."
    )
    shared_care: bool = Field(default=False, description="The child lives in two homes.")
    failed_on: date | None = None
    failed_at: time | None = Field(default=None, description="Start of the failed visit.")
    frequency: PlanFrequency | None = None

    def facts(self) -> ChildFacts:
        """The policy engine's view of the child."""
        overrides = () if self.frequency is None else (self.frequency.override(),)
        shared = self.shared_care or self.second_home_last_visit is not None
        return ChildFacts(
            category=self.category,
            placement_type=self.placement_type,
            birth_date=self.birth_date,
            events=self.events,
            flags=self.flags,
            overrides=overrides,
            homes=(FIRST_HOME, SECOND_HOME) if shared else (),
        )

    def contacts(self) -> list[Contact]:
        """The visits described: the last visit is at the first home unless `last_home_visit`
        says otherwise, and announced unless it is also the last unannounced visit."""
        home = FIRST_HOME if self.facts().homes else None
        out: list[Contact] = []
        last, at_home_last = self.last_visit, self.last_home_visit
        if last is not None:
            at_home = at_home_last is None or at_home_last == last
            out.append(
                Contact(
                    on=last,
                    at_home=at_home,
                    home_id=home if at_home else None,
                    announced=last != self.last_unannounced,
                )
            )
        if at_home_last is not None and at_home_last != last:
            out.append(Contact(on=at_home_last, at_home=True, home_id=home))
        unannounced = self.last_unannounced
        if unannounced is not None and unannounced not in (last, at_home_last):
            out.append(Contact(on=unannounced, announced=False, home_id=home))
        if self.second_home_last_visit is not None:
            out.append(Contact(on=self.second_home_last_visit, home_id=SECOND_HOME))
        if self.failed_on is not None:
            out.append(Contact(on=self.failed_on, outcome="failed", start=self.failed_at))
        return out


def calculate_due_dates(authority: str, child: DeskChild, as_of: date) -> DueDateAnswer:
    """Due dates for one child described at the desk, rule by rule.

    Raises:
        PackNotFoundError: unknown authority.
        OverrideError: the plan's frequency cannot apply (never for `eng_plan_frequency`).
    """
    pack = load_pack(authority)
    category = child.category
    facts = child.facts()
    requirements = due_dates(pack, facts, child.contacts(), calendar_for(pack), as_of)
    counted = {r.rule_id for r in requirements}
    return DueDateAnswer(
        authority=authority,
        category=category,
        requirements=tuple(DueDateRequirement.of(r) for r in requirements),
        next_due=min((r.due for r in requirements), default=None),
        uncounted=tuple(
            rule.id
            for rule in applicable_rules(pack, facts, as_of)
            if isinstance(rule, IntervalRule) and rule.id not in counted
        ),
    )


def load_scenario_file(
    store: Store,
    path: Path,
    *,
    replace: bool = False,
    by: str = "system",
    now: datetime | None = None,
) -> MergeReport:
    """Validate a scenario file and load it into the store, all or nothing.

    A store that already holds a caseload is refused unless `replace`; a replacing load
    closes children the file lacks and never drops visit records (history is kept).

    Raises:
        InputError: the file is invalid, or the store has a caseload and `replace` is False;
            nothing is written.
    """
    from scheduler.scenario_io import read_scenario

    scenario = read_scenario(path)
    if store.has_caseload() and not replace:
        raise InputError(
            [
                InputProblem(
                    path.name,
                    None,
                    "store",
                    "an empty store (or --replace to replace its caseload, keeping history)",
                    "a store that already holds a caseload",
                )
            ]
        )
    return store.replace_caseload(scenario, by=by, now=now)


def import_csv_dir(
    store: Store,
    directory: Path,
    authority: str,
    as_of: date,
    *,
    allow_shrink: bool = False,
    by: str = "system",
    now: datetime | None = None,
) -> MergeReport:
    """Merge case-system CSV exports into the store, all or nothing.

    Children in the export are added or updated; open children it lacks are closed (history
    kept). An export that would close more than 10% of open children is refused unless
    `allow_shrink` (a header-only file must not wipe the caseload).

    Raises:
        InputError: any file is invalid, or the export shrinks the caseload too far.
    """
    from scheduler.importer import read_csv_dir

    scenario = read_csv_dir(directory, authority, as_of)
    return store.merge_caseload(
        scenario,
        source=f"the export in {directory.name}",
        allow_shrink=allow_shrink,
        by=by,
        now=now,
    )


def import_extract(
    store: Store, kind: Kind, path: Path, authority: str, as_of: date, **options: Any
) -> ImportReport:
    """Import an Annex A workbook or an SSD extract, all or nothing (scheduler.extracts).

    `options` are `scheduler.extracts.importing.import_extract`'s keywords, checked there.

    Raises:
        InputError: every problem in the extract; nothing is written.
        StoreError: the import would close too many children without `allow_shrink`.
    """
    from scheduler.extracts.importing import import_extract as run

    return run(store, kind, path, authority, as_of, **options)


def counts(scenario: object) -> dict[str, int]:
    """How many of each thing a scenario holds."""
    names = ("teams", "workers", "households", "children", "absences", "records")
    return {name: len(getattr(scenario, name)) for name in names}


def plan_caseload(
    scenario: Scenario,
    start: date,
    weeks: int,
    params: SolveParams,
    progress: Callable[[str], None] | None = None,
    processes: int | None = None,
    not_before: datetime | None = None,
) -> Plan:
    """Plan `weeks` from `start` for a scenario with the CP-SAT planner, team groups in
    `processes` processes (default: the machine's cores), placing nothing before
    `not_before` (aware: the moment the plan is made).

    A plan asked for from a day already gone starts on the moment's day instead and ends
    where asked: days gone are history (their recorded outcomes count), not days to plan."""
    from scheduler.planning import plan_scenario

    first = _first_day(scenario, start, not_before)
    days = None if first == start else (start + timedelta(weeks=weeks) - first).days
    return plan_scenario(
        scenario,
        first,
        weeks=weeks,
        params=params,
        progress=progress,
        processes=processes,
        not_before=not_before,
        days=days,
    )


class PlanResult(DomainModel):
    """A plan stored as the current one, and the plan it replaced."""

    plan: Plan
    replaced: str | None = Field(default=None, description="Id of the plan it replaced.")
    revision: int = Field(description="The store revision after saving.")
    published_until: date | None = Field(
        default=None,
        description="Last day of the replaced plan's visits this plan kept (re-planned as "
        "`replan` does); None when it overlapped none.",
    )
    changes: tuple[VisitChange, ...] = Field(
        default=(),
        description="Changes to published visits in those days, each with its reason, as "
        "`replan` gives them.",
    )
    dropped: int = Field(
        default=0,
        description="Visits of the replaced plan still to be made after this plan's last day: "
        "no longer planned, so the next publish cancels them on workers' calendars.",
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def published_changes(self) -> int:
        """Published visits in those days that the plan changed."""
        return len(self.changes)


def plan_store(
    store: Store,
    start: date,
    weeks: int,
    params: SolveParams,
    *,
    progress: Callable[[str], None] | None = None,
    by: str = "system",
    now: datetime,
    processes: int | None = None,
    not_before: datetime | None = None,
    fresh: bool = False,
    busy: Sequence[BusyTime] = (),
) -> PlanResult:
    """Plan the stored caseload and make it the current plan, if the store is unchanged;
    nothing is placed before `not_before` (the moment, for a plan starting before it).

    Days the current plan covers keep their published visits, re-planned only where they
    must change (`replan`'s rules), and the days after are planned afresh
    (docs/replanning.md); with `fresh`, every day is planned afresh. `busy` adds workers'
    commitments the store does not hold (read from their calendars) to the caseload's.

    Raises:
        StaleError: the store changed while planning (the changes are listed).
    """
    revision, scenario, current = store.snapshot()
    scenario = scenario.with_busy(busy)
    first = _first_day(scenario, start, not_before)
    end = start + timedelta(weeks=weeks, days=-1)
    kept_until: date | None = None
    changes: tuple[VisitChange, ...] = ()
    if not fresh and current is not None and current.start <= first <= current.end:
        # Days already published are re-planned, not planned afresh (docs/replanning.md).
        from scheduler.rolling import extend_kept

        say = progress or (lambda _message: None)
        say(
            f"keeping the visits already published from {first:%a %d %b} to "
            f"{min(end, current.end):%a %d %b} (re-planned around any change)"
        )
        report = propose_replan(
            store,
            params,
            today=first,
            from_date=first,
            progress=progress,
            processes=processes,
            now=not_before,
            busy=busy,
        )
        if end > current.end:
            say(f"planning {current.end + timedelta(days=1):%a %d %b} to {end:%a %d %b}")
        leavers = store.left_workers()
        # What the re-plan assumed made (awaiting visits before its first day that their
        # workers could make) is assumed made for the days after it too.
        gone = not_made(current.visits, left_days(leavers), scenario.absences)
        assumed = [
            v
            for v in report.plan.visits
            if v.day < first and v.status == "awaiting" and v.id not in gone
        ]
        plan = extend_kept(
            scenario,
            report.plan,
            end,
            weeks,
            params,
            progress=progress,
            processes=processes,
            left={w.id: w.role for w, _on in leavers},
            assumed=assumed,
        )
        kept_until = min(end, current.end)
        changes = tuple(c for c in report.changes if _on_or_before(c, kept_until))
    else:
        plan = plan_caseload(scenario, start, weeks, params, progress, processes, not_before)
    plan = plan.model_copy(update={"revision": revision})
    saved = store.save_plan(plan, now, by=by, expected_revision=revision)
    later = current.visits if current is not None else ()
    return PlanResult(
        plan=plan,
        replaced=current.id if current else None,
        revision=saved,
        published_until=kept_until,
        changes=changes,
        dropped=sum(1 for v in later if v.day > plan.end and v.status == "planned"),
    )


def _on_or_before(change: VisitChange, day: date) -> bool:
    """Whether a re-plan's change touches a published visit on or before `day`."""
    when = change.start_before or change.start_after
    return when is not None and datetime.fromisoformat(when).date() <= day


def _first_day(scenario: Scenario, start: date, not_before: datetime | None) -> date:
    """A plan's first day: `start`, or the moment's day if `start` has gone by."""
    if not_before is None:
        return start
    today = not_before.astimezone(ZoneInfo(scenario.authority.timezone)).date()
    return max(start, today)


def check(scenario: Scenario, plan: Plan) -> CheckReport:
    """The independent checker's verdict on a plan."""
    from scheduler.check import check_plan

    return check_plan(scenario, plan)


def check_current(store: Store) -> tuple[Scenario, CheckReport]:
    """The checker's verdict on the current plan, under the plan's own assumptions.

    Raises:
        PlanError: no current plan.
    """
    _revision, scenario, plan = store.snapshot()
    if plan is None:
        raise PlanError("no plan in the store: run `visitplan plan` first")
    leavers = store.left_workers()
    judged = as_planned(with_leavers(scenario, plan, leavers), plan, left_days(leavers))
    judged_plan = open_children_only(plan, store.closed_case_refs())
    return scenario, check(judged, recorded_as_history(judged_plan, by_visit(scenario.records)))


def left_days(leavers: Sequence[tuple[Worker, date]]) -> dict[str, date]:
    """The day each worker who has left left (the first day they no longer worked), by id."""
    return {w.id: on for w, on in leavers}


def open_children_only(plan: Plan, closed: Collection[str]) -> Plan:
    """The plan with closed children taken off its visits, as `child close` takes them off
    the visits after the closing day; a visit left with no child is cancelled (not judged)."""
    if not closed:
        return plan
    visits = []
    for visit in plan.visits:
        left = tuple(c for c in visit.child_ids if c not in closed)
        if len(left) == len(visit.child_ids):
            visits.append(visit)
        elif left:
            visits.append(visit.model_copy(update={"child_ids": left}))
        else:
            visits.append(visit.model_copy(update={"status": "cancelled"}))
    return plan.model_copy(update={"visits": tuple(visits)})


def recorded_as_history(plan: Plan, records_by_visit: Mapping[str, Sequence[VisitRecord]]) -> Plan:
    """The plan with each visit whose outcome is recorded in its recorded state: the records
    carry it from then on (a not-seen visit must not also count as a visit still to make)."""
    visits = tuple(
        v.model_copy(update={"status": visit_state(v, records_by_visit[v.id], v.day)})
        if v.status == "planned" and records_by_visit.get(v.id)
        else v
        for v in plan.visits
    )
    return plan.model_copy(update={"visits": visits})


def with_leavers(
    scenario: Scenario, plan: Plan, leavers: Sequence[tuple[Worker, date]]
) -> Scenario:
    """The scenario with each worker who has left but still has visits in `plan` back, away
    from the day they left: their visits before it are judged as any other, and any after it
    as a visit of someone away (a re-plan moves it)."""
    named = {w for v in plan.visits for w in (v.worker_id, v.second_worker_id) if w is not None}
    back = [(w, on) for w, on in leavers if w.id in named]
    if not back:
        return scenario
    end = max(plan.end, *(on for _w, on in back))
    return scenario.model_copy(
        update={
            "workers": (*scenario.workers, *(w for w, _on in back)),
            "absences": (
                *scenario.absences,
                *(Absence(worker_id=w.id, start=on, end=end, reason="left") for w, on in back),
            ),
        }
    )


def read_absences_csv(path: Path, workers: set[str]) -> tuple[Absence, ...]:
    """Absences from a CSV file with columns worker_id, start, end[, reason], all or nothing
    (see `read_absence_rows`)."""
    return tuple(absence for _, absence in read_absence_rows(path, workers))


def read_absence_rows(path: Path, workers: set[str]) -> tuple[tuple[int, Absence], ...]:
    """Each row's number (the header is row 1) and absence, from a CSV file with columns
    worker_id, start, end[, reason], all or nothing. Two rows for a worker may not share a day.

    Raises:
        InputError: every bad row, with file, row, field and what was expected.
    """
    table = read_csv(path)
    missing = {"worker_id", "start", "end"} - set(table.columns)
    if missing:
        raise InputError(
            InputProblem(path.name, 1, column, "a column of that name", "missing")
            for column in sorted(missing)
        )
    problems = list(table.problems)
    out: list[tuple[int, Absence]] = []
    for row in table.rows:
        absence = _absence_of(path.name, row, workers, problems)
        if absence is None:
            continue
        clash = next(((n, a) for n, a in out if a.overlaps(absence)), None)
        if clash is not None:
            number, other = clash
            problems.append(
                InputProblem(
                    path.name,
                    row.number,
                    "start",
                    f"days no other row for {absence.worker_id} covers",
                    f"row {number}: {other.start:%a %d %b %Y} to {other.end:%a %d %b %Y}"
                    f" ({other.reason})",
                )
            )
            continue
        out.append((row.number, absence))
    if problems:
        raise InputError(problems)
    return tuple(out)


def _absence_of(
    name: str, row: CsvRow, workers: set[str], problems: list[InputProblem]
) -> Absence | None:
    """One row's absence, or None with its problems added to `problems`."""
    worker = row.get("worker_id")
    if worker not in workers:
        problems.append(InputProblem(name, row.number, "worker_id", "a known worker id", worker))
    days: dict[str, date] = {}
    for field in ("start", "end"):
        try:
            days[field] = date.fromisoformat(row.get(field))
        except ValueError:
            problems.append(
                InputProblem(name, row.number, field, "a date YYYY-MM-DD", row.get(field))
            )
    if len(days) < 2:
        return None
    if days["end"] < days["start"]:
        problems.append(
            InputProblem(name, row.number, "end", "a date on or after start", str(days["end"]))
        )
        return None
    if worker not in workers:
        return None
    reason = row.get("reason") or "leave"
    return Absence(worker_id=worker, start=days["start"], end=days["end"], reason=reason)


def add_absences(
    store: Store,
    absences: Sequence[Absence],
    *,
    by: str = "system",
    now: datetime | None = None,
    source: str = "absence",
    field: str = "start",
    rows: Sequence[int | None] = (),
) -> tuple[Absence, ...]:
    """Record absences in one transaction; returns those added (the others were recorded
    already, exactly so). An absence never replaces another: one with a day in common with
    another absence of the worker is refused, naming that one (remove it first). `source`,
    `field` and `rows` say where each absence came from, for the refusal.

    Raises:
        NotFoundError: an unknown worker; nothing is written.
        InputError: an absence overlaps another; nothing is written.
    """
    return store.add_absences(absences, by=by, now=now, source=source, field=field, rows=rows)


def propose_replan(
    store: Store,
    params: SolveParams,
    *,
    today: date,
    from_date: date | None = None,
    assume_missed: bool = False,
    progress: Callable[[str], None] | None = None,
    processes: int | None = None,
    now: datetime | None = None,
    teams: Collection[str] | None = None,
    busy: Sequence[BusyTime] = (),
) -> ReplanReport:
    """A least-disruption re-plan of the current plan, computed from the store as it is now.

    Starts at `from_date`, or the later of `today` and the plan's start. Visits before it
    with no recorded outcome are planned as made (or as missed with `assume_missed`). The
    proposal's plan carries the store revision it was made from (see `apply_replan`). With
    `now` (the clock, aware), nothing new is placed before it (a visit published earlier
    today stays as it was, or moves to a time still ahead), and the report names any visit
    it places earlier than now all the same (`before_now`; none is expected). With `teams`
    (a manager's own), only their team groups change; every other team's published visits
    stay as they are, its pending changes left to its own manager's re-plan. `busy` adds
    workers' commitments read from their calendars: a published visit they now clash with
    is moved.

    Raises:
        PlanError: there is no current plan, or the re-plan would start before its first
            day or after its last.
        InputError: a team of `teams` is not one of the authority's.
    """
    from scheduler.replan import cp_sat_planner, placed_before, replan

    revision, scenario, current = store.snapshot()
    scenario = scenario.with_busy(busy)
    if current is None:
        raise PlanError("no plan in the store: run `visitplan plan` first")
    known = {t.id for t in scenario.teams}
    unknown = [t for t in teams or () if t not in known]
    if unknown:
        raise InputError(
            [InputProblem("command line", None, "--team", "a known team id", t) for t in unknown]
        )
    start = from_date or max(today, current.start)
    if start < current.start:
        monday = today - timedelta(days=today.weekday())
        way = (
            f"to plan from {start:%a %d %b %Y}, run `visitplan plan --start {start}`"
            if start >= monday
            else f"{start:%a %d %b %Y} is in a week that has passed"
        )
        raise PlanError(
            f"a re-plan starts on or after the plan's first day ({current.start:%a %d %b %Y}); "
            + way
        )
    if start > current.end:
        # Nothing published to keep: a one-day "re-plan" there would take every visit before
        # it as made and store a plan of that day alone.
        raise PlanError(
            f"the current plan ends on {current.end:%a %d %b %Y}, before {start:%a %d %b %Y}: "
            + _plan_from(start, today)
        )
    # Only changed teams are solved, so each gets the per-team limit, not a share of a budget
    # sized for every team.
    solve_params = params.model_copy(update={"budget_s": None})
    planner = cp_sat_planner(solve_params, progress, processes, not_before=now, only=teams)
    leavers = store.left_workers()
    left = {w.id: w.role for w, _on in leavers}
    held = _unmade(
        current, start, by_visit(scenario.records), left_days(leavers), scenario.absences
    )
    # Held out as cancelled, the re-plan neither assumes them made nor counts them awaiting.
    shown = current.model_copy(
        update={
            "visits": tuple(
                v.model_copy(update={"status": "cancelled"}) if v.id in held else v
                for v in current.visits
            )
        }
    )
    report = replan(scenario, shown, start, planner, assume_missed, left, teams)
    visits = tuple(held.get(v.id, v) for v in report.plan.visits)
    plan = report.plan.model_copy(update={"revision": revision, "visits": visits})
    late = placed_before(report.changes, now) if now is not None else ()
    return report.model_copy(update={"plan": plan, "before_now": late})


def _plan_from(start: date, today: date) -> str:
    """What to do instead of re-planning from `start`: `plan --start` it, if that would be
    taken (a start `plan` refuses in turn is not suggested)."""
    from scheduler.planning import LOOKAHEAD_WEEKS, check_in_calendar, check_stored_start

    try:
        check_in_calendar(start, 7, LOOKAHEAD_WEEKS)
        check_stored_start(start, today)
    except PlanError as exc:
        return (
            "a re-plan starts on or before the plan's last day, and a new plan from then is "
            f"refused too ({exc})"
        )
    return f"to plan from {start:%a %d %b %Y}, run `visitplan plan --start {start}`"


def _unmade(
    current: Plan,
    start: date,
    records_by_visit: Mapping[str, Sequence[VisitRecord]],
    left_on: Mapping[str, date],
    absences: Sequence[Absence],
) -> dict[str, Visit]:
    """The visits before `start` with no outcome that a worker was to lead on or after the
    day they left, or on a day they are recorded away, by id, each awaiting its outcome:
    they did not take place, so a re-plan keeps them (for the record to come) without
    assuming them made."""
    gone = not_made(current.visits, left_on, absences)
    return {
        v.id: v.model_copy(update={"status": "awaiting"})
        for v in current.visits
        if v.id in gone
        and v.day < start
        and v.status != "cancelled"
        and not records_by_visit.get(v.id)
    }


def apply_replan(store: Store, report: ReplanReport, *, by: str = "system", now: datetime) -> int:
    """Make a proposed re-plan the current plan, if the store has not changed since.

    Raises:
        StaleError: the store changed since the proposal (the changes are listed); nothing
            is replaced: make a fresh proposal.
    """
    return store.save_plan(report.plan, now, by=by, expected_revision=report.plan.revision)


def replan_caseload(
    store: Store,
    from_date: date,
    params: SolveParams,
    progress: Callable[[str], None] | None = None,
    apply: bool = False,
    now: datetime | None = None,
    *,
    assume_missed: bool = False,
    by: str = "system",
    processes: int | None = None,
) -> ReplanReport:
    """Propose (and with `apply`, store) a re-plan from `from_date` (see `propose_replan`).

    Raises:
        PlanError: there is no current plan to re-plan.
        StaleError: with `apply`, the store changed while the proposal was made.
    """
    report = propose_replan(
        store,
        params,
        today=from_date,
        from_date=from_date,
        assume_missed=assume_missed,
        progress=progress,
        processes=processes,
        now=now,
    )
    if apply:
        if now is None:
            raise StoreError("applying a re-plan needs the time it is applied")
        apply_replan(store, report, by=by, now=now)
    return report


def solve_params(time_limit_s: float, seed: int) -> SolveParams:
    """Solver settings for the CLI's and the desk's runs: one CP-SAT worker per team,
    deterministic time limits, so the same input and seed give the same plan anywhere."""
    from solver import SolveParams

    return SolveParams(time_limit_s=time_limit_s, seed=seed, num_workers=1, deterministic=True)


def children_due(scenario: Scenario, child_ids: Sequence[str], as_of: date) -> tuple[ChildDue, ...]:
    """Some children's requirements and escalations as of `as_of`, overdue first, without
    working out every other child's (a team's page; a failed visit's retry and escalation)."""
    from scheduler.due import scenario_due

    wanted = set(child_ids)
    subset = scenario.model_copy(
        update={"children": tuple(c for c in scenario.children if c.id in wanted)}
    )
    return scenario_due(subset, as_of)
