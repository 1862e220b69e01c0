"""The store: caseload, visit records, absences, plans, calendar ledger and feed tokens.

Rule: SQLAlchemy 2 Core over any URL (SQLite by default, PostgreSQL for a team); one table per
entity kind with real key columns plus a `data` column holding the model's JSON, so models
round-trip exactly. Every write runs in one transaction (`engine.begin()`): all or nothing.
No clock: callers pass `now` for timestamps.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Engine,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import SQLAlchemyError

from scheduler.domain import (
    Absence,
    Authority,
    BusyTime,
    Child,
    Household,
    LedgerEntry,
    Plan,
    Scenario,
    Team,
    Visit,
    VisitRecord,
    Worker,
)
from scheduler.errors import InputError, InputProblem, NotFoundError, StoreError

DEFAULT_URL = "sqlite:///visitplan.db"
EMPTY_MESSAGE = "the store is empty: run `visitplan load FILE` or `visitplan demo`"

M = TypeVar("M", bound=BaseModel)

metadata = MetaData()

authority_table = Table(
    "authority",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("as_of", Date, nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("data", Text, nullable=False),
)
teams_table = Table(
    "teams",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("data", Text, nullable=False),
)
workers_table = Table(
    "workers",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("team_id", String(200), nullable=False, index=True),
    Column("data", Text, nullable=False),
)
households_table = Table(
    "households",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("team_id", String(200), index=True),
    Column("data", Text, nullable=False),
)
children_table = Table(
    "children",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("allocated_worker", String(200), index=True),
    Column("data", Text, nullable=False),
)
absences_table = Table(
    "absences",
    metadata,
    Column("key", Integer, primary_key=True, autoincrement=True),
    Column("position", Integer, nullable=False),
    Column("worker_id", String(200), nullable=False, index=True),
    Column("start", Date, nullable=False),
    Column("end", Date, nullable=False),
    Column("data", Text, nullable=False),
)
busy_table = Table(
    "busy_times",
    metadata,
    Column("key", Integer, primary_key=True, autoincrement=True),
    Column("position", Integer, nullable=False),
    Column("worker_id", String(200), nullable=False, index=True),
    Column("data", Text, nullable=False),
)
records_table = Table(
    "records",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("child_id", String(200), nullable=False, index=True),
    Column("worker_id", String(200), index=True),
    Column("household_id", String(200)),
    Column("on", Date, nullable=False, index=True),
    Column("data", Text, nullable=False),
)
plans_table = Table(
    "plans",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("saved_at", DateTime(timezone=True), nullable=False),
    Column("is_current", Boolean, nullable=False, default=False),
    Column("start", Date, nullable=False),
    Column("end", Date, nullable=False),
    Column("data", Text, nullable=False),
)
plan_visits_table = Table(
    "plan_visits",
    metadata,
    Column("plan_id", String(200), ForeignKey("plans.id"), primary_key=True),
    Column("id", String(200), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("worker_id", String(200), nullable=False, index=True),
    Column("household_id", String(200), nullable=False),
    Column("day", Date, nullable=False, index=True),
    Column("data", Text, nullable=False),
)
ledger_table = Table(
    "calendar_ledger",
    metadata,
    Column("uid", String(300), primary_key=True),
    Column("worker_id", String(200), nullable=False, index=True),
    Column("data", Text, nullable=False),
)
feed_tokens_table = Table(
    "feed_tokens",
    metadata,
    Column("token_hash", String(200), primary_key=True),
    Column("worker_id", String(200), nullable=False, index=True),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
)

_CASELOAD_TABLES: tuple[Table, ...] = (
    authority_table,
    teams_table,
    workers_table,
    households_table,
    children_table,
    absences_table,
    busy_table,
    records_table,
)


def engine_url(url: str) -> str:
    """The SQLAlchemy URL of a store URL: plain `postgresql://` (or `postgres://`) means psycopg 3.

    SQLAlchemy's default PostgreSQL driver is psycopg2; the `postgres` extra installs psycopg 3,
    so a URL without a driver is given that one. URLs naming a driver are left alone.
    """
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return f"postgresql+psycopg://{url.removeprefix(prefix)}"
    return url


class Store:
    """The visitplan database behind any SQLAlchemy URL."""

    def __init__(self, url: str = DEFAULT_URL) -> None:
        """Open the database at `url` and create any missing tables.

        Raises:
            StoreError: the URL is malformed or the database cannot be reached.
        """
        self.url = url
        try:
            self.engine: Engine = create_engine(engine_url(url))
            metadata.create_all(self.engine)
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            raise StoreError(f"cannot open the store {url!r}: {exc}") from exc

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        """Use the store as a context manager that closes it."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the store."""
        self.close()

    @contextmanager
    def _begin(self) -> Iterator[Connection]:
        """One transaction; database failures become StoreError, nothing half-written."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise StoreError(f"database error: {exc}") from exc

    @staticmethod
    def _insert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
        """Insert rows (nothing when there are none)."""
        if rows:
            conn.execute(insert(table), list(rows))

    # ----------------------------------------------------------------- caseload

    def replace_caseload(self, scenario: Scenario) -> None:
        """Replace the authority, teams, workers, households, children, absences, busy times
        and records with the scenario's, in one transaction: all or nothing.
        """
        with self._begin() as conn:
            for table in reversed(_CASELOAD_TABLES):
                conn.execute(delete(table))
            self._insert(
                conn,
                authority_table,
                [
                    {
                        "id": scenario.authority.id,
                        "as_of": scenario.as_of,
                        "schema_version": scenario.schema_version,
                        "data": scenario.authority.model_dump_json(),
                    }
                ],
            )
            self._insert(
                conn,
                teams_table,
                [
                    {"id": t.id, "position": i, "data": t.model_dump_json()}
                    for i, t in enumerate(scenario.teams)
                ],
            )
            self._insert(
                conn,
                workers_table,
                [
                    {"id": w.id, "position": i, "team_id": w.team_id, "data": w.model_dump_json()}
                    for i, w in enumerate(scenario.workers)
                ],
            )
            self._insert(
                conn,
                households_table,
                [
                    {"id": h.id, "position": i, "team_id": h.team_id, "data": h.model_dump_json()}
                    for i, h in enumerate(scenario.households)
                ],
            )
            self._insert(
                conn,
                children_table,
                [
                    {
                        "id": c.id,
                        "position": i,
                        "allocated_worker": c.allocated_worker,
                        "data": c.model_dump_json(),
                    }
                    for i, c in enumerate(scenario.children)
                ],
            )
            self._insert(
                conn,
                absences_table,
                [_absence_row(a, i) for i, a in enumerate(scenario.absences)],
            )
            self._insert(
                conn,
                busy_table,
                [
                    {"position": i, "worker_id": b.worker_id, "data": b.model_dump_json()}
                    for i, b in enumerate(scenario.busy)
                ],
            )
            self._insert(
                conn,
                records_table,
                [_record_row(r, i) for i, r in enumerate(scenario.records)],
            )

    def has_caseload(self) -> bool:
        """True when a caseload has been loaded."""
        with self._begin() as conn:
            return conn.execute(select(func.count()).select_from(authority_table)).scalar_one() > 0

    def read_scenario(self) -> Scenario:
        """The stored caseload as a scenario, in the order it was loaded.

        Raises:
            StoreError: nothing has been loaded yet.
        """
        with self._begin() as conn:
            head = conn.execute(select(authority_table)).first()
            if head is None:
                raise StoreError(EMPTY_MESSAGE)
            return Scenario(
                schema_version=head.schema_version,
                authority=Authority.model_validate_json(head.data),
                as_of=head.as_of,
                teams=_load(conn, teams_table, Team),
                workers=_load(conn, workers_table, Worker),
                households=_load(conn, households_table, Household),
                children=_load(conn, children_table, Child),
                absences=_load(conn, absences_table, Absence),
                busy=_load(conn, busy_table, BusyTime),
                records=_load(conn, records_table, VisitRecord),
            )

    # ------------------------------------------------------------------ records

    def add_record(self, record: VisitRecord) -> None:
        """Add one visit record.

        Raises:
            StoreError: nothing has been loaded yet.
            InputError: the record's id is taken, or its child, worker or household is unknown.
        """
        with self._begin() as conn:
            if conn.execute(select(authority_table.c.id)).first() is None:
                raise StoreError(EMPTY_MESSAGE)
            problems: list[InputProblem] = []

            def check(table: Table, value: str | None, field: str, expected: str) -> None:
                if value is None:
                    return
                found = conn.execute(select(table.c.id).where(table.c.id == value)).first()
                if found is None:
                    problems.append(InputProblem("record", None, field, expected, value))

            check(children_table, record.child_id, "child_id", "a known child id")
            check(workers_table, record.worker_id, "worker_id", "a known worker id")
            check(households_table, record.household_id, "household_id", "a known household id")
            taken = conn.execute(
                select(records_table.c.id).where(records_table.c.id == record.id)
            ).first()
            if taken is not None:
                problems.append(InputProblem("record", None, "id", "a unique id", record.id))
            if problems:
                raise InputError(problems)
            position = _next_position(conn, records_table)
            self._insert(conn, records_table, [_record_row(record, position)])

    def records_for(self, child_id: str) -> tuple[VisitRecord, ...]:
        """The child's visit records, oldest first."""
        with self._begin() as conn:
            rows = conn.execute(
                select(records_table.c.data)
                .where(records_table.c.child_id == child_id)
                .order_by(records_table.c.on, records_table.c.position)
            )
            return tuple(VisitRecord.model_validate_json(r.data) for r in rows)

    # ----------------------------------------------------------------- absences

    def add_absence(self, absence: Absence) -> None:
        """Add an absence; one already starting that day for that worker is replaced.

        Raises:
            NotFoundError: the worker is unknown.
        """
        with self._begin() as conn:
            known = conn.execute(
                select(workers_table.c.id).where(workers_table.c.id == absence.worker_id)
            ).first()
            if known is None:
                raise NotFoundError(f"unknown worker {absence.worker_id!r}")
            conn.execute(_absence_match(absence.worker_id, absence.start))
            position = _next_position(conn, absences_table)
            self._insert(conn, absences_table, [_absence_row(absence, position)])

    def remove_absence(self, worker_id: str, start: date) -> bool:
        """Remove the worker's absence starting on `start`; False when there was none."""
        with self._begin() as conn:
            return conn.execute(_absence_match(worker_id, start)).rowcount > 0

    def list_absences(self, worker_id: str | None = None) -> tuple[Absence, ...]:
        """Absences, of one worker or of all, by start date."""
        query = select(absences_table.c.data).order_by(
            absences_table.c.start, absences_table.c.worker_id
        )
        if worker_id is not None:
            query = query.where(absences_table.c.worker_id == worker_id)
        with self._begin() as conn:
            return tuple(Absence.model_validate_json(r.data) for r in conn.execute(query))

    # -------------------------------------------------------------------- plans

    def save_plan(self, plan: Plan, now: datetime) -> None:
        """Store the plan and its visits and make it the current plan.

        A plan saved again under the same id replaces the earlier copy.
        """
        header = plan.model_copy(update={"visits": ()})
        with self._begin() as conn:
            conn.execute(delete(plan_visits_table).where(plan_visits_table.c.plan_id == plan.id))
            conn.execute(delete(plans_table).where(plans_table.c.id == plan.id))
            conn.execute(update(plans_table).values(is_current=False))
            self._insert(
                conn,
                plans_table,
                [
                    {
                        "id": plan.id,
                        "saved_at": now,
                        "is_current": True,
                        "start": plan.start,
                        "end": plan.end,
                        "data": header.model_dump_json(),
                    }
                ],
            )
            self._insert(
                conn,
                plan_visits_table,
                [
                    {
                        "plan_id": plan.id,
                        "id": v.id,
                        "position": i,
                        "worker_id": v.worker_id,
                        "household_id": v.household_id,
                        "day": v.day,
                        "data": v.model_dump_json(),
                    }
                    for i, v in enumerate(plan.visits)
                ],
            )

    def current_plan(self) -> Plan | None:
        """The plan saved last, or None when no plan has been saved."""
        with self._begin() as conn:
            plan_id = conn.execute(
                select(plans_table.c.id).where(plans_table.c.is_current.is_(True))
            ).scalar_one_or_none()
            return None if plan_id is None else _read_plan(conn, plan_id)

    def plan(self, plan_id: str) -> Plan | None:
        """The plan with this id, or None."""
        with self._begin() as conn:
            return _read_plan(conn, plan_id)

    def find_visit(self, visit_id: str) -> Visit | None:
        """The visit with this id in the current plan, or None."""
        with self._begin() as conn:
            row = conn.execute(
                select(plan_visits_table.c.data)
                .join(plans_table, plans_table.c.id == plan_visits_table.c.plan_id)
                .where(plans_table.c.is_current.is_(True), plan_visits_table.c.id == visit_id)
            ).first()
            return None if row is None else Visit.model_validate_json(row.data)

    # ------------------------------------------------------------ calendar ledger

    def ledger_get(self, uid: str) -> LedgerEntry | None:
        """The ledger entry of one event UID, or None."""
        with self._begin() as conn:
            row = conn.execute(select(ledger_table.c.data).where(ledger_table.c.uid == uid)).first()
            return None if row is None else LedgerEntry.model_validate_json(row.data)

    def ledger_put(self, entry: LedgerEntry) -> None:
        """Insert or replace the ledger entry of `entry.uid`."""
        with self._begin() as conn:
            conn.execute(delete(ledger_table).where(ledger_table.c.uid == entry.uid))
            self._insert(
                conn,
                ledger_table,
                [{"uid": entry.uid, "worker_id": entry.worker_id, "data": entry.model_dump_json()}],
            )

    def ledger_all(self, worker_id: str | None = None) -> tuple[LedgerEntry, ...]:
        """Every ledger entry, or one worker's, by UID."""
        query = select(ledger_table.c.data).order_by(ledger_table.c.uid)
        if worker_id is not None:
            query = query.where(ledger_table.c.worker_id == worker_id)
        with self._begin() as conn:
            return tuple(LedgerEntry.model_validate_json(r.data) for r in conn.execute(query))

    def ledger_delete(self, uid: str) -> bool:
        """Forget an event UID; False when it was not in the ledger."""
        with self._begin() as conn:
            return conn.execute(delete(ledger_table).where(ledger_table.c.uid == uid)).rowcount > 0

    # -------------------------------------------------------------- feed tokens

    def feed_token_put(self, worker_id: str, token_hash: str, now: datetime) -> None:
        """Record a new feed token (hashed) for a worker, revoking the worker's older ones.

        Raises:
            NotFoundError: the worker is unknown.
        """
        with self._begin() as conn:
            known = conn.execute(
                select(workers_table.c.id).where(workers_table.c.id == worker_id)
            ).first()
            if known is None:
                raise NotFoundError(f"unknown worker {worker_id!r}")
            conn.execute(_revoke(worker_id, now))
            self._insert(
                conn,
                feed_tokens_table,
                [{"token_hash": token_hash, "worker_id": worker_id, "issued_at": now}],
            )

    def feed_token_revoke(self, worker_id: str, now: datetime) -> bool:
        """Revoke the worker's live feed tokens; False when there were none."""
        with self._begin() as conn:
            return conn.execute(_revoke(worker_id, now)).rowcount > 0

    def feed_worker_for(self, token_hash: str) -> str | None:
        """The worker whose live (not revoked) token has this hash, or None."""
        with self._begin() as conn:
            return conn.execute(
                select(feed_tokens_table.c.worker_id).where(
                    feed_tokens_table.c.token_hash == token_hash,
                    feed_tokens_table.c.revoked_at.is_(None),
                )
            ).scalar_one_or_none()


def _load(conn: Connection, table: Table, model: type[M]) -> tuple[M, ...]:
    """Every row of a table as models, in stored order."""
    rows = conn.execute(select(table.c.data).order_by(table.c.position))
    return tuple(model.model_validate_json(r.data) for r in rows)


def _next_position(conn: Connection, table: Table) -> int:
    """One past the highest position in the table."""
    highest = conn.execute(select(func.max(table.c.position))).scalar_one_or_none()
    return 0 if highest is None else highest + 1


def _record_row(record: VisitRecord, position: int) -> dict[str, Any]:
    return {
        "id": record.id,
        "position": position,
        "child_id": record.child_id,
        "worker_id": record.worker_id,
        "household_id": record.household_id,
        "on": record.on,
        "data": record.model_dump_json(),
    }


def _absence_row(absence: Absence, position: int) -> dict[str, Any]:
    return {
        "position": position,
        "worker_id": absence.worker_id,
        "start": absence.start,
        "end": absence.end,
        "data": absence.model_dump_json(),
    }


def _absence_match(worker_id: str, start: date) -> Any:
    """A delete of the worker's absence starting on `start`."""
    return delete(absences_table).where(
        absences_table.c.worker_id == worker_id, absences_table.c.start == start
    )


def _revoke(worker_id: str, now: datetime) -> Any:
    """An update revoking the worker's live feed tokens."""
    return (
        update(feed_tokens_table)
        .where(feed_tokens_table.c.worker_id == worker_id, feed_tokens_table.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def _read_plan(conn: Connection, plan_id: str) -> Plan | None:
    """A stored plan with its visits, or None."""
    row = conn.execute(select(plans_table.c.data).where(plans_table.c.id == plan_id)).first()
    if row is None:
        return None
    visits = conn.execute(
        select(plan_visits_table.c.data)
        .where(plan_visits_table.c.plan_id == plan_id)
        .order_by(plan_visits_table.c.position)
    )
    header = Plan.model_validate_json(row.data)
    return header.model_copy(
        update={"visits": tuple(Visit.model_validate_json(v.data) for v in visits)}
    )
