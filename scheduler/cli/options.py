"""Options shared by the commands, and the parsing of dates, times, periods and choices."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from policies import CATEGORIES, Category, Flag, Period, check_plan_period

if TYPE_CHECKING:
    from scheduler.domain import PlanFrequency

C = TypeVar("C", bound=str)

DbOption = Annotated[
    str,
    typer.Option(
        "--db",
        envvar="VISITPLAN_DB",
        help="The store: a SQLite file (visits.db) or a URL (postgresql://...); env VISITPLAN_DB.",
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


def parse_frequency(every: str, source: str | None) -> PlanFrequency:
    """The frequency a plan or conference sets (`--every`, `--every-source`), at most a year,
    or a usage error naming --every."""
    from scheduler.domain import PlanFrequency

    period = parse_period(every, "--every")
    try:
        check_plan_period(period)
    except ValueError as exc:
        raise typer.BadParameter(
            f"expected {exc}, got {period.describe()}", param_hint="--every"
        ) from None
    return PlanFrequency(every=period, source=source)


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


def checked_date(day: date, option: str | None = None) -> date:
    """A date inside any real caseload (1900 to 2100), or a usage error naming the option.

    Typer names the option itself when this runs as a parser (`option` None).
    """
    if not EARLIEST <= day <= LATEST:
        raise typer.BadParameter(
            f"expected a date between {EARLIEST} and {LATEST}, got {day}", param_hint=option
        )
    return day


def parse_day(value: str) -> date:
    """The parser of every date option: an ISO date from 1900 to 2100, or a usage error.

    Typer calls it with the option's text and names the option in the error.
    """
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"expected a date YYYY-MM-DD, got {value!r}") from None
    return checked_date(day)


def parse_date(value: str, option: str) -> date:
    """A date inside a longer value (`visit move --to DAY[THH:MM]`), with `parse_day`'s
    checks and errors, naming `option`."""
    try:
        return parse_day(value)
    except typer.BadParameter as exc:
        exc.param_hint = option
        raise


AsOfOption = Annotated[
    date | None,
    typer.Option(
        metavar="DATE", parser=parse_day, help="Date the export is correct to (default today)."
    ),
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


def choice_of(allowed: tuple[C, ...]) -> Callable[[str], C]:
    """The parser of a choice option: the value as one of `allowed` (typed as such), or a
    usage error listing them (typer names the option)."""

    def parse(value: str) -> C:
        for choice in allowed:
            if value == choice:
                return choice
        raise typer.BadParameter(f"expected one of {', '.join(allowed)}, got {value!r}")

    return parse


if TYPE_CHECKING:
    FlagValue = Flag
else:
    # Typer takes no list of a Literal type; `choice_of(FLAGS)` makes each item a Flag.
    FlagValue = str


CategoryOption = Annotated[
    Category,
    typer.Option(
        parser=choice_of(CATEGORIES), metavar="CATEGORY", help="One of: " + ", ".join(CATEGORIES)
    ),
]
"""A child's category (required), one of the packs' categories."""
