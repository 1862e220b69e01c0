"""Golden snapshots: each pack's due dates over a grid must match the reviewed JSON.

Regenerate with `python scripts/snapshot_packs.py` and review the diff. Rule: no network.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

from policies import pack_ids

ROOT = Path(__file__).resolve().parents[2]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "snapshot_packs", ROOT / "scripts" / "snapshot_packs.py"
    )
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SCRIPT = _script()


@pytest.mark.parametrize("pack_id", pack_ids())
def test_due_dates_match_snapshot(pack_id: str) -> None:
    """The pack's due dates over the grid are exactly the reviewed snapshot."""
    path = SCRIPT.SNAPSHOT_DIR / f"{pack_id}.json"
    assert path.is_file(), f"run scripts/snapshot_packs.py to create {path.name}"
    assert SCRIPT.snapshot(pack_id) == json.loads(path.read_text(encoding="utf-8"))


def test_snapshot_spot_check_cp_christmas() -> None:
    """A snapshot cell reasoned by hand: North Somerset CP seen Mon 14 Dec 2026 is next due
    Wed 30 Dec 2026 (10 working days, skipping 25 and 28 Dec)."""
    data = json.loads((SCRIPT.SNAPSHOT_DIR / "north-somerset.json").read_text(encoding="utf-8"))
    cell = next(
        c
        for c in data["cases"]
        if c["category"] == "child-protection" and c["last_visit"] == "2026-12-14"
    )
    assert cell["due"]["ns_cp_seen_every_10_working_days"] == "2026-12-30"
