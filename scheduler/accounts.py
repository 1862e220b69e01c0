"""Accounts of the manager's desk: users, roles, teams, argon2 password hashes, disabling.

Rule: a password is never stored, logged or taken from a flag; only its argon2id hash is kept.
A disabled user cannot sign in, and a session of theirs stops working at its next request.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from pydantic import Field, model_validator

from scheduler.domain import DomainModel, TeamId, WorkerId
from scheduler.errors import InputError, InputProblem, NotFoundError

if TYPE_CHECKING:
    from scheduler.store import Store

Role = Literal["admin", "manager", "worker"]
ROLES: tuple[Role, ...] = ("admin", "manager", "worker")
MIN_PASSWORD_LENGTH = 12
"""NCSC guidance favours length over composition rules; 12 characters is our floor."""
MAX_NAME_LENGTH = 100

_hasher = PasswordHasher()
# Verified when the name is unknown, so a missing user costs as much time as a wrong password.


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against for unknown names (same time as a real check), made on first
    use rather than at import, where it cost every command a quarter of a second."""
    return _hasher.hash("not a password of anyone's")


class User(DomainModel):
    """Someone who signs in to the desk."""

    name: str = Field(min_length=1, max_length=MAX_NAME_LENGTH, description="Sign-in name.")
    role: Role = Field(description="admin (every team), manager (their teams), worker (own week).")
    teams: tuple[TeamId, ...] = Field(default=(), description="Teams a manager runs.")
    worker_id: WorkerId | None = Field(default=None, description="The worker a user is.")
    disabled: bool = Field(default=False, description="Disabled users cannot sign in.")

    @model_validator(mode="after")
    def check_role_needs(self) -> User:
        """A manager has at least one team; a worker is linked to a worker."""
        if self.role == "manager" and not self.teams:
            raise ValueError(f"user {self.name}: a manager needs at least one --team")
        if self.role == "worker" and self.worker_id is None:
            raise ValueError(f"user {self.name}: a worker account needs --worker")
        return self

    def sees_team(self, team_id: TeamId) -> bool:
        """True when the user may see and change the team's pages."""
        return self.role == "admin" or (self.role == "manager" and team_id in self.teams)

    def sees_worker(self, worker_id: WorkerId, worker_team: TeamId) -> bool:
        """True when the user may see this worker's week."""
        if self.role == "worker":
            return self.worker_id == worker_id
        return self.sees_team(worker_team)


def hash_password(password: str) -> str:
    """The argon2id hash of a password (with its own random salt)."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when `password` matches `password_hash`; a malformed hash never matches."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def add_user(
    store: Store,
    name: str,
    role: Role,
    password: str,
    now: datetime,
    teams: Sequence[TeamId] = (),
    worker_id: WorkerId | None = None,
) -> User:
    """Create a user, all or nothing.

    Raises:
        InputError: a taken name, an unknown team or worker, a missing team or worker for the
            role, or a short password; nothing is written.
    """
    problems: list[InputProblem] = []
    if len(password) < MIN_PASSWORD_LENGTH:
        # The length only: the password itself is never echoed.
        expected = f"at least {MIN_PASSWORD_LENGTH} characters"
        got = f"{len(password)} character{'s' if len(password) != 1 else ''}"
        problems.append(InputProblem("password", None, "length", expected, got))
    scenario = store.read_scenario()
    known_teams = {t.id for t in scenario.teams}
    known_workers = {w.id for w in scenario.workers}
    problems += [
        InputProblem("command line", None, "--team", "a known team id", t)
        for t in teams
        if t not in known_teams
    ]
    if worker_id is not None and worker_id not in known_workers:
        problems.append(InputProblem("command line", None, "--worker", "a known worker", worker_id))
    try:
        user = User(name=name, role=role, teams=tuple(dict.fromkeys(teams)), worker_id=worker_id)
    except ValueError as exc:
        reasons = [str(e["msg"]).removeprefix("Value error, ") for e in _errors(exc)]
        problems += [InputProblem("command line", None, "NAME", "a valid user", r) for r in reasons]
        raise InputError(problems) from None
    if problems:
        raise InputError(problems)
    store.user_add(user, hash_password(password), now)
    return user


def _errors(exc: ValueError) -> list[dict[str, object]]:
    errors = getattr(exc, "errors", None)
    return list(errors()) if callable(errors) else [{"msg": str(exc)}]


def authenticate(store: Store, name: str, password: str) -> User | None:
    """The user when the name and password match an enabled account, else None.

    An unknown name costs one argon2 verification too, so timing does not reveal names.
    """
    found = store.user_get(name) if 0 < len(name) <= MAX_NAME_LENGTH else None
    if found is None:
        verify_password(_dummy_hash(), password)
        return None
    user, password_hash = found
    if not verify_password(password_hash, password) or user.disabled:
        return None
    return user


def disable_user(store: Store, name: str) -> User:
    """Disable a user; their sessions stop working at their next request.

    Raises:
        NotFoundError: no such user.
    """
    if not store.user_disable(name):
        raise NotFoundError(f"no user {name!r} (see `visitplan users list`)")
    found = store.user_get(name)
    assert found is not None
    return found[0]
