"""The caseload in the store: reading the scenario, children's edits and absences."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from policies import READ_BACK, Role
from scheduler.domain import (
    Absence,
    Authority,
    BusyTime,
    Child,
    Household,
    Plan,
    Scenario,
    Team,
    VisitRecord,
    Worker,
)
from scheduler.errors import InputError, InputProblem, NotFoundError, StoreError
from scheduler.gc_pause import paused_gc
from scheduler.store.calendar import _revoke
from scheduler.store.engine import (
    EMPTY_MESSAGE,
    StoreBase,
    _current_plan_id,
    _current_worker,
    _describe,
    _exists,
    _load,
    _next_position,
    _require_caseload,
    _revision,
    _Tx,
    field_changes,
)
from scheduler.store.plans import _drop_from_plan, _read_plan
from scheduler.store.tables import (
    absences_table,
    authority_table,
    busy_table,
    children_table,
    households_table,
    records_table,
    teams_table,
    users_table,
    workers_table,
)


class ChildRow(BaseModel):
    """A child as stored, open or closed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    child: Child
    closed_on: date | None = None
    close_reason: str | None = None


def _child_row(row: Any) -> ChildRow:
    return ChildRow(
        child=Child.model_validate_json(row.data, context=READ_BACK),
        closed_on=row.closed_on,
        close_reason=row.close_reason,
    )


def _absence_row(absence: Absence, position: int) -> dict[str, Any]:
    return {
        "position": position,
        "worker_id": absence.worker_id,
        "start": absence.start,
        "end": absence.end,
        "data": absence.model_dump_json(),
    }


def _unknown_team(team_id: str) -> InputProblem:
    return InputProblem("command line", None, "--team", "a known team id", team_id)


def _reference_problems(
    conn: Connection, child: Child, household: Household | None, new_home_option: str
) -> list[InputProblem]:
    """What a child (and the new household it brings) names that the store does not hold:
    a household id already taken, an unknown team or home, a worker who is not current."""
    problems: list[InputProblem] = []
    if household is not None:
        if _exists(conn, households_table, household.id):
            problems.append(
                InputProblem(
                    "command line", None, new_home_option, "a new household id", household.id
                )
            )
        if household.team_id is not None and not _exists(conn, teams_table, household.team_id):
            problems.append(_unknown_team(household.team_id))
    new_home = household.id if household else None
    for home in child.household_ids:
        if home != new_home and not _exists(conn, households_table, home):
            problems.append(
                InputProblem("command line", None, "--household", "a known household id", home)
            )
    if child.allocated_worker and not _current_worker(conn, child.allocated_worker):
        problems.append(
            InputProblem(
                "command line", None, "--worker", "a current worker id", child.allocated_worker
            )
        )
    return problems


def _edit_child(tx: _Tx, before: Child, child: Child, reason: str | None) -> dict[str, Any]:
    """Store a child's new facts with a "child edited" history row; the fields changed
    (nothing is written when none did)."""
    delta = field_changes(before, child)
    if delta:
        tx.conn.execute(
            update(children_table)
            .where(children_table.c.id == child.id)
            .values(allocated_worker=child.allocated_worker, data=child.model_dump_json())
        )
        tx.log("child edited", "child", child.id, child.id, changed=delta, reason=reason)
    return delta


def _insert_household(tx: _Tx, household: Household | None, child_id: str) -> None:
    """Store a child's new household (if any) and note it in the audit."""
    if household is None:
        return
    tx.conn.execute(
        insert(households_table),
        {
            "id": household.id,
            "position": _next_position(tx.conn, households_table),
            "team_id": household.team_id,
            "data": household.model_dump_json(),
        },
    )
    tx.log("household added", "household", household.id, child_id)


def _stored_absences(conn: Connection, worker_id: str) -> tuple[Absence, ...]:
    """The worker's stored absences."""
    rows = conn.execute(
        select(absences_table.c.data).where(absences_table.c.worker_id == worker_id)
    )
    return tuple(Absence.model_validate_json(r.data) for r in rows)


def _clash_problem(source: str, row: int | None, field: str, clash: Absence) -> InputProblem:
    """An absence refused because it overlaps `clash`, with how to replace that one."""
    return InputProblem(
        source,
        row,
        field,
        f"days no other absence of {clash.worker_id} covers (to change that one, remove it "
        f"first: `visitplan absence remove {clash.worker_id} --from {clash.start}`)",
        f"{clash.worker_id} is away {clash.start:%a %d %b %Y} to {clash.end:%a %d %b %Y}"
        f" ({clash.reason})",
    )


def _absence_match(worker_id: str, start: date) -> Any:
    """A delete of the worker's absence starting on `start`."""
    return delete(absences_table).where(
        absences_table.c.worker_id == worker_id, absences_table.c.start == start
    )


class CaseloadStore(StoreBase):
    """The scenario, children and absences (the caseload's part of `Store`)."""

    def has_caseload(self) -> bool:
        """True when a caseload has been loaded."""
        with self._read() as conn:
            return conn.execute(select(func.count()).select_from(authority_table)).scalar_one() > 0

    def read_scenario(self) -> Scenario:
        """The stored caseload as a scenario: open children, current workers, in load order.

        Records are those of open children; a record whose worker has left carries the role
        the worker had (the scenario holds current workers only).

        Raises:
            StoreError: nothing has been loaded yet.
        """
        with self._read() as conn:
            return self._scenario(conn)

    @staticmethod
    def _scenario(conn: Connection) -> Scenario:
        """The caseload read on one connection (see `read_scenario`)."""
        with paused_gc():
            return CaseloadStore._read_caseload(conn)

    @staticmethod
    def _read_caseload(conn: Connection) -> Scenario:
        """`_scenario` with the cycle collector held off."""
        head = conn.execute(select(authority_table)).first()
        if head is None:
            raise StoreError(EMPTY_MESSAGE)
        left_roles = {
            r.id: Worker.model_validate_json(r.data).role
            for r in conn.execute(
                select(workers_table.c.id, workers_table.c.data).where(
                    workers_table.c.left_on.is_not(None)
                )
            )
        }
        open_ids = {
            r.id
            for r in conn.execute(
                select(children_table.c.id).where(children_table.c.closed_on.is_(None))
            )
        }
        records = []
        for row in conn.execute(
            select(records_table.c.child_id, records_table.c.data).order_by(
                records_table.c.position
            )
        ):
            if row.child_id not in open_ids:
                continue
            record = VisitRecord.model_validate_json(row.data)
            if record.worker_role is None and record.worker_id in left_roles:
                record = record.model_copy(update={"worker_role": left_roles[record.worker_id]})
            records.append(record)
        current = select(workers_table.c.id).where(workers_table.c.left_on.is_(None))
        return Scenario(
            schema_version=head.schema_version,
            authority=Authority.model_validate_json(head.data),
            as_of=head.as_of,
            teams=_load(conn, teams_table, Team),
            workers=_load(conn, workers_table, Worker, workers_table.c.left_on.is_(None)),
            households=_load(conn, households_table, Household),
            children=_load(conn, children_table, Child, children_table.c.closed_on.is_(None)),
            absences=_load(conn, absences_table, Absence, absences_table.c.worker_id.in_(current)),
            busy=_load(conn, busy_table, BusyTime, busy_table.c.worker_id.in_(current)),
            records=tuple(records),
        )

    def snapshot(self) -> tuple[int, Scenario, Plan | None]:
        """The revision, caseload and current plan read together, consistent with each other.

        A proposal computed from this snapshot may replace the plan only while the store is
        still at this revision (`save_plan(..., expected_revision=...)`).
        """
        try:
            with self.engine.connect() as conn:
                if self.engine.dialect.name != "sqlite":
                    conn = conn.execution_options(isolation_level="REPEATABLE READ")
                with conn.begin(), paused_gc():
                    revision = _revision(conn)
                    scenario = self._scenario(conn)
                    plan_id = _current_plan_id(conn)
                    plan = None if plan_id is None else _read_plan(conn, plan_id)
        except SQLAlchemyError as exc:
            raise StoreError(f"database error: {_describe(exc)}") from None
        return revision, scenario, plan

    def worker(self, worker_id: str) -> Worker | None:
        """A current worker, or None."""
        with self._read() as conn:
            row = conn.execute(
                select(workers_table.c.data).where(
                    workers_table.c.id == worker_id, workers_table.c.left_on.is_(None)
                )
            ).first()
            return None if row is None else Worker.model_validate_json(row.data)

    def current_workers(self, team_id: str | None = None) -> tuple[Worker, ...]:
        """Workers who have not left, in stored order (one team's with `team_id`)."""
        current = workers_table.c.left_on.is_(None)
        where = current if team_id is None else current & (workers_table.c.team_id == team_id)
        with self._read() as conn:
            return _load(conn, workers_table, Worker, where)

    def update_workers(
        self, workers: Sequence[Worker], *, by: str = "system", now: datetime | None = None
    ) -> dict[str, dict[str, Any]]:
        """Replace current workers' facts in one transaction; the fields changed per worker.

        Raises:
            NotFoundError: a worker is unknown or has left.
            InputError: a worker's team is unknown.
        """
        out: dict[str, dict[str, Any]] = {}
        with self._write(by, now) as tx:
            conn = tx.conn
            for worker in workers:
                row = conn.execute(
                    select(workers_table.c.data).where(
                        workers_table.c.id == worker.id, workers_table.c.left_on.is_(None)
                    )
                ).first()
                if row is None:
                    raise NotFoundError(f"no current worker {worker.id!r}")
                if not _exists(conn, teams_table, worker.team_id):
                    raise InputError([_unknown_team(worker.team_id)])
                delta = field_changes(Worker.model_validate_json(row.data), worker)
                if not delta:
                    continue
                conn.execute(
                    update(workers_table)
                    .where(workers_table.c.id == worker.id)
                    .values(team_id=worker.team_id, data=worker.model_dump_json())
                )
                tx.log("worker edited", "worker", worker.id, changed=delta)
                out[worker.id] = delta
        return out

    def worker_leaves(
        self,
        worker_id: str,
        on: date,
        to: str | None = None,
        *,
        by: str = "system",
        now: datetime | None = None,
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Record that a worker left on `on`, in one transaction: the open children they were
        allocated to go to `to`, their feed stops, the desk sign-ins linked to them are
        disabled, and they are no longer planned (their absences and busy times stay as
        history, out of the caseload). The worker is kept for the records they made. Returns
        the children given to `to` (in stored order) and the sign-ins disabled (by name).

        Raises:
            NotFoundError: no such current worker.
            InputError: the worker still has open children and `to` is not given, or `to` is
                not another current worker; nothing is written.
        """
        with self._write(by, now) as tx:
            conn = tx.conn
            if not _current_worker(conn, worker_id):
                raise NotFoundError(f"no current worker {worker_id!r}")
            rows = conn.execute(
                select(children_table.c.id, children_table.c.data)
                .where(
                    children_table.c.allocated_worker == worker_id,
                    children_table.c.closed_on.is_(None),
                )
                .order_by(children_table.c.position)
            ).all()
            if to is not None and (to == worker_id or not _current_worker(conn, to)):
                raise InputError(
                    [InputProblem("command line", None, "--to", "another current worker id", to)]
                )
            if rows and to is None:
                raise InputError(
                    [
                        InputProblem(
                            "command line",
                            None,
                            "--to",
                            f"the colleague who takes over the {len(rows)} children "
                            f"allocated to {worker_id}",
                            "nothing",
                        )
                    ]
                )
            for row in rows:
                before = Child.model_validate_json(row.data, context=READ_BACK)
                after = before.model_copy(update={"allocated_worker": to})
                _edit_child(tx, before, after, "the allocated worker left")
            conn.execute(
                update(workers_table).where(workers_table.c.id == worker_id).values(left_on=on)
            )
            conn.execute(_revoke(worker_id, now or datetime.combine(on, datetime.min.time())))
            users = tuple(
                conn.execute(
                    select(users_table.c.name)
                    .where(users_table.c.worker_id == worker_id, users_table.c.disabled.is_(False))
                    .order_by(users_table.c.name)
                ).scalars()
            )
            conn.execute(
                update(users_table)
                .where(users_table.c.worker_id == worker_id)
                .values(disabled=True)
            )
            tx.log(
                "worker left", "worker", worker_id, on=on, to=to, children=len(rows), users=users
            )
            return tuple(r.id for r in rows), users

    def left_workers(self) -> tuple[tuple[Worker, date], ...]:
        """Workers who have left, each with the day they left, in stored order."""
        with self._read() as conn:
            rows = conn.execute(
                select(workers_table.c.data, workers_table.c.left_on)
                .where(workers_table.c.left_on.is_not(None))
                .order_by(workers_table.c.position)
            ).all()
            return tuple((Worker.model_validate_json(r.data), r.left_on) for r in rows)

    def worker_roles(self) -> dict[str, Role]:
        """Every worker's role by id, including workers who have left (a leaver keeps their
        role for the records of their visits)."""
        with self._read() as conn:
            return {
                r.id: Worker.model_validate_json(r.data).role
                for r in conn.execute(select(workers_table.c.id, workers_table.c.data))
            }

    def worker_names(self) -> dict[str, str]:
        """Every worker's name by id, including workers who have left."""
        with self._read() as conn:
            return {
                r.id: Worker.model_validate_json(r.data).name
                for r in conn.execute(select(workers_table.c.id, workers_table.c.data))
            }

    # ----------------------------------------------------------------- children

    def child_row(self, child_id: str) -> ChildRow | None:
        """A child as stored (open or closed), or None."""
        with self._read() as conn:
            row = conn.execute(
                select(children_table).where(children_table.c.id == child_id)
            ).first()
            return None if row is None else _child_row(row)

    def closed_children(self, child_ids: Collection[str]) -> dict[str, Child]:
        """The closed children among `child_ids`, by id (a plan made before they closed still
        names them)."""
        ids = list(dict.fromkeys(child_ids))
        found: dict[str, Child] = {}
        with self._read() as conn:
            for start in range(0, len(ids), 500):
                rows = conn.execute(
                    select(children_table).where(
                        children_table.c.id.in_(ids[start : start + 500]),
                        children_table.c.closed_on.is_not(None),
                    )
                ).all()
                found.update((row.id, _child_row(row).child) for row in rows)
        return found

    def closed_case_refs(self) -> dict[str, str]:
        """The case reference of every closed child, by child id (plans made before a child
        was closed still name them)."""
        with self._read() as conn:
            rows = conn.execute(
                select(children_table.c.id, children_table.c.data).where(
                    children_table.c.closed_on.is_not(None)
                )
            ).all()
        return {r.id: str(json.loads(r.data)["case_ref"]) for r in rows}

    def children_with_case_ref(self, case_ref: str) -> tuple[ChildRow, ...]:
        """Children (open or closed) with this case reference."""
        with self._read() as conn:
            rows = conn.execute(select(children_table)).all()
        return tuple(c for c in (_child_row(r) for r in rows) if c.child.case_ref == case_ref)

    def add_child(
        self,
        child: Child,
        household: Household | None = None,
        *,
        by: str = "system",
        now: datetime | None = None,
    ) -> int:
        """Add one child (and a new household) in one short transaction; the new revision.

        Raises:
            StoreError: nothing has been loaded yet.
            InputError: the id or case reference is taken, or a household, worker or team is
                unknown.
        """
        with self._write(by, now) as tx:
            conn = tx.conn
            _require_caseload(conn)
            problems: list[InputProblem] = []
            if _exists(conn, children_table, child.id):
                problems.append(
                    InputProblem("command line", None, "CHILD", "a new child id", child.id)
                )
            case_refs = {
                Child.model_validate_json(r.data, context=READ_BACK).case_ref: r.id
                for r in conn.execute(
                    select(children_table.c.id, children_table.c.data).where(
                        children_table.c.closed_on.is_(None)
                    )
                )
            }
            if child.case_ref in case_refs:
                problems.append(
                    InputProblem(
                        "command line",
                        None,
                        "--case-ref",
                        "a case reference no open child has "
                        f"(child {case_refs[child.case_ref]} has it)",
                        child.case_ref,
                    )
                )
            problems += _reference_problems(conn, child, household, "--household")
            if problems:
                raise InputError(problems)
            _insert_household(tx, household, child.id)
            conn.execute(
                insert(children_table),
                {
                    "id": child.id,
                    "position": _next_position(conn, children_table),
                    "allocated_worker": child.allocated_worker,
                    "data": child.model_dump_json(),
                },
            )
            tx.log("child added", "child", child.id, child.id, category=child.category)
            return tx.bump()

    def update_child(
        self,
        child: Child,
        household: Household | None = None,
        *,
        reason: str | None = None,
        by: str = "system",
        now: datetime | None = None,
    ) -> dict[str, Any]:
        """Replace one open child's facts (and add a new household); the fields changed.

        Raises:
            NotFoundError: no such child, or the child is closed.
            InputError: an unknown household, worker or team.
        """
        with self._write(by, now) as tx:
            conn = tx.conn
            row = conn.execute(
                select(children_table).where(children_table.c.id == child.id)
            ).first()
            if row is None or row.closed_on is not None:
                state = "unknown" if row is None else "closed"
                raise NotFoundError(
                    f"child {child.id!r} is {state}: only an open child can be edited"
                )
            problems = _reference_problems(conn, child, household, "--new-household")
            if problems:
                raise InputError(problems)
            _insert_household(tx, household, child.id)
            before = Child.model_validate_json(row.data, context=READ_BACK)
            return _edit_child(tx, before, child, reason)

    def close_child(
        self,
        child_id: str,
        on: date,
        reason: str,
        *,
        by: str = "system",
        now: datetime | None = None,
    ) -> None:
        """Close a child's case on `on`: no visits after it; history kept.

        Raises:
            NotFoundError: no such open child.
        """
        with self._write(by, now) as tx:
            done = tx.conn.execute(
                update(children_table)
                .where(children_table.c.id == child_id, children_table.c.closed_on.is_(None))
                .values(closed_on=on, close_reason=reason)
            )
            if done.rowcount == 0:
                raise NotFoundError(f"no open child {child_id!r}")
            tx.log("child closed", "child", child_id, child_id, on=on, reason=reason)
            _drop_from_plan(tx, (child_id,), on)

    # ----------------------------------------------------------------- absences

    def add_absence(
        self, absence: Absence, *, by: str = "system", now: datetime | None = None
    ) -> None:
        """Add an absence (see `add_absences`).

        Raises:
            NotFoundError: the worker is unknown.
            InputError: it overlaps another absence of the worker.
        """
        self.add_absences((absence,), by=by, now=now)

    def add_absences(
        self,
        absences: Sequence[Absence],
        *,
        by: str = "system",
        now: datetime | None = None,
        source: str = "absence",
        field: str = "start",
        rows: Sequence[int | None] = (),
    ) -> tuple[Absence, ...]:
        """Add absences in one transaction: all of them or none. Returns those added (the
        others were stored already).

        An absence stored exactly as it is is skipped (running a command again changes
        nothing). One with a day in common with another absence of the worker, stored or
        earlier in `absences`, is refused and never replaces it: the earlier one is removed
        first (`remove_absence`). A refusal names `source`, the absence's row (from `rows`,
        one per absence) and `field`, and the absence it overlaps.

        Raises:
            NotFoundError: a worker is unknown; nothing is written.
            InputError: an absence overlaps another; nothing is written.
        """
        with self._write(by, now) as tx:
            conn = tx.conn
            problems: list[InputProblem] = []
            kept: list[Absence] = []
            fresh: list[Absence] = []
            for i, absence in enumerate(absences):
                if not _current_worker(conn, absence.worker_id):
                    raise NotFoundError(f"unknown worker {absence.worker_id!r}")
                if absence in kept:
                    continue
                stored = _stored_absences(conn, absence.worker_id)
                if absence in stored:
                    kept.append(absence)
                    continue
                clash = next((a for a in (*stored, *fresh) if a.overlaps(absence)), None)
                if clash is not None:
                    row = rows[i] if i < len(rows) else None
                    problems.append(_clash_problem(source, row, field, clash))
                    continue
                fresh.append(absence)
            if problems:
                raise InputError(problems)
            self._insert_absences(tx, fresh)
            return tuple(fresh)

    @staticmethod
    def _insert_absences(tx: _Tx, absences: Sequence[Absence]) -> None:
        """Insert absences after the stored ones, each noted in the audit."""
        position = _next_position(tx.conn, absences_table)
        for absence in absences:
            tx.conn.execute(insert(absences_table), _absence_row(absence, position))
            position += 1
            tx.log(
                "absence added",
                "absence",
                absence.worker_id,
                start=absence.start,
                end=absence.end,
                reason=absence.reason,
            )

    def remove_absence(
        self, worker_id: str, start: date, *, by: str = "system", now: datetime | None = None
    ) -> bool:
        """Remove the worker's absence starting on `start`; False when there was none."""
        with self._write(by, now) as tx:
            removed = tx.conn.execute(_absence_match(worker_id, start)).rowcount > 0
            if removed:
                tx.log("absence removed", "absence", worker_id, start=start)
            return removed

    def list_absences(self, worker_id: str | None = None) -> tuple[Absence, ...]:
        """Absences, of one worker or of all, by start date."""
        query = select(absences_table.c.data).order_by(
            absences_table.c.start, absences_table.c.worker_id
        )
        if worker_id is not None:
            query = query.where(absences_table.c.worker_id == worker_id)
        with self._read() as conn:
            return tuple(Absence.model_validate_json(r.data) for r in conn.execute(query))
