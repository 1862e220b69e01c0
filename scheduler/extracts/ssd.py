"""Reads a Standard Safeguarding Dataset extract (one CSV per `ssd_*` table) into drafts.

Rule: reads only; every problem is collected with file, row and column. Orphan rows (a
reference the extract does not hold) are problems unless skipped. The category ranks care,
then a child protection plan, then a child in need plan, then an open referral, then care
leaver. Visits appearing in two tables (Liquid Logic) are kept once per person, date and id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from policies import Category, Role
from scheduler.domain import ChildEvents
from scheduler.extracts.cells import (
    CellError,
    Problems,
    Where,
    parse_date,
    parse_flag,
    shown_id,
)
from scheduler.extracts.codes import (
    CARE_ORDER,
    EXPECTED,
    TEMPORARY,
    known_placement_type,
    placement_type,
    reading_of,
)
from scheduler.extracts.drafts import ChildDraft, HomeDraft, RecordDraft, TeamDraft, WorkerDraft
from scheduler.extracts.tables import Row, read_addresses, read_table, rows_open_on, stream_table

TABLES = (
    "ssd_person", "ssd_address", "ssd_family", "ssd_involvements", "ssd_professionals",
    "ssd_department", "ssd_cin_episodes", "ssd_cin_plans", "ssd_cp_plans", "ssd_cla_episodes",
    "ssd_cla_placement", "ssd_legal_status", "ssd_care_leavers", "ssd_cin_visits",
    "ssd_cp_visits", "ssd_cla_visits",
)  # fmt: skip
VISIT_TABLES = {
    "ssd_cin_visits": ("cinv", "cinv_cin_visit_id", "cinv_cin_visit_date", "cinv_cin_visit"),
    "ssd_cp_visits": ("cppv", "cppv_cp_visit_id", "cppv_cp_visit_date", "cppv_cp_visit"),
    "ssd_cla_visits": ("clav", "clav_cla_visit_id", "clav_cla_visit_date", "clav_cla_visit"),
}


@dataclass
class _Extract:
    """The tables, read."""

    folder: Path
    as_of: date
    problems: Problems
    allocated_roles: frozenset[str]
    people: dict[str, Row] = field(default_factory=dict)
    dob: dict[str, date | None] = field(default_factory=dict)
    teams: dict[str, str] = field(default_factory=dict)
    staff: dict[str, Row] = field(default_factory=dict)
    referrals: dict[str, Row] = field(default_factory=dict)

    def table(self, name: str, *required: str) -> list[Row]:
        rows = read_table(
            self.folder / f"{name}.csv", required, self.problems, optional=name != "ssd_person"
        )
        return rows or []

    def person(self, row: Row, column: str) -> str | None:
        """The row's person id, or None with an orphan problem when unknown."""
        person = row.get(column)
        if person in self.people:
            return person
        self.problems.orphan(row.where, column, "a person in ssd_person.csv", shown_id(person))
        return None


def read_ssd(
    folder: Path, as_of: date, problems: Problems, allocated_roles: frozenset[str] = frozenset()
) -> tuple[list[ChildDraft], list[RecordDraft]]:
    """The children open on `as_of`, with their whole visit history (problems aside)."""
    ex = _Extract(folder, as_of, problems, allocated_roles)
    if not folder.is_dir():
        problems.add(
            Where(folder.name, None), "(folder)", "a folder of ssd_*.csv files", "no such folder"
        )
        return [], []
    people = read_table(folder / "ssd_person.csv", ("pers_person_id", "pers_dob"), problems)
    if people is None:
        return [], []
    for row in people:
        person = row.get("pers_person_id")
        if person in ex.people:
            problems.add(row.where, "pers_person_id", "each person once", shown_id(person))
            continue
        ex.people[person] = row
        ex.dob[person] = problems.read(
            row.where, "pers_dob", parse_date, row.get("pers_dob"), sensitive=True
        )
    ex.teams = {
        r.get("dept_team_id"): r.get("dept_team_name")
        for r in ex.table("ssd_department", "dept_team_id", "dept_team_name")
    }
    ex.staff = {
        r.get("prof_professional_id"): r
        for r in ex.table("ssd_professionals", "prof_professional_id", "prof_professional_name")
    }
    ex.referrals = {
        r.get("cine_referral_id"): r
        for r in ex.table(
            "ssd_cin_episodes", "cine_referral_id", "cine_person_id", "cine_referral_date"
        )
    }
    families = {
        r.get("fami_person_id"): r.get("fami_family_id")
        for r in ex.table("ssd_family", "fami_family_id", "fami_person_id")
    }
    drafts = _categories(ex)
    _allocate(ex, drafts)
    _homes(ex, drafts, families)
    records = _visits(ex)
    return sorted(drafts.values(), key=lambda d: d.id), records


def _draft(ex: _Extract, row: Row, person: str, category: Category) -> ChildDraft:
    forename, surname = row.get("pers_forename"), row.get("pers_surname")
    return ChildDraft(
        id=person,
        where=ex.people[person].where,
        category=category,
        birth_date=ex.dob.get(person),
        name=" ".join(p for p in (forename, surname) if p) or None,
    )


def _categories(ex: _Extract) -> dict[str, ChildDraft]:
    """Each open child under their highest-ranked open episode."""
    drafts: dict[str, ChildDraft] = {}
    care_leavers = ex.table("ssd_care_leavers", "clea_person_id")
    for row in care_leavers:
        if (person := ex.person(row, "clea_person_id")) is not None:
            drafts[person] = _draft(ex, ex.people[person], person, "care-leaver")
            drafts[person].team = _team(ex, row.get("clea_care_leaver_allocated_team"))
            drafts[person].worker = _worker(ex, row, "clea_care_leaver_worker_id")
    for ref_row, start, _ in rows_open_on(
        list(ex.referrals.values()), "cine_referral_date", "cine_close_date", ex.as_of, ex.problems
    ):
        if (person := ex.person(ref_row, "cine_person_id")) is not None:
            draft = _draft(ex, ex.people[person], person, "child-in-need")
            draft.events = ChildEvents(referral=start)
            draft.team = _team(ex, ref_row.get("cine_referral_team"))
            draft.worker = _worker(ex, ref_row, "cine_referral_worker_id")
            drafts[person] = draft
    plans = ex.table("ssd_cin_plans", "cinp_person_id", "cinp_cin_plan_start_date")
    for row, start, _ in rows_open_on(
        plans, "cinp_cin_plan_start_date", "cinp_cin_plan_end_date", ex.as_of, ex.problems
    ):
        if (person := ex.person(row, "cinp_person_id")) is not None:
            draft = _draft(ex, ex.people[person], person, "child-in-need")
            draft.events = ChildEvents(
                referral=_referral_date(ex, row, "cinp_referral_id"), plan_start=start
            )
            draft.team = _team(ex, row.get("cinp_cin_plan_team"))
            draft.worker = _worker(ex, row, "cinp_cin_plan_worker_id")
            drafts[person] = draft
    cp = ex.table("ssd_cp_plans", "cppl_person_id", "cppl_cp_plan_start_date")
    for row, start, _ in rows_open_on(
        cp, "cppl_cp_plan_start_date", "cppl_cp_plan_end_date", ex.as_of, ex.problems
    ):
        other_authority = ex.problems.read(
            row.where, "cppl_cp_plan_ola", parse_flag, row.get("cppl_cp_plan_ola")
        )
        if other_authority or (person := ex.person(row, "cppl_person_id")) is None:
            continue
        earlier = drafts.get(person)
        draft = _draft(ex, ex.people[person], person, "child-protection")
        draft.events = ChildEvents(
            referral=_referral_date(ex, row, "cppl_referral_id"), plan_start=start, conference=start
        )
        if earlier is not None:
            draft.team, draft.worker = earlier.team, earlier.worker
        drafts[person] = draft
    _in_care(ex, drafts)
    return drafts


def _in_care(ex: _Extract, drafts: dict[str, ChildDraft]) -> None:
    """Children with an open care episode, with their current placement and legal status."""
    episodes = ex.table(
        "ssd_cla_episodes", "clae_person_id", "clae_cla_id", "clae_cla_episode_start_date"
    )
    placements = ex.table(
        "ssd_cla_placement",
        "clap_person_id",
        "clap_cla_placement_start_date",
        "clap_cla_placement_type",
    )
    legal_rows = ex.table("ssd_legal_status", "lega_person_id", "lega_legal_status")
    current: dict[str, tuple[date, Row]] = {}
    spells = _placements_by_person(placements)
    for row, start, _ in rows_open_on(
        placements,
        "clap_cla_placement_start_date",
        "clap_cla_placement_end_date",
        ex.as_of,
        ex.problems,
    ):
        person = ex.person(row, "clap_person_id")
        if person is not None and (
            person not in current or (start or date.min) > current[person][0]
        ):
            current[person] = (start or date.min, row)
    legal: dict[str, tuple[date, str]] = {}
    for row, start, _ in rows_open_on(
        legal_rows,
        "lega_legal_status_start_date",
        "lega_legal_status_end_date",
        ex.as_of,
        ex.problems,
    ):
        person = ex.person(row, "lega_person_id")
        if person is not None and (person not in legal or (start or date.min) > legal[person][0]):
            legal[person] = (start or date.min, row.get("lega_legal_status").upper())
    for row, _, _ in rows_open_on(
        episodes,
        "clae_cla_episode_start_date",
        "clae_cla_episode_ceased_date",
        ex.as_of,
        ex.problems,
    ):
        person = ex.person(row, "clae_person_id")
        if person is None:
            continue
        if person not in current:
            ex.problems.orphan(
                row.where,
                "clae_person_id",
                "a current placement in ssd_cla_placement.csv for this open episode",
                "none",
            )
            drafts.pop(person, None)
            continue
        started, placement = current[person]
        code = placement.get("clap_cla_placement_type").upper()
        if code in TEMPORARY and (came_from := _came_from(spells.get(person, []), started)):
            ex.problems.readings[reading_of(code) or code] += 1
            started, placement = came_from
            code = placement.get("clap_cla_placement_type").upper()
        order_day, status = legal.get(person, (date.min, ""))
        found = placement_type(code, status)
        kind = known_placement_type(found)
        if kind is None:
            ex.problems.unknown_code(
                placement.where, "clap_cla_placement_type", EXPECTED, found, person
            )
            drafts.pop(person, None)
            continue
        if (reading := reading_of(code)) is not None:
            ex.problems.readings[reading] += 1
        earlier = drafts.get(person)
        draft = _draft(ex, ex.people[person], person, "child-in-care")
        draft.placement_type = kind
        draft.events = ChildEvents(
            placement_start=started if started != date.min else None,
            care_order=order_day if status == CARE_ORDER and order_day != date.min else None,
        )
        if earlier is not None:
            draft.team, draft.worker = earlier.team, earlier.worker
        draft.homes = [
            HomeDraft(
                placement.where,
                "clap_cla_placement_postcode",
                postcode=placement.get("clap_cla_placement_postcode"),
            )
        ]
        drafts[person] = draft


_Spell = tuple[date, date | None, Row]


def _placements_by_person(rows: list[Row]) -> dict[str, list[_Spell]]:
    """Every placement row with a readable start, by person (bad dates are reported elsewhere)."""
    out: dict[str, list[_Spell]] = {}
    for row in rows:
        try:
            start = parse_date(row.get("clap_cla_placement_start_date"))
            end = parse_date(row.get("clap_cla_placement_end_date"))
        except CellError:
            continue
        if start is not None:
            out.setdefault(row.get("clap_person_id"), []).append((start, end, row))
    return out


def _came_from(spells: list[_Spell], moved: date) -> tuple[date, Row] | None:
    """The placement a temporary move left: the latest earlier one, not itself temporary,
    that ran up to the move (ended no more than a day before it, or not ended)."""
    before = [
        (start, row)
        for start, end, row in spells
        if start < moved
        and row.get("clap_cla_placement_type").upper() not in TEMPORARY
        and (end is None or end >= moved - timedelta(days=1))
    ]
    return max(before, key=lambda s: (s[0], s[1].where.row or 0), default=None)


def _referral_date(ex: _Extract, row: Row, column: str) -> date | None:
    referral = row.get(column)
    if not referral:
        return None
    if referral not in ex.referrals:
        expected = "a referral in ssd_cin_episodes.csv"
        ex.problems.orphan(row.where, column, expected, shown_id(referral))
        return None
    try:
        return parse_date(ex.referrals[referral].get("cine_referral_date"))
    except ValueError:
        return None


def _team(ex: _Extract, value: str) -> TeamDraft | None:
    """A team by department id (named from ssd_department), or by the name given."""
    if not value:
        return None
    return TeamDraft(value, ex.teams.get(value) or value)


def _worker(ex: _Extract, row: Row, column: str) -> WorkerDraft | None:
    """The professional a row names, registered when they have a Social Work England number."""
    key = row.get(column)
    if not key:
        return None
    staff = ex.staff.get(key)
    if staff is None:
        ex.problems.orphan(
            row.where, column, "a professional in ssd_professionals.csv", shown_id(key)
        )
        return None
    title = staff.get("prof_professional_job_title").lower()
    registered = bool(staff.get("prof_social_worker_registration_no"))
    role: Role = "family-support-worker"
    if "student" in title:
        role = "student"
    elif registered:
        role = "manager" if "manager" in title else "social-worker"
    return WorkerDraft(key, staff.get("prof_professional_name") or key, role)


def _allocate(ex: _Extract, drafts: dict[str, ChildDraft]) -> None:
    """Team and allocated worker from each child's latest open involvement, where there is one."""
    rows = ex.table(
        "ssd_involvements", "invo_person_id", "invo_professional_id", "invo_involvement_start_date"
    )
    latest: dict[str, tuple[date, Row]] = {}
    for row, start, _ in rows_open_on(
        rows, "invo_involvement_start_date", "invo_involvement_end_date", ex.as_of, ex.problems
    ):
        person = ex.person(row, "invo_person_id")
        if person is None:
            continue
        role = row.get("invo_professional_role_id")
        if ex.allocated_roles and role not in ex.allocated_roles:
            continue
        if person not in latest or (start or date.min) > latest[person][0]:
            latest[person] = (start or date.min, row)
    for person, (_, row) in latest.items():
        worker = _worker(ex, row, "invo_professional_id")
        if person in drafts and worker is not None:
            drafts[person].worker = worker
            drafts[person].team = (
                _team(ex, row.get("invo_professional_team")) or drafts[person].team
            )


def _homes(ex: _Extract, drafts: dict[str, ChildDraft], families: dict[str, str]) -> None:
    """Current home addresses of children not in care; grouped by family when no UPRN or house."""
    addresses = (
        read_addresses(ex.folder / "ssd_address.csv", ex.as_of, ex.problems, optional=True) or {}
    )
    for person, (row, _) in addresses.items():
        if person not in ex.people:
            ex.problems.orphan(
                row.where, "addr_person_id", "a person in ssd_person.csv", shown_id(person)
            )
    for person, draft in drafts.items():
        if draft.homes:
            continue
        found = addresses.get(person)
        if found is None:
            ex.problems.add(
                draft.where, "pers_person_id", "a current address in ssd_address.csv", "none"
            )
            continue
        group = families.get(person) or f"child:{person}"
        home = found[1]
        draft.homes = [
            HomeDraft(
                home.where,
                home.field,
                home.postcode,
                home.uprn,
                home.easting,
                home.northing,
                home.house,
                home.street,
                group,
            )
        ]


def _visits(ex: _Extract) -> list[RecordDraft]:
    """Every visit in the three visit tables, once per person, date and id.

    The tables are read row by row (six years of visits for a large authority are ~400,000
    rows), with each column name worked out once per table.
    """
    out: dict[tuple[str, date, str], RecordDraft] = {}
    read = ex.problems.read
    for name, (prefix, id_col, date_col, flag) in VISIT_TABLES.items():
        person_col = f"{prefix}_person_id"
        flag_cols = tuple(f"{flag}_{suffix}" for suffix in ("seen", "seen_alone", "bedroom"))
        rows = stream_table(
            ex.folder / f"{name}.csv", (id_col, person_col, date_col), ex.problems, optional=True
        )
        for row in rows or ():
            cells = row.cells
            person = ex.person(row, person_col)
            day = read(row.where, date_col, parse_date, cells.get(date_col, ""))
            if person is None or day is None:
                if person is not None and not cells.get(date_col):
                    ex.problems.add(row.where, date_col, "a date", "nothing")
                continue
            seen, alone, bedroom = (
                bool(read(row.where, column, parse_flag, cells.get(column, "")))
                for column in flag_cols
            )
            visit_id = cells.get(id_col, "")
            key = (person, day, visit_id)
            if key in out:
                continue
            iso = day.isoformat()
            out[key] = RecordDraft(
                id=f"ssd-{person}-{iso[:4]}{iso[5:7]}{iso[8:]}-{visit_id}",
                child_id=person,
                on=day,
                seen=seen,
                seen_alone=alone,
                bedroom_seen=bedroom,
            )
    return sorted(out.values(), key=lambda r: (r.child_id, r.on, r.id))
