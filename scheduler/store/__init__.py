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

from scheduler.store.calendar import CalendarStore
from scheduler.store.caseload import CaseloadStore, ChildRow
from scheduler.store.engine import (
    DEFAULT_URL,
    EMPTY_MESSAGE,
    SENSITIVE_FIELDS,
    AuditEntry,
    field_changes,
)
from scheduler.store.kept import KeptStore
from scheduler.store.merge import MergeReport, MergeStore
from scheduler.store.plans import PlanStore
from scheduler.store.records import RecordVersion
from scheduler.store.tables import (
    SCHEMA,
    absences_table,
    audit_table,
    authority_table,
    busy_table,
    children_table,
    feed_tokens_table,
    households_table,
    kept_table,
    ledger_table,
    meta_table,
    metadata,
    plan_visits_table,
    plans_table,
    record_versions_table,
    records_table,
    teams_table,
    users_table,
    workers_table,
)
from scheduler.store.users import UserStore


class Store(MergeStore, CaseloadStore, PlanStore, CalendarStore, UserStore, KeptStore):
    """The visitplan database behind any SQLAlchemy URL."""


__all__ = [
    "DEFAULT_URL",
    "EMPTY_MESSAGE",
    "SCHEMA",
    "SENSITIVE_FIELDS",
    "AuditEntry",
    "ChildRow",
    "MergeReport",
    "RecordVersion",
    "Store",
    "absences_table",
    "audit_table",
    "authority_table",
    "busy_table",
    "children_table",
    "feed_tokens_table",
    "field_changes",
    "households_table",
    "kept_table",
    "ledger_table",
    "meta_table",
    "metadata",
    "plan_visits_table",
    "plans_table",
    "record_versions_table",
    "records_table",
    "teams_table",
    "users_table",
    "workers_table",
]
