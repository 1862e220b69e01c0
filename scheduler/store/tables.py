"""The store's tables (one per entity kind) and the in-place upgrade of older layouts."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    delete,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from scheduler.domain import ID_MAX

SCHEMA = 2
"""Store layout version: 2 added revisions, the audit, record versions and closures."""

metadata = MetaData()


class Moment(TypeDecorator[datetime]):
    """A moment (when something was recorded), kept in UTC: SQLite's DATETIME drops the
    zone, so a London time written in summer was read back an hour out. A value without a
    zone is taken as UTC (rows written before this type, in winter, read the same)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Aware values to UTC (naive for SQLite, which would drop the zone anyway)."""
        if value is None or value.tzinfo is None:
            return value
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Always aware: a zoneless value read back is UTC."""
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=UTC)


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
    Column("recorded_at", Moment()),
    Column("recorded_by", String(ID_MAX)),
    Column("data", Text, nullable=False),
)
record_versions_table = Table(
    "record_versions",
    metadata,
    Column("id", String(ID_MAX), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("child_id", String(ID_MAX), nullable=False, index=True),
    Column("recorded_at", Moment()),
    Column("recorded_by", String(ID_MAX)),
    Column("superseded_at", Moment()),
    Column("superseded_by", String(ID_MAX)),
    Column("data", Text, nullable=False),
)
plans_table = Table(
    "plans",
    metadata,
    Column("id", String(ID_MAX), primary_key=True),
    Column("saved_at", Moment(), nullable=False),
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
    Column("at", Moment()),
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
    Column("issued_at", Moment(), nullable=False),
    Column("revoked_at", Moment()),
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
    Column("created_at", Moment(), nullable=False),
    Column("data", Text, nullable=False),
)
# --------------------------------------------------------------- end of users of the desk

kept_table = Table(
    "kept_results",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("revision", Integer, nullable=False),
    Column("as_of", Date, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("data", LargeBinary, nullable=False),
)
"""Results worked out from the store and kept beside it (the desk's due rows), each valid
only at one revision, day and digest of the code and pack that made it (`store.kept`)."""

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
