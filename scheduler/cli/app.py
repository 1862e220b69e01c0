"""The `visitplan` Typer application and its console-script entry point."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="visitplan",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    help=(
        "Plan statutory home visits to children within each authority's visiting standards.\n\n"
        "Start with `visitplan demo`, or load a caseload with `visitplan load FILE` and ask "
        "`visitplan due`."
    ),
)


def main() -> None:
    """Console-script entry point."""
    app()
