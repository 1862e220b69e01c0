"""Fixtures shared across the suite: a real PostgreSQL server for the store's PostgreSQL tests.

Rule: the server is the one named by VISITPLAN_TEST_PG_URL when it is set (CI's `.ci/run`
starts one and sets it), else a throwaway cluster started here from the installed PostgreSQL
binaries, listening on a unix socket only (pytest-socket allows unix sockets). Where neither
exists the PostgreSQL tests skip, saying why; under CI (`CI` set) they fail instead, so CI
can never pass without running them.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PG_ENV = "VISITPLAN_TEST_PG_URL"


def _initdb() -> str | None:
    """The initdb binary, if PostgreSQL is installed."""
    found = shutil.which("initdb")
    if found:
        return found
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return candidates[-1] if candidates else None


def _run(command: list[str]) -> None:
    """Run a PostgreSQL tool, failing the test with its output when it fails."""
    done = subprocess.run(command, check=False, capture_output=True, text=True)
    if done.returncode != 0:
        pytest.fail(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")


def _unavailable(reason: str) -> None:
    """Skip (fail under CI) when no PostgreSQL server can be had."""
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the PostgreSQL tests, but {reason}; .ci/run sets {PG_ENV}")
    pytest.skip(f"no PostgreSQL for this test: {reason} (set {PG_ENV} or install PostgreSQL)")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """An administrator's URL of a PostgreSQL server for the session.

    The cluster, when started here, lives in a short directory under the system temp dir
    rather than tmp_path: a unix socket path must stay under about 100 characters, and when
    we run as root the postgres user must be able to reach it.
    """
    given = os.environ.get(PG_ENV)
    if given:
        yield given
        return
    initdb = _initdb()
    if initdb is None:
        _unavailable("PostgreSQL is not installed (no initdb)")
    assert initdb is not None
    bindir = Path(initdb).resolve().parent
    prefix: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            _unavailable("running as root without runuser, PostgreSQL cannot be started")
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            _unavailable("running as root and there is no postgres user to run PostgreSQL as")
        prefix = ["runuser", "-u", "postgres", "--"]
    base = Path(tempfile.mkdtemp(prefix="vp-pg-"))
    data, sock, log = base / "data", base / "sock", base / "log"
    sock.mkdir()
    if prefix:
        base.chmod(0o755)
        for path in (base, sock):
            shutil.chown(path, "postgres")
    try:
        _run(
            [
                *prefix,
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "visitplan",
                "--auth=trust",
                "-E",
                "UTF8",
            ]
        )
        options = f"-k {sock} -c listen_addresses='' -F"
        pg_ctl = [*prefix, str(bindir / "pg_ctl"), "-D", str(data)]
        _run([*pg_ctl, "-o", options, "-w", "-l", str(log), "start"])
        try:
            yield f"postgresql://visitplan@/postgres?host={sock}"
        finally:
            subprocess.run(
                [*pg_ctl, "-m", "immediate", "stop"],
                check=False,
                capture_output=True,
            )
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database on the session's server (a plain `postgresql://` URL)."""
    name = f"vp_{uuid.uuid4().hex[:16]}"
    admin_url = make_url(postgres_server).set(drivername="postgresql+psycopg")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(postgres_server).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def backend_url(request: pytest.FixtureRequest, backend: str, folder: Path, name: str) -> str:
    """An empty store's URL on `backend`: a SQLite file `name` in `folder`, or a fresh
    PostgreSQL database (the `postgres_url` fixture)."""
    if backend == "sqlite":
        return f"sqlite:///{folder / name}"
    return str(request.getfixturevalue("postgres_url"))
