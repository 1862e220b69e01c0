"""Reads and writes scenario JSON files, turning every validation failure into InputProblems.

Rule: no store and no clock here; `read_scenario` either returns a valid Scenario or raises
InputError listing every problem with file, row, field and what was expected.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from policies import PackNotFoundError, load_pack, pack_ids
from scheduler.domain import (
    SCHEMA_VERSION,
    Absence,
    BusyTime,
    Child,
    Household,
    Plan,
    Scenario,
    Team,
    VisitRecord,
    Worker,
)
from scheduler.errors import InputError, InputProblem
from scheduler.textfile import read_text

COLLECTIONS: tuple[str, ...] = (
    "teams",
    "workers",
    "households",
    "children",
    "absences",
    "busy",
    "records",
)
"""The scenario's list fields; an error inside one is reported on the item's 1-based row."""
PLAN_COLLECTIONS: tuple[str, ...] = ("visits", "breaches")
"""A plan file's list fields, reported by row likewise."""

_ITEM_TYPES: dict[str, Any] = {
    "teams": Team,
    "workers": Worker,
    "households": Household,
    "children": Child,
    "absences": Absence,
    "busy": BusyTime,
    "records": VisitRecord,
}

PERSONAL_FIELDS = frozenset({"name", "birth_date", "address", "postcode", "uprn"})
"""Fields whose values are children's or families' data: never repeated in an error."""

Locate = Callable[[str, int, str], tuple[str, int | None, str]]
"""Maps (collection, 0-based index, model field) to (file, row, field) for a problem."""


def read_scenario(path: Path) -> Scenario:
    """The scenario in the JSON file at `path`.

    Raises:
        InputError: the file is unreadable, not JSON, breaks the schema, refers to unknown
            ids, or names an unknown authority; every problem found is listed.
    """
    path = Path(path)
    name = path.name
    raw = _read_json_object(path, "a scenario object")
    version = raw.get("schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        raise InputError(
            [
                InputProblem(
                    name,
                    None,
                    "schema_version",
                    f"{SCHEMA_VERSION} (the version this visitplan reads)",
                    describe_got(version),
                )
            ]
        )

    problems: list[InputProblem] = []
    scenario: Scenario | None = None
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors()
        problems.extend(
            _problem_from_error(name, error["loc"], error["msg"], error.get("input"))
            for error in errors
            if error["loc"]
        )
        if any(not error["loc"] for error in errors):
            # A scenario-level check (unique ids, references) failed and every item is valid
            # on its own: find the exact rows instead of pydantic's one-line summary.
            found = _reference_problems_raw(raw, name)
            problems.extend(found)
            if not found:
                problems.extend(
                    InputProblem(name, None, "(scenario)", "a consistent scenario", e["msg"])
                    for e in errors
                    if not e["loc"]
                )
    if scenario is not None:
        problems.extend(
            reference_problems(
                scenario.teams,
                scenario.workers,
                scenario.households,
                scenario.children,
                scenario.absences,
                scenario.busy,
                scenario.records,
                _json_locate(name),
            )
        )
    authority_id = _authority_id(raw)
    if authority_id is not None:
        problems.extend(authority_problems(authority_id, name, None, "authority.id"))
    if problems:
        raise InputError(problems)
    assert scenario is not None  # no problems means validation succeeded
    return scenario


def read_plan(path: Path) -> Plan:
    """The plan in the JSON file at `path` (as `visitplan plan --json FILE` writes it).

    Raises:
        InputError: the file is unreadable, not JSON or not a plan; every problem is listed
            with its field, and its row for a visit or breach.
    """
    path = Path(path)
    raw = _read_json_object(path, "a plan object (see `visitplan plan --json FILE`)")
    try:
        return Plan.model_validate(raw)
    except ValidationError as exc:
        raise InputError(
            _problem_from_error(path.name, e["loc"], e["msg"], e.get("input"), PLAN_COLLECTIONS)
            for e in exc.errors()
        ) from None


def _read_json_object(path: Path, what: str) -> dict[str, Any]:
    """The JSON object in the file at `path`, or InputError naming the file and the fault.

    Raises:
        InputError: unreadable, not JSON (a number too long to read is not JSON either),
            nested too deeply, or not an object.
    """
    name = path.name
    text = read_text(path)
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            [InputProblem(name, exc.lineno, "(json)", "valid JSON", exc.msg)]
        ) from None
    except ValueError:  # Python refuses integers of over 4,300 digits
        raise InputError(
            [InputProblem(name, None, "(json)", what, "a number too long to read")]
        ) from None
    except RecursionError:
        raise InputError(
            [InputProblem(name, None, "(json)", what, "JSON nested too deeply")]
        ) from None
    if not isinstance(raw, dict):
        raise InputError([InputProblem(name, None, "(json)", "a JSON object", type(raw).__name__)])
    return raw


def write_scenario(scenario: Scenario, path: Path) -> None:
    """Write `scenario` to `path` as indented JSON that `read_scenario` reads back exactly."""
    Path(path).write_text(scenario.model_dump_json(indent=2) + "\n", encoding="utf-8")


def authority_problems(
    authority_id: str, file: str, row: int | None, field: str
) -> list[InputProblem]:
    """A problem when no policy pack has this id, else nothing."""
    try:
        load_pack(authority_id)
    except PackNotFoundError:
        known = ", ".join(pack_ids()) or "none"
        return [InputProblem(file, row, field, f"a known authority ({known})", authority_id)]
    return []


def reference_problems(
    teams: Sequence[Team],
    workers: Sequence[Worker],
    households: Sequence[Household],
    children: Sequence[Child],
    absences: Sequence[Absence],
    busy: Sequence[BusyTime],
    records: Sequence[VisitRecord],
    locate: Locate,
    extra_ids: Mapping[str, Collection[str]] | None = None,
    unreadable: Collection[str] = (),
) -> list[InputProblem]:
    """Duplicate ids and references to unknown ids, each reported on the referring row.

    Args:
        teams: The teams (and likewise the other collections).
        workers: The workers.
        households: The households.
        children: The children.
        absences: The absences.
        busy: The busy times.
        records: The visit records.
        locate: Where a (collection, index, field) is in the input.
        extra_ids: Ids per collection that exist although their rows were invalid, so that
            one bad row is not reported again by every row referring to it.
        unreadable: Collections that could not be read at all (a missing file or column):
            references to them are not checked.
    """
    extra = extra_ids or {}
    problems: list[InputProblem] = []

    def add(collection: str, index: int, field: str, expected: str, got: str) -> None:
        file, row, where = locate(collection, index, field)
        problems.append(InputProblem(file, row, where, expected, got))

    def ids(collection: str, items: Sequence[Any]) -> set[str]:
        if collection in unreadable:
            return _AnyId()
        seen: set[str] = set(extra.get(collection, ()))
        for index, item in enumerate(items):
            if item.id in seen:
                add(collection, index, "id", "a unique id", item.id)
            seen.add(item.id)
        return seen

    team_ids = ids("teams", teams)
    worker_ids = ids("workers", workers)
    home_ids = ids("households", households)
    child_ids = ids("children", children)
    ids("records", records)

    for i, team in enumerate(teams):
        for other in team.neighbours:
            if other not in team_ids:
                add("teams", i, "neighbours", "a known team id", other)
    for i, worker in enumerate(workers):
        if worker.team_id not in team_ids:
            add("workers", i, "team_id", "a known team id", worker.team_id)
    for i, household in enumerate(households):
        if household.team_id and household.team_id not in team_ids:
            add("households", i, "team_id", "a known team id", household.team_id)
    for i, child in enumerate(children):
        for home in child.household_ids:
            if home not in home_ids:
                add("children", i, "household_ids", "a known household id", home)
        if child.allocated_worker and child.allocated_worker not in worker_ids:
            add("children", i, "allocated_worker", "a known worker id", child.allocated_worker)
    worker_rows: tuple[tuple[str, Sequence[Absence | BusyTime]], ...] = (
        ("absences", absences),
        ("busy", busy),
    )
    for collection, items in worker_rows:
        for i, item in enumerate(items):
            if item.worker_id not in worker_ids:
                add(collection, i, "worker_id", "a known worker id", item.worker_id)
    for i, record in enumerate(records):
        if record.child_id not in child_ids:
            add("records", i, "child_id", "a known child id", record.child_id)
        if record.worker_id and record.worker_id not in worker_ids:
            add("records", i, "worker_id", "a known worker id", record.worker_id)
        if record.household_id and record.household_id not in home_ids:
            add("records", i, "household_id", "a known household id", record.household_id)
    return problems


class _AnyId(set[str]):
    """The ids of a collection that could not be read: any id might be among them."""

    def __contains__(self, item: object) -> bool:
        return True


_COUNT = re.compile(
    r"(?:String|List|Tuple|Set|Dictionary) should have at (most|least) (\d+) "
    r"(character|item)s?(?: after validation)?(?:, not \d+)?"
)


def describe_expected(message: str) -> str:
    """Pydantic's error message reworded to follow 'expected'."""
    for prefix in ("Input should be ", "Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            return message.removeprefix(prefix)
    if message == "Field required":
        return "a value (required)"
    if message == "Extra inputs are not permitted":
        return "no such field (check the spelling)"
    counted = _COUNT.fullmatch(message)
    if counted:
        bound, number, unit = counted.groups()
        if (bound, number, unit) == ("least", "1", "character"):
            return "a value (not empty)"
        return f"at {bound} {number} {unit}{'' if number == '1' else 's'}"
    return message


def describe_got(value: object) -> str:
    """A short rendering of the offending input: scalars only (an object or list may hold a
    child's name, so only its kind is said)."""
    if value is None:
        return "nothing"
    if isinstance(value, dict) and _is_period(value):
        return f"{value['amount']} {str(value['unit']).replace('_', ' ')}"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list | tuple):
        return f"a list of {len(value)}"
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_period(value: dict[Any, Any]) -> bool:
    """True for a period such as {"amount": 10, "unit": "days"} (never personal data)."""
    return (
        value.keys() == {"amount", "unit"}
        and isinstance(value["amount"], int)
        and isinstance(value["unit"], str)
        and len(value["unit"]) <= 20
    )


def _problem_from_error(
    file: str,
    loc: Sequence[int | str],
    message: str,
    value: object,
    collections: Collection[str] = COLLECTIONS,
) -> InputProblem:
    """One pydantic error as an InputProblem: items of `collections` become 1-based rows."""
    row: int | None = None
    parts: list[str] = []
    rest = list(loc)
    if len(rest) >= 2 and rest[0] in collections and isinstance(rest[1], int):
        row = rest[1] + 1
        parts.append(str(rest[0]))
        rest = rest[2:]
    for part in rest:
        if isinstance(part, int) and parts:
            parts[-1] += f"[{part + 1}]"
        else:
            parts.append(str(part))
    missing = message == "Field required"
    got = "nothing" if missing else describe_got(value)
    if not missing and any(str(part) in PERSONAL_FIELDS for part in loc):
        got = "a value that does not fit (not shown: personal data)"
    return InputProblem(file, row, ".".join(parts) or "(scenario)", describe_expected(message), got)


def _json_locate(file: str) -> Locate:
    def locate(collection: str, index: int, field: str) -> tuple[str, int | None, str]:
        return file, index + 1, f"{collection}.{field}"

    return locate


def _reference_problems_raw(raw: dict[str, Any], file: str) -> list[InputProblem]:
    """Reference problems of a scenario whose items are each valid on their own."""
    parsed: dict[str, tuple[Any, ...]] = {}
    for collection in COLLECTIONS:
        adapter: TypeAdapter[tuple[Any, ...]] = TypeAdapter(
            # The item type is chosen at run time, which a static type cannot name.
            tuple[_ITEM_TYPES[collection], ...]  # type: ignore[valid-type]
        )
        try:
            parsed[collection] = adapter.validate_python(raw.get(collection, ()))
        except ValidationError:
            return []
    return reference_problems(
        parsed["teams"],
        parsed["workers"],
        parsed["households"],
        parsed["children"],
        parsed["absences"],
        parsed["busy"],
        parsed["records"],
        locate=_json_locate(file),
    )


def _authority_id(raw: Mapping[str, Any]) -> str | None:
    authority = raw.get("authority")
    if isinstance(authority, Mapping) and isinstance(authority.get("id"), str):
        return str(authority["id"])
    return None
