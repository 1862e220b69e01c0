"""The store: caseload, visit records, absences, plans, audit, calendar ledger and feed tokens.

Rule: SQLAlchemy 2 Core over any URL (SQLite by default, PostgreSQL for a team); one table per
entity kind with real key columns plus a `data` column holding the model's JSON, so models
round-trip exactly. Writes are row-level and short: each runs in one transaction that touches
only its own rows, so two people (or a cron import and a manager) working at once never lose
each other's writes. Records are history: an amendment is a new version, the earlier one is
kept. Every write that planning depends on bumps the store's revision and leaves an audit row
(who, when, what); a plan replaces the current one only while the store is still at the
revision it was computed from. No clock: callers pass `now`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field
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
    bindparam,
    create_engine,
    delete,
    event,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from scheduler.accounts import User
from scheduler.domain import (
    ID_MAX,
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
from scheduler.errors import InputError, InputProblem, NotFoundError, StaleError, StoreError

DEFAULT_URL = "sqlite:///visitplan.db"
EMPTY_MESSAGE = "the store is empty: run `visitplan load FILE` or `visitplan demo`"
BATCH_ROWS = 5000
"""Rows per insert statement when a merge writes many (a six-year visit history)."""
SCHEMA = 2
"""Store layout version: 2 added revisions, the audit, record versions and closures."""

M = TypeVar("M", bound=BaseModel)

metadata = MetaData()

meta_table = Table(
    "store_meta",
    metadata,
    Column("key", String(50), primary_key=True),
    Column("value", Integer, nullable=False),
)
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
    Column("id", String(ID_MAX), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("data", Text, nullable=False),
)
workers_table = Table(
    "workers",
    metadata,
    Column("id", String(ID_MAX), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("team_id", String(ID_MAX), nullable=False, index=True),
    Column("left_on", Date),
    Column("data", Text, nullable=False),
)
households_table = Table(
    "households",
    metadata,
    Column("id", String(ID_MAX), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("team_id", String(ID_MAX), index=True),
    Column("data", Text, nullable=False),
)
children_table = Table(
    "children",
    metadata,
    Column("id", String(ID_MAX), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("allocated_worker", String(ID_MAX), index=True),
    Column("closed_on", Date),
    Column("close_reason", String(500)),
    Column("data", Text, nullable=False),
)
absences_table = Table(
    "absences",
    metadata,
    Column("key", Integer, primary_key=True, autoincrement=True),
    Column("position", Integer, nullable=False),
    Column("worker_id", String(ID_MAX), nullable=False, index=True),
    Column("start", Date, nullable=False),
    Column("end", Date, nullable=False),
    Column("data", Text, nullable=False),
)
busy_table = Table(
    "busy_times",
    metadata,
    Column("key", Integer, primary_key=True, autoincrement=True),
    Column("position", Integer, nullable=False),
    Column("worker_id", String(ID_MAX), nullable=False, index=True),
    Column("data", Text, nullable=False),
)
records_table = Table(
    "records",
    metadata,
    Column("id", String(ID_MAX), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("child_id", String(ID_MAX), nullable=False, index=True),
    Column("worker_id", String(ID_MAX), index=True),
    Column("household_id", String(ID_MAX)),
    Column("on", Date, nullable=False, index=True),
    Column("visit_id", String(ID_MAX), index=True),
    Column("version", Integer, nullable=False, default=1),
    Column("recorded_at", DateTime(timezone=True)),
    Column("recorded_by", String(ID_MAX)),
    Column("data", Text, nullable=False),
)
record_versions_table = Table(
    "record_versions",
    metadata,
    Column("id", String(ID_MAX), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("child_id", String(ID_MAX), nullable=False, index=True),
    Column("recorded_at", DateTime(timezone=True)),
    Column("recorded_by", String(ID_MAX)),
    Column("superseded_at", DateTime(timezone=True)),
    Column("superseded_by", String(ID_MAX)),
    Column("data", Text, nullable=False),
)
plans_table = Table(
    "plans",
    metadata,
    Column("id", String(ID_MAX), primary_key=True),
    Column("saved_at", DateTime(timezone=True), nullable=False),
    Column("is_current", Boolean, nullable=False, default=False),
    Column("start", Date, nullable=False),
    Column("end", Date, nullable=False),
    Column("data", Text, nullable=False),
)
plan_visits_table = Table(
    "plan_visits",
    metadata,
    Column("plan_id", String(ID_MAX), ForeignKey("plans.id"), primary_key=True),
    Column("id", String(ID_MAX), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("worker_id", String(ID_MAX), nullable=False, index=True),
    Column("household_id", String(ID_MAX), nullable=False),
    Column("day", Date, nullable=False, index=True),
    Column("data", Text, nullable=False),
)
audit_table = Table(
    "audit",
    metadata,
    Column("key", Integer, primary_key=True, autoincrement=True),
    Column("revision", Integer, nullable=False, index=True),
    Column("at", DateTime(timezone=True)),
    Column("by", String(ID_MAX), nullable=False),
    Column("action", String(100), nullable=False),
    Column("entity", String(50), nullable=False),
    Column("entity_id", String(ID_MAX)),
    Column("child_id", String(ID_MAX), index=True),
    Column("detail", Text, nullable=False),
)
ledger_table = Table(
    "calendar_ledger",
    metadata,
    Column("uid", String(300), primary_key=True),
    Column("worker_id", String(ID_MAX), nullable=False, index=True),
    Column("data", Text, nullable=False),
)
feed_tokens_table = Table(
    "feed_tokens",
    metadata,
    Column("token_hash", String(200), primary_key=True),
    Column("worker_id", String(ID_MAX), nullable=False, index=True),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
)

# ------------------------------------------------- users of the desk (scheduler.accounts)
users_table = Table(
    "users",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("role", String(20), nullable=False),
    Column("worker_id", String(200)),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("password_hash", String(300), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("data", Text, nullable=False),
)
# --------------------------------------------------------------- end of users of the desk

_ADDED_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "workers": (("left_on", "DATE"),),
    "children": (("closed_on", "DATE"), ("close_reason", "VARCHAR(500)")),
    "records": (
        ("visit_id", f"VARCHAR({ID_MAX})"),
        ("version", "INTEGER NOT NULL DEFAULT 1"),
        ("recorded_at", "TIMESTAMP WITH TIME ZONE"),
        ("recorded_by", f"VARCHAR({ID_MAX})"),
    ),
}
"""Columns added in schema 2, added in place to a store made by an earlier version."""

SENSITIVE_FIELDS = frozenset({"name", "birth_date", "address"})
"""Child and household fields whose values the audit never keeps (it notes the change only)."""


class AuditEntry(BaseModel):
    """One change to the store: who, when, what, at which revision."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    revision: int = Field(description="The store revision this change made.")
    at: datetime | None = Field(default=None, description="When (None for system loads).")
    by: str = Field(description="Who made the change.")
    action: str = Field(description="What was done, e.g. 'child edited', 'record added'.")
    entity: str = Field(description="child, record, absence, plan, visit, caseload ...")
    entity_id: str | None = Field(default=None, description="Id of what was changed.")
    child_id: str | None = Field(default=None, description="The child concerned, if any.")
    detail: dict[str, Any] = Field(default_factory=dict, description="Fields changed and such.")

    def summary(self) -> str:
        """One line a manager can read: action, id and the fields it changed."""
        parts = [self.action]
        if self.entity_id:
            parts.append(self.entity_id)
        changed = self.detail.get("changed")
        if isinstance(changed, dict) and changed:
            parts.append("(" + ", ".join(sorted(changed)) + ")")
        return " ".join(parts)


class ChildRow(BaseModel):
    """A child as stored, open or closed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    child: Child
    closed_on: date | None = None
    close_reason: str | None = None


class RecordVersion(BaseModel):
    """One version of a visit record, current or superseded."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    record: VisitRecord
    version: int
    recorded_at: datetime | None = None
    recorded_by: str | None = None
    superseded_at: datetime | None = None
    superseded_by: str | None = None


class MergeReport(BaseModel):
    """What a merge of a caseload into the store added, changed and closed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str
    added: tuple[str, ...] = Field(default=(), description="Children added.")
    changed: tuple[str, ...] = Field(default=(), description="Children whose facts changed.")
    closed: tuple[str, ...] = Field(default=(), description="Children closed (not in source).")
    reopened: tuple[str, ...] = Field(default=(), description="Closed children open again.")
    workers_added: int = 0
    workers_left: int = 0
    households_added: int = 0
    households_changed: int = 0
    records_added: int = 0
    records_amended: int = 0
    absences_added: int = 0
    revision: int = 0

    def counts(self) -> dict[str, int]:
        """The figures a manager reads after an import."""
        return {
            "children added": len(self.added),
            "children changed": len(self.changed),
            "children closed": len(self.closed),
            "children reopened": len(self.reopened),
            "workers added": self.workers_added,
            "workers left": self.workers_left,
            "households added": self.households_added,
            "households changed": self.households_changed,
            "records added": self.records_added,
            "records amended": self.records_amended,
            "absences added": self.absences_added,
        }


@dataclass
class _Tx:
    """One write transaction: its connection, who and when, and the revision it made."""

    conn: Connection
    by: str
    now: datetime | None
    revision: int | None = None
    entries: list[dict[str, Any]] = field(default_factory=list)

    def bump(self) -> int:
        """The revision this transaction makes (the store's counter + 1, once)."""
        if self.revision is None:
            self.conn.execute(
                update(meta_table)
                .where(meta_table.c.key == "revision")
                .values(value=meta_table.c.value + 1)
            )
            self.revision = self.conn.execute(
                select(meta_table.c.value).where(meta_table.c.key == "revision")
            ).scalar_one()
        return self.revision

    def log(
        self,
        action: str,
        entity: str,
        entity_id: str | None = None,
        child_id: str | None = None,
        **detail: Any,
    ) -> None:
        """Bump the revision (once) and note one change in the audit."""
        self.entries.append(
            {
                "revision": self.bump(),
                "at": self.now,
                "by": self.by,
                "action": action,
                "entity": entity,
                "entity_id": entity_id,
                "child_id": child_id,
                "detail": json.dumps(detail, default=str, sort_keys=True),
            }
        )


class Store:
    """The visitplan database behind any SQLAlchemy URL."""

    def __init__(self, url: str = DEFAULT_URL) -> None:
        """Open the database at `url` and create or upgrade its tables.

        Raises:
            StoreError: the URL is malformed or the database cannot be reached.
        """
        self.url = url
        shown = _safe_url(url)
        try:
            parsed = make_url(_driver_url(url))
            options: dict[str, Any] = {}
            if parsed.get_backend_name() == "sqlite":
                options["connect_args"] = {"timeout": 30}
            self.engine: Engine = create_engine(parsed, **options)
            if self.engine.dialect.name == "sqlite":
                _sqlite_transactions(self.engine, parsed.database or ":memory:")
            with self.engine.connect() as conn:
                conn.info["write"] = True
                with conn.begin():
                    metadata.create_all(conn)
                    _upgrade(conn)
                conn.info.pop("write", None)
        except (SQLAlchemyError, ImportError, ValueError, ArgumentError) as exc:
            raise StoreError(f"cannot open the store {shown}: {_describe(exc)}") from None

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
    def _read(self) -> Iterator[Connection]:
        """One read transaction; database failures become StoreError."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise StoreError(f"database error: {_describe(exc)}") from None

    @contextmanager
    def _write(self, by: str = "system", now: datetime | None = None) -> Iterator[_Tx]:
        """One short write transaction (SQLite: BEGIN IMMEDIATE): all or nothing.

        Audit rows noted with `tx.log` are written at the end, in the same transaction.
        """
        try:
            with self.engine.connect() as conn:
                conn.info["write"] = True
                try:
                    with conn.begin():
                        tx = _Tx(conn, by, now)
                        yield tx
                        if tx.entries:
                            conn.execute(insert(audit_table), tx.entries)
                finally:
                    conn.info.pop("write", None)
        except SQLAlchemyError as exc:
            raise StoreError(f"database error: {_describe(exc)}") from None

    @staticmethod
    def _insert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
        """Insert rows (nothing when there are none)."""
        if rows:
            conn.execute(insert(table), list(rows))

    # ----------------------------------------------------------------- revision

    def revision(self) -> int:
        """The store's revision: it grows with every change planning depends on."""
        with self._read() as conn:
            return _revision(conn)

    def changes_since(self, revision: int) -> tuple[AuditEntry, ...]:
        """Every change made after `revision`, oldest first."""
        with self._read() as conn:
            rows = conn.execute(
                select(audit_table)
                .where(audit_table.c.revision > revision)
                .order_by(audit_table.c.key)
            )
            return tuple(_audit_entry(r) for r in rows)

    def history(self, child_id: str) -> tuple[AuditEntry, ...]:
        """Every change concerning one child, oldest first."""
        with self._read() as conn:
            rows = conn.execute(
                select(audit_table)
                .where(audit_table.c.child_id == child_id)
                .order_by(audit_table.c.key)
            )
            return tuple(_audit_entry(r) for r in rows)

    # ----------------------------------------------------------------- caseload

    def replace_caseload(
        self, scenario: Scenario, *, by: str = "system", now: datetime | None = None
    ) -> MergeReport:
        """Make the store's caseload the scenario's, keeping history: all or nothing.

        Into an empty store this is a plain load. Over a caseload it is a merge that closes
        children the scenario lacks (their records stay), marks missing workers as left and
        replaces absences and busy times; visit records are never dropped.
        """
        return self.merge_caseload(
            scenario,
            source="a replacing load",
            allow_shrink=True,
            replace_absences=True,
            by=by,
            now=now,
        )

    def merge_caseload(
        self,
        scenario: Scenario,
        *,
        source: str,
        allow_shrink: bool = False,
        shrink_limit: float = 0.10,
        replace_absences: bool = False,
        by: str = "system",
        now: datetime | None = None,
    ) -> MergeReport:
        """Merge a caseload (an export, an import, a scenario) into the store, row by row.

        Children and households in the scenario are added or updated; open children it lacks
        are closed on its as-of date (history kept); closed children it holds are reopened;
        workers it lacks are marked as left; records are added, and a record whose id exists
        with other content becomes a new version. Absences and busy times are added (or, with
        `replace_absences`, replaced). One transaction: all or nothing.

        Raises:
            InputError: the merge would close more than `shrink_limit` of the open children
                (an export cut short, a header-only file) and `allow_shrink` is False.
        """
        report: dict[str, Any] = {"source": source}
        with self._write(by, now) as tx:
            conn = tx.conn
            empty = conn.execute(select(authority_table.c.id)).first() is None
            conn.execute(delete(authority_table))
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
            _upsert_simple(conn, teams_table, scenario.teams, lambda t: {})
            kept_teams = {t.id for t in scenario.teams}
            workers_before = _rows_by_id(conn, workers_table)
            report["workers_added"] = sum(1 for w in scenario.workers if w.id not in workers_before)
            _upsert_simple(
                conn,
                workers_table,
                scenario.workers,
                lambda w: {"team_id": w.team_id, "left_on": None},
            )
            staying = {w.id for w in scenario.workers}
            gone = [
                wid
                for wid, row in workers_before.items()
                if row.left_on is None and wid not in staying
            ]
            if gone:
                conn.execute(
                    update(workers_table)
                    .where(workers_table.c.id.in_(gone))
                    .values(left_on=scenario.as_of)
                )
            report["workers_left"] = len(gone)
            homes_before = _rows_by_id(conn, households_table)
            report["households_added"] = sum(
                1 for h in scenario.households if h.id not in homes_before
            )
            report["households_changed"] = sum(
                1
                for h in scenario.households
                if h.id in homes_before and homes_before[h.id].data != h.model_dump_json()
            )
            _upsert_simple(
                conn, households_table, scenario.households, lambda h: {"team_id": h.team_id}
            )
            new_homes = {h.id for h in scenario.households}
            stale_homes = [h for h in homes_before if h not in new_homes]
            if stale_homes:
                conn.execute(delete(households_table).where(households_table.c.id.in_(stale_homes)))
            in_use = {
                r.team_id
                for r in conn.execute(
                    select(workers_table.c.team_id).where(workers_table.c.left_on.is_(None))
                )
            } | {
                r.team_id
                for r in conn.execute(select(households_table.c.team_id))
                if r.team_id is not None
            }
            stale_teams = [
                r.id
                for r in conn.execute(select(teams_table.c.id))
                if r.id not in kept_teams and r.id not in in_use
            ]
            if stale_teams:
                conn.execute(delete(teams_table).where(teams_table.c.id.in_(stale_teams)))
            self._merge_children(tx, scenario, source, allow_shrink, shrink_limit, report)
            self._merge_absences(tx, scenario, replace_absences, report)
            self._merge_records(tx, scenario.records, report)
            counts: dict[str, Any] = {
                k: (len(v) if isinstance(v, tuple) else v)
                for k, v in report.items()
                if k != "source"
            }
            tx.log(
                "caseload loaded" if empty else "caseload merged",
                "caseload",
                scenario.authority.id,
                source=source,
                **counts,
            )
            report["revision"] = tx.bump()
        return MergeReport(**report)

    def _merge_children(
        self,
        tx: _Tx,
        scenario: Scenario,
        source: str,
        allow_shrink: bool,
        shrink_limit: float,
        report: dict[str, Any],
    ) -> None:
        """Add, update, reopen and close children (the merge's part for children)."""
        conn = tx.conn
        before = _rows_by_id(conn, children_table)
        open_before = [cid for cid, row in before.items() if row.closed_on is None]
        incoming = {c.id for c in scenario.children}
        closing = sorted(cid for cid in open_before if cid not in incoming)
        if open_before and not allow_shrink and len(closing) > shrink_limit * len(open_before):
            raise InputError(
                [
                    InputProblem(
                        source,
                        None,
                        "children",
                        f"at most {shrink_limit:.0%} of the {len(open_before)} open children "
                        "missing (use --allow-shrink if they really have all closed)",
                        f"{len(closing)} missing, which would close them",
                    )
                ]
            )
        position = _next_position(conn, children_table)
        added, changed, reopened = [], [], []
        fresh: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for child in scenario.children:
            row = before.get(child.id)
            data = child.model_dump_json()
            if row is None:
                fresh.append(
                    {
                        "id": child.id,
                        "position": position,
                        "allocated_worker": child.allocated_worker,
                        "data": data,
                    }
                )
                position += 1
                added.append(child.id)
                tx.log("child added", "child", child.id, child.id, source=source)
                continue
            was_closed = row.closed_on is not None
            if row.data == data and not was_closed:
                continue
            updates.append({"b_id": child.id, "b_worker": child.allocated_worker, "b_data": data})
            delta = field_changes(Child.model_validate_json(row.data), child)
            if was_closed:
                reopened.append(child.id)
                tx.log("child reopened", "child", child.id, child.id, source=source, changed=delta)
            else:
                changed.append(child.id)
                tx.log("child edited", "child", child.id, child.id, source=source, changed=delta)
        self._insert(conn, children_table, fresh)
        if updates:
            conn.execute(
                update(children_table)
                .where(children_table.c.id == bindparam("b_id"))
                .values(
                    allocated_worker=bindparam("b_worker"),
                    data=bindparam("b_data"),
                    closed_on=None,
                    close_reason=None,
                ),
                updates,
            )
        if closing:
            reason = f"not in {source}"
            conn.execute(
                update(children_table)
                .where(children_table.c.id.in_(closing))
                .values(closed_on=scenario.as_of, close_reason=reason)
            )
            for cid in closing:
                tx.log("child closed", "child", cid, cid, on=scenario.as_of, reason=reason)
        report.update(
            added=tuple(added),
            changed=tuple(changed),
            closed=tuple(closing),
            reopened=tuple(reopened),
        )

    def _merge_absences(
        self, tx: _Tx, scenario: Scenario, replace: bool, report: dict[str, Any]
    ) -> None:
        """Add (or replace) absences and busy times."""
        conn = tx.conn
        if replace:
            conn.execute(delete(absences_table))
            conn.execute(delete(busy_table))
        position = _next_position(conn, absences_table)
        for absence in scenario.absences:
            conn.execute(_absence_match(absence.worker_id, absence.start))
            conn.execute(insert(absences_table), _absence_row(absence, position))
            position += 1
        report["absences_added"] = len(scenario.absences)
        existing = {r.data for r in conn.execute(select(busy_table.c.data))}
        position = _next_position(conn, busy_table)
        for busy_time in scenario.busy:
            data = busy_time.model_dump_json()
            if data in existing:
                continue
            conn.execute(
                insert(busy_table),
                {"position": position, "worker_id": busy_time.worker_id, "data": data},
            )
            position += 1

    def _merge_records(
        self, tx: _Tx, records: Sequence[VisitRecord], report: dict[str, Any]
    ) -> None:
        """Add records; one whose id exists with other content becomes a new version.

        New records go in in batches of `BATCH_ROWS` (one statement each), so a six-year
        history is never held twice in memory; amended ones are read back in batches too.
        """
        conn = tx.conn
        existing = {
            r.id: r.data for r in conn.execute(select(records_table.c.id, records_table.c.data))
        }
        position = _next_position(conn, records_table)
        added = 0
        fresh: list[dict[str, Any]] = []
        amended: dict[str, VisitRecord] = {}
        for record in records:
            data = existing.get(record.id)
            if data is None:
                fresh.append(_record_row(record, position, tx))
                position += 1
                added += 1
                if len(fresh) == BATCH_ROWS:
                    self._insert(conn, records_table, fresh)
                    fresh = []
            elif data != record.model_dump_json():
                amended[record.id] = record
        self._insert(conn, records_table, fresh)
        del existing
        ids = sorted(amended)
        for start in range(0, len(ids), BATCH_ROWS):
            batch = ids[start : start + BATCH_ROWS]
            for row in conn.execute(select(records_table).where(records_table.c.id.in_(batch))):
                _supersede(tx, row, amended[row.id])
        if added:
            tx.log("records added", "record", None, count=added)
        report.update(records_added=added, records_amended=len(amended))

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
        return Scenario(
            schema_version=head.schema_version,
            authority=Authority.model_validate_json(head.data),
            as_of=head.as_of,
            teams=_load(conn, teams_table, Team),
            workers=_load(conn, workers_table, Worker, workers_table.c.left_on.is_(None)),
            households=_load(conn, households_table, Household),
            children=_load(conn, children_table, Child, children_table.c.closed_on.is_(None)),
            absences=_load(conn, absences_table, Absence),
            busy=_load(conn, busy_table, BusyTime),
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
                with conn.begin():
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
                    raise InputError(
                        [
                            InputProblem(
                                "command line", None, "--team", "a known team id", worker.team_id
                            )
                        ]
                    )
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
                Child.model_validate_json(r.data).case_ref: r.id
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
            if household is not None:
                if _exists(conn, households_table, household.id):
                    problems.append(
                        InputProblem(
                            "command line", None, "--household", "a new household id", household.id
                        )
                    )
                if household.team_id is not None and not _exists(
                    conn, teams_table, household.team_id
                ):
                    problems.append(
                        InputProblem(
                            "command line", None, "--team", "a known team id", household.team_id
                        )
                    )
            new_home = household.id if household else None
            for home in child.household_ids:
                if home != new_home and not _exists(conn, households_table, home):
                    problems.append(
                        InputProblem(
                            "command line", None, "--household", "a known household id", home
                        )
                    )
            if child.allocated_worker and not _current_worker(conn, child.allocated_worker):
                problems.append(
                    InputProblem(
                        "command line",
                        None,
                        "--worker",
                        "a current worker id",
                        child.allocated_worker,
                    )
                )
            if problems:
                raise InputError(problems)
            if household is not None:
                conn.execute(
                    insert(households_table),
                    {
                        "id": household.id,
                        "position": _next_position(conn, households_table),
                        "team_id": household.team_id,
                        "data": household.model_dump_json(),
                    },
                )
                tx.log("household added", "household", household.id, child.id)
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
            problems: list[InputProblem] = []
            new_home = household.id if household else None
            if household is not None:
                if _exists(conn, households_table, household.id):
                    problems.append(
                        InputProblem(
                            "command line",
                            None,
                            "--new-household",
                            "a new household id",
                            household.id,
                        )
                    )
                if household.team_id is not None and not _exists(
                    conn, teams_table, household.team_id
                ):
                    problems.append(
                        InputProblem(
                            "command line", None, "--team", "a known team id", household.team_id
                        )
                    )
            for home in child.household_ids:
                if home != new_home and not _exists(conn, households_table, home):
                    problems.append(
                        InputProblem(
                            "command line", None, "--household", "a known household id", home
                        )
                    )
            if child.allocated_worker and not _current_worker(conn, child.allocated_worker):
                problems.append(
                    InputProblem(
                        "command line",
                        None,
                        "--worker",
                        "a current worker id",
                        child.allocated_worker,
                    )
                )
            if problems:
                raise InputError(problems)
            if household is not None:
                conn.execute(
                    insert(households_table),
                    {
                        "id": household.id,
                        "position": _next_position(conn, households_table),
                        "team_id": household.team_id,
                        "data": household.model_dump_json(),
                    },
                )
                tx.log("household added", "household", household.id, child.id)
            delta = field_changes(Child.model_validate_json(row.data), child)
            if not delta:
                return {}
            conn.execute(
                update(children_table)
                .where(children_table.c.id == child.id)
                .values(allocated_worker=child.allocated_worker, data=child.model_dump_json())
            )
            tx.log("child edited", "child", child.id, child.id, changed=delta, reason=reason)
            return delta

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
            _drop_from_plan(tx, child_id, on)

    # ------------------------------------------------------------------ records

    def add_records(
        self, records: Sequence[VisitRecord], *, by: str = "system", now: datetime | None = None
    ) -> tuple[int, int]:
        """Add visit records in one transaction: all of them or none.

        A record whose id is already stored with the same content is skipped, so running a
        command again after an interruption completes it. Returns (added, already there).

        Raises:
            StoreError: nothing has been loaded yet.
            InputError: a record's id is taken by a different record (amend it instead), or
                its child, worker or household is unknown.
        """
        with self._write(by, now) as tx:
            conn = tx.conn
            _require_caseload(conn)
            problems: list[InputProblem] = []
            fresh: list[VisitRecord] = []
            already = 0
            for record in records:
                problems.extend(_record_problems(conn, record))
                stored = conn.execute(
                    select(records_table.c.data).where(records_table.c.id == record.id)
                ).first()
                if stored is None:
                    fresh.append(record)
                elif _same_record(stored.data, record):
                    already += 1
                else:
                    problems.append(
                        InputProblem(
                            "record",
                            None,
                            "id",
                            "a record not yet made (use --amend to correct one)",
                            f"{record.id} is already recorded as "
                            + json.loads(stored.data)["outcome"],
                        )
                    )
            if problems:
                raise InputError(problems)
            position = _next_position(conn, records_table)
            self._insert(
                conn,
                records_table,
                [_record_row(r, position + i, tx) for i, r in enumerate(fresh)],
            )
            for record in fresh:
                tx.log(
                    "record added",
                    "record",
                    record.id,
                    record.child_id,
                    outcome=record.outcome,
                    on=record.on,
                    visit=record.visit_id,
                )
            return len(fresh), already

    def add_record(
        self, record: VisitRecord, *, by: str = "system", now: datetime | None = None
    ) -> None:
        """Add one visit record (see `add_records`)."""
        self.add_records((record,), by=by, now=now)

    def amend_records(
        self, records: Sequence[VisitRecord], *, by: str = "system", now: datetime | None = None
    ) -> int:
        """Correct stored records: each becomes a new version; the earlier one is kept.

        Returns how many records changed (an identical correction changes nothing).

        Raises:
            InputError: a record to amend does not exist, or refers to unknown ids.
        """
        with self._write(by, now) as tx:
            conn = tx.conn
            problems: list[InputProblem] = []
            rows = []
            for record in records:
                problems.extend(_record_problems(conn, record))
                row = conn.execute(
                    select(records_table).where(records_table.c.id == record.id)
                ).first()
                if row is None:
                    problems.append(
                        InputProblem("record", None, "id", "a recorded visit", record.id)
                    )
                else:
                    rows.append((row, record))
            if problems:
                raise InputError(problems)
            changed = 0
            for row, record in rows:
                if _same_record(row.data, record):
                    continue
                _supersede(tx, row, record)
                changed += 1
            return changed

    def records_for(self, child_id: str) -> tuple[VisitRecord, ...]:
        """The child's visit records (current versions), oldest first."""
        with self._read() as conn:
            rows = conn.execute(
                select(records_table.c.data)
                .where(records_table.c.child_id == child_id)
                .order_by(records_table.c.on, records_table.c.position)
            )
            return tuple(VisitRecord.model_validate_json(r.data) for r in rows)

    def records_for_visits(self, visit_ids: Sequence[str]) -> dict[str, tuple[VisitRecord, ...]]:
        """Current records made at each of these planned visits, by visit id."""
        out: dict[str, list[VisitRecord]] = {}
        ids = list(dict.fromkeys(visit_ids))
        with self._read() as conn:
            for chunk_start in range(0, len(ids), 500):
                chunk = ids[chunk_start : chunk_start + 500]
                rows = conn.execute(
                    select(records_table.c.visit_id, records_table.c.data)
                    .where(records_table.c.visit_id.in_(chunk))
                    .order_by(records_table.c.position)
                )
                for r in rows:
                    out.setdefault(r.visit_id, []).append(VisitRecord.model_validate_json(r.data))
        return {k: tuple(v) for k, v in out.items()}

    def record_versions(self, child_id: str) -> tuple[RecordVersion, ...]:
        """Every version of the child's records, current and superseded, by date and version."""
        with self._read() as conn:
            current = conn.execute(
                select(records_table).where(records_table.c.child_id == child_id)
            ).all()
            older = conn.execute(
                select(record_versions_table).where(record_versions_table.c.child_id == child_id)
            ).all()
        versions = [
            RecordVersion(
                record=VisitRecord.model_validate_json(r.data),
                version=r.version,
                recorded_at=r.recorded_at,
                recorded_by=r.recorded_by,
            )
            for r in current
        ] + [
            RecordVersion(
                record=VisitRecord.model_validate_json(r.data),
                version=r.version,
                recorded_at=r.recorded_at,
                recorded_by=r.recorded_by,
                superseded_at=r.superseded_at,
                superseded_by=r.superseded_by,
            )
            for r in older
        ]
        return tuple(sorted(versions, key=lambda v: (v.record.on, v.record.id, v.version)))

    # ----------------------------------------------------------------- absences

    def add_absence(
        self, absence: Absence, *, by: str = "system", now: datetime | None = None
    ) -> None:
        """Add an absence; one already starting that day for that worker is replaced.

        Raises:
            NotFoundError: the worker is unknown.
        """
        self.add_absences((absence,), by=by, now=now)

    def add_absences(
        self, absences: Sequence[Absence], *, by: str = "system", now: datetime | None = None
    ) -> None:
        """Add absences in one transaction (each replaces one of the same worker and start).

        Raises:
            NotFoundError: a worker is unknown; nothing is written.
        """
        with self._write(by, now) as tx:
            conn = tx.conn
            position = _next_position(conn, absences_table)
            for absence in absences:
                if not _current_worker(conn, absence.worker_id):
                    raise NotFoundError(f"unknown worker {absence.worker_id!r}")
                conn.execute(_absence_match(absence.worker_id, absence.start))
                conn.execute(insert(absences_table), _absence_row(absence, position))
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

    # -------------------------------------------------------------------- plans

    def save_plan(
        self,
        plan: Plan,
        now: datetime,
        *,
        by: str = "system",
        expected_revision: int | None = None,
    ) -> int:
        """Store the plan and its visits and make it the current plan; the new revision.

        With `expected_revision` (the revision the plan was computed from), the plan is saved
        only while the store is still at that revision. A plan saved again under the same id
        replaces the earlier copy.

        Raises:
            StaleError: the store changed since the plan was computed; it lists the changes.
        """
        header = plan.model_copy(update={"visits": ()})
        with self._write(by, now) as tx:
            conn = tx.conn
            revision = tx.bump()
            if expected_revision is not None and revision - 1 != expected_revision:
                changes = conn.execute(
                    select(audit_table)
                    .where(audit_table.c.revision > expected_revision)
                    .order_by(audit_table.c.key)
                ).all()
                raise StaleError(tuple(_audit_entry(r) for r in changes))
            previous = conn.execute(
                select(plans_table.c.id).where(plans_table.c.is_current.is_(True))
            ).scalar_one_or_none()
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
                [_visit_row(plan.id, v, i) for i, v in enumerate(plan.visits)],
            )
            tx.log(
                "plan saved",
                "plan",
                plan.id,
                visits=len(plan.visits),
                replaced=previous,
                start=plan.start,
                end=plan.end,
            )
            return revision

    def current_plan(self) -> Plan | None:
        """The plan saved last, or None when no plan has been saved."""
        with self._read() as conn:
            plan_id = _current_plan_id(conn)
            return None if plan_id is None else _read_plan(conn, plan_id)

    def plan(self, plan_id: str) -> Plan | None:
        """The plan with this id, or None."""
        with self._read() as conn:
            return _read_plan(conn, plan_id)

    def find_visit(self, visit_id: str) -> Visit | None:
        """The visit with this id in the current plan, or None."""
        with self._read() as conn:
            row = conn.execute(
                select(plan_visits_table.c.data)
                .join(plans_table, plans_table.c.id == plan_visits_table.c.plan_id)
                .where(plans_table.c.is_current.is_(True), plan_visits_table.c.id == visit_id)
            ).first()
            return None if row is None else Visit.model_validate_json(row.data)

    def update_visit(
        self,
        visit: Visit,
        action: str,
        *,
        by: str = "system",
        now: datetime | None = None,
        **detail: Any,
    ) -> int:
        """Change one visit of the current plan in place (a move, a pin); the new revision.

        Raises:
            NotFoundError: no such visit in the current plan.
        """
        with self._write(by, now) as tx:
            conn = tx.conn
            plan_id = _current_plan_id(conn)
            done = conn.execute(
                update(plan_visits_table)
                .where(plan_visits_table.c.plan_id == plan_id, plan_visits_table.c.id == visit.id)
                .values(
                    worker_id=visit.worker_id,
                    household_id=visit.household_id,
                    day=visit.day,
                    data=visit.model_dump_json(),
                )
            )
            if plan_id is None or done.rowcount == 0:
                raise NotFoundError(f"no visit {visit.id!r} in the current plan")
            for child_id in visit.child_ids:
                tx.log(action, "visit", visit.id, child_id, **detail)
            return tx.bump()

    # ------------------------------------------------------------ calendar ledger

    def ledger_get(self, uid: str) -> LedgerEntry | None:
        """The ledger entry of one event UID, or None."""
        with self._read() as conn:
            row = conn.execute(select(ledger_table.c.data).where(ledger_table.c.uid == uid)).first()
            return None if row is None else LedgerEntry.model_validate_json(row.data)

    def ledger_put(self, entry: LedgerEntry) -> None:
        """Insert or replace the ledger entry of `entry.uid`."""
        with self._write() as tx:
            tx.conn.execute(delete(ledger_table).where(ledger_table.c.uid == entry.uid))
            self._insert(
                tx.conn,
                ledger_table,
                [{"uid": entry.uid, "worker_id": entry.worker_id, "data": entry.model_dump_json()}],
            )

    def ledger_all(self, worker_id: str | None = None) -> tuple[LedgerEntry, ...]:
        """Every ledger entry, or one worker's, by UID."""
        query = select(ledger_table.c.data).order_by(ledger_table.c.uid)
        if worker_id is not None:
            query = query.where(ledger_table.c.worker_id == worker_id)
        with self._read() as conn:
            return tuple(LedgerEntry.model_validate_json(r.data) for r in conn.execute(query))

    def ledger_delete(self, uid: str) -> bool:
        """Forget an event UID; False when it was not in the ledger."""
        with self._write() as tx:
            return (
                tx.conn.execute(delete(ledger_table).where(ledger_table.c.uid == uid)).rowcount > 0
            )

    # -------------------------------------------------------------- feed tokens

    def feed_token_put(self, worker_id: str, token_hash: str, now: datetime) -> None:
        """Record a new feed token (hashed) for a worker, revoking the worker's older ones.

        Raises:
            NotFoundError: the worker is unknown.
        """
        with self._write() as tx:
            conn = tx.conn
            if not _current_worker(conn, worker_id):
                raise NotFoundError(f"unknown worker {worker_id!r}")
            conn.execute(_revoke(worker_id, now))
            self._insert(
                conn,
                feed_tokens_table,
                [{"token_hash": token_hash, "worker_id": worker_id, "issued_at": now}],
            )

    def feed_token_revoke(self, worker_id: str, now: datetime) -> bool:
        """Revoke the worker's live feed tokens; False when there were none."""
        with self._write() as tx:
            return tx.conn.execute(_revoke(worker_id, now)).rowcount > 0

    def feed_worker_for(self, token_hash: str) -> str | None:
        """The worker whose live (not revoked) token has this hash, or None."""
        with self._read() as conn:
            return conn.execute(
                select(feed_tokens_table.c.worker_id).where(
                    feed_tokens_table.c.token_hash == token_hash,
                    feed_tokens_table.c.revoked_at.is_(None),
                )
            ).scalar_one_or_none()

    # ------------------------------------------- users of the desk (scheduler.accounts)

    def user_add(self, user: User, password_hash: str, now: datetime) -> None:
        """Add a desk user with their password hash (argon2, made by `scheduler.accounts`).

        Raises:
            InputError: the name is taken.
        """
        with self._write() as tx:
            conn = tx.conn
            taken = conn.execute(
                select(users_table.c.name).where(users_table.c.name == user.name)
            ).first()
            if taken is not None:
                raise InputError(
                    [InputProblem("command line", None, "NAME", "a new name", user.name)]
                )
            self._insert(
                conn,
                users_table,
                [
                    {
                        "name": user.name,
                        "role": user.role,
                        "worker_id": user.worker_id,
                        "disabled": user.disabled,
                        "password_hash": password_hash,
                        "created_at": now,
                        "data": user.model_dump_json(),
                    }
                ],
            )

    def user_get(self, name: str) -> tuple[User, str] | None:
        """The user of this name with their password hash, or None."""
        with self._read() as conn:
            row = conn.execute(
                select(
                    users_table.c.data, users_table.c.disabled, users_table.c.password_hash
                ).where(users_table.c.name == name)
            ).first()
        if row is None:
            return None
        user = User.model_validate_json(row.data).model_copy(update={"disabled": row.disabled})
        return user, row.password_hash

    def user_list(self) -> tuple[User, ...]:
        """Every desk user, by name."""
        with self._read() as conn:
            rows = conn.execute(
                select(users_table.c.data, users_table.c.disabled).order_by(users_table.c.name)
            )
            return tuple(
                User.model_validate_json(r.data).model_copy(update={"disabled": r.disabled})
                for r in rows
            )

    def user_disable(self, name: str) -> bool:
        """Disable a user; False when there is no such user."""
        with self._write() as tx:
            changed = tx.conn.execute(
                update(users_table).where(users_table.c.name == name).values(disabled=True)
            )
            return changed.rowcount > 0

    # -------------------------------------------------------- end of users of the desk


# ---------------------------------------------------------------------- helpers


def field_changes(before: BaseModel, after: BaseModel) -> dict[str, Any]:
    """Fields that differ, as {field: [before, after]}; sensitive values are not kept."""
    old = json.loads(before.model_dump_json())
    new = json.loads(after.model_dump_json())
    out: dict[str, Any] = {}
    for name in sorted(old.keys() | new.keys()):
        if old.get(name) == new.get(name):
            continue
        out[name] = "changed" if name in SENSITIVE_FIELDS else [old.get(name), new.get(name)]
    return out


def _driver_url(url: str) -> str:
    """A plain postgresql:// URL uses psycopg 3 (the `postgres` extra), not psycopg2."""
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url[len(plain) :]
    return url


def _safe_url(url: str) -> str:
    """The URL as it may be shown: any password hidden."""
    try:
        return repr(make_url(url).render_as_string(hide_password=True))
    except (ArgumentError, ValueError):
        return "(a malformed URL)"


_TABLE = re.compile(r"\b(?:INTO|UPDATE|FROM|TABLE)\s+\"?(\w+)", re.IGNORECASE)
_COLUMN = re.compile(r"constraint failed: (\w+)\.(\w+)|column \"?(\w+)\"?", re.IGNORECASE)


def _describe(exc: BaseException) -> str:
    """A database error by kind, table and column only: never the row's values or the SQL."""
    statement = getattr(exc, "statement", None) or ""
    table = _TABLE.search(statement)
    orig = getattr(exc, "orig", None)
    diag = getattr(orig, "diag", None)
    column = getattr(diag, "column_name", None) if diag is not None else None
    message = str(orig) if orig is not None else ""
    if column is None:
        found = _COLUMN.search(message.split("\n")[0])
        if found:
            column = found.group(2) or found.group(3)
    kind = type(orig).__name__ if orig is not None else type(exc).__name__
    if (
        "unable to open" in message
        or "could not connect" in message
        or "Connection refused" in message
    ):
        return f"{kind}: cannot reach the database"
    if "locked" in message:
        return f"{kind}: the database is busy (another command holds it); try again"
    parts = [kind]
    if table:
        parts.append(f"table {table.group(1)}")
    if column:
        parts.append(f"column {column}")
    rows = getattr(exc, "params", None)
    if isinstance(rows, list | tuple) and rows and isinstance(rows[0], Mapping | tuple | list):
        parts.append(f"in a batch of {len(rows)} rows")
    return ", ".join(parts)


def _sqlite_transactions(engine: Engine, database: str) -> None:
    """SQLite: we issue BEGIN ourselves (IMMEDIATE for writes), with WAL and a busy timeout."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout = 30000")
        if database not in ("", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("write") else "BEGIN")


def _upgrade(conn: Connection) -> None:
    """Bring a store made by an earlier version up to `SCHEMA` (columns added in place)."""
    found = conn.execute(select(meta_table.c.value).where(meta_table.c.key == "schema")).first()
    if found is not None and found.value >= SCHEMA:
        return
    columns = {t: {c["name"] for c in inspect(conn).get_columns(t)} for t in _ADDED_COLUMNS}
    for table, added in _ADDED_COLUMNS.items():
        for name, sql_type in added:
            if name not in columns[table]:
                conn.execute(text(f'ALTER TABLE {table} ADD COLUMN "{name}" {sql_type}'))
    if "visit_id" not in columns["records"]:
        for row in conn.execute(select(records_table.c.id, records_table.c.data)).all():
            visit_id = json.loads(row.data).get("visit_id")
            if visit_id:
                conn.execute(
                    update(records_table)
                    .where(records_table.c.id == row.id)
                    .values(visit_id=visit_id)
                )
    conn.execute(delete(meta_table))
    conn.execute(
        insert(meta_table), [{"key": "schema", "value": SCHEMA}, {"key": "revision", "value": 0}]
    )


def _revision(conn: Connection) -> int:
    return int(
        conn.execute(select(meta_table.c.value).where(meta_table.c.key == "revision")).scalar_one()
    )


def _audit_entry(row: Any) -> AuditEntry:
    return AuditEntry(
        revision=row.revision,
        at=row.at,
        by=row.by,
        action=row.action,
        entity=row.entity,
        entity_id=row.entity_id,
        child_id=row.child_id,
        detail=json.loads(row.detail),
    )


def _child_row(row: Any) -> ChildRow:
    return ChildRow(
        child=Child.model_validate_json(row.data),
        closed_on=row.closed_on,
        close_reason=row.close_reason,
    )


def _load(conn: Connection, table: Table, model: type[M], where: Any = None) -> tuple[M, ...]:
    """Rows of a table as models, in stored order."""
    query = select(table.c.data).order_by(table.c.position)
    if where is not None:
        query = query.where(where)
    return tuple(model.model_validate_json(r.data) for r in conn.execute(query))


def _rows_by_id(conn: Connection, table: Table) -> dict[str, Any]:
    return {r.id: r for r in conn.execute(select(table))}


def _upsert_simple(conn: Connection, table: Table, items: Sequence[Any], columns: Any) -> None:
    """Insert new rows and update changed ones (one statement each), keeping positions.

    `columns(item)` gives the table's other columns; a row is updated when its data or any
    of those differ from what is stored.
    """
    names = sorted(columns(items[0])) if items else []
    existing = {
        r.id: r
        for r in conn.execute(select(table.c.id, table.c.data, *(table.c[n] for n in names)))
    }
    position = _next_position(conn, table)
    fresh, changed = [], []
    for item in items:
        data, extra = item.model_dump_json(), columns(item)
        row = existing.get(item.id)
        if row is None:
            fresh.append({"id": item.id, "position": position, "data": data, **extra})
            position += 1
        elif row.data != data or any(getattr(row, n) != extra[n] for n in names):
            changed.append({"b_id": item.id, "b_data": data, **{f"b_{n}": extra[n] for n in names}})
    if fresh:
        conn.execute(insert(table), fresh)
    if changed:
        conn.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values({n: bindparam(f"b_{n}") for n in ("data", *names)}),
            changed,
        )


def _exists(conn: Connection, table: Table, key: str) -> bool:
    return conn.execute(select(table.c.id).where(table.c.id == key)).first() is not None


def _current_worker(conn: Connection, worker_id: str) -> bool:
    return (
        conn.execute(
            select(workers_table.c.id).where(
                workers_table.c.id == worker_id, workers_table.c.left_on.is_(None)
            )
        ).first()
        is not None
    )


def _require_caseload(conn: Connection) -> None:
    if conn.execute(select(authority_table.c.id)).first() is None:
        raise StoreError(EMPTY_MESSAGE)


def _record_problems(conn: Connection, record: VisitRecord) -> list[InputProblem]:
    """Unknown child, worker or household a record refers to."""
    problems = []
    for table, value, name, expected in (
        (children_table, record.child_id, "child_id", "a known child id"),
        (workers_table, record.worker_id, "worker_id", "a known worker id"),
        (households_table, record.household_id, "household_id", "a known household id"),
    ):
        if value is not None and not _exists(conn, table, value):
            problems.append(InputProblem("record", None, name, expected, value))
    return problems


def _same_record(stored: str, record: VisitRecord) -> bool:
    """The same record, ignoring the role filled in from the worker on reading."""
    old = VisitRecord.model_validate_json(stored)
    return old.model_copy(update={"worker_role": None}) == record.model_copy(
        update={"worker_role": None}
    )


def _supersede(tx: _Tx, row: Any, record: VisitRecord) -> None:
    """Keep the stored version of a record in history and store `record` as the next one."""
    conn = tx.conn
    conn.execute(
        insert(record_versions_table),
        {
            "id": row.id,
            "version": row.version,
            "child_id": row.child_id,
            "recorded_at": row.recorded_at,
            "recorded_by": row.recorded_by,
            "superseded_at": tx.now,
            "superseded_by": tx.by,
            "data": row.data,
        },
    )
    conn.execute(
        update(records_table)
        .where(records_table.c.id == row.id)
        .values(
            child_id=record.child_id,
            worker_id=record.worker_id,
            household_id=record.household_id,
            on=record.on,
            visit_id=record.visit_id,
            version=row.version + 1,
            recorded_at=tx.now,
            recorded_by=tx.by,
            data=record.model_dump_json(),
        )
    )
    before = VisitRecord.model_validate_json(row.data)
    tx.log(
        "record amended",
        "record",
        record.id,
        record.child_id,
        version=row.version + 1,
        changed=field_changes(before, record),
    )


def _drop_from_plan(tx: _Tx, child_id: str, on: date) -> None:
    """Take a closed child out of the current plan's visits after `on`; a visit left with
    no child is cancelled (calendars then show it cancelled)."""
    conn = tx.conn
    plan_id = _current_plan_id(conn)
    if plan_id is None:
        return
    rows = conn.execute(
        select(plan_visits_table.c.id, plan_visits_table.c.data).where(
            plan_visits_table.c.plan_id == plan_id,
            plan_visits_table.c.day > on,
            plan_visits_table.c.data.contains(f'"{child_id}"'),
        )
    ).all()
    for row in rows:
        visit = Visit.model_validate_json(row.data)
        if child_id not in visit.child_ids or visit.status != "planned":
            continue
        left = tuple(c for c in visit.child_ids if c != child_id)
        changed = visit.model_copy(update={"child_ids": left} if left else {"status": "cancelled"})
        conn.execute(
            update(plan_visits_table)
            .where(plan_visits_table.c.plan_id == plan_id, plan_visits_table.c.id == visit.id)
            .values(data=changed.model_dump_json())
        )
        tx.log(
            "visit cancelled (case closed)" if not left else "child taken off visit (case closed)",
            "visit",
            visit.id,
            child_id,
        )


def _next_position(conn: Connection, table: Table) -> int:
    """One past the highest position in the table."""
    highest = conn.execute(select(func.max(table.c.position))).scalar_one_or_none()
    return 0 if highest is None else highest + 1


def _record_row(record: VisitRecord, position: int, tx: _Tx | None = None) -> dict[str, Any]:
    return {
        "id": record.id,
        "position": position,
        "child_id": record.child_id,
        "worker_id": record.worker_id,
        "household_id": record.household_id,
        "on": record.on,
        "visit_id": record.visit_id,
        "version": 1,
        "recorded_at": tx.now if tx else None,
        "recorded_by": tx.by if tx else None,
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


def _visit_row(plan_id: str, visit: Visit, position: int) -> dict[str, Any]:
    return {
        "plan_id": plan_id,
        "id": visit.id,
        "position": position,
        "worker_id": visit.worker_id,
        "household_id": visit.household_id,
        "day": visit.day,
        "data": visit.model_dump_json(),
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


def _current_plan_id(conn: Connection) -> str | None:
    return conn.execute(
        select(plans_table.c.id).where(plans_table.c.is_current.is_(True))
    ).scalar_one_or_none()


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
