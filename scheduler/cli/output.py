"""Printing for the commands: tables and JSON on stdout, errors on stderr with exit codes."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.text import Text

from policies import PackNotFoundError, PolicyError
from scheduler.errors import ChangedError, InputError, StaleError, VisitplanError
from scheduler.store import Store

out = Console(highlight=False, soft_wrap=False)
err = Console(stderr=True, highlight=False)


class Failed(typer.Exit):
    """The exit `fail` makes: its code, and its message for `json_failures`."""

    def __init__(self, message: str, code: int) -> None:
        """An exit with `code` whose message was `message`."""
        super().__init__(code)
        self.message = message


def fail(message: str, code: int) -> NoReturn:
    """Print an error to stderr and exit with `code`."""
    # The message is text, not markup: a bracket in it (an IPv6 host, an option) stays.
    err.print(Text.assemble(("error:", "bold red"), " ", message), highlight=False)
    raise Failed(message, code)


@contextmanager
def json_failures(enabled: bool) -> Iterator[None]:
    """With --json (`enabled`), a failure also prints `{"error": ..., "exit_code": ...}` on
    stdout, so a script always reads one whole JSON object; the message still goes to stderr
    and the exit code is the text mode's."""
    try:
        yield
    except Failed as exc:
        if enabled:
            print_json({"error": exc.message, "exit_code": exc.exit_code})
        raise


@contextmanager
def handled() -> Iterator[None]:
    """Turn our errors into clear messages and exit codes (2 for input, 1 for a bad result)."""
    try:
        yield
    except InputError as exc:
        lines = "\n".join(f"  {p}" for p in exc.problems)
        fail(f"{len(exc.problems)} problem(s) in the input; nothing was written:\n{lines}", 2)
    except (PackNotFoundError, PolicyError) as exc:
        fail(str(exc), 2)
    except (StaleError, ChangedError) as exc:
        fail(str(exc), 1)
    except VisitplanError as exc:
        fail(str(exc), 2)
    except KeyboardInterrupt:
        fail("stopped (Ctrl-C): what was done before is kept; a plan is stored only whole", 1)
    except BrokenProcessPool:
        # Ctrl-C reaches the planning processes too (one process group), or memory ran out.
        fail(
            "a planning process stopped before it finished (Ctrl-C, or out of memory): nothing "
            "was stored; run the command again (with --processes 1 if memory is short)",
            1,
        )


def print_json(model: BaseModel | Any) -> None:
    """Machine output on stdout."""
    if isinstance(model, BaseModel):
        sys.stdout.write(model.model_dump_json(indent=2) + "\n")
    else:
        sys.stdout.write(json.dumps(model, indent=2, default=str) + "\n")


def store_url(db: str) -> str:
    """The store's URL: a plain file path (`--db visits.db`) names a SQLite file."""
    if not db.strip() or "://" in db or db.startswith("sqlite:"):
        return db
    return f"sqlite:///{db}"


def open_store(db: str, *, create: bool = False) -> Store:
    """The store at `db`. Only commands that fill a store (`create`: load, import, users add)
    make a new SQLite file; any other command given a file that does not exist says so,
    rather than leave an empty store behind a mistyped --db."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    db = store_url(db)
    if not create:
        try:
            url = make_url(db)
        except (ArgumentError, ValueError):
            url = None  # the store says what is wrong with it
        if url is not None and url.get_backend_name() == "sqlite":
            path = url.database or ""
            if path not in ("", ":memory:") and not Path(path).exists():
                fail(
                    f"no store at {path!r}: `visitplan load FILE` or `visitplan import` "
                    "makes one (or give the right --db / VISITPLAN_DB)",
                    2,
                )
    return Store(db)
