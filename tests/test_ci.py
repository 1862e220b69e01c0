"""CI runs the PostgreSQL tests for real: `.ci/run` starts a server and names it in
VISITPLAN_TEST_PG_URL, and the suite must use it (the shared fixture fails under CI without
it). Runs over a unix socket only."""

from __future__ import annotations

import os

import pytest

from scheduler.store import Store
from tests.conftest import PG_ENV
from tests.integrations.conftest import make_scenario


@pytest.mark.integration
def test_ci_hands_the_suite_a_postgresql_server_and_it_is_used(
    postgres_server: str, postgres_url: str
) -> None:
    """Under CI the server is the one `.ci/run` started; anywhere, a plain URL works."""
    if os.environ.get("CI"):
        assert os.environ.get(PG_ENV), f".ci/run must set {PG_ENV}"
        assert postgres_server == os.environ[PG_ENV]
    assert postgres_url.startswith("postgresql://")
    with Store(postgres_url) as store:
        assert store.engine.dialect.driver == "psycopg"
        store.replace_caseload(make_scenario())
        assert store.read_scenario() == make_scenario()
