"""The working-day arithmetic the rule engine needs, as a Protocol (implemented in scheduler)."""

from __future__ import annotations

from datetime import date
from typing import Protocol


class BusinessCalendar(Protocol):
    """Knows which days are working days for one authority."""

    def is_working_day(self, day: date) -> bool:
        """True when `day` is neither a weekend, a bank holiday nor a closure day."""
        ...

    def add_working_days(self, day: date, days: int) -> date:
        """The `days`-th working day after `day` (before it when negative; `day` itself at 0)."""
        ...
