"""What a manager reads: every child's state and next requirement, the plan as a visit list.

Rule: pure functions of a scenario, a plan, visit records and a date; names, rule titles and
states are resolved here so the command line and the desk show the same words.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from datetime import date, timedelta
from typing import Literal

from pydantic import Field

from policies import load_pack
from scheduler.domain import (
    ChildDue,
    DomainModel,
    Plan,
    Scenario,
    Visit,
    VisitRecord,
    VisitStatus,
    Worker,
)
from scheduler.due import scenario_due
from scheduler.index import index_of
from scheduler.outcomes import awaiting, visit_state

ChildState = Literal["overdue", "awaiting outcome", "due soon", "on track"]
CHILD_STATES: tuple[ChildState, ...] = ("overdue", "awaiting outcome", "due soon", "on track")
SOON_DAYS = 7
"""A child is 'due soon' when a requirement falls due within this many days."""


class DueRow(ChildDue):
    """One child's requirements and escalations, state, and the names a manager reads."""

    state: ChildState = Field(description="overdue, awaiting outcome, due soon or on track.")
    team_id: str | None = Field(default=None, description="The child's team.")
    worker_name: str | None = Field(default=None, description="The allocated worker's name.")
    awaiting_visit: str | None = Field(
        default=None, description="A past visit with no recorded outcome the clock rests on."
    )
    awaiting_on: date | None = Field(default=None, description="That visit's day.")


class DueReport(DomainModel):
    """Every child's requirements as of a date (`visitplan due --json`)."""

    as_of: date
    authority: str
    counts: dict[str, int] = Field(default_factory=dict, description="Children by state.")
    total: int = Field(default=0, description="Children matching the filters.")
    children: tuple[DueRow, ...] = ()


MadeRows = dict[
    str, tuple[ChildDue, tuple[ChildState, str | None, str | None, str | None, date | None], DueRow]
]
"""Rows made before, by child: their requirements object, the rest of their inputs, the row."""


def id_pattern(ids: Collection[str]) -> re.Pattern[str] | None:
    """A pattern matching any of `ids` as a whole word, the longest first, for replacing ids
    in a reason with what a manager reads (rule titles, workers' names); None for no ids."""
    if not ids:
        return None
    longest_first = sorted(ids, key=len, reverse=True)
    return re.compile(r"\b(" + "|".join(re.escape(k) for k in longest_first) + r")\b")


def rule_titles(authority: str) -> dict[str, str]:
    """Every rule's title in the authority's pack, by rule id."""
    return {rule.id: rule.title for rule in load_pack(authority).rules}


def child_teams(scenario: Scenario) -> dict[str, str | None]:
    """Each child's team: the allocated worker's, else the first home's."""
    worker_team = {w.id: w.team_id for w in scenario.workers}
    home_team = {h.id: h.team_id for h in scenario.households}
    return {
        c.id: worker_team.get(c.allocated_worker or "") or home_team.get(c.household_ids[0])
        for c in scenario.children
    }


def due_rows(
    scenario: Scenario,
    plan: Plan | None,
    records_by_visit: Mapping[str, Sequence[VisitRecord]],
    as_of: date,
    *,
    team: str | None = None,
    worker: str | None = None,
    category: str | None = None,
    state: str | None = None,
) -> DueReport:
    """Every matching child's state and requirements, most urgent first.

    A child covered by a past planned visit with no recorded outcome, made after the child's
    last record, is *awaiting outcome*: whether they are overdue rests on that visit. A child
    is *overdue* when a statutory requirement is; a practice target past its date (local
    practice, no document's deadline) shows in the requirements but not as overdue.
    """
    return rows_from_due(
        scenario,
        plan,
        records_by_visit,
        as_of,
        scenario_due(scenario, as_of),
        team=team,
        worker=worker,
        category=category,
        state=state,
    )


def rows_from_due(
    scenario: Scenario,
    plan: Plan | None,
    records_by_visit: Mapping[str, Sequence[VisitRecord]],
    as_of: date,
    dues: Sequence[ChildDue],
    *,
    team: str | None = None,
    worker: str | None = None,
    category: str | None = None,
    state: str | None = None,
    made: MadeRows | None = None,
) -> DueReport:
    """`due_rows` from the children's requirements already worked out (`dues`, in
    `scenario_due`'s order): the desk keeps them between store revisions.

    With `made` (child id -> the last row made for them, its requirements object and the
    rest of its inputs), a child whose requirements are the very same object and whose
    state, team, worker's name and awaited visit are equal gets that row again, not a new
    one; every new row is noted there.
    """
    pending = awaiting(plan.visits if plan else (), records_by_visit, as_of)
    last_record: dict[str, date] = {}
    for record in scenario.records:
        if record.on <= as_of and record.on > last_record.get(record.child_id, date.min):
            last_record[record.child_id] = record.on
    waiting: dict[str, Visit] = {}
    for visit in pending:
        for child_id in visit.child_ids:
            if visit.day > last_record.get(child_id, date.min):
                waiting[child_id] = visit
    names = {w.id: w.name for w in scenario.workers}
    teams = child_teams(scenario)
    soon = as_of + timedelta(days=SOON_DAYS)
    rows = []
    for due in dues:
        awaited = waiting.get(due.child_id)
        child_state: ChildState
        if awaited is not None:
            child_state = "awaiting outcome"
        elif any(r.overdue_days > 0 and r.severity == "statutory" for r in due.requirements):
            child_state = "overdue"
        elif due.next_due is not None and due.next_due <= soon:
            child_state = "due soon"
        else:
            child_state = "on track"
        inputs = (
            child_state,
            teams.get(due.child_id),
            names.get(due.allocated_worker or ""),
            awaited.id if awaited else None,
            awaited.day if awaited else None,
        )
        old = made.get(due.child_id) if made is not None else None
        if old is not None and old[0] is due and old[1] == inputs:
            rows.append(old[2])
            continue
        # The due engine's rows are validated already: copied, not validated again (7,500
        # children on L: a third of a second).
        row = DueRow.model_construct(
            **dict(due),
            state=inputs[0],
            team_id=inputs[1],
            worker_name=inputs[2],
            awaiting_visit=inputs[3],
            awaiting_on=inputs[4],
        )
        if made is not None:
            made[due.child_id] = (due, inputs, row)
        rows.append(row)
    matching = [r for r in rows if _matches(r, team, worker, category, state)]
    order = {s: i for i, s in enumerate(CHILD_STATES)}
    matching.sort(
        key=lambda r: (
            order[r.state],
            -r.overdue_days,
            r.next_due or date.max,
            r.case_ref,
        )
    )
    counts = Counter(r.state for r in matching)
    return DueReport(
        as_of=as_of,
        authority=scenario.authority.id,
        counts={s: counts.get(s, 0) for s in CHILD_STATES},
        total=len(matching),
        children=tuple(matching),
    )


def _matches(
    row: DueRow, team: str | None, worker: str | None, category: str | None, state: str | None
) -> bool:
    """Whether a row passes the filters (None: any)."""
    return (
        (team is None or row.team_id == team)
        and (worker is None or row.allocated_worker == worker)
        and (category is None or row.category == category)
        and (state is None or row.state == state)
    )


def filter_report(
    report: DueReport,
    *,
    team: str | None = None,
    worker: str | None = None,
    category: str | None = None,
    state: str | None = None,
) -> DueReport:
    """An authority-wide report cut to the rows that pass the filters, in the same order and
    recounted: what `due_rows` gives with those filters (its order does not depend on them)."""
    rows = tuple(r for r in report.children if _matches(r, team, worker, category, state))
    counts = Counter(r.state for r in rows)
    return report.model_copy(
        update={
            "children": rows,
            "counts": {s: counts.get(s, 0) for s in CHILD_STATES},
            "total": len(rows),
        }
    )


class PlanRow(DomainModel):
    """One visit of the plan as a manager reads it."""

    visit_id: str
    day: date
    start: str = Field(description="Local start time HH:MM.")
    end: str = Field(description="Local end time HH:MM.")
    worker_id: str
    worker_name: str
    second_worker_name: str | None = None
    area: str
    case_refs: tuple[str, ...]
    state: VisitStatus
    announced: bool
    pinned: bool
    rules: tuple[str, ...] = Field(default=(), description="Titles of the rules it serves.")
    due: date | None = None
    checklist: tuple[str, ...] = ()


class PlanView(DomainModel):
    """The current plan as a visit list (`visitplan plan show --json`)."""

    plan_id: str
    start: date
    end: date
    as_of: date
    counts: dict[str, int] = Field(default_factory=dict, description="Visits by state.")
    visits: tuple[PlanRow, ...] = ()


def plan_rows(
    scenario: Scenario,
    plan: Plan,
    records_by_visit: Mapping[str, Sequence[VisitRecord]],
    as_of: date,
    *,
    team: str | None = None,
    worker: str | None = None,
    day: date | None = None,
    closed: Mapping[str, str] | None = None,
) -> PlanView:
    """The plan's visits with states, names and rule titles, by day, time and worker.

    `closed` gives the case references of closed children (not in the scenario) whom the
    plan still names, so they show by case reference too."""
    index = index_of(scenario)
    workers, homes = index.workers, index.households
    cases = {**(closed or {}), **{c.id: c.case_ref for c in scenario.children}}
    titles = rule_titles(scenario.authority.id)
    rows = []
    for visit in plan.visits:
        lead = workers.get(visit.worker_id)
        if worker is not None and worker not in (visit.worker_id, visit.second_worker_id):
            continue
        if team is not None and (lead is None or lead.team_id != team):
            continue
        if day is not None and visit.day != day:
            continue
        second = workers.get(visit.second_worker_id or "")
        home = homes.get(visit.household_id)
        rows.append(
            PlanRow(
                visit_id=visit.id,
                day=visit.day,
                start=f"{visit.start:%H:%M}",
                end=f"{visit.end:%H:%M}",
                worker_id=visit.worker_id,
                worker_name=lead.name if lead else visit.worker_id,
                second_worker_name=(second.name if second else visit.second_worker_id),
                area=home.area if home else visit.household_id,
                case_refs=tuple(cases.get(c, c) for c in visit.child_ids),
                state=visit_state(visit, records_by_visit.get(visit.id, ()), as_of),
                announced=visit.announced,
                pinned=visit.pinned,
                rules=tuple(titles.get(r, r) for r in visit.rule_ids),
                due=visit.due,
                checklist=visit.checklist,
            )
        )
    rows.sort(key=lambda r: (r.day, r.worker_name, r.start, r.visit_id))
    counts = Counter(r.state for r in rows)
    return PlanView(
        plan_id=plan.id,
        start=plan.start,
        end=plan.end,
        as_of=as_of,
        counts=dict(sorted(counts.items())),
        visits=tuple(rows),
    )


class WorkerRow(DomainModel):
    """One worker as a manager reads the team list."""

    id: str
    name: str
    role: str
    team_id: str
    team_name: str
    days: str = Field(description="Contracted weekdays, e.g. 'Mon-Fri' or 'Mon Wed Fri'.")
    hours: str = Field(description="Working hours, e.g. '09:00-17:00'.")
    children: int = Field(description="Open children allocated to the worker.")
    away_today: str | None = Field(default=None, description="Absence covering today, if any.")
    left_on: date | None = Field(default=None, description="The day they left (leavers only).")


_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def worker_rows(
    scenario: Scenario,
    today: date,
    team: str | None = None,
    left: Sequence[tuple[Worker, date]] | None = None,
) -> tuple[WorkerRow, ...]:
    """Workers (of one team, or all) with their caseload size and any absence today; with
    `left` (workers who have left and the day each left), those workers instead (none when
    nobody has left)."""
    teams = {t.id: t.name for t in scenario.teams}
    load = Counter(c.allocated_worker for c in scenario.children if c.allocated_worker)
    absences = index_of(scenario).absences_by_worker
    gone = {w.id: on for w, on in left or ()}
    rows = []
    for worker in scenario.workers if left is None else [w for w, _on in left]:
        if team is not None and worker.team_id != team:
            continue
        away = next((a for a in absences.get(worker.id, ()) if a.covers(today)), None)
        days = days_text(worker.days)
        rows.append(
            WorkerRow(
                id=worker.id,
                name=worker.name,
                role=worker.role,
                team_id=worker.team_id,
                team_name=teams.get(worker.team_id, worker.team_id),
                days=days,
                hours=f"{worker.day_start:%H:%M}-{worker.day_end:%H:%M}",
                children=load.get(worker.id, 0),
                away_today=f"{away.reason} until {away.end:%a %d %b}" if away else None,
                left_on=gone.get(worker.id),
            )
        )
    return tuple(sorted(rows, key=lambda r: (r.team_id, r.name, r.id)))


def days_text(days: Sequence[int]) -> str:
    """Weekdays as a manager writes them: runs of three or more as ranges ('Mon-Thu', 'Mon Wed
    Fri', 'Mon-Wed Fri')."""
    runs: list[list[int]] = []
    for day in sorted(set(days)):
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{_DAY_NAMES[run[0]]}-{_DAY_NAMES[run[-1]]}")
        else:
            parts.extend(_DAY_NAMES[d] for d in run)
    return " ".join(parts)
