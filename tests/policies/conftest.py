"""Shared fixtures for the policy pack tests: the seed texts and the resolved packs."""

from __future__ import annotations

from pathlib import Path

import pytest

from policies import load_pack, pack_ids
from policies.models import Pack

SEED_DIR = Path(__file__).resolve().parents[3] / "shared" / "seeds"
if not SEED_DIR.is_dir():  # a checkout outside the shared workspace
    SEED_DIR = Path(__file__).resolve().parents[1] / "data" / "seeds"


def collapse(text: str) -> str:
    """Whitespace collapsed to single spaces, so quotes survive line breaks and tabs."""
    return " ".join(text.split())


@pytest.fixture(params=pack_ids())
def pack(request: pytest.FixtureRequest) -> Pack:
    """Each resolved pack in turn."""
    return load_pack(request.param)


@pytest.fixture(scope="session")
def seed_dir() -> Path:
    """Directory holding the seed documents the packs quote."""
    if not SEED_DIR.is_dir():
        pytest.skip("seed documents not available")
    return SEED_DIR
