"""Recording what happened at planned visits: one visit, a whole day, corrections, a CSV export.

Rule: every job writes its records in one short transaction (all of a visit's children or
none; all of a day or none) and is idempotent: running it again after an interruption
completes it. Corrections are new versions; the earlier version stays in the history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

from pydantic import Field

from policies import Role
from scheduler.domain import DomainModel, Outcome, Plan, Visit, VisitRecord
from scheduler.errors import InputError, InputProblem, NotFoundError, PlanError
from scheduler.outcomes import outcome_of, records_as_planned
from scheduler.store import Store
from scheduler.textfile import CsvRow, read_csv

OUTCOMES: tuple[Outcome, ...] = ("completed", "failed", "not-seen")
EARLIEST_DAYS = 7
"""How many days before its planned day a visit may be recorded as made (brought forward
within the week); a day earlier than that is a typing slip, not the visit."""
CHANGE_WITH_AMEND = "a record not yet made (add --amend to change it; the earlier one is kept)"
"""What a second, different outcome for a recorded visit needed (the web says it in words)."""


class DayRecordReport(DomainModel):
    """What `record --day` did."""

    day: date
    recorded: tuple[str, ...] = Field(default=(), description="Visits recorded as completed.")
    children: int = Field(default=0, description="Children's records written.")
    already: tuple[str, ...] = Field(default=(), description="Visits that had an outcome.")
    left_awaiting: tuple[str, ...] = Field(default=(), description="Visits left (--except).")


class OutcomeImportReport(DomainModel):
    """What an outcomes CSV import did."""

    file: str
    visits: int = Field(default=0, description="Visits in the file.")
    added: int = Field(default=0, description="Records written.")
    already: int = Field(default=0, description="Records already there, unchanged.")


def _current_plan(store: Store) -> Plan:
    plan = store.current_plan()
    if plan is None:
        raise PlanError("no plan in the store: run `visitplan plan` first")
    return plan


def day_expected(visit: Visit, day: date, today: date) -> str | None:
    """What a visit's recorded day should have been, or None when `day` is plausible: from
    `EARLIEST_DAYS` before the planned day to today."""
    if day > today:
        return f"a day on or before today ({today})"
    earliest = visit.day - timedelta(days=EARLIEST_DAYS)
    if day < earliest:
        return (
            f"a day on or after {earliest} (at most {EARLIEST_DAYS} days before the "
            f"visit's planned day, {visit.day})"
        )
    return None


def _without_role(records: Sequence[VisitRecord]) -> dict[str, VisitRecord]:
    """Records by id, the role (filled in from the worker on reading) left out."""
    return {r.id: r.model_copy(update={"worker_role": None}) for r in records}


def recorded_otherwise(stored: Sequence[VisitRecord], records: Sequence[VisitRecord]) -> str | None:
    """What is recorded for a visit, when it differs from `records`; None when nothing is
    recorded yet or exactly these records are (running the same command again)."""
    if not stored or _without_role(stored) == _without_role(records):
        return None
    return f"{stored[0].visit_id} recorded as {outcome_of(stored)} on {stored[0].on:%a %d %b %Y}"


def visit_records(
    visit: Visit,
    outcome: Outcome,
    role: Role | None,
    *,
    seen_alone: bool = False,
    bedroom_seen: bool = False,
    seen_awake: bool = False,
    children: Sequence[str] = (),
    on: date | None = None,
) -> tuple[VisitRecord, ...]:
    """One record per child a visit covered: seen only when completed (and named, if any)."""
    day = on or visit.day
    out = []
    for child_id in visit.child_ids:
        seen = outcome == "completed" and (not children or child_id in children)
        out.append(
            VisitRecord(
                id=f"{visit.id}-{child_id}-{day:%Y%m%d}",
                child_id=child_id,
                household_id=visit.household_id,
                on=day,
                start=visit.start.timetz().replace(tzinfo=None),
                worker_id=visit.worker_id,
                outcome="completed"
                if seen
                else ("not-seen" if outcome == "completed" else outcome),
                at_home=True,
                announced=visit.announced,
                seen_alone=seen and seen_alone,
                bedroom_seen=seen and bedroom_seen,
                seen_awake=seen and seen_awake,
                visit_id=visit.id,
                worker_role=role,
            )
        )
    return tuple(out)


SEEN_ONLY_WHEN_COMPLETED = (
    "no --child unless --outcome completed (--child names the children who were seen; at a "
    "failed or not-seen visit no child was: to record some seen and others not, give "
    "--outcome completed --child SEEN)"
)
"""Why `--child` (the `children` column) goes with a completed visit only."""
NOT_YET = "a visit planned for today or earlier (an outcome is recorded on or after its day)"
"""What a visit recorded without a day should be: one whose planned day has come."""


def _seen_without_completed(outcome: Outcome, children: Sequence[str]) -> InputProblem:
    """The refusal of children named as seen at a visit recorded as not completed."""
    return InputProblem(
        "command line",
        None,
        "--child",
        SEEN_ONLY_WHEN_COMPLETED,
        f"{', '.join(children)} with --outcome {outcome}",
    )


def _day_problems(visit: Visit, on: date | None, today: date | None) -> list[InputProblem]:
    """What is wrong with the day a visit is recorded on: `--on` when given, else the
    visit's own planned day (named as the visit's, since no --on was given)."""
    if today is None:
        return []
    if on is None:
        if visit.day <= today:
            return []
        got = f"{visit.id}, planned for {visit.day:%a %d %b %Y}, after today ({today:%a %d %b %Y})"
        return [InputProblem("command line", None, "VISIT", NOT_YET, got)]
    expected = day_expected(visit, on, today)
    return (
        [] if expected is None else [InputProblem("command line", None, "--on", expected, str(on))]
    )


def record_outcome(
    store: Store,
    visit_id: str,
    outcome: Outcome,
    *,
    seen_alone: bool = False,
    bedroom_seen: bool = False,
    seen_awake: bool = False,
    children: Sequence[str] = (),
    on: date | None = None,
    amend: bool = False,
    today: date | None = None,
    by: str = "system",
    now: datetime | None = None,
) -> tuple[VisitRecord, ...]:
    """Record what happened at a planned visit: one record per child, in one transaction.

    Running it again with the same facts changes nothing (an interrupted run completes).
    A visit has one outcome: once recorded, a different one (another outcome, day or
    checklist) needs `amend`, which corrects the stored records: each becomes a new version
    and the earlier one stays in the history. The day (`on`, default the planned day) is
    from `EARLIEST_DAYS` before the planned day to `today`.

    Raises:
        NotFoundError: no such visit in the current plan.
        InputError: a named child is not covered by the visit, or children are named as
            seen at a visit that is not completed; the day is after `today` or too early for
            the visit (without `on`: the visit's planned day is after `today`); the visit is
            recorded differently already (without `amend`) or not at all (with).
    """
    visit = store.find_visit(visit_id)
    if visit is None:
        raise NotFoundError(
            f"no visit {visit_id!r} in the current plan (see `visitplan plan show`)"
        )
    problems = [
        InputProblem("command line", None, "--child", f"one of {', '.join(visit.child_ids)}", c)
        for c in children
        if c not in visit.child_ids
    ]
    if children and outcome != "completed":
        problems.append(_seen_without_completed(outcome, children))
    if outcome != "completed":
        flags = {
            "--seen-alone": seen_alone,
            "--bedroom-seen": bedroom_seen,
            "--seen-awake": seen_awake,
        }
        problems.extend(
            InputProblem(
                "command line", None, flag, "only with --outcome completed", f"--outcome {outcome}"
            )
            for flag, given in flags.items()
            if given
        )
    problems.extend(_day_problems(visit, on, today))
    if problems:
        raise InputError(problems)
    records = visit_records(
        visit,
        outcome,
        store.worker_roles().get(visit.worker_id),
        seen_alone=seen_alone,
        bedroom_seen=bedroom_seen,
        seen_awake=seen_awake,
        children=children,
        on=on,
    )
    stored = store.records_for_visits([visit.id]).get(visit.id, ())
    if not amend:
        recorded = recorded_otherwise(stored, records)
        if recorded is not None:
            raise InputError(
                [InputProblem("command line", None, "VISIT", CHANGE_WITH_AMEND, recorded)]
            )
        store.add_records(records, by=by, now=now)
        return records
    if not stored:
        raise InputError(
            [
                InputProblem(
                    "command line",
                    None,
                    "--amend",
                    "a visit with a recorded outcome to correct",
                    f"nothing recorded yet for {visit.id}: record it without --amend",
                )
            ]
        )
    ids = {r.child_id: r.id for r in stored}
    corrected = tuple(r.model_copy(update={"id": ids.get(r.child_id, r.id)}) for r in records)
    store.amend_records(corrected, by=by, now=now)
    return corrected


def record_day(
    store: Store,
    day: date,
    *,
    today: date,
    team: str | None = None,
    worker: str | None = None,
    except_visits: Sequence[str] = (),
    by: str = "system",
    now: datetime | None = None,
) -> DayRecordReport:
    """Record every awaiting visit of `day` as made as planned, in one transaction.

    As planned: every child seen at home and the visit's checklist (seen alone, bedroom, seen
    awake) done. Visits named in `except_visits` stay awaiting, for the manager to record one
    by one; visits that already have an outcome are left as recorded.

    Raises:
        PlanError: no current plan.
        InputError: `day` is after `today` or outside the current plan (from its first
            visit, which a re-plan keeps from before its start, to its end); an unknown team
            or worker; an `--except` visit that is not one of the day's visits.
    """
    plan = _current_plan(store)
    scenario = store.read_scenario()
    workers = {w.id: w for w in scenario.workers}
    problems: list[InputProblem] = []
    if day > today:
        problems.append(
            InputProblem(
                "command line", None, "--day", f"a day on or before today ({today})", str(day)
            )
        )
    first = min((plan.start, *(v.day for v in plan.visits)))
    if not first <= day <= plan.end:
        problems.append(
            InputProblem(
                "command line",
                None,
                "--day",
                f"a day the current plan covers ({first:%a %d %b %Y} to {plan.end:%a %d %b %Y})",
                str(day),
            )
        )
    if team is not None and team not in {t.id for t in scenario.teams}:
        problems.append(InputProblem("command line", None, "--team", "a known team id", team))
    if worker is not None and worker not in workers:
        problems.append(
            InputProblem("command line", None, "--worker", "a current worker id", worker)
        )
    todays = [
        v
        for v in plan.visits
        if v.day == day
        and v.status != "cancelled"
        and (worker is None or worker in (v.worker_id, v.second_worker_id))
        and (team is None or (v.worker_id in workers and workers[v.worker_id].team_id == team))
    ]
    ids = {v.id for v in todays}
    problems.extend(
        InputProblem("command line", None, "--except", f"a visit on {day:%a %d %b %Y}", v)
        for v in except_visits
        if v not in ids
    )
    if problems:
        raise InputError(problems)
    recorded = store.records_for_visits(sorted(ids))
    already = tuple(sorted(v.id for v in todays if recorded.get(v.id)))
    chosen = [v for v in todays if v.id not in except_visits and not recorded.get(v.id)]
    children = {c.id: c for c in scenario.children}
    roles = store.worker_roles()  # a worker who has left keeps their role
    records = [r for v in chosen for r in records_as_planned(v, children, roles)]
    store.add_records(records, by=by, now=now)
    return DayRecordReport(
        day=day,
        recorded=tuple(sorted(v.id for v in chosen)),
        children=len(records),
        already=already,
        left_awaiting=tuple(sorted(except_visits)),
    )


_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0", ""}
_KNOWN = ("visit_id", "outcome", "on", "seen_alone", "bedroom_seen", "seen_awake", "children")


def read_outcomes_csv(path: Path, plan: Plan, today: date) -> tuple[VisitRecord, ...]:
    """Records from a case-system export of visit outcomes, every problem listed.

    Columns: visit_id, outcome (completed, failed, not-seen) and optionally on (YYYY-MM-DD,
    default the planned day), seen_alone, bedroom_seen, seen_awake (yes/no), children
    (child ids seen, `;`-separated; default all). The header is row 1; every row has one cell
    per column and names a visit once.

    Raises:
        InputError: every bad row, with file, row, column and what was expected.
    """
    return tuple(r for _, records in _outcome_rows(path, plan, today) for r in records)


def _outcome_rows(path: Path, plan: Plan, today: date) -> list[tuple[int, tuple[VisitRecord, ...]]]:
    """Each row's number and records (see `read_outcomes_csv`)."""
    name = path.name
    table = read_csv(path)
    problems = list(table.problems)
    missing = {"visit_id", "outcome"} - set(table.columns)
    if missing:
        raise InputError(
            InputProblem(name, 1, c, "a column of that name", "missing") for c in sorted(missing)
        )
    problems += [
        InputProblem(name, 1, c, "one of " + ", ".join(sorted(_KNOWN)), "an unknown column")
        for c in sorted(set(table.columns) - set(_KNOWN))
    ]
    visits = {v.id: v for v in plan.visits}
    first_row: dict[str, int] = {}
    out = []
    for row in table.rows:
        visit_id = row.get("visit_id")
        if visit_id in first_row:
            problems.append(
                InputProblem(
                    name,
                    row.number,
                    "visit_id",
                    f"each visit once (row {first_row[visit_id]} names it too)",
                    visit_id,
                )
            )
            continue
        first_row[visit_id] = row.number
        records = _outcome_row(name, row, visits.get(visit_id), today, problems)
        if records:
            out.append((row.number, records))
    if problems:
        raise InputError(problems)
    return out


def _outcome_row(
    name: str, row: CsvRow, visit: Visit | None, today: date, problems: list[InputProblem]
) -> tuple[VisitRecord, ...]:
    """One row's records, or none with its problems added to `problems`."""
    if visit is None:
        problems.append(
            InputProblem(
                name, row.number, "visit_id", "a visit of the current plan", row.get("visit_id")
            )
        )
        return ()
    outcome = row.get("outcome")
    if outcome not in OUTCOMES:
        problems.append(
            InputProblem(name, row.number, "outcome", "completed, failed or not-seen", outcome)
        )
        return ()
    flags: dict[str, bool] = {}
    for flag in ("seen_alone", "bedroom_seen", "seen_awake"):
        value = row.get(flag).lower()
        if value not in _YES | _NO:
            problems.append(InputProblem(name, row.number, flag, "yes or no", value))
        flags[flag] = value in _YES
    on = visit.day
    if row.get("on"):
        try:
            on = date.fromisoformat(row.get("on"))
        except ValueError:
            problems.append(
                InputProblem(name, row.number, "on", "a date YYYY-MM-DD", row.get("on"))
            )
            return ()
        expected = day_expected(visit, on, today)
        if expected is not None:
            problems.append(InputProblem(name, row.number, "on", expected, row.get("on")))
            return ()
    elif on > today:
        problems.append(
            InputProblem(
                name, row.number, "visit_id", f"a visit on or before today ({today})", visit.id
            )
        )
        return ()
    seen = tuple(c for c in row.get("children").split(";") if c)
    if seen and outcome != "completed":
        problems.append(
            InputProblem(
                name,
                row.number,
                "children",
                "no children unless the outcome is completed (the column names the children "
                "who were seen; at a failed or not-seen visit no child was)",
                f"{';'.join(seen)} with outcome {outcome}",
            )
        )
        return ()
    wrong = [c for c in seen if c not in visit.child_ids]
    if wrong:
        problems.append(
            InputProblem(
                name, row.number, "children", "children the visit covered", ";".join(wrong)
            )
        )
        return ()
    return visit_records(visit, outcome, None, children=seen, on=on, **flags)


def import_outcomes(
    store: Store, path: Path, *, today: date, by: str = "system", now: datetime | None = None
) -> OutcomeImportReport:
    """Import visit outcomes from a CSV export, all or nothing (see `read_outcomes_csv`).

    A row for a visit recorded already is skipped when it says the same, and refused when it
    says something else (correct one visit with `visitplan record VISIT ... --amend`).

    Raises:
        PlanError: no current plan.
        InputError: any bad row; nothing is written.
    """
    plan = _current_plan(store)
    rows = _outcome_rows(path, plan, today)
    stored = store.records_for_visits([records[0].visit_id or "" for _, records in rows])
    _refuse_changes(path.name, rows, stored)
    roles = store.worker_roles()  # a worker who has left keeps their role
    records = tuple(
        r.model_copy(update={"worker_role": roles.get(r.worker_id or "")})
        for _, row_records in rows
        for r in row_records
    )
    added, already = store.add_records(records, by=by, now=now)
    return OutcomeImportReport(
        file=path.name, visits=len({r.visit_id for r in records}), added=added, already=already
    )


def _refuse_changes(
    name: str,
    rows: Sequence[tuple[int, tuple[VisitRecord, ...]]],
    stored: Mapping[str, Sequence[VisitRecord]],
) -> None:
    """Refuse rows that would give a recorded visit a different outcome (file and row)."""
    problems = []
    for number, records in rows:
        recorded = recorded_otherwise(stored.get(records[0].visit_id or "", ()), records)
        if recorded is not None:
            problems.append(
                InputProblem(
                    name,
                    number,
                    "visit_id",
                    "a visit with no other outcome recorded (correct one with "
                    "`visitplan record VISIT --outcome O --amend`)",
                    recorded,
                )
            )
    if problems:
        raise InputError(problems)


def outcome_summary(records: Sequence[VisitRecord]) -> str:
    """The outcome of a visit in a manager's words."""
    outcome = outcome_of(records)
    return {"completed": "completed", "failed": "failed", "not-seen": "child not seen"}.get(
        outcome or "", "awaiting outcome"
    )
