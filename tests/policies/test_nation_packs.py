"""The Welsh and Scottish base packs: an edge pair for every rule (`NATION_EDGES`, judged
by the edge tests of test_pack_rules.py with every other pack's), bank holidays of the
nation, and the loader's nation check for authority packs that extend them.

Expected dates are reasoned from the rule text and the nation's calendar, not copied from
the engine. Wales has England's bank holidays: 25 and 28 Dec 2026 (Boxing Day substitute),
1 Jan 2027, Good Friday 26 Mar and Easter Monday 29 Mar 2027. Scotland: St Andrew's Day
Mon 30 Nov 2026, 25 and 28 Dec 2026, 1 Jan 2027 and 4 Jan 2027 (2 Jan substitute), Good
Friday 26 Mar 2027 and no Easter Monday. Rule: no network, no clock.
"""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pytest

from policies import ChildFacts, PackInvalidError, load_pack, school_start
from policies.loader import PACK_DIR, read_raw_pack, resolve
from tests.policies.builders import Edge, child, due_of, seen

D = date


def _cic(placement: str, start: date, **fields: object) -> ChildFacts:
    return child(
        "child-in-care", placement_type=placement, events={"placement-start": start}, **fields
    )


def _plan(category: str, rule_id: str, **fields: object) -> ChildFacts:
    """A child whose plan sets 10 working days (recorded, as the scheduler does, against the
    first plan-frequency rule id or the pack's own)."""
    every = {"amount": 10, "unit": "working_days"}
    return child(category, overrides=({"rule_id": rule_id, "every": every},), **fields)


WLS_CP = child("child-protection", events={"plan-start": D(2026, 12, 1)})

NATION_EDGES: tuple[Edge, ...] = (
    # --- wales: Welsh Government CP guidance (10 working days) -----------------------------
    Edge(
        "wales",
        "wls_cp_every_10_working_days",
        WLS_CP,
        (seen(D(2026, 12, 14)),),
        D(2026, 12, 30),
        "Mon 14 Dec 2026 + 10 working days, skipping 25 and 28 Dec",
    ),
    Edge(
        "wales",
        "wls_cp_every_10_working_days",
        WLS_CP,
        (seen(D(2026, 12, 18)),),
        D(2027, 1, 6),
        "Fri 18 Dec 2026 + 10 working days, skipping 25, 28 Dec and 1 Jan",
    ),
    Edge(
        "wales",
        "wls_cp_every_10_working_days",
        WLS_CP,
        (seen(D(2027, 3, 18)),),
        D(2027, 4, 5),
        "Thu 18 Mar 2027 + 10 working days, skipping Good Friday and Easter Monday",
    ),
    # --- wales: reg 31 of SI 2015/1818 ------------------------------------------------------
    Edge(
        "wales",
        "wls_cic_first_visit_1_week",
        _cic("foster", D(2026, 12, 18)),
        (),
        D(2026, 12, 25),
        "7 calendar days from the placement, Christmas Day included",
    ),
    Edge(
        "wales",
        "wls_cic_every_6_weeks_first_year",
        _cic("foster", D(2026, 6, 1)),
        (seen(D(2026, 12, 14)),),
        D(2027, 1, 25),
        "42 calendar days from the last visit, in the placement's first year",
    ),
    Edge(
        "wales",
        "wls_cic_long_term_every_3_months_thereafter",
        _cic("long-term-foster", D(2025, 1, 1)),
        (seen(D(2026, 12, 14)),),
        D(2027, 3, 14),
        "3 months from the last visit, after the first year of a placement until 18",
    ),
    Edge(
        "wales",
        "wls_cic_every_6_weeks_thereafter",
        _cic("foster", D(2025, 1, 1)),
        (seen(D(2026, 12, 14)),),
        D(2027, 1, 25),
        "42 calendar days from the last visit, after the first year",
    ),
    Edge(
        "wales",
        "wls_cic_ico_at_home_weekly_until_first_review",
        _cic("placement-with-parents-ico", D(2026, 12, 14)),
        (seen(D(2026, 12, 14)),),
        D(2026, 12, 21),
        "weekly in the first 4 weeks of an interim care order at home (practice)",
    ),
    Edge(
        "wales",
        "wls_plan_frequency",
        _plan("child-in-need", "eng_plan_frequency", events={"plan-start": D(2026, 12, 1)}),
        (seen(D(2027, 3, 18)),),
        D(2027, 4, 5),
        "the plan's 10 working days (recorded as the scheduler does) over Easter in Wales",
    ),
    Edge(
        "wales",
        "wls_both_homes",
        child("child-protection", homes=("a", "b"), events={"plan-start": D(2026, 12, 1)}),
        (seen(D(2026, 12, 14), home_id="a"), seen(D(2026, 12, 21), home_id="b")),
        D(2027, 1, 14),
        "each home every 2 x 10 working days: Mon 14 Dec + 20 working days in Wales",
        lambda day: seen(day, home_id="a"),
        "a",
    ),
    # --- scotland: reg 46 and 49 of SSI 2009/210, reg 25 of SSI 2009/154 -------------------
    Edge(
        "scotland",
        "sct_lac_first_visit_1_week",
        _cic("foster", D(2026, 11, 23)),
        (),
        D(2026, 11, 30),
        "7 calendar days from Mon 23 Nov 2026: St Andrew's Day counts (calendar days)",
    ),
    Edge(
        "scotland",
        "sct_lac_every_3_months",
        _cic("residential", D(2026, 6, 1)),
        (seen(D(2026, 10, 2)),),
        D(2027, 1, 2),
        "3 months from the previous visit: Sat 2 Jan 2027, the day itself, not moved",
    ),
    Edge(
        "scotland",
        "sct_fostering_service_first_visit_28_days",
        _cic("foster", D(2026, 11, 2), flags=("placed-by-fostering-service",)),
        (),
        D(2026, 11, 30),
        "28 calendar days from Mon 2 Nov 2026",
    ),
    Edge(
        "scotland",
        "sct_adoption_first_visit_1_week",
        _cic("adoption", D(2026, 12, 24)),
        (),
        D(2026, 12, 31),
        "7 calendar days from the adoption placement",
    ),
    Edge(
        "scotland",
        "sct_plan_frequency",
        _plan("child-protection", "sct_plan_frequency", events={"plan-start": D(2026, 11, 2)}),
        (seen(D(2026, 11, 23)),),
        D(2026, 12, 8),
        "Mon 23 Nov 2026 + 10 working days, skipping St Andrew's Day Mon 30 Nov",
    ),
    Edge(
        "scotland",
        "sct_plan_frequency",
        _plan("child-in-need", "eng_plan_frequency", events={"plan-start": D(2026, 11, 2)}),
        (seen(D(2026, 12, 21)),),
        D(2027, 1, 8),
        "Mon 21 Dec 2026 + 10 working days, skipping 25, 28 Dec, 1 and 4 Jan (2 Jan)",
    ),
    Edge(
        "scotland",
        "sct_both_homes",
        child(
            "child-in-care",
            placement_type="foster",
            homes=("a", "b"),
            events={"placement-start": D(2026, 6, 1)},
        ),
        (seen(D(2026, 10, 2), home_id="a"), seen(D(2026, 11, 2), home_id="b")),
        D(2027, 4, 2),
        "each home every 2 x 3 months: 6 months from Fri 2 Oct 2026",
        lambda day: seen(day, home_id="a"),
        "a",
    ),
)


def test_every_welsh_and_scottish_rule_has_an_edge_pair() -> None:
    """Each rule of the two bases has an edge pair here, or (school hours) its own test."""
    covered = {e.rule for e in NATION_EDGES} | {"wls_school_hours", "sct_school_hours"}
    for pack_id in ("wales", "scotland"):
        assert {r.id for r in load_pack(pack_id).rules} <= covered


@pytest.mark.parametrize(
    ("pack_id", "nation_cp_due"),
    [
        pytest.param("wales", D(2026, 12, 30), id="wales-cp-10-working-days"),
        pytest.param("scotland", None, id="scotland-no-cp-interval"),
    ],
)
def test_cp_interval_is_the_nations(pack_id: str, nation_cp_due: date | None) -> None:
    """Wales has a CP interval (guidance); Scotland none found, so its base sets none."""
    dues = [
        due_of(pack_id, r.id, WLS_CP, [seen(D(2026, 12, 14))], D(2026, 12, 14))
        for r in load_pack(pack_id).rules
    ]
    assert [d for d in dues if d is not None] == ([nation_cp_due] if nation_cp_due else [])


@pytest.mark.parametrize("pack_id", ["wales", "scotland"])
def test_no_english_practice_rules(pack_id: str) -> None:
    """The English authorities' practice rules (004: who visits, retry at another time) are
    not the Welsh or Scottish bases'."""
    pack = load_pack(pack_id)
    assert not [r.id for r in pack.rules if r.id.startswith("eng_")]
    assert {r.kind for r in pack.rules} & {"who", "retry"} == set()


@pytest.mark.parametrize(
    ("pack_id", "school_day", "expected"),
    [
        pytest.param("wales", True, time(15, 30), id="wales-inside-school-day"),
        pytest.param("wales", False, None, id="wales-outside-holiday"),
        pytest.param("scotland", True, time(15, 30), id="scotland-inside-school-day"),
        pytest.param("scotland", False, None, id="scotland-outside-holiday"),
    ],
)
def test_school_hours(pack_id: str, school_day: bool, expected: time | None) -> None:
    """wls_school_hours, sct_school_hours: a child aged 9 is at school on a school day."""
    facts = child("child-in-need", birth_date=D(2017, 5, 1))
    pack = load_pack(pack_id)
    assert school_start(pack, facts, D(2026, 12, 14), school_day=school_day) == expected


# --- The loader: authority packs extend their nation's base --------------------------------


def _write(directory: Path, pack_id: str, nation: str, extends: str) -> None:
    (directory / f"{pack_id}.toml").write_text(
        f'id = "{pack_id}"\nname = "An authority"\nnation = "{nation}"\nextends = "{extends}"\n',
        encoding="utf-8",
    )


@pytest.fixture
def pack_dir(tmp_path: Path) -> Path:
    """A pack directory holding the shipped bases."""
    for base in ("england", "wales", "scotland"):
        (tmp_path / f"{base}.toml").write_text(
            (PACK_DIR / f"{base}.toml").read_text(encoding="utf-8"), encoding="utf-8"
        )
    return tmp_path


@pytest.mark.parametrize(("nation", "base"), [("WLS", "wales"), ("SCT", "scotland")])
def test_authority_pack_extends_its_nations_base(pack_dir: Path, nation: str, base: str) -> None:
    """Inside: a Welsh (Scottish) authority extending wales (scotland) gets its rules."""
    _write(pack_dir, "an-authority", nation, base)
    pack = resolve(read_raw_pack("an-authority", pack_dir), pack_dir)
    assert {r.id for r in pack.rules} == {r.id for r in read_raw_pack(base, pack_dir).rules}


@pytest.mark.parametrize(
    ("nation", "base"),
    [("ENG", "wales"), ("ENG", "scotland"), ("WLS", "england"), ("SCT", "wales")],
)
def test_authority_pack_of_another_nation_refused(pack_dir: Path, nation: str, base: str) -> None:
    """Outside: an English pack may not extend wales, nor a Welsh one england, and so on."""
    _write(pack_dir, "an-authority", nation, base)
    with pytest.raises(PackInvalidError, match="extends"):
        resolve(read_raw_pack("an-authority", pack_dir), pack_dir)
