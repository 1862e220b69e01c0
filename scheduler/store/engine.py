"""The store's engine: opening a URL, read and write transactions, revision and audit."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection, Engine, Table, create_engine, event, func, insert, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from policies import READ_BACK
from scheduler.errors import StoreError
from scheduler.store.tables import (
    _upgrade,
    audit_table,
    authority_table,
    meta_table,
    metadata,
    plans_table,
    workers_table,
)

DEFAULT_URL = "sqlite:///visitplan.db"
EMPTY_MESSAGE = "the store is empty: run `visitplan load FILE` or `visitplan demo`"

M = TypeVar("M", bound=BaseModel)

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


SUPPORTED = "use sqlite:///FILE (the default) or postgresql://USER@HOST/DATABASE"


def _why_not(exc: BaseException, url: str) -> str:
    """Why a store could not be opened, in words a user can act on."""
    if isinstance(exc, NoSuchModuleError):
        return f"not a kind of database visitplan knows: {SUPPORTED}"
    if isinstance(exc, ImportError):
        return f"no driver for this kind of database is installed: {SUPPORTED}"
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return _describe(exc)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        folder = Path(parsed.database or "").parent
        if not folder.is_dir():
            return f"the folder {str(folder)!r} does not exist (create it, or choose another)"
    return _describe(exc)


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


def _load(conn: Connection, table: Table, model: type[M], where: Any = None) -> tuple[M, ...]:
    """Rows of a table as models, in stored order."""
    query = select(table.c.data).order_by(table.c.position)
    if where is not None:
        query = query.where(where)
    return tuple(model.model_validate_json(r.data, context=READ_BACK) for r in conn.execute(query))


def _exists(conn: Connection, table: Table, key: str) -> bool:
    return conn.execute(select(table.c.id).where(table.c.id == key)).first() is not None


def _current_worker(conn: Connection, worker_id: str, *, or_left: bool = False) -> bool:
    """Whether the worker is in the store and has not left (`or_left`: ever in the store)."""
    query = select(workers_table.c.id).where(workers_table.c.id == worker_id)
    if not or_left:
        query = query.where(workers_table.c.left_on.is_(None))
    return conn.execute(query).first() is not None


def _require_caseload(conn: Connection) -> None:
    if conn.execute(select(authority_table.c.id)).first() is None:
        raise StoreError(EMPTY_MESSAGE)


def _next_position(conn: Connection, table: Table) -> int:
    """One past the highest position in the table."""
    highest = conn.execute(select(func.max(table.c.position))).scalar_one_or_none()
    return 0 if highest is None else highest + 1


def _current_plan_id(conn: Connection) -> str | None:
    return conn.execute(
        select(plans_table.c.id).where(plans_table.c.is_current.is_(True))
    ).scalar_one_or_none()


class StoreBase:
    """The store's connection, transactions, revision and audit (the base of `Store`)."""

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
            raise StoreError(f"cannot open the store {shown}: {_why_not(exc, url)}") from None

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    def __enter__(self) -> Self:
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
        """One short write transaction: all or nothing, one writer at a time.

        SQLite's BEGIN IMMEDIATE makes writers queue; on other databases each write first
        locks the revision row, so they queue the same way. Without it, on PostgreSQL a write
        that read the current plan could land in a plan being replaced at that moment, or
        two writes of one record could both find it missing. Audit rows noted with `tx.log`
        are written at the end, in the same transaction.
        """
        try:
            with self.engine.connect() as conn:
                conn.info["write"] = True
                try:
                    with conn.begin():
                        if self.engine.dialect.name != "sqlite":
                            conn.execute(
                                select(meta_table.c.value)
                                .where(meta_table.c.key == "revision")
                                .with_for_update()
                            )
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
