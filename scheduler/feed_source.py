"""What the calendar integrations need from the scheduler side: events' wording built from the
pack and the records, and the feed server's view of the store (a cheap change stamp, token
look-up, and the inputs feeds are rendered from).

Rule: the integrations import no policy pack and no store; this module hands them both, as
plain values and as the `FeedSource` Protocol they declare.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from contextlib import suppress
from typing import Any

from sqlalchemy import delete, insert, select, text
from sqlalchemy.exc import SQLAlchemyError

from integrations import EventContext, FeedInputs
from policies import load_pack
from scheduler.domain import LedgerEntry, Scenario
from scheduler.errors import StoreError
from scheduler.store import Store, feed_tokens_table, ledger_table


def event_context(scenario: Scenario) -> EventContext:
    """The wording of a scenario's events: its pack's rule titles and its visit records.

    Raises:
        PackNotFoundError: the scenario's authority has no pack.
    """
    pack = load_pack(scenario.authority.id)
    return EventContext({rule.id: rule.title for rule in pack.rules}, scenario.records)


class ChangeStamp:
    """A cheap stamp that changes whenever anything in the database changed.

    SQLite: `PRAGMA data_version` on a connection kept for it alone (it changes when any other
    connection commits). PostgreSQL: the current snapshot (`xmin:xmax:in-progress ids`), which
    moves when any write transaction starts or ends. Both err on the side of a change (any
    table, and on PostgreSQL any database of the cluster): a false change costs a rebuild of
    the feeds, a missed one would serve a stale feed. Other databases: a stamp that always
    changes, so feeds are rebuilt at every look.
    """

    def __init__(self, store: Store) -> None:
        """A stamp over the store's engine."""
        self.engine = store.engine
        self._dialect = store.engine.dialect.name
        self._raw: Any = None
        self._lock = threading.Lock()
        self._count = 0

    def read(self) -> str:
        """The stamp now.

        Raises:
            StoreError: the database cannot be read.
        """
        try:
            if self._dialect == "sqlite":
                with self._lock:
                    if self._raw is None:
                        self._raw = self.engine.raw_connection()
                    row = self._raw.driver_connection.execute("PRAGMA data_version").fetchone()
                    return f"sqlite:{row[0]}"
            if self._dialect == "postgresql":
                with self.engine.connect() as conn:
                    return f"pg:{conn.execute(text('SELECT pg_current_snapshot()')).scalar_one()}"
        except Exception as exc:
            with self._lock:
                self._close_raw()
            kind = type(exc).__name__
            raise StoreError(f"the store's change stamp cannot be read ({kind})") from None
        with self._lock:
            self._count += 1
            return f"always-new:{self._count}"

    def close(self) -> None:
        """Give back the kept connection."""
        with self._lock:
            self._close_raw()

    def _close_raw(self) -> None:
        if self._raw is not None:
            with suppress(Exception):  # a broken connection is dropped either way
                self._raw.close()
            self._raw = None


class StoreFeedSource:
    """The feed server's `FeedSource`, on a store."""

    def __init__(self, store: Store) -> None:
        """A source reading `store`."""
        self.store = store
        self.change_stamp = ChangeStamp(store)

    def stamp(self) -> str:
        """A stamp that changes whenever the store changed."""
        return self.change_stamp.read()

    def live_tokens(self) -> dict[str, str]:
        """Every live token hash with its worker (one query; the store has no such method).

        Raises:
            StoreError: the database cannot be read.
        """
        table = feed_tokens_table
        query = select(table.c.token_hash, table.c.worker_id).where(table.c.revoked_at.is_(None))
        try:
            with self.store.engine.connect() as conn:
                return {row.token_hash: row.worker_id for row in conn.execute(query)}
        except SQLAlchemyError as exc:
            kind = type(exc).__name__
            raise StoreError(f"the feed tokens cannot be read ({kind})") from None

    def inputs(self) -> FeedInputs:
        """The caseload, the current plan's visits, and the events' wording."""
        scenario = self.store.read_scenario()
        plan = self.store.current_plan()
        return FeedInputs(scenario, plan.visits if plan else (), event_context(scenario))

    def ledger_all(self, worker_id: str | None = None) -> tuple[LedgerEntry, ...]:
        """The calendar ledger."""
        return self.store.ledger_all(worker_id)

    def ledger_put(self, entry: LedgerEntry) -> None:
        """Record a revision."""
        self.store.ledger_put(entry)

    def ledger_put_many(self, entries: Sequence[LedgerEntry]) -> None:
        """Record many revisions in one transaction (a feed rebuild after a new plan writes
        thousands; one commit each took a minute on L).

        TODO(issue 11): move into the store as `Store.ledger_put_many` once its write paths
        settle; this is `Store.ledger_put` for many rows.

        Raises:
            StoreError: the database refused the write; nothing was written.
        """
        uids = [e.uid for e in entries]
        rows = [
            {"uid": e.uid, "worker_id": e.worker_id, "data": e.model_dump_json()} for e in entries
        ]
        try:
            with self.store.engine.begin() as conn:
                for start in range(0, len(uids), 500):
                    chunk = uids[start : start + 500]
                    conn.execute(delete(ledger_table).where(ledger_table.c.uid.in_(chunk)))
                if rows:
                    conn.execute(insert(ledger_table), rows)
        except SQLAlchemyError as exc:
            raise StoreError(
                f"the calendar ledger cannot be written ({type(exc).__name__})"
            ) from None

    def close(self) -> None:
        """Give back the stamp's connection."""
        self.change_stamp.close()
