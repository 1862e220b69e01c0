"""Every example command in a `--help` text parses: its command exists, its options exist and
its values are accepted (the examples teach; one that fails to parse teaches the wrong thing).
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from typing import Any

import pytest
import typer

from scheduler.cli import app

ROOT: Any = typer.main.get_command(app)
"""The command tree as Typer builds it (on its own copy of click, so judged by duck type)."""


def context(command: Any, parent: Any = None) -> Any:
    return command.context_class(command, parent=parent)


def is_group(command: Any) -> bool:
    return hasattr(command, "list_commands")


def commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every command under `command`, with its path of names."""
    yield path, command
    if is_group(command):
        ctx = context(command)
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None:
                yield from commands(sub, (*path, name))


def examples(help_text: str) -> list[str]:
    """The `visitplan ...` command lines of a help text, continuation lines joined."""
    found: list[str] = []
    lines = [line.strip() for line in help_text.splitlines()]
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("visitplan "):
            while line.endswith("\\") and i + 1 < len(lines):
                i += 1
                line = line[:-1].rstrip() + " " + lines[i]
            found.append(line)
        i += 1
    return found


CASES = [
    pytest.param(example, id=f"{' '.join(path) or 'visitplan'}: {example[:40]}")
    for path, command in commands(ROOT)
    for example in examples(command.help or "")
]


def test_the_help_texts_have_examples() -> None:
    """The examples below are found (so the parse test cannot pass by finding none)."""
    assert len(CASES) >= 8


@pytest.mark.parametrize("example", CASES)
def test_an_example_in_the_help_parses(example: str) -> None:
    words = shlex.split(example)[1:]
    command = ROOT
    names = ["visitplan"]
    while is_group(command) and words:
        sub = command.get_command(context(command), words[0])
        if sub is None:
            break
        names.append(words.pop(0))
        command = sub
    assert not is_group(command) or command.invoke_without_command, f"{example!r}: no command"
    # Parses every option and argument with its type (an unknown option or a bad value
    # raises); the command itself is not run.
    command.make_context(" ".join(names), words, parent=context(ROOT))


def test_the_due_date_example_runs() -> None:
    """The one example that needs no store is run whole: it answers, exit 0."""
    from typer.testing import CliRunner

    (example,) = [
        e for e in (x.values[0] for x in CASES) if str(e).startswith("visitplan due-date")
    ]
    result = CliRunner().invoke(app, shlex.split(str(example))[1:], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.stderr
    assert "Dec 2026" in result.stdout
