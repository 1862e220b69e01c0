"""The benchmark's travel floor: the cheapest split of a worker's visits into round trips."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from travel_floor import _worker_floor

# Base 0; homes 1 and 2 are 20 minutes out and 5 minutes apart; home 3 is 30 minutes out.
MATRIX = [[0, 20, 20, 30], [20, 0, 5, 45], [20, 5, 0, 45], [30, 45, 45, 0]]


@pytest.mark.parametrize(
    ("cap", "floor"),
    [
        # One visit a day: three round trips, 40 + 40 + 60.
        pytest.param(1, 140, id="one-a-day"),
        # Two a day: the neighbours share a day (20 + 5 + 20), home 3 alone (60).
        pytest.param(2, 105, id="two-a-day"),
        # Three a day: one tour 20 + 5 + 45 + 30 = 100 beats 105.
        pytest.param(3, 100, id="three-a-day"),
    ],
)
def test_floor_splits_visits_into_the_cheapest_round_trips(cap: int, floor: int) -> None:
    assert _worker_floor(MATRIX, cap) == floor
