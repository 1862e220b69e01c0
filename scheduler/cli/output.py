"""Printing for the commands: tables and JSON on stdout, errors on stderr with exit codes."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from pydantic import BaseModel
from rich.console import Console

from policies import PackNotFoundError, PolicyError
from scheduler.errors import InputError, StaleError, VisitplanError
from scheduler.store import Store

out = Console(highlight=False, soft_wrap=False)
err = Console(stderr=True, highlight=False)


def fail(message: str, code: int) -> NoReturn:
    """Print an error to stderr and exit with `code`."""
    err.print(f"[bold red]error:[/] {message}", markup=True, highlight=False)
    raise typer.Exit(code)


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
    except StaleError as exc:
        fail(str(exc), 1)
    except VisitplanError as exc:
        fail(str(exc), 2)


def print_json(model: BaseModel | Any) -> None:
    """Machine output on stdout."""
    if isinstance(model, BaseModel):
        sys.stdout.write(model.model_dump_json(indent=2) + "\n")
    else:
        sys.stdout.write(json.dumps(model, indent=2, default=str) + "\n")


def open_store(db: str) -> Store:
    """The store at `db` (created on first use)."""
    return Store(db)
