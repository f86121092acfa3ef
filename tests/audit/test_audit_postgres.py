"""The PostgreSQL adapter behind the same port: real server at 127.0.0.1:5432 (skips visibly without it)."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from audit_helpers import make_decision
from test_audit_store import SRC, TESTS

from warden.adapters.store import StoreError, open_store

@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A fresh, empty $WARDEN_HOME."""
    (tmp_path / "wardenhome").mkdir()
    return tmp_path / "wardenhome"


BASE_URL = "postgresql://postgres@127.0.0.1:5432/test"

psycopg = pytest.importorskip("psycopg", reason="psycopg not installed (pip install 'warden[postgres]')")


def _server_up() -> str | None:
    try:
        psycopg.connect(BASE_URL, connect_timeout=3).close()
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0]
    return None


_DOWN = _server_up()
pytestmark = pytest.mark.skipif(_DOWN is not None, reason=f"PostgreSQL not reachable at {BASE_URL}: {_DOWN}")


@pytest.fixture
def pg_url():
    schema = f"warden_test_{uuid.uuid4().hex[:10]}"
    url = f"{BASE_URL}?schema={schema}"
    yield url
    with psycopg.connect(BASE_URL, autocommit=True) as c:
        c.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def test_postgres_append_query_verify_and_tamper(pg_url: str, home: Path) -> None:
    store = open_store(pg_url, home)
    try:
        store.append_many([make_decision(i, session=f"s{i % 2}", rule="r1" if i == 3 else "") for i in range(10)])
        store.checkpoint()
        assert store.count() == 10 and store.head().seq == 10
        assert [e["seq"] for e in store.query(store_filters(session="s1"))] == [2, 4, 6, 8, 10]
        assert [e["seq"] for e in store.query(store_filters(rule="r1"))] == [4]
        rep = store.verify()
        assert rep.ok and rep.checkpoints == 1
        with psycopg.connect(BASE_URL, autocommit=True) as c:
            c.execute(f"UPDATE {store.schema}.events SET body = replace(body, 'echo 4', 'echo 5') WHERE seq = 5")
        rep = store.verify()
        assert not rep.ok and (rep.broken.seq, rep.broken.kind) == (5, "edited")
        with psycopg.connect(BASE_URL, autocommit=True) as c:
            c.execute(f"DELETE FROM {store.schema}.events WHERE seq > 8")
        rep = store.verify()
        assert not rep.ok and rep.broken.seq == 5  # still the first break
    finally:
        store.close()


def store_filters(**kw):
    from warden.adapters.store import Filters

    return Filters(**kw)


PG_WRITER = """
import sys
sys.path[:0] = [{src!r}, {tests!r}]
from audit_helpers import make_decision
from warden.adapters.store import open_store

store = open_store(sys.argv[1], sys.argv[2])
for i in range(40):
    store.append(make_decision(i, session=sys.argv[3]))
store.close()
"""


def test_postgres_concurrent_writers(pg_url: str, home: Path) -> None:
    open_store(pg_url, home).close()  # create schema and keys once
    code = PG_WRITER.format(src=SRC, tests=TESTS)
    procs = [subprocess.Popen([sys.executable, "-c", code, pg_url, str(home), f"w{k}"]) for k in range(3)]
    for p in procs:
        assert p.wait(timeout=120) == 0
    store = open_store(pg_url, home, keys="require")
    try:
        rep = store.verify()
        assert rep.ok and rep.count == 120
        assert {e["session"] for e in store.iter_events()} == {"w0", "w1", "w2"}
    finally:
        store.close()


def test_postgres_bad_url_is_a_clear_error(home: Path) -> None:
    with pytest.raises(StoreError, match="PostgreSQL audit log"):
        open_store("postgresql://postgres@127.0.0.1:5432/no_such_db_for_warden", home)
    with pytest.raises(StoreError, match="invalid schema"):
        open_store(f"{BASE_URL}?schema=Robert';DROP", home)


def test_cli_works_against_postgres(pg_url: str, home: Path) -> None:
    from click.testing import CliRunner

    from warden.cli.audit import audit

    store = open_store(pg_url, home)
    try:
        store.append_many([make_decision(i, session="pg") for i in range(4)])
    finally:
        store.close()
    runner = CliRunner()
    res = runner.invoke(audit, ["verify", "--db", pg_url, "--home", str(home)])
    assert res.exit_code == 0 and "OK: 4 events intact" in res.output
    res = runner.invoke(audit, ["query", "--db", pg_url, "--home", str(home), "--session", "pg", "--json"])
    assert res.exit_code == 0 and len(res.output.splitlines()) == 4
    with psycopg.connect(BASE_URL, autocommit=True) as c:
        c.execute(f"DELETE FROM {pg_url.split('schema=')[1]}.events WHERE seq = 2")
    res = runner.invoke(audit, ["verify", "--db", pg_url, "--home", str(home)])
    assert res.exit_code == 1 and "BROKEN at seq 2 (deleted)" in res.output
