"""A service's refusal in the form's own words: each problem under the field it is about.

Rule: the checks stay in the service functions (`InputError` with `InputProblem`s naming a
command-line option); this module only says them as a form would, by mapping
`InputProblem.field` to a form field and its label. It never checks anything itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from scheduler.errors import InputError, InputProblem
from scheduler.reasons import on_day

FORM = ""
"""The key of problems that concern the form as a whole (shown above it)."""
_ISO_DAY = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_WORDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^a day on or before today\b.*"), "the day must be today or earlier"),
    (re.compile(r"^today \(.*\) or later$"), "the day must be today or later"),
    (
        re.compile(r"^a visit planned for today or earlier\b"),
        "the visit's day has not come yet: record its outcome on or after that day",
    ),
    (re.compile(r"^words saying why the case closed$"), "say why the case is closing"),
    (
        re.compile(r"^no control characters\b"),
        "take out the invisible control character pasted in with it (such as NUL)",
    ),
    (re.compile(r"^a current worker( id)?$"), "choose one of the workers on the list"),
    (re.compile(r"^a known team id$"), "choose one of the teams on the list"),
    (
        re.compile(r"^a visit still to be made$"),
        "this visit has been made or cancelled already, so it cannot be changed",
    ),
    (
        re.compile(r"^someone other than the second worker$"),
        "choose someone other than the visit's second worker",
    ),
    (
        re.compile(r"^a visit with a recorded outcome to correct$"),
        "nothing is recorded for this visit yet, so there is nothing to correct",
    ),
    (
        re.compile(r"^a record not yet made"),
        "this visit's outcome is recorded already: correct it instead",
    ),
    (
        re.compile(r"^days no other absence of "),
        "the worker is recorded as away on some of these days already",
    ),
    (
        re.compile(r"^a case reference no open child has"),
        "another open case has this reference already",
    ),
    (
        re.compile(r"^a date YYYY-MM-DD between 1900 and 2100$"),
        "give a date between the years 1900 and 2100",
    ),
    (re.compile(r"^a date YYYY-MM-DD.*"), "give a date, for example 01/12/2026"),
)


@dataclass(frozen=True)
class Field:
    """A form field a service's option stands for: its `name` in the form and its label."""

    name: str
    label: str


def british_days(text: str) -> str:
    """`text` with every YYYY-MM-DD date written the British way (Tue 1 Dec 2026)."""

    def say(match: re.Match[str]) -> str:
        try:
            day = date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            return match[0]
        return on_day(day)

    return _ISO_DAY.sub(say, text)


def in_words(problem: InputProblem) -> str:
    """What the problem asks for, in a manager's words (never the value given)."""
    for pattern, words in _WORDS:
        if pattern.match(problem.expected):
            return words
    return f"this must be {british_days(problem.expected)}"


def field_messages(exc: InputError, fields: Mapping[str, Field]) -> dict[str, str]:
    """The refusal's problems by form field name ("Date: the day must be today or earlier").

    `fields` maps a problem's `field` (the service's option, such as `--on`) to the form's
    field. A problem about no field of this form is kept under `FORM`, labelled by nothing.
    """
    out: dict[str, list[str]] = {}
    for problem in exc.problems:
        field = fields.get(problem.field)
        words = in_words(problem)
        if field is None:
            out.setdefault(FORM, []).append(words[0].upper() + words[1:] + ".")
        else:
            out.setdefault(field.name, []).append(f"{field.label}: {words}.")
    return {name: " ".join(messages) for name, messages in out.items()}
