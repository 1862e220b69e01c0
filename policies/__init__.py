"""Authority visiting rules as data, and a pure engine that computes due dates from them."""

from policies.calendar import BusinessCalendar
from policies.engine import (
    ChildFacts,
    Contact,
    Due,
    Escalation,
    add_period,
    age_years,
    allowed_roles,
    applicable_rules,
    checklist,
    due_dates,
    escalations,
    school_start,
)
from policies.errors import OverrideError, PackInvalidError, PackNotFoundError, PolicyError
from policies.loader import load_pack, pack_ids
from policies.models import Pack, Period, Rule, RuleOverride

__all__ = [
    "BusinessCalendar",
    "ChildFacts",
    "Contact",
    "Due",
    "Escalation",
    "OverrideError",
    "Pack",
    "PackInvalidError",
    "PackNotFoundError",
    "Period",
    "PolicyError",
    "Rule",
    "RuleOverride",
    "add_period",
    "age_years",
    "allowed_roles",
    "applicable_rules",
    "checklist",
    "due_dates",
    "escalations",
    "load_pack",
    "pack_ids",
    "school_start",
]
