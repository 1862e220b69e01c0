"""Plans and their visits in the store: saving, reading and changing one visit."""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, delete, select, update

from scheduler.domain import Plan, Visit
from scheduler.errors import ChangedError, NotFoundError, StaleError
from scheduler.store.engine import StoreBase, _audit_entry, _current_plan_id, _Tx
from scheduler.store.tables import (
    audit_table,
    children_table,
    plan_visits_table,
    plans_table,
)


def _drop_from_plan(tx: _Tx, child_ids: Collection[str], on: date) -> None:
    """Take closed children out of the current plan's visits after `on`; a visit left with
    no child is cancelled (calendars then show it cancelled)."""
    conn = tx.conn
    plan_id = _current_plan_id(conn)
    closing = set(child_ids)
    if plan_id is None or not closing:
        return
    query = select(plan_visits_table.c.id, plan_visits_table.c.data).where(
        plan_visits_table.c.plan_id == plan_id, plan_visits_table.c.day > on
    )
    if len(closing) == 1:
        query = query.where(plan_visits_table.c.data.contains(f'"{next(iter(closing))}"'))
    refs: dict[str, str] | None = None  # the closing children's, read once when first needed
    for row in conn.execute(query.order_by(plan_visits_table.c.position)).all():
        visit = Visit.model_validate_json(row.data)
        gone = [c for c in visit.child_ids if c in closing]
        if not gone or visit.status != "planned":
            continue
        left = tuple(c for c in visit.child_ids if c not in closing)
        if left and refs is None:
            refs = _case_refs(conn, closing)
        changed = (
            _without_children(visit, left, {refs[c] for c in gone if c in refs})
            if left and refs is not None
            else visit.model_copy(update={"status": "cancelled"})
        )
        conn.execute(
            update(plan_visits_table)
            .where(plan_visits_table.c.plan_id == plan_id, plan_visits_table.c.id == visit.id)
            .values(data=changed.model_dump_json())
        )
        for child_id in gone:
            tx.log(
                "visit cancelled (case closed)"
                if not left
                else "child taken off visit (case closed)",
                "visit",
                visit.id,
                child_id,
            )


def _case_refs(conn: Connection, child_ids: Collection[str]) -> dict[str, str]:
    """The case references of these children, by child id."""
    query = select(children_table.c.id, children_table.c.data).where(
        children_table.c.id.in_(list(child_ids))
    )
    return {row.id: str(json.loads(row.data)["case_ref"]) for row in conn.execute(query)}


def _without_children(visit: Visit, left: tuple[str, ...], gone_refs: Collection[str]) -> Visit:
    """The visit to `left` only: the reasons, rules, deadline and checklist items of the
    children taken off go with them (a brother's visit gave a closed child's deadlines), and
    a visit left with one child drops the case-reference prefix from its checklist items."""
    reasons = tuple(r for r in visit.reasons if r.child_id in left)
    items: list[str] = []
    for item in visit.checklist:
        ref, sep, rest = item.partition(": ")
        if sep and ref in gone_refs:
            continue
        items.append(rest if sep and len(left) == 1 else item)
    update: dict[str, Any] = {"child_ids": left, "checklist": tuple(items)}
    if visit.reasons:
        update |= {
            "reasons": reasons,
            "rule_ids": tuple(sorted({r.rule_id for r in reasons})),
            "due": min((r.due for r in reasons), default=None),
        }
    return visit.model_copy(update=update)


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


class PlanStore(StoreBase):
    """Plans and visits (the plans' part of `Store`)."""

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
        was: Visit | None = None,
        since: int | None = None,
        **detail: Any,
    ) -> int:
        """Change one visit of the current plan in place (a move, a pin); the new revision.
        With `was` (the visit as read), the change is saved only onto that visit; with
        `since` (the store's revision when the plan was read and the change judged), only
        if nothing but visit records has changed since: a re-plan, another hand change or a
        new absence stored meanwhile is not overwritten or judged without.

        Raises:
            NotFoundError: no such visit in the current plan.
            ChangedError: the plan, the visit or what it was judged on changed since.
        """
        with self._write(by, now) as tx:
            conn = tx.conn
            current = _current_plan_id(conn)
            if since is not None:
                changed = conn.execute(
                    select(audit_table.c.action)
                    .where(audit_table.c.revision > since, audit_table.c.entity != "record")
                    .order_by(audit_table.c.key)
                    .limit(1)
                ).scalar_one_or_none()
                if changed is not None:
                    raise ChangedError(_changed_words(visit.id, f"the store changed ({changed})"))
            if was is not None and current is not None:
                row = conn.execute(
                    select(plan_visits_table.c.data).where(
                        plan_visits_table.c.plan_id == current,
                        plan_visits_table.c.id == visit.id,
                    )
                ).first()
                if row is not None and Visit.model_validate_json(row.data) != was:
                    raise ChangedError(_changed_words(visit.id, "the visit changed"))
            plan_id = current
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


def _changed_words(visit_id: str, what: str) -> str:
    """The refusal of a hand change whose visit changed while it was checked."""
    return (
        f"visit {visit_id} was not changed: {what} while this change was being checked "
        "(a re-plan or another change was stored first). Look at the plan again and repeat "
        "the change if it is still wanted."
    )
