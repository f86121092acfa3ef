"""The team server over real HTTP: roles on every endpoint, the central queue, kill, ingest, bad input."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server_proc import ServerProcess, h  # noqa: E402


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = ServerProcess(tmp_path_factory.mktemp("server")).start()
    s.keys = {role: s.key(f"{role}-1", role) for role in ("agent", "developer", "approver", "auditor")}
    yield s
    s.stop()


def deploy(srv, key: str, session: str = "s1") -> dict:
    r = httpx.post(srv.url + "/v1/decide", headers=h(key), timeout=30,
                   json={"tool_name": "Bash", "tool_input": {"command": "deploy prod"}, "session_id": session,
                         "actor": {"id": "someone-else", "agent": "claude-code"}})
    assert r.status_code == 200, r.text
    return r.json()


def test_every_endpoint_needs_a_key_and_the_right_role(srv):
    url, k = srv.url, srv.keys
    assert httpx.get(url + "/v1/approvals").status_code == 401
    assert httpx.get(url + "/v1/approvals", headers=h("wk_nope_nope")).status_code == 401
    cases = [("post", "/v1/keys", "approver", 403), ("get", "/v1/keys", "auditor", 403),
             ("post", "/v1/kill", "auditor", 403), ("post", "/v1/kill", "approver", 403),
             ("post", "/v1/decide", "auditor", 403), ("post", "/v1/events", "developer", 403),
             ("get", "/metrics", "agent", 403), ("get", "/v1/events", "developer", 403),
             ("get", "/v1/approvals", "agent", 403)]
    for method, path, role, code in cases:
        r = httpx.request(method, url + path, headers=h(k[role]), json={}, timeout=10)
        assert r.status_code == code, (method, path, role, r.status_code, r.text)
    assert httpx.get(url + "/metrics", headers=h(k["auditor"])).status_code == 200


def test_queued_ask_is_approved_by_another_person_and_the_waiting_agent_unblocks(srv):
    v = deploy(srv, srv.keys["agent"])
    assert v["decision"] == "ask" and v["approval"]["status"] == "pending"
    rid = v["approval"]["id"]
    # an agent key can never approve, not even someone else's request
    assert httpx.post(f"{srv.url}/v1/approvals/{rid}/approve", headers=h(srv.keys["agent"]), json={}).status_code == 403
    got: dict = {}

    def wait() -> None:
        got["r"] = httpx.get(f"{srv.url}/v1/approvals/{rid}/wait?timeout=20", headers=h(srv.keys["agent"]), timeout=30)
        got["t"] = time.monotonic()

    t = threading.Thread(target=wait)
    t.start()
    time.sleep(0.3)
    card = httpx.get(f"{srv.url}/v1/approvals/{rid}", headers=h(srv.keys["approver"])).json()["card"]
    assert card["command"] == "deploy prod" and card["rules"][0]["id"] == "ask-deploy"
    t0 = time.monotonic()
    r = httpx.post(f"{srv.url}/v1/approvals/{rid}/approve", headers=h(srv.keys["approver"]), json={"reason": "ok"})
    assert r.status_code == 200 and r.json()["status"] == "approved"
    t.join(25)
    assert got["r"].json()["status"] == "approved" and got["t"] - t0 < 5
    again = deploy(srv, srv.keys["agent"])  # the retried action uses the once grant
    assert again["decision"] == "allow" and "approved by approver-1" in again["reason"]
    assert deploy(srv, srv.keys["agent"])["decision"] == "ask"  # once means once
    evs = httpx.get(srv.url + "/v1/events?kind=approval", headers=h(srv.keys["auditor"])).json()
    assert any(e["approver"]["id"] == "approver-1" and e["approver"]["via"] == "server" for e in evs)


def test_an_approver_cannot_approve_their_own_agents_request(srv):
    own = srv.key("approver-2", "approver")
    agent_of_approver2 = srv.key("approver-2", "agent")  # the same person's machine
    v = deploy(srv, agent_of_approver2, session="s-own")
    r = httpx.post(f"{srv.url}/v1/approvals/{v['approval']['id']}/approve", headers=h(own), json={})
    assert r.status_code == 409 and "separation of duties" in r.text


def test_kill_switch_denies_every_decision_then_resume(srv):
    admin = srv.admin
    assert httpx.post(srv.url + "/v1/kill", headers=h(admin), json={"scope": "all", "reason": "incident 42"}).status_code == 200
    v = deploy(srv, srv.keys["agent"], session="s-kill")
    assert v["decision"] == "deny" and "incident 42" in v["reason"]
    assert httpx.post(srv.url + "/v1/resume", headers=h(admin), json={"scope": "all"}).json()["resumed"]
    assert deploy(srv, srv.keys["agent"], session="s-kill")["decision"] == "ask"


def test_ingest_is_exactly_once_and_refuses_garbage(srv):
    from warden.core.audit import session_event

    ev = session_event(phase="start", session="remote-1", started_at=time.time(), actor={"id": "laptop", "agent": "x"})
    body = {"machine": "laptop-7", "events": [ev, {"kind": "nope"}]}
    r = httpx.post(srv.url + "/v1/events", headers=h(srv.keys["agent"]), json=body).json()
    assert r["accepted"] == 1 and r["refused"][0]["index"] == 1
    assert httpx.post(srv.url + "/v1/events", headers=h(srv.keys["agent"]), json=body).json()["replayed"] == 1
    stored = httpx.get(srv.url + "/v1/events?session=remote-1", headers=h(srv.keys["auditor"])).json()
    assert len(stored) == 1 and stored[0]["origin"]["machine"] == "laptop-7"


def test_bad_input_gets_clear_errors(srv):
    a = h(srv.keys["agent"])
    assert httpx.post(srv.url + "/v1/decide", headers={**a, "content-type": "application/json"},
                      content=b"{nope").status_code == 400
    assert httpx.post(srv.url + "/v1/decide", headers={**a, "content-type": "text/plain"}, content=b"x").status_code == 415
    big = b'{"x": "' + b"a" * (5 * 1024 * 1024) + b'"}'
    assert httpx.post(srv.url + "/v1/decide", headers={**a, "content-type": "application/json"}, content=big,
                      timeout=30).status_code == 413
    expired = srv.key("temp", "agent", ttl_s=0.01)
    time.sleep(0.05)
    r = httpx.get(srv.url + "/v1/kills", headers=h(expired))
    assert r.status_code == 401 and "expired" in r.text
    kid = httpx.get(srv.url + "/v1/keys", headers=h(srv.admin)).json()[-1]["id"]
    assert httpx.delete(f"{srv.url}/v1/keys/{kid}", headers=h(srv.admin)).status_code == 200


def test_openapi_is_published(srv):
    spec = httpx.get(srv.url + "/openapi.json").json()
    assert "/v1/decide" in spec["paths"] and "/v1/approvals/{request_id}/approve" in spec["paths"]
