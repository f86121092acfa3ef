"""Two server replicas on one PostgreSQL: an approval on one reaches the waiter on the other, a once grant
is used once, a kill on one is in force on both."""

from __future__ import annotations

import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from pg_util import PG, pg_down  # noqa: E402
from server_proc import ServerProcess, h  # noqa: E402

PG_DOWN = pg_down()


@pytest.fixture
def replicas(tmp_path: Path):
    if PG_DOWN:
        pytest.skip(PG_DOWN)
    import psycopg

    schema = f"wsrv_{uuid.uuid4().hex[:8]}"
    db = f"{PG}?schema={schema}"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = ServerProcess(tmp_path / "a", db=db, home=tmp_path / "home").start()
    b = ServerProcess(tmp_path / "b", db=db, home=tmp_path / "home").start()  # same home keys, same database
    yield a, b
    a.stop()
    b.stop()
    with psycopg.connect(PG, autocommit=True) as c:
        for part in ("state", "audit", "server"):
            c.execute(f"DROP SCHEMA IF EXISTS {schema}_{part} CASCADE")


def test_approval_kill_and_grants_across_replicas(replicas):
    a, b = replicas
    agent = a.key("laptop-9", "agent")
    approver = b.key("lead", "approver")
    body = {"tool_name": "Bash", "tool_input": {"command": "deploy prod"}, "session_id": "r1"}
    v = httpx.post(a.url + "/v1/decide", headers=h(agent), json=body, timeout=30).json()
    rid = v["approval"]["id"]
    got: dict = {}
    t = threading.Thread(target=lambda: got.update(r=httpx.get(f"{a.url}/v1/approvals/{rid}/wait?timeout=20",
                                                               headers=h(agent), timeout=30).json(), t=time.monotonic()))
    t.start()
    time.sleep(0.3)
    t0 = time.monotonic()
    votes = [httpx.post(f"{b.url}/v1/approvals/{rid}/approve", headers=h(approver), json={}) for _ in range(2)]
    assert [r.status_code for r in votes] == [200, 409]  # no double approval
    t.join(25)
    assert got["r"]["status"] == "approved"
    print(f"approval on replica B reached the waiter on replica A in {got['t'] - t0:.3f} s")
    assert got["t"] - t0 < 3
    uses = [httpx.post(u + "/v1/decide", headers=h(agent), json=body, timeout=30).json()["decision"]
            for u in (b.url, a.url)]
    assert sorted(uses) == ["allow", "ask"]  # the once grant was used exactly once, on either replica
    assert httpx.post(a.url + "/v1/kill", headers=h(a.admin), json={"scope": "all", "reason": "drill"}).status_code == 200
    v = httpx.post(b.url + "/v1/decide", headers=h(agent), json=body, timeout=30).json()
    assert v["decision"] == "deny" and "drill" in v["reason"]
