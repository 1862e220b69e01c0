"""Options shared by the commands, and the parsing of dates, times, periods and choices."""

from __future__ import annotations

from datetime import date, time
from typing import Annotated, TypeVar, overload

import typer

from policies.models import Period

C = TypeVar("C", bound=str)

DbOption = Annotated[
    str,
    typer.Option(
        "--db",
        envvar="VISITPLAN_DB",
        help="Store URL (any SQLAlchemy URL, e.g. postgresql://...); env VISITPLAN_DB.",
    ),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
ByOption = Annotated[
    str | None,
    typer.Option(
        "--by",
        envvar="VISITPLAN_USER",
        help="Who is making the change, for the history (default: your login name).",
    ),
]
DEFAULT_DB = "sqlite:///visitplan.db"


def parse_time(value: str | None, option: str) -> time | None:
    """A local time HH:MM from the command line, or a usage error naming the option."""
    if value is None:
        return None
    try:
        if len(value) != 5 or value[2] != ":":
            raise ValueError(value)
        return time.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"expected a time HH:MM, got {value!r}", param_hint=option
        ) from None


def parse_period(value: str, option: str) -> Period:
    """A period such as '10 working days' from the command line, or a usage error."""
    try:
        return Period.parse(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None


def who(by: str | None) -> str:
    """Who is making a change: `--by`, else the login name."""
    import getpass

    if by:
        return by
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


EARLIEST = date(1900, 1, 1)
LATEST = date(2100, 12, 31)


def checked_date(day: date, option: str) -> date:
    """A date inside any real caseload (1900 to 2100), or a usage error naming the option."""
    if not EARLIEST <= day <= LATEST:
        raise typer.BadParameter(
            f"expected a date between {EARLIEST} and {LATEST}, got {day}", param_hint=option
        )
    return day


def parse_date(value: str | None, option: str) -> date | None:
    """An ISO date from the command line, or a usage error naming the option."""
    if value is None:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"expected a date YYYY-MM-DD, got {value!r}", param_hint=option
        ) from None
    return checked_date(day, option)


AsOfOption = Annotated[
    str | None,
    typer.Option(metavar="DATE", help="Date the export is correct to (default today)."),
]
AuthorityOption = Annotated[str, typer.Option(help="Policy pack id of the authority.")]
AllowShrinkFlag = Annotated[
    bool,
    typer.Option("--allow-shrink", help="Allow closing more than 10% of the stored children."),
]
SkipCodesFlag = Annotated[
    bool,
    typer.Option(
        "--skip-unknown-codes",
        help="Leave out (and list) children whose placement code cannot be read.",
    ),
]


@overload
def _choice(value: str, allowed: tuple[C, ...], option: str) -> C: ...
@overload
def _choice(value: str | None, allowed: tuple[C, ...], option: str) -> C | None: ...
def _choice(value: str | None, allowed: tuple[C, ...], option: str) -> C | None:
    """`value` as one of `allowed` (typed as such), or a bad-parameter error naming `option`."""
    if value is None:
        return None
    for choice in allowed:
        if value == choice:
            return choice
    raise typer.BadParameter(f"expected one of {', '.join(allowed)}", param_hint=option)
