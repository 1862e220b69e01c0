"""The calendar ledger (what each calendar holds) and workers' feed tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update

from scheduler.domain import LedgerEntry
from scheduler.errors import NotFoundError
from scheduler.store.engine import StoreBase, _current_worker
from scheduler.store.tables import feed_tokens_table, ledger_table


def _revoke(worker_id: str, now: datetime) -> Any:
    """An update revoking the worker's live feed tokens."""
    return (
        update(feed_tokens_table)
        .where(feed_tokens_table.c.worker_id == worker_id, feed_tokens_table.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )


class CalendarStore(StoreBase):
    """The calendar ledger and feed tokens (the calendars' part of `Store`)."""

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
            NotFoundError: the worker is unknown, or has left.
        """
        with self._write() as tx:
            conn = tx.conn
            if not _current_worker(conn, worker_id):
                if _current_worker(conn, worker_id, or_left=True):
                    raise NotFoundError(
                        f"{worker_id} has left: a calendar feed is for a current worker"
                    )
                raise NotFoundError(f"unknown worker {worker_id!r}")
            conn.execute(_revoke(worker_id, now))
            self._insert(
                conn,
                feed_tokens_table,
                [{"token_hash": token_hash, "worker_id": worker_id, "issued_at": now}],
            )

    def feed_token_revoke(self, worker_id: str, now: datetime) -> bool:
        """Revoke the worker's live feed tokens; False when there were none.

        Raises:
            NotFoundError: no such worker, current or left (a mistyped id is not a no-op).
        """
        with self._write() as tx:
            if not _current_worker(tx.conn, worker_id, or_left=True):
                raise NotFoundError(f"unknown worker {worker_id!r}")
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
