"""Orchestration: one function per user job, wiring packs, the store and the engines."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field

from policies import ChildFacts, Contact, Due, Pack, due_dates, load_pack, pack_ids
from policies.models import Category, Flag, PlacementType, PolicyModel
from scheduler.domain import (
    Absence,
    Child,
    ChildDue,
    DomainModel,
    Household,
    Plan,
    Scenario,
    VisitRecord,
)
from scheduler.due import calendar_for, scenario_due
from scheduler.errors import InputError, InputProblem, NotFoundError, PlanError
from scheduler.store import Store

if TYPE_CHECKING:
    from scheduler.check import CheckReport
    from scheduler.replan import ReplanReport
    from solver.params import SolveParams


class DueReport(DomainModel):
    """Every child's requirements as of a date (`visitplan due --json`)."""

    as_of: date
    authority: str
    children: tuple[ChildDue, ...]


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
        )


class DueDateAnswer(PolicyModel):
    """The one-off calculator's answer (`visitplan due-date --json`)."""

    authority: str
    category: Category
    requirements: tuple[DueDateRequirement, ...] = Field(default=())
    next_due: date | None = None


def list_packs() -> list[Pack]:
    """Every shipped policy pack, resolved."""
    return [load_pack(pack_id) for pack_id in pack_ids()]


def due_report(store: Store, as_of: date) -> DueReport:
    """Every child's requirements in the store as of `as_of`, overdue first."""
    scenario = store.read_scenario()
    return DueReport(
        as_of=as_of, authority=scenario.authority.id, children=scenario_due(scenario, as_of)
    )


def calculate_due_dates(
    authority: str,
    category: Category,
    as_of: date,
    last_visit: date | None = None,
    last_home_visit: date | None = None,
    last_unannounced: date | None = None,
    failed_on: date | None = None,
    placement_type: PlacementType | None = None,
    placement_start: date | None = None,
    referral: date | None = None,
    plan_start: date | None = None,
    birth_date: date | None = None,
    flags: Sequence[Flag] = (),
) -> DueDateAnswer:
    """Due dates for one child described on the command line.

    The last visit is taken to be at home unless `last_home_visit` says otherwise, and
    announced unless it is also the last unannounced visit.

    Raises:
        PackNotFoundError: unknown authority.
    """
    pack = load_pack(authority)
    events = {
        "placement-start": placement_start,
        "referral": referral,
        "plan-start": plan_start,
    }
    facts = ChildFacts(
        category=category,
        placement_type=placement_type,
        birth_date=birth_date,
        events={k: v for k, v in events.items() if v is not None},  # type: ignore[misc]
        flags=tuple(flags),
    )
    contacts: list[Contact] = []
    if last_visit is not None:
        at_home = last_home_visit is None or last_home_visit == last_visit
        contacts.append(
            Contact(on=last_visit, at_home=at_home, announced=last_visit != last_unannounced)
        )
    if last_home_visit is not None and last_home_visit != last_visit:
        contacts.append(Contact(on=last_home_visit, at_home=True))
    if last_unannounced is not None and last_unannounced not in (last_visit, last_home_visit):
        contacts.append(Contact(on=last_unannounced, announced=False))
    if failed_on is not None:
        contacts.append(Contact(on=failed_on, outcome="failed", start=time(10, 0)))
    requirements = due_dates(pack, facts, contacts, calendar_for(pack), as_of)
    return DueDateAnswer(
        authority=authority,
        category=category,
        requirements=tuple(DueDateRequirement.of(r) for r in requirements),
        next_due=min((r.due for r in requirements), default=None),
    )


def record_outcome(
    store: Store,
    visit_id: str,
    outcome: str,
    seen_alone: bool = False,
    bedroom_seen: bool = False,
    seen_awake: bool = False,
    children: Sequence[str] = (),
    on: date | None = None,
) -> tuple[VisitRecord, ...]:
    """Record what happened at a planned visit: one record per child it covered.

    Raises:
        NotFoundError: no such visit in the current plan.
        InputError: a named child is not covered by the visit.
    """
    visit = store.find_visit(visit_id)
    if visit is None:
        raise NotFoundError(f"no visit {visit_id!r} in the current plan (see `visitplan plan`)")
    unknown = [c for c in children if c not in visit.child_ids]
    if unknown:
        raise InputError(
            InputProblem("command line", None, "--child", f"one of {list(visit.child_ids)}", c)
            for c in unknown
        )
    day = on or visit.day
    records = []
    for child_id in visit.child_ids:
        seen = outcome == "completed" and (not children or child_id in children)
        record = VisitRecord(
            id=f"{visit_id}-{child_id}-{day:%Y%m%d}",
            child_id=child_id,
            household_id=visit.household_id,
            on=day,
            start=visit.start.timetz().replace(tzinfo=None),
            worker_id=visit.worker_id,
            outcome="completed" if seen else ("not-seen" if outcome == "completed" else outcome),
            at_home=True,
            announced=visit.announced,
            seen_alone=seen and seen_alone,
            bedroom_seen=seen and bedroom_seen,
            seen_awake=seen and seen_awake,
            visit_id=visit_id,
        )
        store.add_record(record)
        records.append(record)
    return tuple(records)


def load_scenario_file(store: Store, path: Path) -> dict[str, int]:
    """Validate a scenario file and replace the store's caseload with it, all or nothing.

    Raises:
        InputError: the file is invalid; nothing is written.
    """
    from scheduler.scenario_io import read_scenario

    scenario = read_scenario(path)
    store.replace_caseload(scenario)
    return counts(scenario)


def import_csv_dir(store: Store, directory: Path, authority: str, as_of: date) -> dict[str, int]:
    """Import case-system CSV exports into the store, all or nothing.

    Raises:
        InputError: any file is invalid; nothing is written.
    """
    from scheduler.importer import read_csv_dir

    scenario = read_csv_dir(directory, authority, as_of)
    store.replace_caseload(scenario)
    return counts(scenario)


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
) -> Plan:
    """Plan `weeks` from `start` for a scenario with the CP-SAT planner, team groups in
    `processes` processes (default: the machine's cores)."""
    from scheduler.planning import plan_scenario

    return plan_scenario(
        scenario, start, weeks=weeks, params=params, progress=progress, processes=processes
    )


def check(scenario: Scenario, plan: Plan) -> CheckReport:
    """The independent checker's verdict on a plan."""
    from scheduler.check import check_plan

    return check_plan(scenario, plan)


def read_absences_csv(path: Path, workers: set[str]) -> tuple[Absence, ...]:
    """Absences from a CSV file with columns worker_id, start, end[, reason], all or nothing.

    Raises:
        InputError: every bad row, with file, row (header is row 1), field and what was expected.
    """
    import csv

    problems: list[InputProblem] = []
    absences: list[Absence] = []
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        problem = InputProblem(path.name, None, "file", "a readable CSV file", str(exc))
        raise InputError([problem]) from exc
    reader = csv.DictReader(text.splitlines())
    missing = {"worker_id", "start", "end"} - set(reader.fieldnames or ())
    if missing:
        raise InputError(
            InputProblem(path.name, 1, column, "a column of that name", "missing")
            for column in sorted(missing)
        )
    for row_number, row in enumerate(reader, start=2):
        worker = (row.get("worker_id") or "").strip()
        if worker not in workers:
            problems.append(
                InputProblem(path.name, row_number, "worker_id", "a known worker id", worker)
            )
        days: dict[str, date] = {}
        for field in ("start", "end"):
            value = (row.get(field) or "").strip()
            try:
                days[field] = date.fromisoformat(value)
            except ValueError:
                problems.append(
                    InputProblem(path.name, row_number, field, "a date YYYY-MM-DD", value)
                )
        if len(days) == 2 and days["end"] < days["start"]:
            problems.append(
                InputProblem(
                    path.name, row_number, "end", "a date on or after start", str(days["end"])
                )
            )
            continue
        if len(days) == 2 and worker in workers:
            reason = (row.get("reason") or "").strip() or "leave"
            absences.append(
                Absence(worker_id=worker, start=days["start"], end=days["end"], reason=reason)
            )
    if problems:
        raise InputError(problems)
    return tuple(absences)


def add_absences(store: Store, absences: Sequence[Absence]) -> None:
    """Record absences (one already starting that day for that worker is replaced).

    Raises:
        NotFoundError: an unknown worker.
    """
    for absence in absences:
        store.add_absence(absence)


def replan_caseload(
    store: Store,
    from_date: date,
    params: SolveParams,
    progress: Callable[[str], None] | None = None,
    apply: bool = False,
    now: datetime | None = None,
    processes: int | None = None,
) -> ReplanReport:
    """Propose (and with `apply`, store) a least-disruption re-plan of the current plan.

    Raises:
        PlanError: there is no current plan to re-plan.
    """
    from scheduler.replan import cp_sat_planner, replan

    scenario = store.read_scenario()
    current = store.current_plan()
    if current is None:
        raise PlanError("no plan in the store: run `visitplan plan` first")

    # Only changed teams are solved, so each gets the per-team limit, not a share of a budget
    # sized for every team.
    solve_params = params.model_copy(update={"budget_s": None})
    planner = cp_sat_planner(solve_params, progress, processes)
    report = replan(scenario, current, from_date, planner)
    if apply:
        assert now is not None
        store.save_plan(report.plan, now)
    return report


def add_child(store: Store, child: Child, new_household: Household | None = None) -> Scenario:
    """Add a child (and optionally a new household) to the stored caseload, all or nothing.

    Raises:
        InputError: a duplicate id, an unknown household, worker or team.
    """
    from pydantic import ValidationError

    scenario = store.read_scenario()
    households = scenario.households + ((new_household,) if new_household else ())
    try:
        updated = Scenario.model_validate(
            {
                **scenario.model_dump(),
                "households": [h.model_dump() for h in households],
                "children": [c.model_dump() for c in (*scenario.children, child)],
            }
        )
    except ValidationError as exc:
        raise InputError(
            InputProblem(
                "command line",
                None,
                "CHILD",
                "a child that fits the stored caseload",
                str(e["msg"]).removeprefix("Value error, "),
            )
            for e in exc.errors()
        ) from None
    store.replace_caseload(updated)
    return updated
