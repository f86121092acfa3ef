"""The hot decide path (warden.server.decide_api): the key cache's bound, group commit under concurrency,
fail-closed audit, policy edits picked up, and the same answers as before for bad requests."""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from pg_util import PG, pg_down  # noqa: E402
from server_proc import ServerProcess, h  # noqa: E402
from warden_cli import run_warden  # noqa: E402

from warden.server.keys import KeyCache, KeyError_, KeyStore  # noqa: E402

PG_DOWN = pg_down()
DEPLOY = {"tool_name": "Bash", "tool_input": {"command": "deploy prod"}, "session_id": "s-deploy"}


def test_key_cache_honours_revocation_elsewhere_within_its_ttl_and_here_at_once(tmp_path: Path):
    here, elsewhere = KeyStore(str(tmp_path / "keys.db")), KeyStore(str(tmp_path / "keys.db"))  # two processes' view
    key_id, key = here.create("laptop-1", "agent")
    t = [100.0]
    cache = KeyCache(here, ttl_s=1.0, clock=lambda: t[0])
    assert cache.check(key).owner == "laptop-1"
    assert elsewhere.revoke(key_id)  # another worker or replica revokes it
    t[0] += 0.5
    assert cache.check(key).owner == "laptop-1"  # within the bound the checked key is still taken...
    t[0] += 0.6
    with pytest.raises(KeyError_, match="revoked"):  # ...and never after it
        cache.check(key)
    other_id, other = here.create("laptop-2", "agent")
    assert cache.check(other).owner == "laptop-2"
    here.revoke(other_id)  # revoked through this process: refused at once, whatever the bound
    with pytest.raises(KeyError_, match="revoked"):
        cache.check(other)
    with pytest.raises(KeyError_, match="unknown"):  # refusals are not cached as anything else
        cache.check(f"wk_{other_id}_forged")


def test_key_cache_checks_expiry_on_every_request(tmp_path: Path):
    keys = KeyStore(str(tmp_path / "keys.db"))
    _, key = keys.create("ci", "agent", ttl_s=3600)
    wall = [time.time()]
    cache = KeyCache(keys, ttl_s=1e9, clock=lambda: 0.0, wall=lambda: wall[0])
    assert cache.check(key).role == "agent"
    wall[0] += 3601  # the key's expiry passes while its entry is still fresh
    with pytest.raises(KeyError_, match="expired"):
        cache.check(key)


@pytest.fixture
def pg_db():
    if PG_DOWN:
        pytest.skip(PG_DOWN)
    import psycopg

    schema = f"wdec_{uuid.uuid4().hex[:8]}"
    yield f"{PG}?schema={schema}", schema
    with psycopg.connect(PG, autocommit=True) as c:
        for part in ("state", "audit", "server"):
            c.execute(f"DROP SCHEMA IF EXISTS {schema}_{part} CASCADE")


def _burst(url: str, key: str, n: int) -> list[dict]:
    bodies = [{"tool_name": "Bash", "tool_input": {"command": f"ls -la dir{i}"}, "session_id": f"s{i % 7}"}
              if i % 3 else {"tool_name": "Read", "tool_input": {"file_path": f"/srv/app/f{i}.py"}, "session_id": "r"}
              for i in range(n)]

    def one(body: dict) -> dict:
        r = httpx.post(url + "/v1/decide", headers=h(key), json=body, timeout=60)
        assert r.status_code == 200, r.text
        return r.json()

    with ThreadPoolExecutor(32) as pool:
        return list(pool.map(one, bodies))


@pytest.mark.parametrize("store", ["sqlite", "postgres"])
def test_group_commit_records_every_concurrent_decision_in_a_verifiable_chain(tmp_path: Path, store: str, request):
    db = None
    if store == "postgres":
        db, _ = request.getfixturevalue("pg_db")
    srv = ServerProcess(tmp_path, db=db)
    srv.cmd += ["--workers", "2"]  # two processes appending to one chain
    srv.start()
    try:
        key = srv.key("fleet", "agent")
        verdicts = _burst(srv.url, key, 200)
        assert {v["decision"] for v in verdicts} <= {"allow", "ask", "deny"} and len(verdicts) == 200
        auditor = srv.key("audit-1", "auditor")
        evs = httpx.get(srv.url + "/v1/events?kind=decision&limit=1000", headers=h(auditor), timeout=30).json()
    finally:
        srv.stop()
    commands = {e["input"].get("command") or e["input"].get("file_path") for e in evs}
    assert len(evs) == 200 and len(commands) == 200  # every answered decision, once
    assert all(e["actor"]["id"] == "fleet" for e in evs)
    audit_db = f"{db.partition('?')[0]}?schema={db.split('schema=')[1]}_audit" if db else str(srv.home / "audit.db")
    r = run_warden("audit", "verify", "--json", "--db", audit_db, "--home", str(srv.home))
    assert r.returncode == 0, r.stdout.decode() + r.stderr.decode()
    assert json.loads(r.stdout)["ok"] is True


def test_a_decision_whose_audit_record_cannot_be_written_is_denied(tmp_path: Path, pg_db):
    import psycopg

    db, schema = pg_db
    srv = ServerProcess(tmp_path, db=db).start()
    try:
        key = srv.key("laptop", "agent")
        ok = httpx.post(srv.url + "/v1/decide", headers=h(key), timeout=30,
                        json={"tool_name": "Bash", "tool_input": {"command": "ls"}, "session_id": "a"}).json()
        assert ok["decision"] == "allow"
        with psycopg.connect(PG, autocommit=True) as c:  # the evidence store breaks under the server
            c.execute(f"ALTER TABLE {schema}_audit.events RENAME TO events_away")
        try:
            r = httpx.post(srv.url + "/v1/decide", headers=h(key), timeout=30,
                           json={"tool_name": "Bash", "tool_input": {"command": "ls"}, "session_id": "a"})
        finally:
            with psycopg.connect(PG, autocommit=True) as c:
                c.execute(f"ALTER TABLE {schema}_audit.events_away RENAME TO events")
        assert r.status_code == 200 and r.json()["decision"] == "deny"
        assert "audit event could not be written" in r.json()["reason"]
        again = httpx.post(srv.url + "/v1/decide", headers=h(key), timeout=30,
                           json={"tool_name": "Bash", "tool_input": {"command": "ls"}, "session_id": "a"}).json()
        assert again["decision"] == "allow"  # the store is back: so are the answers
    finally:
        srv.stop()


def test_group_commit_fails_closed_for_every_waiter_when_the_store_is_gone(tmp_path: Path):
    from warden.adapters.audit import open_recorder
    from warden.server.decide_api import GroupCommit

    recorder = open_recorder(str(tmp_path), {})
    from warden.core.audit import session_event

    writer = GroupCommit(recorder)

    async def three() -> list[str | None]:
        evs = [[session_event(phase="start", session=f"g{i}", started_at=1.0)] for i in range(3)]
        return await asyncio.gather(*(writer.write(e) for e in evs))

    assert asyncio.run(three()) == [None, None, None]
    assert recorder.commits == 1  # three callers, one transaction
    recorder.store.close()
    answers = asyncio.run(three())
    assert all(a and a.startswith("AuditError") for a in answers), answers


def test_an_edited_policy_applies_without_a_restart(tmp_path: Path):
    srv = ServerProcess(tmp_path).start()
    try:
        key = srv.key("laptop", "agent")
        assert httpx.post(srv.url + "/v1/decide", headers=h(key), json=DEPLOY, timeout=30).json()["decision"] == "ask"
        srv.policy.write_text("version: 1\nrules:\n  - id: no-deploys\n    effect: deny\n"
                              "    reason: Deploys are frozen\n    program: [deploy]\n")
        got = None
        for _ in range(100):  # the server re-reads its policy files every second
            got = httpx.post(srv.url + "/v1/decide", headers=h(key), json=DEPLOY, timeout=30).json()
            if got["decision"] == "deny":
                break
            time.sleep(0.1)
        assert got is not None and got["decision"] == "deny" and got["rules"][0]["id"] == "no-deploys"
    finally:
        srv.stop()


def test_decide_errors_and_revocation_over_http(tmp_path: Path):
    srv = ServerProcess(tmp_path).start()
    try:
        key = srv.key("laptop", "agent")
        url = srv.url + "/v1/decide"
        assert httpx.post(url, json=DEPLOY).json() == {
            "error": "no key: send Authorization: Bearer wk_... (warden login prints how to get one)"}
        r = httpx.post(url, headers=h(srv.key("aud", "auditor")), json=DEPLOY)
        assert r.status_code == 403 and "needs agent" in r.json()["error"]
        r = httpx.post(url, headers={**h(key), "content-type": "application/json"}, content=b"[1]")
        assert r.status_code == 400 and "action object" in r.json()["error"]
        assert httpx.post(url, headers=h(key), json=DEPLOY).status_code == 200
        kid = key.split("_")[1]
        assert httpx.delete(f"{srv.url}/v1/keys/{kid}", headers=h(srv.admin)).status_code == 200
        r = httpx.post(url, headers=h(key), json=DEPLOY)  # same process: the cache forgets at once
        assert r.status_code == 401 and "revoked" in r.json()["error"]
        assert "/v1/decide" in httpx.get(srv.url + "/openapi.json").json()["paths"]
    finally:
        srv.stop()


def test_a_long_lived_gateway_tells_when_any_workspaces_policy_changed(tmp_path: Path):
    from warden.gateway import Gateway

    home, a, b = tmp_path / "home", tmp_path / "a", tmp_path / "b"
    for ws in (a, b):
        (ws / ".git").mkdir(parents=True)
        (ws / "warden.yaml").write_text("version: 1\nrules: []\n")
    gw = Gateway(cwd=str(a), policy_file=None, home=home, environ={"HOME": str(tmp_path)}, audit=False,
                 long_lived=True)
    for ws in (a, b):
        assert gw.decide_payload({"tool_name": "Bash", "tool_input": {"command": "ls"}, "cwd": str(ws)}).decision.label == "allow"
    assert not gw.policy_changed()
    (b / "warden.yaml").write_text("version: 1\nrules:\n  - id: no-ls\n    effect: deny\n    reason: r\n"
                                   "    program: [ls]\n")
    assert gw.policy_changed()  # the second workspace's file, not only the first's
    central = tmp_path / "central.yaml"
    central.write_text("version: 1\nrules: []\n")
    named = Gateway(cwd=str(a), policy_file=str(central), home=home, environ={"HOME": str(tmp_path)}, audit=False,
                    long_lived=True)
    for ws in (a, b):
        named.decide_payload({"tool_name": "Bash", "tool_input": {"command": "ls"}, "cwd": str(ws)})
    assert not named.policy_changed()
    central.write_text("version: 1\nrules: []\n# edited\n")
    assert named.policy_changed()
