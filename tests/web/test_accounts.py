"""Desk accounts (scheduler.accounts) and `visitplan users add|list|disable`.

Rule: a real SQLite store; no sockets. Passwords come from VISITPLAN_PASSWORD or a prompt,
never from a flag, and never appear in output or in the store.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from scheduler.accounts import (
    MIN_PASSWORD_LENGTH,
    User,
    add_user,
    authenticate,
    disable_user,
    hash_password,
    verify_password,
)
from scheduler.cli import app
from scheduler.errors import InputError, NotFoundError
from scheduler.store import Store, users_table
from tests.scenarios import north_somerset_team

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
GOOD = "a" * MIN_PASSWORD_LENGTH
runner = CliRunner()


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(f"sqlite:///{tmp_path / 'users.db'}")
    s.replace_caseload(north_somerset_team())
    return s


def test_hash_is_argon2id_and_verifies() -> None:
    hashed = hash_password(GOOD)
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, GOOD)
    assert not verify_password(hashed, GOOD + "b")
    assert not verify_password("not a hash", GOOD)


def test_password_length_edge_pair(store: Store) -> None:
    """12 characters are accepted; 11 are refused and nothing is written."""
    with pytest.raises(InputError) as refused:
        add_user(store, "short", "admin", "a" * (MIN_PASSWORD_LENGTH - 1), NOW)
    assert "at least 12 characters" in str(refused.value)
    assert "a" * (MIN_PASSWORD_LENGTH - 1) not in str(refused.value)
    assert store.user_get("short") is None
    add_user(store, "long", "admin", GOOD, NOW)
    assert store.user_get("long") is not None


@pytest.mark.parametrize(
    ("role", "teams", "worker", "message"),
    [
        pytest.param("manager", (), None, "a manager needs at least one --team", id="no team"),
        pytest.param("manager", ("t9",), None, "a known team id", id="unknown team"),
        pytest.param("worker", (), None, "a worker account needs --worker", id="no worker"),
        pytest.param("worker", (), "w9", "a known worker", id="unknown worker"),
    ],
)
def test_accounts_that_cannot_work_are_refused(
    store: Store, role: str, teams: tuple[str, ...], worker: str | None, message: str
) -> None:
    with pytest.raises(InputError, match=message):
        add_user(store, "x", role, GOOD, NOW, teams=teams, worker_id=worker)  # type: ignore[arg-type]
    assert store.user_list() == ()


def test_a_taken_name_is_refused(store: Store) -> None:
    add_user(store, "mo", "manager", GOOD, NOW, teams=("t1",))
    with pytest.raises(InputError, match="a new name"):
        add_user(store, "mo", "admin", GOOD, NOW)


def test_only_the_hash_is_stored(store: Store) -> None:
    add_user(store, "mo", "manager", GOOD, NOW, teams=("t1",))
    with store.engine.connect() as conn:
        row = conn.execute(select(users_table)).one()
    assert GOOD not in " ".join(str(v) for v in row)
    assert row.password_hash.startswith("$argon2id$")


def test_authenticate(store: Store) -> None:
    add_user(store, "mo", "manager", GOOD, NOW, teams=("t1",))
    assert authenticate(store, "mo", GOOD) == User(name="mo", role="manager", teams=("t1",))
    assert authenticate(store, "mo", GOOD + "x") is None
    assert authenticate(store, "nobody", GOOD) is None
    assert authenticate(store, "", GOOD) is None
    disable_user(store, "mo")
    assert authenticate(store, "mo", GOOD) is None
    with pytest.raises(NotFoundError):
        disable_user(store, "nobody")


def test_who_sees_what() -> None:
    admin = User(name="a", role="admin")
    manager = User(name="m", role="manager", teams=("t1",))
    worker = User(name="w", role="worker", worker_id="w1")
    assert admin.sees_team("t2")
    assert manager.sees_team("t1")
    assert not manager.sees_team("t2")
    assert not worker.sees_team("t1")
    assert worker.sees_worker("w1", "t1")
    assert not worker.sees_worker("w2", "t1")
    assert manager.sees_worker("w2", "t1")


def invoke(db: str, *args: str, password: str | None = GOOD) -> tuple[int, str, str]:
    env = {"COLUMNS": "200"}
    if password is not None:
        env["VISITPLAN_PASSWORD"] = password
    result = runner.invoke(app, [*args, "--db", db], env=env)
    return result.exit_code, result.stdout, result.stderr


def test_cli_users_add_list_disable(store: Store) -> None:
    db = store.url
    code, out, _ = invoke(db, "users", "add", "mo", "--role", "manager", "--team", "t1")
    assert code == 0
    assert "Added manager mo of t1." in out
    code, out, _ = invoke(db, "users", "add", "wes", "--role", "worker", "--worker", "w1")
    assert code == 0
    code, out, _ = invoke(db, "users", "list")
    assert code == 0
    assert "mo" in out
    assert "wes" in out
    assert "active" in out
    assert GOOD not in out
    assert "argon2" not in out
    code, out, _ = invoke(db, "users", "disable", "wes")
    assert code == 0
    code, out, _ = invoke(db, "users", "list", "--json")
    assert '"disabled": true' in out
    code, _, err = invoke(db, "users", "disable", "nobody")
    assert code == 2
    assert "no user 'nobody'" in err


def test_cli_password_never_from_a_flag(store: Store) -> None:
    code, _, _err = invoke(store.url, "users", "add", "x", "--role", "admin", "--password", GOOD)
    assert code == 2
    assert store.user_list() == ()


def test_cli_password_from_the_prompt(store: Store) -> None:
    result = runner.invoke(
        app,
        ["users", "add", "ada", "--role", "admin", "--db", store.url],
        input=f"{GOOD}\n{GOOD}\n",
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.stderr
    assert authenticate(store, "ada", GOOD) is not None


def test_cli_no_password_is_a_clear_error(store: Store) -> None:
    """A script with no VISITPLAN_PASSWORD and nothing on standard input gets a message and
    exit 2 (not click's bare "Aborted!"), and no user is added."""
    result = runner.invoke(
        app,
        ["users", "add", "ada", "--role", "admin", "--db", store.url],
        input="",
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 2
    assert "no password given: set VISITPLAN_PASSWORD" in result.stderr
    assert "Aborted" not in result.stderr + result.stdout
    assert store.user_list() == ()


def test_cli_bad_input_exits_2_and_writes_nothing(store: Store) -> None:
    code, _, err = invoke(
        store.url, "users", "add", "x", "--role", "manager", "--team", "t9", password="short"
    )
    assert code == 2
    assert "at least 12 characters" in err
    assert "a known team id" in err
    assert store.user_list() == ()
    code, _, _ = invoke(store.url, "users", "add", "x", "--role", "boss")
    assert code == 2
