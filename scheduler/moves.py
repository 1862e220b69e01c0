"""Hand changes to one visit: move it (day, time, worker), pin it, unpin it.

Rule: a move is judged by the independent checker before it is saved; whatever it newly
breaks is the reason for refusing it. A moved visit is pinned, so re-plans keep it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from pydantic import Field

from scheduler.check import Violation, check_plan
from scheduler.domain import BusyTime, DomainModel, Plan, Visit
from scheduler.errors import InputError, InputProblem, NotFoundError, PlanError
from scheduler.outcomes import as_planned
from scheduler.store import Store


class MoveVerdict(DomainModel):
    """The checker's verdict on a hand change, before or after it is saved."""

    visit: Visit = Field(description="The visit as it would be (or now is).")
    before: Visit = Field(description="The visit as it was.")
    saved: bool = Field(description="True when the change was stored.")
    problems: tuple[Violation, ...] = Field(
        default=(), description="What the change newly breaks (hard ones refuse it)."
    )
    warnings: tuple[Violation, ...] = Field(default=(), description="Worth a look.")

    @property
    def refused(self) -> bool:
        """True when the change breaks a hard rule."""
        return any(v.hard for v in self.problems)


def crew_after(visit: Visit, worker: str | None) -> set[str]:
    """Who would make `visit` moved to `worker` (None: its own): the lead and any second
    worker, whose calendars a move is checked against."""
    crew = {worker or visit.worker_id}
    if visit.second_worker_id:
        crew.add(visit.second_worker_id)
    return crew


def of_a_move(message: str) -> str:
    """A point of the checker's verdict as said of a move: a deadline the moved plan misses
    "would be missed" (the checker says "is not met and not reported", the plan's own list
    of missed deadlines being what it checks)."""
    return message.replace(" is not met and not reported", " would be missed")


def _key(v: Violation) -> tuple[str, str | None, str | None, str | None, str | None]:
    return (v.code, v.visit_id, v.child_id, v.worker_id, v.rule_id)


def judge(
    store: Store, plan: Plan, changed: Visit, busy: Sequence[BusyTime] = ()
) -> tuple[Violation, ...]:
    """Violations the changed visit brings that the plan did not already have; `busy` adds
    workers' commitments from their own calendars to the store's."""
    left_on = {w.id: on for w, on in store.left_workers()}
    scenario = as_planned(store.read_scenario().with_busy(busy), plan, left_on)
    after = plan.model_copy(
        update={"visits": tuple(changed if v.id == changed.id else v for v in plan.visits)}
    )
    old = {_key(v) for v in check_plan(scenario, plan).violations}
    return tuple(v for v in check_plan(scenario, after).violations if _key(v) not in old)


def move_visit(
    store: Store,
    visit_id: str,
    *,
    day: date,
    at: time | None = None,
    worker: str | None = None,
    today: date,
    save: bool = True,
    by: str = "system",
    now: datetime | None = None,
    busy: Sequence[BusyTime] = (),
) -> MoveVerdict:
    """Move a planned visit to another day, time or worker, judged by the checker first.

    The visit keeps its time when `at` is not given, and is pinned (re-plans keep it). With
    `save` False it is only judged (a preview). A change that newly breaks a hard rule is
    not saved; the verdict says why. `busy`: commitments in workers' own calendars, judged
    as the store's busy times are.

    Raises:
        PlanError: no current plan.
        NotFoundError: no such visit.
        InputError: the visit or the new day is in the past, the worker is unknown, or the
            new worker is the visit's second worker.
    """
    since = store.revision()  # read first: a change landing between counts as one since
    plan = store.current_plan()
    if plan is None:
        raise PlanError("no plan in the store: run `visitplan plan` first")
    visit = next((v for v in plan.visits if v.id == visit_id), None)
    if visit is None:
        raise NotFoundError(f"no visit {visit_id!r} in the current plan")
    problems = _still_to_make(visit, today)
    if day < today:
        problems.append(
            InputProblem("command line", None, "--to", f"today ({today}) or later", str(day))
        )
    if worker is not None and store.worker(worker) is None:
        problems.append(InputProblem("command line", None, "--worker", "a current worker", worker))
    if worker is not None and worker == visit.second_worker_id:
        problems.append(
            InputProblem(
                "command line", None, "--worker", "someone other than the second worker", worker
            )
        )
    if problems:
        raise InputError(problems)
    tz = ZoneInfo(store.read_scenario().authority.timezone)
    local = visit.start.astimezone(tz)
    start = datetime.combine(day, at or local.time().replace(tzinfo=None), tzinfo=tz)
    moved = visit.model_copy(
        update={"start": start, "worker_id": worker or visit.worker_id, "pinned": True}
    )
    found = judge(store, plan, moved, busy)
    verdict = MoveVerdict(
        visit=moved,
        before=visit,
        saved=False,
        problems=tuple(v for v in found if v.hard),
        warnings=tuple(v for v in found if not v.hard),
    )
    if not save or verdict.refused:
        return verdict
    store.update_visit(
        moved,
        "visit moved",
        by=by,
        now=now,
        was=visit,
        since=since,
        start_before=visit.start,
        start_after=moved.start,
        worker_before=visit.worker_id,
        worker_after=moved.worker_id,
    )
    return verdict.model_copy(update={"saved": True})


def _still_to_make(visit: Visit, today: date) -> list[InputProblem]:
    """The refusal of a hand change to a visit that is not still to be made (its day has
    passed, or it is cancelled or history), in the words `visit move` and `visit pin` share."""
    if visit.status == "planned" and visit.day >= today:
        return []
    return [InputProblem("command line", None, "VISIT", "a visit still to be made", visit.id)]


def set_pinned(
    store: Store,
    visit_id: str,
    pinned: bool,
    *,
    today: date | None = None,
    by: str = "system",
    now: datetime | None = None,
) -> Visit:
    """Pin a visit (re-plans keep it where it is) or unpin it. With `today`, pinning a visit
    that is not still to be made is refused, as `move_visit` refuses to move one; unpinning
    is always allowed.

    Raises:
        NotFoundError: no such visit in the current plan.
        InputError: pinning a visit that is not still to be made.
    """
    visit = store.find_visit(visit_id)
    if visit is None:
        raise NotFoundError(f"no visit {visit_id!r} in the current plan")
    problems = _still_to_make(visit, today) if pinned and today is not None else []
    if problems:
        raise InputError(problems)
    changed = visit.model_copy(update={"pinned": pinned})
    if changed != visit:
        action = "visit pinned" if pinned else "visit unpinned"
        store.update_visit(changed, action, by=by, now=now, was=visit)
    return changed
