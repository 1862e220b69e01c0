"""Visit records in the store: adding, amending (kept as versions) and reading."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, insert, select, update

from scheduler.domain import VisitRecord
from scheduler.errors import InputError, InputProblem
from scheduler.store.engine import (
    StoreBase,
    _exists,
    _next_position,
    _require_caseload,
    _Tx,
    field_changes,
)
from scheduler.store.tables import (
    children_table,
    households_table,
    record_versions_table,
    records_table,
    workers_table,
)

BATCH_ROWS = 5000
"""Rows per insert statement when a merge writes many (a six-year visit history)."""


class RecordVersion(BaseModel):
    """One version of a visit record, current or superseded."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    record: VisitRecord
    version: int
    recorded_at: datetime | None = None
    recorded_by: str | None = None
    superseded_at: datetime | None = None
    superseded_by: str | None = None


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


class RecordStore(StoreBase):
    """Visit records and their versions (the records' part of `Store`)."""

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
