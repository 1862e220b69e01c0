"""Writes the golden snapshots: every pack's due dates over a grid of children and dates.

Run `python scripts/snapshot_packs.py` after changing a pack, and review the JSON diff.
"""

from __future__ import annotations

import json
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from policies import ChildFacts, Contact, due_dates, load_pack, pack_ids  # noqa: E402
from policies.models import CATEGORIES, PLACEMENT_TYPES  # noqa: E402
from scheduler.calendar import WorkingCalendar  # noqa: E402

SNAPSHOT_DIR = ROOT / "tests" / "policies" / "snapshots"
PLACEMENT_START = date(2026, 1, 1)
LAST_VISITS = (
    date(2026, 12, 14),  # before Christmas 2026 (25, 28 Dec, 1 Jan bank holidays)
    date(2026, 12, 23),
    date(2027, 3, 18),  # before Easter 2027 (26, 29 Mar)
    date(2027, 3, 25),
    date(2027, 12, 13),  # before the 2027 substitute days (27, 28 Dec) and 3 Jan 2028
    date(2027, 12, 24),
)


def grid() -> list[tuple[str, str | None]]:
    """Every category, and every placement type for children in care."""
    rows: list[tuple[str, str | None]] = []
    for category in CATEGORIES:
        if category == "child-in-care":
            rows.extend((category, placement) for placement in PLACEMENT_TYPES)
        else:
            rows.append((category, None))
    return rows


def snapshot(pack_id: str) -> dict[str, Any]:
    """The pack's due dates for one seen home visit on each grid date, as of that date."""
    pack = load_pack(pack_id)
    calendar = WorkingCalendar(pack.nation, pack.closure_days)
    cases = []
    for category, placement in grid():
        for last in LAST_VISITS:
            events = {
                "plan-start": last - timedelta(days=28),
                "referral": last - timedelta(days=3),
                "placement-start": PLACEMENT_START,
                "care-order": PLACEMENT_START,
                "notification": PLACEMENT_START,
            }
            facts = ChildFacts.model_validate(
                {"category": category, "placement_type": placement, "events": events}
            )
            found = due_dates(pack, facts, [Contact(on=last)], calendar, last)
            cases.append(
                {
                    "category": category,
                    "placement_type": placement,
                    "last_visit": last.isoformat(),
                    "due": {
                        d.rule_id: d.due.isoformat()
                        + (f" x{d.count}" if d.count is not None else "")
                        for d in found
                    },
                }
            )
    return {"pack": pack_id, "placement_start": PLACEMENT_START.isoformat(), "cases": cases}


def render(pack_id: str) -> str:
    """The snapshot as the JSON text stored in the repository."""
    return json.dumps(snapshot(pack_id), indent=1, sort_keys=True) + "\n"


def main() -> None:
    """Write one snapshot file per pack."""
    SNAPSHOT_DIR.mkdir(parents=True, exist_ok=True)
    for pack_id in pack_ids():
        (SNAPSHOT_DIR / f"{pack_id}.json").write_text(render(pack_id), encoding="utf-8")
        sys.stdout.write(f"wrote {pack_id}.json\n")


if __name__ == "__main__":
    main()
