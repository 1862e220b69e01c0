"""People who sign in to the desk, as the store keeps them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from scheduler.accounts import User
from scheduler.errors import InputError, InputProblem
from scheduler.store.engine import StoreBase
from scheduler.store.tables import users_table


class UserStore(StoreBase):
    """Desk users (the users' part of `Store`)."""

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
