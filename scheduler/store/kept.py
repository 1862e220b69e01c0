"""Results worked out from the store and kept in it, valid at one revision only.

Rule: a kept result is never part of the caseload. It is written without bumping the revision
or leaving an audit row, only while the store is still at the revision it was worked out
from, and read back only when the revision, the day and the digest (of the code and pack that
made it) all match; anything else finds nothing. The store keeps one result per name.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, insert, select

from scheduler.store.engine import StoreBase, _revision
from scheduler.store.tables import kept_table


class KeptStore(StoreBase):
    """Kept results (the kept part of `Store`)."""

    def kept(self, name: str, revision: int, as_of: date, digest: str) -> bytes | None:
        """The result kept under `name` for exactly this revision, day and digest, while the
        store is still at that revision; else None."""
        with self._read() as conn:
            if _revision(conn) != revision:
                return None
            row = conn.execute(
                select(kept_table.c.data).where(
                    kept_table.c.name == name,
                    kept_table.c.revision == revision,
                    kept_table.c.as_of == as_of,
                    kept_table.c.digest == digest,
                )
            ).first()
            return None if row is None else bytes(row.data)

    def keep(self, name: str, revision: int, as_of: date, digest: str, data: bytes) -> bool:
        """Keep `data` under `name` (replacing what was kept) if the store is still at
        `revision`; True when it was kept. Neither the revision nor the audit changes."""
        with self._write() as tx:
            if _revision(tx.conn) != revision:
                return False
            tx.conn.execute(delete(kept_table).where(kept_table.c.name == name))
            tx.conn.execute(
                insert(kept_table),
                [
                    {
                        "name": name,
                        "revision": revision,
                        "as_of": as_of,
                        "digest": digest,
                        "data": data,
                    }
                ],
            )
            return True
