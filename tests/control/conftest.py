"""Fixtures: one state store per backend (SQLite file, PostgreSQL schema with a random name)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from pg_util import PG, pg_down

PG_DOWN = pg_down()


@pytest.fixture(params=["sqlite", "postgres"])
def state_url(request, tmp_path: Path):
    """(url or None, home): None means the SQLite default under home."""
    home = tmp_path / "whome"
    home.mkdir()
    if request.param == "sqlite":
        yield None, home
        return
    if PG_DOWN:
        pytest.skip(PG_DOWN)
    import psycopg

    schema = f"warden_state_{uuid.uuid4().hex[:10]}"
    yield f"{PG}?schema={schema}", home
    with psycopg.connect(PG, autocommit=True) as c:
        c.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.fixture
def store(state_url):
    from warden.adapters.state import open_state

    url, home = state_url
    s = open_state(home, url, environ={})
    yield s
    s.close()
