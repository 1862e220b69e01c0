"""Keeping the caseload true: add, edit and close children, and read a child's history.

Rule: every job writes only its own rows in one short transaction, refuses what would break
planning with a message naming the option, and leaves an audit row saying who and when.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from pydantic import Field, ValidationError

from policies import Flag
from scheduler.domain import Child, DomainModel, Household, PlanFrequency
from scheduler.errors import InputError, InputProblem, NotFoundError
from scheduler.scenario_io import describe_expected
from scheduler.store import AuditEntry, RecordVersion, Store


class ChildHistory(DomainModel):
    """Everything that happened to a child's record: edits, closures, visits and corrections."""

    child_id: str
    case_ref: str
    closed_on: date | None = None
    close_reason: str | None = None
    changes: tuple[AuditEntry, ...] = Field(default=(), description="Audit entries, oldest first.")
    records: tuple[RecordVersion, ...] = Field(
        default=(), description="Visit records, every version, by date."
    )


def _problem(option: str, expected: str, got: str) -> InputProblem:
    return InputProblem("command line", None, option, expected, got)


def check_child(child: Child, household: Household | None) -> list[InputProblem]:
    """What would break planning in a child (and the new household) before the store is asked."""
    problems = []
    if child.category == "child-in-care" and child.placement_type is None:
        problems.append(
            _problem("--placement-type", "a placement type for a child in care", "none given")
        )
    if household is not None and household.team_id is None:
        problems.append(
            _problem("--team", "the team whose patch a new household is in", "none given")
        )
    return problems


def new_child(**fields: Any) -> Child:
    """A child from command-line fields, validation errors as input problems (no values).

    Raises:
        InputError: a field is invalid.
    """
    try:
        return Child(**fields)
    except ValidationError as exc:
        raise InputError(_problems(exc)) from None


def new_household(**fields: Any) -> Household:
    """A household from command-line fields, validation errors as input problems.

    Raises:
        InputError: a field is invalid (coordinates out of range, say).
    """
    try:
        return Household(**fields)
    except ValidationError as exc:
        raise InputError(_problems(exc)) from None


OPTION_OF = {
    "id": "CHILD",
    "household_ids": "--household",
    "allocated_worker": "--worker",
    "events.referral": "--referral",
    "events.plan_start": "--plan-start",
    "events.placement_start": "--placement-start",
}
"""Model fields whose command-line option has another name (the rest: `--field-name`)."""
_WHOLE = {"household": "--household", "placement": "--placement-type", "worker": "--worker"}
"""A whole-record rule is put on the option its message is about."""


def _option(loc: tuple[int | str, ...], message: str) -> str:
    """The option a pydantic error is about, as the user typed it."""
    where = ".".join(str(p) for p in loc if isinstance(p, str))
    if not where:
        return next((o for word, o in _WHOLE.items() if word in message), "command line")
    return OPTION_OF.get(where, "--" + where.split(".")[-1].replace("_", "-"))


def _problems(exc: ValidationError) -> list[InputProblem]:
    """Pydantic errors as input problems naming the option, never echoing the value."""
    out = []
    for error in exc.errors():
        message = describe_expected(str(error["msg"]))
        out.append(_problem(_option(error["loc"], message), message, "a value that does not fit"))
    return out


def add_child(
    store: Store,
    child: Child,
    household: Household | None = None,
    *,
    by: str = "system",
    now: datetime | None = None,
) -> int:
    """Add a new child (a referral or a placement), and its new household, in one transaction.

    Raises:
        InputError: a child in care without a placement type, a new household without a team,
            a duplicate id or case reference, an unknown household or worker; nothing written.
    """
    problems = check_child(child, household)
    if problems:
        raise InputError(problems)
    return store.add_child(child, household, by=by, now=now)


def edit_child(
    store: Store,
    child_id: str,
    *,
    category: str | None = None,
    placement_type: str | None = None,
    placement_start: date | None = None,
    plan_start: date | None = None,
    referral: date | None = None,
    conference: date | None = None,
    households: Sequence[str] = (),
    new_household: Household | None = None,
    worker: str | None = None,
    unallocate: bool = False,
    add_flags: Sequence[Flag] = (),
    remove_flags: Sequence[Flag] = (),
    case_ref: str | None = None,
    frequency: PlanFrequency | None = None,
    clear_frequency: bool = False,
    reason: str | None = None,
    by: str = "system",
    now: datetime | None = None,
) -> dict[str, Any]:
    """Change an open child's facts; returns the fields changed (before and after).

    `frequency` is how often the child's plan or conference says they are seen (it only
    ever makes a visit earlier); `clear_frequency` removes it.

    Raises:
        NotFoundError: no such open child.
        InputError: the edited child would break planning; nothing is written.
    """
    row = store.child_row(child_id)
    if row is None or row.closed_on is not None:
        raise NotFoundError(f"no open child {child_id!r}")
    child = row.child
    update: dict[str, Any] = {}
    if category is not None:
        update["category"] = category
        if category != "child-in-care":
            update["placement_type"] = None
    if placement_type is not None:
        update["placement_type"] = placement_type
    events = child.events.model_copy(
        update={
            k: v
            for k, v in (
                ("placement_start", placement_start),
                ("plan_start", plan_start),
                ("referral", referral),
                ("conference", conference),
            )
            if v is not None
        }
    )
    if events != child.events:
        update["events"] = events
    homes = tuple(households) + ((new_household.id,) if new_household else ())
    if homes:
        update["household_ids"] = homes
    if worker is not None:
        update["allocated_worker"] = worker
    if unallocate:
        update["allocated_worker"] = None
    if add_flags or remove_flags:
        flags = [f for f in child.flags if f not in remove_flags]
        flags += [f for f in add_flags if f not in flags]
        update["flags"] = tuple(flags)
    if case_ref is not None:
        update["case_ref"] = case_ref
    if frequency is not None:
        update["frequency"] = frequency
    if clear_frequency:
        update["frequency"] = None
    edited = new_child(**{**dict(child), **update})
    problems = check_child(edited, new_household)
    if case_ref is not None and case_ref != child.case_ref:
        taken = [
            r.child.id
            for r in store.children_with_case_ref(case_ref)
            if r.closed_on is None and r.child.id != child_id
        ]
        if taken:
            problems.append(
                _problem(
                    "--case-ref",
                    f"a case reference no open child has ({taken[0]} has it)",
                    case_ref,
                )
            )
    if problems:
        raise InputError(problems)
    return store.update_child(edited, new_household, reason=reason, by=by, now=now)


def close_child(
    store: Store,
    child_id: str,
    on: date,
    reason: str,
    *,
    today: date,
    by: str = "system",
    now: datetime | None = None,
) -> None:
    """Close a child's case: no visits are planned after `on`; the history stays.

    A case closes on `today` or a day before it (a closing day still to come would hide an
    overdue child from `due` until then), and for a reason given in words.

    Raises:
        InputError: `on` is after `today`, or `reason` is blank; nothing is written.
        NotFoundError: no such open child.
    """
    problems = close_problems(on, reason, today)
    if problems:
        raise InputError(problems)
    store.close_child(child_id, on, reason, by=by, now=now)


def close_problems(on: date, reason: str, today: date) -> list[InputProblem]:
    """What is wrong with closing a case on `on` for `reason` when it is `today`."""
    problems = []
    if on > today:
        problems.append(_problem("--on", f"a day on or before today ({today})", str(on)))
    if not reason.strip():
        problems.append(_problem("--reason", "words saying why the case closed", "nothing"))
    return problems


def child_named(store: Store, ref: str) -> str:
    """The id of the child `ref` names: a child's id, or a case reference (the name `due`,
    the plan and calendars show) that one child holds, preferring an open case to closed
    ones.

    Raises:
        NotFoundError: no child has that id or case reference, or several open cases (or,
            with none open, several closed ones) hold that case reference.
    """
    if store.child_row(ref) is not None:
        return ref
    holders = store.children_with_case_ref(ref)
    open_ = [r.child.id for r in holders if r.closed_on is None]
    ids = open_ or [r.child.id for r in holders]
    if len(ids) == 1:
        return ids[0]
    if not ids:
        raise NotFoundError(f"no child with the id or case reference {ref!r}")
    raise NotFoundError(
        f"{len(ids)} children have the case reference {ref!r}: give the child's id ("
        + ", ".join(sorted(ids)[:5])
        + (", ..." if len(ids) > 5 else "")
        + ")"
    )


def child_history(store: Store, child_id: str) -> ChildHistory:
    """A child's edits, closure and visit records (every version).

    Raises:
        NotFoundError: no such child, open or closed.
    """
    row = store.child_row(child_id)
    if row is None:
        raise NotFoundError(f"no child {child_id!r}")
    return ChildHistory(
        child_id=child_id,
        case_ref=row.child.case_ref,
        closed_on=row.closed_on,
        close_reason=row.close_reason,
        changes=store.history(child_id),
        records=store.record_versions(child_id),
    )
