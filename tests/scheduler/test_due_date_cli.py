"""`visitplan due-date` reaches every seed rule at the desk (issue 10 point 4): a second home,
a private-fostering notification, an adoption order, the plan's own frequency with its source,
and the time of a failed visit. Dates are reasoned from the England calendar (bank holidays
25 and 28 Dec 2026, 1 Jan 2027, 26 and 29 Mar 2027)."""

from __future__ import annotations

from datetime import date

import pytest
from typer.testing import CliRunner

from scheduler.cli import app
from scheduler.service import DueDateAnswer

runner = CliRunner()


def due_date(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["due-date", *args], env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


def answer(*args: str) -> DueDateAnswer:
    code, stdout, stderr = due_date(*args, "--json")
    assert code == 0, stderr
    return DueDateAnswer.model_validate_json(stdout)


CAMDEN_CP_SEEN_14_DEC = (
    "--authority",
    "camden",
    "--category",
    "child-protection",
    "--last-visit",
    "2026-12-14",
    "--as-of",
    "2026-12-14",
)
"""A Camden child-protection child last seen at home on Mon 14 Dec 2026, judged that day."""


def dues(result: DueDateAnswer, rule: str) -> dict[str | None, date]:
    return {r.home: r.due for r in result.requirements if r.rule == rule}


@pytest.mark.parametrize(
    ("second_home", "expected"),
    [
        pytest.param("2026-12-07", date(2026, 12, 27), id="inside-seen-7-dec"),
        pytest.param("2026-11-30", date(2026, 12, 20), id="outside-seen-30-nov"),
    ],
)
def test_second_home_runs_on_its_own_clock(second_home: str, expected: date) -> None:
    """Camden CP seen at home every 10 days, so each home every 20 days (eng_both_homes): the
    second home is due 20 calendar days after it was last seen, the first home likewise."""
    result = answer(
        *CAMDEN_CP_SEEN_14_DEC,
        "--plan-start",
        "2026-11-01",
        "--second-home-last-visit",
        second_home,
    )
    homes = dues(result, "eng_both_homes")
    assert homes == {"first-home": date(2027, 1, 3), "second-home": expected}


def test_shared_care_without_a_second_visit_runs_from_the_plan_start() -> None:
    """--shared-care with no visit at the second home: its clock runs from the plan start
    (Camden CP: 1 Dec 2026 + 20 days = 21 Dec)."""
    result = answer(*CAMDEN_CP_SEEN_14_DEC, "--plan-start", "2026-12-01", "--shared-care")
    assert dues(result, "eng_both_homes")["second-home"] == date(2026, 12, 21)


@pytest.mark.parametrize(
    ("notified", "expected"),
    [
        pytest.param("2026-12-21", date(2027, 1, 4), id="over-christmas"),
        pytest.param("2026-12-14", date(2026, 12, 23), id="before-christmas"),
    ],
)
def test_private_fostering_first_visit_from_notification(notified: str, expected: date) -> None:
    """001: initial visit within 7 working days of notification (trust_pf_first_visit_7_working
    _days): from Mon 21 Dec 2026 the 7th working day skips 25, 28 Dec and 1 Jan."""
    result = answer(
        "--authority",
        "trust-standards",
        "--category",
        "private-fostering",
        "--notification",
        notified,
        "--as-of",
        notified,
    )
    assert dues(result, "trust_pf_first_visit_7_working_days") == {None: expected}
    assert result.next_due == expected


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        pytest.param("2027-06-01", date(2027, 5, 31), id="inside-order-not-yet-made"),
        pytest.param("2027-05-10", None, id="outside-order-made"),
    ],
)
def test_adoption_order_ends_post_placement_visits(order: str, expected: date | None) -> None:
    """000: 6-weekly until the adoption order is made (ns_adoption_every_6_weeks_until_order)."""
    result = answer(
        "--authority",
        "north-somerset",
        "--category",
        "child-in-care",
        "--placement-type",
        "adoption",
        "--placement-start",
        "2027-03-22",
        "--last-visit",
        "2027-04-19",
        "--adoption-order",
        order,
        "--as-of",
        "2027-05-10",
    )
    found = dues(result, "ns_adoption_every_6_weeks_until_order")
    assert found.get(None) == expected


@pytest.mark.parametrize(
    ("every", "expected"),
    [
        pytest.param("5 working days", date(2026, 12, 21), id="tighter-than-10-days"),
        pytest.param("3 weeks", None, id="looser-has-no-effect-on-next-due"),
    ],
)
def test_every_is_the_plans_frequency_with_its_source(every: str, expected: date | None) -> None:
    """--every adds the conference's frequency on top of the pack's rules (eng_plan_frequency)
    and records who set it; it can only make the next visit earlier."""
    result = answer(
        *CAMDEN_CP_SEEN_14_DEC, "--every", every, "--every-source", "CP conference 3 Dec"
    )
    plan = [r for r in result.requirements if r.rule == "eng_plan_frequency"]
    assert len(plan) == 1
    assert "CP conference 3 Dec" in plan[0].window
    assert result.next_due == (expected or date(2026, 12, 24))


@pytest.mark.parametrize(
    ("failed_at", "avoid"),
    [
        pytest.param("08:45", "morning", id="morning"),
        pytest.param("12:00", "afternoon", id="afternoon"),
    ],
)
def test_failed_at_shows_the_part_of_day_to_avoid(failed_at: str, avoid: str) -> None:
    """Issue 10 point 3: a North Somerset child in need has no retry deadline, yet the next
    visit after one failed at 08:45 must not be in the morning (eng_retry_at_different_time)."""
    args = (
        "--authority",
        "north-somerset",
        "--category",
        "child-in-need",
        "--last-visit",
        "2026-12-07",
        "--failed-on",
        "2026-12-14",
        "--failed-at",
        failed_at,
        "--as-of",
        "2026-12-14",
    )
    result = answer(*args)
    assert {r.avoid_part_of_day for r in result.requirements} == {avoid}
    code, stdout, _ = due_date(*args)
    assert code == 0
    assert f"outside the {avoid}" in stdout


def test_practice_rules_are_labelled_apart() -> None:
    """000 states no period for the CP unannounced mix: it shows as local practice."""
    args = (
        "--authority",
        "north-somerset",
        "--category",
        "child-protection",
        "--plan-start",
        "2026-12-01",
        "--last-visit",
        "2026-12-14",
        "--as-of",
        "2026-12-14",
    )
    severity = {r.rule: r.severity for r in answer(*args).requirements}
    assert severity["ns_cp_unannounced_every_3_months"] == "practice"
    assert severity["ns_cp_seen_every_10_working_days"] == "statutory"
    code, stdout, _ = due_date(*args)
    assert code == 0
    assert "local practice" in stdout


@pytest.mark.parametrize(
    ("args", "named"),
    [
        pytest.param(["--every", "10 fortnights"], "--every", id="bad-period"),
        pytest.param(["--every", "0 days"], "--every", id="zero-period"),
        pytest.param(["--every-source", "CP conference"], "--every-source", id="source-alone"),
        pytest.param(["--failed-at", "08:45"], "--failed-at", id="time-without-day"),
        pytest.param(
            ["--failed-on", "2026-12-14", "--failed-at", "8.45"], "--failed-at", id="bad-time"
        ),
        pytest.param(["--second-home-last-visit", "7 Dec"], "--second-home", id="bad-date"),
        pytest.param(["--notification", "2026-13-01"], "--notification", id="bad-month"),
    ],
)
def test_bad_desk_options_exit_2_naming_the_option(args: list[str], named: str) -> None:
    """Every new option is checked: a usage error (exit 2) that names it, no traceback."""
    code, _, stderr = due_date(
        "--authority", "camden", "--category", "child-protection", "--as-of", "2026-12-14", *args
    )
    assert code == 2
    assert named in stderr
    assert "Traceback" not in stderr


@pytest.mark.parametrize(
    ("category", "uncounted"),
    [
        pytest.param("child-protection", True, id="cp-no-dates"),
        pytest.param("early-help", False, id="no-rule-applies"),
    ],
)
def test_rules_with_no_date_to_count_from_ask_for_one(category: str, uncounted: bool) -> None:
    """A child-protection child with no visit or start is not told no visit is needed: the
    answer names the rules waiting for a date and asks for one; a category with no rule
    still says none applies."""
    args = ("--authority", "north-somerset", "--category", category, "--as-of", "2026-12-01")
    result = answer(*args)
    assert result.requirements == ()
    assert bool(result.uncounted) is uncounted
    if uncounted:
        assert "ns_cp_seen_every_10_working_days" in result.uncounted
    code, stdout, _stderr = due_date(*args)
    assert code == 0
    assert ("No due date yet" in stdout) is uncounted
    assert ("No visiting requirement applies" in stdout) is not uncounted
    counted = answer(*args, "--plan-start", "2026-11-20")
    assert counted.uncounted == ()
    assert counted.next_due is not None or not uncounted
