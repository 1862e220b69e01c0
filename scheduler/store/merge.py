"""Loading and merging a caseload into the store (all or nothing, row by row)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection, Table, bindparam, delete, insert, select, update

from policies import READ_BACK
from scheduler.domain import Child, Scenario
from scheduler.errors import InputError, InputProblem
from scheduler.store.caseload import _absence_match, _absence_row
from scheduler.store.engine import _next_position, _Tx, field_changes
from scheduler.store.plans import _drop_from_plan
from scheduler.store.records import RecordStore
from scheduler.store.tables import (
    absences_table,
    authority_table,
    busy_table,
    children_table,
    households_table,
    teams_table,
    workers_table,
)


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
    workers_back: tuple[str, ...] = Field(
        default=(),
        description="Workers recorded as left (`visitplan workers leave`) whom the source lists "
        "again: they are current and planned again.",
    )
    households_added: int = 0
    households_changed: int = 0
    records_added: int = 0
    records_amended: int = 0
    absences_added: int = 0
    absences_removed: int = 0
    """Absences a replacing load dropped, or a merge replaced (the same worker and first day)."""
    revision: int = 0

    def back_note(self) -> str | None:
        """What to do about workers recorded as left whom the source lists again (None: no
        such worker)."""
        if not self.workers_back:
            return None
        return (
            "Back (recorded as left, but the source lists them again; they are planned again): "
            f"{first_ten(self.workers_back)}. If they have left, record it in the case system "
            "too, then `visitplan workers leave` again."
        )

    def counts(self) -> dict[str, int]:
        """The figures a manager reads after an import."""
        return {
            "children added": len(self.added),
            "children changed": len(self.changed),
            "children closed": len(self.closed),
            "children reopened": len(self.reopened),
            "workers added": self.workers_added,
            "workers left": self.workers_left,
            "workers back": len(self.workers_back),
            "households added": self.households_added,
            "households changed": self.households_changed,
            "records added": self.records_added,
            "records amended": self.records_amended,
            "absences added": self.absences_added,
            "absences removed": self.absences_removed,
        }


def first_ten(ids: Sequence[str]) -> str:
    """Ids for a summary line: the first ten, then how many more."""
    more = f" and {len(ids) - 10} more" if len(ids) > 10 else ""
    return ", ".join(ids[:10]) + more


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


class MergeStore(RecordStore):
    """Replacing and merging the caseload (the merge's part of `Store`)."""

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
            report["workers_back"] = tuple(
                w.id
                for w in scenario.workers
                if w.id in workers_before and workers_before[w.id].left_on is not None
            )
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
            delta = field_changes(Child.model_validate_json(row.data, context=READ_BACK), child)
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
            _drop_from_plan(tx, closing, scenario.as_of)  # as `child close` does
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
        stored = {r.data for r in conn.execute(select(absences_table.c.data))}
        if replace:
            conn.execute(delete(absences_table))
            conn.execute(delete(busy_table))
        position = _next_position(conn, absences_table)
        for absence in scenario.absences:
            conn.execute(_absence_match(absence.worker_id, absence.start))
            conn.execute(insert(absences_table), _absence_row(absence, position))
            position += 1
        # Only what really changed counts: the same absence stored again is neither.
        after = {r.data for r in conn.execute(select(absences_table.c.data))}
        report["absences_added"] = len(after - stored)
        report["absences_removed"] = len(stored - after)
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
