"""The rule engine's counting conventions (DESIGN.md section 3) with a real calendar.

Rule: no network, no clock.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import get_args

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from policies import (
    ChildFacts,
    Contact,
    OverrideError,
    Period,
    RuleOverride,
    add_period,
    due_dates,
    load_pack,
    pack_ids,
)
from policies.engine import (
    _birthday,
    add_months,
    age_years,
    applicable_rules,
    rules_in_scope,
    scope_changes,
)
from policies.models import CATEGORIES, EVENTS, FLAGS, PlacementType
from scheduler.calendar import WorkingCalendar
from tests.policies.builders import child, due_of, seen

ENG = WorkingCalendar("ENG")


@pytest.mark.parametrize(
    ("period", "counting", "expected"),
    [
        pytest.param(
            Period(amount=10, unit="working_days"),
            "day0",
            date(2026, 12, 30),
            id="working-days-day0",
        ),
        pytest.param(
            Period(amount=20, unit="working_days"),
            "inclusive",
            date(2027, 1, 13),
            id="working-days-inclusive",
        ),
        pytest.param(Period(amount=28, unit="days"), "day0", date(2027, 1, 11), id="days"),
        pytest.param(Period(amount=6, unit="weeks"), "day0", date(2027, 1, 25), id="weeks"),
        pytest.param(Period(amount=48, unit="hours"), "day0", date(2026, 12, 16), id="hours"),
        pytest.param(Period(amount=3, unit="months"), "day0", date(2027, 3, 14), id="months"),
    ],
)
def test_add_period_counting(period: Period, counting: str, expected: date) -> None:
    """From Mon 14 Dec 2026: N working days (day 0 or inclusive), days, weeks, hours, months."""
    assert add_period(date(2026, 12, 14), period, ENG, counting) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "period",
    [
        pytest.param(Period(amount=100_000, unit="months"), id="months"),
        pytest.param(Period(amount=10_000_000, unit="days"), id="days"),
        pytest.param(Period(amount=3_000_000, unit="working_days"), id="working-days"),
        pytest.param(Period(amount=10**12, unit="weeks"), id="weeks"),
    ],
)
def test_add_period_past_the_last_date_is_no_deadline(period: Period) -> None:
    """A period no calendar holds gives the last date Python holds, never an error."""
    assert add_period(date(2026, 12, 14), period, ENG) == date.max


@pytest.mark.parametrize(
    ("every", "allowed"),
    [
        pytest.param(Period(amount=12, unit="months"), True, id="12-months"),
        pytest.param(Period(amount=13, unit="months"), False, id="13-months"),
        pytest.param(Period(amount=52, unit="weeks"), True, id="52-weeks"),
        pytest.param(Period(amount=53, unit="weeks"), False, id="53-weeks"),
        pytest.param(Period(amount=365, unit="days"), True, id="365-days"),
        pytest.param(Period(amount=366, unit="days"), False, id="366-days"),
        pytest.param(Period(amount=260, unit="working_days"), True, id="260-working-days"),
        pytest.param(Period(amount=261, unit="working_days"), False, id="261-working-days"),
        pytest.param(Period(amount=8760, unit="hours"), True, id="8760-hours"),
        pytest.param(Period(amount=8761, unit="hours"), False, id="8761-hours"),
    ],
)
def test_a_childs_own_frequency_is_at_most_a_year(every: Period, allowed: bool) -> None:
    """A child's plan only tightens the pack's rules (months at the longest): at most a year."""
    data = {"rule_id": "eng_plan_frequency", "every": every.model_dump()}
    if allowed:
        assert RuleOverride.model_validate(data).every == every
    else:
        with pytest.raises(ValidationError, match="at most a year"):
            RuleOverride.model_validate(data)


def test_due_dates_survive_a_frequency_past_the_calendar() -> None:
    """Defence in depth: a frequency that slipped past the models (built without checks)
    gives no deadline within the calendar instead of crashing every read of the store."""
    huge = RuleOverride.model_construct(
        rule_id="eng_plan_frequency", every=Period(amount=100_000, unit="months"), source=None
    )
    facts = child("child-protection", overrides=())
    facts = facts.model_copy(update={"overrides": (huge,)})
    due = due_of("north-somerset", "eng_plan_frequency", facts, [seen(date(2026, 12, 14))],
                 date(2026, 12, 14))  # fmt: skip
    assert due == date.max


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        pytest.param(date(2026, 11, 30), 3, date(2027, 2, 28), id="clipped-to-february"),
        pytest.param(date(2027, 11, 30), 3, date(2028, 2, 29), id="leap-year"),
        pytest.param(date(2026, 12, 31), 1, date(2027, 1, 31), id="over-year-end"),
    ],
)
def test_add_months_uses_month_end_where_day_missing(
    start: date, months: int, expected: date
) -> None:
    """'N months' is the same day N months later, or that month's last day."""
    assert add_months(start, months) == expected


@pytest.mark.parametrize(
    ("every", "expected"),
    [
        pytest.param(Period(amount=5, unit="working_days"), date(2026, 12, 21), id="tightened"),
        pytest.param(Period(amount=10, unit="working_days"), date(2026, 12, 30), id="same"),
    ],
)
def test_child_plan_override_tightens_due_date(every: Period, expected: date) -> None:
    """'Or more frequently if indicated in the plan': a child's override shortens the clock."""
    facts = child(
        "child-protection",
        overrides=(RuleOverride(rule_id="ns_cp_seen_every_10_working_days", every=every),),
    )
    due = due_of(
        "north-somerset",
        "ns_cp_seen_every_10_working_days",
        facts,
        [seen(date(2026, 12, 14))],
        date(2026, 12, 14),
    )
    assert due == expected


def test_loosening_override_raises_when_computing_due_dates() -> None:
    """A child's override may never loosen a rule: due dates refuse it."""
    facts = child(
        "child-protection",
        overrides=(
            RuleOverride(
                rule_id="ns_cp_seen_every_10_working_days",
                every=Period(amount=11, unit="working_days"),
            ),
        ),
    )
    with pytest.raises(OverrideError):
        due_of(
            "north-somerset",
            "ns_cp_seen_every_10_working_days",
            facts,
            [seen(date(2026, 12, 14))],
            date(2026, 12, 14),
        )


def test_every_pack_resolves_its_base_rules() -> None:
    """Authority packs inherit every england base rule they do not omit."""
    base = {r.id for r in load_pack("england").rules}
    for pack_id in ("north-somerset", "trust-standards", "camden", "cin-guidance"):
        assert base <= {r.id for r in load_pack(pack_id).rules}


_OFFSET = st.integers(min_value=-800, max_value=800).map(lambda n: timedelta(days=n))


@settings(max_examples=300, deadline=None)
@given(
    pack_id=st.sampled_from(pack_ids()),
    category=st.sampled_from(CATEGORIES),
    placement=st.none() | st.sampled_from(get_args(PlacementType)),
    start=st.dates(min_value=date(2015, 1, 1), max_value=date(2035, 12, 31)),
    age=st.none() | st.integers(min_value=-400, max_value=19 * 366),
    events=st.dictionaries(st.sampled_from(EVENTS), _OFFSET, max_size=4),
    flags=st.lists(st.sampled_from(FLAGS), unique=True, max_size=2),
)
def test_applicable_rules_change_only_on_scope_change_days(
    pack_id: str,
    category: str,
    placement: str | None,
    start: date,
    age: int | None,
    events: dict[str, timedelta],
    flags: list[str],
) -> None:
    """`scope_changes` lists every day the applicable rules can change (so planners may
    compute them once per stretch): from any day to the day before the next listed one (up
    to 20 years on), the rules are the same. Birth and events are drawn around the day."""
    pack = load_pack(pack_id)
    facts = child(
        category,
        placement_type=placement,
        birth_date=None if age is None else start - timedelta(days=age),
        events={event: start + offset for event, offset in events.items()},
        flags=tuple(flags),
    )
    later = [d for d in scope_changes(pack, facts) if d > start]
    horizon = start + timedelta(days=7300)
    end = min(later[0] - timedelta(days=1), horizon) if later else horizon
    span = (end - start).days
    expected = rules_in_scope(pack, facts, start)
    for step in range(1, 41):
        day = start + timedelta(days=span * step // 40)
        assert rules_in_scope(pack, facts, day) == expected, f"rules changed by {day}"
        assert applicable_rules(pack, facts, day) == expected, f"remembered rules by {day}"


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        pytest.param(2028, date(2028, 2, 29), id="leap-year"),
        pytest.param(2027, date(2027, 3, 1), id="common-year"),
    ],
)
def test_a_leap_day_birthday_counts_from_1_march_in_common_years(year: int, expected: date) -> None:
    """`age_years` counts a 29 February birth a year older from 1 March in common years."""
    assert _birthday(date(2012, 2, 29), year - 2012) == expected
    assert age_years(date(2012, 2, 29), expected) == year - 2012
    assert age_years(date(2012, 2, 29), expected - timedelta(days=1)) == year - 2012 - 1


def test_the_adoption_order_is_a_scope_change_day() -> None:
    """The adoption visits end with the adoption order: the rules differ the day before and
    the day of the order, and that day is listed."""
    pack = load_pack("england")
    order = date(2027, 3, 10)
    facts = child(
        "child-in-care",
        placement_type="adoption",
        events={"placement-start": date(2026, 6, 1), "adoption-order": order},
    )
    assert order in scope_changes(pack, facts)
    before = applicable_rules(pack, facts, order - timedelta(days=1))
    assert applicable_rules(pack, facts, order) != before


@pytest.mark.parametrize(
    ("factor", "expected"),
    [
        pytest.param(None, date(2027, 1, 3), id="default-twice-10-days"),
        pytest.param(3, date(2027, 1, 13), id="authority-sets-three-times"),
    ],
)
def test_authority_sets_the_both_homes_factor(
    tmp_path: Path, factor: int | None, expected: date
) -> None:
    """An authority's pack setting `both_homes_factor` replaces the base rule's factor of 2
    (DESIGN.md section 3: 'an authority may set it'): Camden CP at home every 10 days, the
    second home last seen Mon 14 Dec 2026."""
    from policies.loader import PACK_DIR

    for name in ("england.toml", "camden.toml"):
        text = (PACK_DIR / name).read_text(encoding="utf-8")
        if name == "camden.toml" and factor is not None:
            text = text.replace(
                'extends = "england"\n', f'extends = "england"\nboth_homes_factor = {factor}\n', 1
            )
        (tmp_path / name).write_text(text, encoding="utf-8")
    pack = load_pack("camden", tmp_path)
    facts = ChildFacts(
        category="child-protection", homes=("a", "b"), events={"plan-start": date(2026, 12, 1)}
    )
    contacts = [
        Contact(on=date(2026, 12, 14), home_id="b"),
        Contact(on=date(2026, 12, 21), home_id="a"),
    ]
    found = {
        d.home_id: d.due
        for d in due_dates(pack, facts, contacts, ENG, date(2026, 12, 21))
        if d.rule_id == "eng_both_homes"
    }
    assert found["b"] == expected


@pytest.mark.parametrize("nation", ["WLS", "SCT", "NIR"])
def test_a_pack_for_another_nation_cannot_extend_englands_baseline(
    tmp_path: Path, nation: str
) -> None:
    """The `england` base pack is England's law (SI 2010/959, SI 2005/389, SI 2005/1533): a
    Welsh or Scottish authority's pack that extended it would plan to, and quote, English
    statute to that nation's managers. It is refused, naming both nations; the same pack for
    England loads."""
    from policies.errors import PackInvalidError
    from policies.loader import PACK_DIR

    (tmp_path / "england.toml").write_text(
        (PACK_DIR / "england.toml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    text = 'id = "{id}"\nname = "An authority"\nnation = "{nation}"\nextends = "england"\n'
    (tmp_path / "over-the-border.toml").write_text(
        text.format(id="over-the-border", nation=nation), encoding="utf-8"
    )
    (tmp_path / "at-home.toml").write_text(
        text.format(id="at-home", nation="ENG"), encoding="utf-8"
    )
    names = {"WLS": "Wales", "SCT": "Scotland", "NIR": "Northern Ireland"}
    with pytest.raises(PackInvalidError, match=f"for {names[nation]}.*for England"):
        load_pack("over-the-border", tmp_path)
    assert load_pack("at-home", tmp_path).nation == "ENG"
