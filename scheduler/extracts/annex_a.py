"""Reads Ofsted Annex A lists 6-9 (an Excel workbook) and a homes side file into drafts.

Rule: reads only; every problem is collected with sheet, row and column. A child in several
lists takes the highest-ranked: in care, then child protection, then child in need, then
care leaver (D2I's Annex A ranking, care leavers last). The latest visit dates become visits.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from policies import Category
from scheduler.domain import ChildEvents
from scheduler.extracts.cells import Problems, Where, code_of, parse_date, parse_flag, text
from scheduler.extracts.codes import (
    CARE_ORDER,
    EXPECTED,
    known_placement_type,
    placement_type,
    reading_of,
)
from scheduler.extracts.drafts import ChildDraft, HomeDraft, RecordDraft, TeamDraft, WorkerDraft
from scheduler.extracts.tables import read_addresses

LISTS: dict[int, Category] = {
    6: "child-in-need",
    7: "child-protection",
    8: "child-in-care",
    9: "care-leaver",
}
RANK: tuple[Category, ...] = ("child-in-care", "child-protection", "child-in-need", "care-leaver")
ID = "Child Unique ID"
COMMON = (ID, "Date of Birth", "Allocated Team", "Allocated Worker")
COLUMNS: dict[int, tuple[str, ...]] = {
    6: ("CIN Start Date", "Date Child Was Last Seen", "CIN Closure Date", "Case Status"),
    7: (
        "Child Protection Plan Start Date",
        "Date of the Last Statutory Visit",
        "Was the Child Seen Alone?",
        "Date of latest review conference",
        "Child Protection Plan End Date",
    ),
    8: (
        "Date Started to be Looked After",
        "Child's Legal Status",
        "Start date of current legal status",
        "Date of Last Social Work Visit",
        "Date Ceased to be Looked After",
        "Start Date of Most Recent Placement",
        "Placement Type",
        "Placement postcode",
    ),
    9: ("Latest Date of Contact", "Allocated Personal Advisor"),
}
LAST_VISIT = {
    6: "Date Child Was Last Seen",
    7: "Date of the Last Statutory Visit",
    8: "Date of Last Social Work Visit",
    9: "Latest Date of Contact",
}
_SHEET = re.compile(r"\s*list\s*(\d+)\b", re.IGNORECASE)


def _key(header: object) -> str:
    return re.sub(r"[^a-z0-9]", "", text(header).lower())


@dataclass
class _Entry:
    """One open row of one list."""

    list_no: int
    where: Where
    cells: dict[str, Any]


def read_annex_a(
    workbook: Path, as_of: date, homes: Path | None, problems: Problems
) -> tuple[list[ChildDraft], list[RecordDraft]]:
    """The open children of lists 6-9 on `as_of`, and their latest visits (problems aside)."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(workbook, read_only=True, data_only=True)
    except FileNotFoundError:
        problems.add(Where(workbook.name, None), "(file)", "an Excel workbook", "no such file")
        return [], []
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        problems.add(
            Where(workbook.name, None), "(file)", "an Excel .xlsx workbook", type(exc).__name__
        )
        return [], []
    entries: dict[str, list[_Entry]] = {}
    seen_lists: set[int] = set()
    for sheet in book.worksheets:
        match = _SHEET.match(sheet.title)
        if match is None or int(match[1]) not in LISTS:
            continue
        list_no = int(match[1])
        seen_lists.add(list_no)
        for entry in _entries(workbook.name, sheet, list_no, as_of, problems):
            entries.setdefault(text(entry.cells[ID]), []).append(entry)
    book.close()
    for list_no in sorted(set(LISTS) - seen_lists):
        problems.add(
            Where(workbook.name, None), f"List {list_no}", "a sheet named 'List N'", "no such sheet"
        )
    addresses = read_addresses(homes, as_of, problems) if homes else {}
    drafts = [
        _draft(child, found, addresses or {}, problems) for child, found in sorted(entries.items())
    ]
    for person, (row, _) in sorted((addresses or {}).items()):
        if person not in entries:
            problems.orphan(
                row.where, "addr_person_id", "a child open in lists 6-9", "a child not in them"
            )
    return [d for d in drafts if d is not None], _records(entries, problems)


def _entries(
    book_name: str, sheet: Any, list_no: int, as_of: date, problems: Problems
) -> Iterator[_Entry]:
    """The list's rows that are open on `as_of`."""
    file = f"{book_name} [{sheet.title.strip()}]"
    rows = sheet.iter_rows(values_only=True)
    header_row, header = 0, None
    for number, cells in enumerate(rows, start=1):
        if any(_key(c) == _key(ID) for c in cells):
            header_row, header = number, [_key(c) for c in cells]
            break
        if number >= 10:
            break
    if header is None:
        problems.add(Where(file, None), ID, f"a header row with {ID!r}", "no such row")
        return
    wanted = COMMON + COLUMNS[list_no]
    missing = [c for c in wanted if _key(c) not in header and c != "Allocated Personal Advisor"]
    for column in missing:
        problems.add(Where(file, header_row), column, "a column of that name", "no such column")
    if missing:
        return
    for number, cells in enumerate(rows, start=header_row + 1):
        values = dict(zip(header, cells, strict=False))
        if not any(text(v) for v in values.values()):
            continue
        where = Where(file, number)
        row = {c: values.get(_key(c)) for c in wanted}
        if not text(row[ID]):
            problems.add(where, ID, "a child id", "nothing")
            continue
        if _is_open(list_no, where, row, as_of, problems):
            yield _Entry(list_no, where, row)


def _is_open(
    list_no: int, where: Where, row: dict[str, Any], as_of: date, problems: Problems
) -> bool:
    """Whether the row's episode is open on `as_of` (bad dates are problems and close it)."""
    start, end = {
        6: ("CIN Start Date", "CIN Closure Date"),
        7: ("Child Protection Plan Start Date", "Child Protection Plan End Date"),
        8: ("Date Started to be Looked After", "Date Ceased to be Looked After"),
        9: ("", ""),
    }[list_no]
    dates = {}
    for column in (start, end, LAST_VISIT[list_no]):
        if column:
            dates[column] = problems.read(where, column, parse_date, row[column])
            if dates[column] is None and text(row[column]):
                return False
    if list_no == 6 and "closed" in text(row["Case Status"]).lower():
        return False
    first, last = dates.get(start), dates.get(end)
    is_open = (first is None or first <= as_of) and (last is None or last > as_of)
    if is_open:
        problems.read(where, "Date of Birth", parse_date, row["Date of Birth"], sensitive=True)
    return is_open


def _draft(
    child: str,
    entries: list[_Entry],
    addresses: dict[str, tuple[Any, HomeDraft]],
    problems: Problems,
) -> ChildDraft | None:
    """The child under their highest-ranked list."""
    entry = min(entries, key=lambda e: RANK.index(LISTS[e.list_no]))
    row, where = entry.cells, entry.where
    draft = ChildDraft(
        id=child,
        where=where,
        category=LISTS[entry.list_no],
        birth_date=_date(row["Date of Birth"]),
    )
    team = text(row["Allocated Team"])
    worker = text(row["Allocated Worker"]) or text(row.get("Allocated Personal Advisor"))
    draft.team = TeamDraft("t-" + _slug(team), team) if team else None
    draft.worker = WorkerDraft("w-" + _slug(worker), worker) if worker else None
    if entry.list_no == 8:
        legal = code_of(row["Child's Legal Status"])
        code = code_of(row["Placement Type"])
        found = placement_type(code, legal)
        kind = known_placement_type(found)
        if kind is None:
            problems.unknown_code(where, "Placement Type", EXPECTED, found, child)
            return None
        if (reading := reading_of(code)) is not None:
            problems.readings[reading] += 1
        draft.placement_type = kind
        placement = _date(row["Start Date of Most Recent Placement"])
        order = _date(row["Start date of current legal status"]) if legal == CARE_ORDER else None
        draft.events = ChildEvents(placement_start=placement, care_order=order)
        draft.homes = [
            HomeDraft(where, "Placement postcode", postcode=text(row["Placement postcode"]))
        ]
        return draft
    if entry.list_no == 6:
        start = _date(row["CIN Start Date"])
        draft.events = ChildEvents(referral=start, plan_start=start)
    elif entry.list_no == 7:
        start = _date(row["Child Protection Plan Start Date"])
        review = _date(row["Date of latest review conference"])
        draft.events = ChildEvents(plan_start=start, conference=review or start)
    home = addresses.get(child)
    if home is None:
        problems.add(where, ID, "a home postcode for this child in the --homes file", "none")
        return None
    draft.homes = [home[1]]
    return draft


def _records(entries: dict[str, list[_Entry]], problems: Problems) -> list[RecordDraft]:
    """One visit per child and date from the lists' latest-visit columns."""
    out: dict[tuple[str, date], RecordDraft] = {}
    for child, found in sorted(entries.items()):
        for entry in found:
            day = _date(entry.cells[LAST_VISIT[entry.list_no]])
            if day is None:
                continue
            alone = False
            if entry.list_no == 7:
                alone = bool(
                    problems.read(entry.where, "Was the Child Seen Alone?", parse_flag,
                                  entry.cells["Was the Child Seen Alone?"])
                )  # fmt: skip
            key = (child, day)
            before = out.get(key)
            out[key] = RecordDraft(
                id=f"annex-a-{child}-{day:%Y%m%d}",
                child_id=child,
                on=day,
                seen=True,
                seen_alone=alone or (before.seen_alone if before else False),
            )
    return list(out.values())


def _date(value: object) -> date | None:
    """A date already checked by `_is_open` (None when blank or bad)."""
    try:
        return parse_date(value)
    except ValueError:
        return None


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "unnamed"
