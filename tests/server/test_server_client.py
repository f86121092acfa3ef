"""The local Warden as the team server's client, with real processes on both sides: a `warden server --dev`,
`warden login`, the link (`warden sync --follow`, or the warm hook daemon), real hooks and `warden decide`.

Shows: a request queued by a real hook is routed to the server, approved there by another person, and the
waiting hook unblocks; the requester cannot approve it (neither on the server nor locally); a server kill
switch bites locally within a second, cannot be lifted locally, survives the server going away and is
lifted when the server lifts it; the warm daemon runs the link by itself; `warden doctor` says when the
link is not running.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from server_proc import ServerProcess, h  # noqa: E402

from warden_cli import WARDEN, run_warden  # noqa: E402

from warden.adapters.state import open_state  # noqa: E402

DEPLOY = {"tool_name": "Bash", "tool_input": {"command": "deploy prod"}, "session_id": "s-deploy",
          "tool_use_id": "tu-1", "cwd": "/"}


def _env(root: Path, **extra: str) -> dict[str, str]:
    return {"WARDEN_HOME": str(root / "laptop"), "HOME": str(root), "WARDEN_MANAGED_POLICY": "",
            "WARDEN_ACTOR": "alice", "WARDEN_HOOK_DAEMON": "0", **extra}


def _wait_for(pred, timeout: float = 10.0, step: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = pred()
        if got:
            return got
        time.sleep(step)
    return pred()


class Linked:
    """A server, a logged-in laptop and its link (`warden sync --follow`)."""

    def __init__(self, root: Path) -> None:
        self.srv = ServerProcess(root).start()
        self.env = _env(root)
        self.home = root / "laptop"
        self.agent = self.srv.key("alice", "agent")
        r = run_warden("login", self.srv.url, "--key", self.agent, "--machine", "laptop-1", env=self.env)
        assert r.returncode == 0, r.stderr.decode()
        self.follow = subprocess.Popen([WARDEN, "sync", "--follow"], env={**os.environ, **self.env},
                                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        assert _wait_for(lambda: (self.status() or {}).get("online")), self.status()

    def status(self) -> dict:
        r = run_warden("sync", "--status", "--json", env=self.env)
        return json.loads(r.stdout) if r.returncode == 0 else {}

    def decide(self, payload: dict) -> dict:
        r = run_warden("decide", input=json.dumps(payload), env=self.env)
        return json.loads(r.stdout)

    def close(self) -> None:
        if self.follow.poll() is None:
            self.follow.terminate()
            self.follow.wait(10)
        self.srv.stop()


@pytest.fixture
def linked(tmp_path: Path):
    lk = Linked(tmp_path)
    yield lk
    lk.close()


def test_a_hook_waits_for_an_approval_given_on_the_server_by_another_person(linked: Linked):
    srv = linked.srv
    pre = run_warden("hook", "claude-code", input=json.dumps({**DEPLOY, "hook_event_name": "PreToolUse"}),
                     env=linked.env)
    assert pre.returncode == 0, pre.stderr.decode()
    assert "queued" in pre.stdout.decode()
    # the request reaches the server's queue, bound to this machine's key
    queue = _wait_for(lambda: httpx.get(srv.url + "/v1/approvals", headers=h(srv.admin)).json(), 5)
    assert len(queue) == 1, queue
    req = queue[0]
    assert req["card"]["requested_by"] == {"key_owner": "alice", "key": req["card"]["requested_by"]["key"],
                                           "machine": "laptop-1", "local_actor": "alice"}
    assert "deploy prod" in json.dumps(req["card"])

    # the interactive PermissionRequest hook blocks on it
    waiting = subprocess.Popen([WARDEN, "hook", "claude-code", "--deadline", "30"], env={**os.environ, **linked.env},
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert waiting.stdin is not None
    waiting.stdin.write(json.dumps({**DEPLOY, "hook_event_name": "PermissionRequest"}).encode())
    waiting.stdin.close()
    waiting.stdin = None  # so communicate() below does not flush it
    time.sleep(1.0)
    assert waiting.poll() is None, "the hook answered before anyone approved"

    # the requester cannot approve: neither on the server (even holding an approver key) nor locally
    alice_approver = srv.key("alice", "approver")
    r = httpx.post(srv.url + f"/v1/approvals/{req['id']}/approve", json={"reason": "mine"}, headers=h(alice_approver))
    assert r.status_code == 409 and "cannot approve" in r.text, r.text
    local = run_warden("approvals", "approve", req["id"], env={**linked.env, "WARDEN_ACTOR": "bob"})
    assert local.returncode != 0 and "approved there" in local.stderr.decode(), local.stderr.decode()

    bob = srv.key("bob", "approver")
    r = httpx.post(srv.url + f"/v1/approvals/{req['id']}/approve", json={"reason": "release window"}, headers=h(bob))
    assert r.status_code == 200 and r.json()["status"] == "approved", r.text
    out, err = waiting.communicate(timeout=20)
    assert waiting.returncode == 0, err.decode()
    decision = json.loads(out)["hookSpecificOutput"]["decision"]
    assert decision["behavior"] == "allow", out.decode()

    # the local store holds bob's vote, made via the server, and the local chain records it
    store = open_state(linked.home)
    try:
        local_req = store.get_request(req["id"])
        assert local_req is not None and local_req.status == "approved"
        assert [(v.approver, v.via) for v in local_req.votes] == [("bob", f"server {srv.url}")]
    finally:
        store.close()
    log = run_warden("audit", "query", "--kind", "control", "--json", env=linked.env)
    assert "approval.remote" in log.stdout.decode(), log.stdout.decode()[-2000:]


def test_a_denial_on_the_server_reaches_the_agent_with_its_reason(linked: Linked):
    srv = linked.srv
    v = linked.decide({**DEPLOY, "tool_use_id": "tu-2"})
    assert v["decision"] == "ask" and v["approval"]["status"] == "pending"
    rid = v["approval"]["id"]
    _wait_for(lambda: httpx.get(srv.url + f"/v1/approvals/{rid}", headers=h(srv.admin)).status_code == 200, 5)
    r = httpx.post(srv.url + f"/v1/approvals/{rid}/deny", json={"reason": "not during the freeze"},
                   headers=h(srv.key("carol", "approver")))
    assert r.status_code == 200, r.text
    store = open_state(linked.home)
    try:
        final = store.wait_request(rid, 10)
    finally:
        store.close()
    assert final is not None and final.status == "denied"
    assert final.votes[0].reason == "not during the freeze" and final.votes[0].approver == "carol"


def test_a_server_kill_bites_within_a_second_and_only_the_server_lifts_it(linked: Linked):
    srv, env = linked.srv, linked.env
    assert linked.decide({"tool_name": "Bash", "tool_input": {"command": "ls"}})["decision"] == "allow"
    store = open_state(linked.home)
    try:
        t0 = time.monotonic()
        r = httpx.post(srv.url + "/v1/kill", json={"scope": "all", "reason": "incident 42"}, headers=h(srv.admin))
        assert r.status_code == 200, r.text
        assert _wait_for(lambda: store.kills(), 5, 0.005)
        latency = time.monotonic() - t0
        assert latency < 1.0, f"the kill reached this machine after {latency:.3f}s"
    finally:
        store.close()
    v = linked.decide({"tool_name": "Bash", "tool_input": {"command": "ls"}})
    assert v["decision"] == "deny" and "incident 42" in v["reason"] and "team server" in v["reason"], v

    # not liftable here, and a switch deleted behind Warden's back comes back
    r = run_warden("resume", "--all", env=env)
    assert r.returncode != 0 and "set on the team server" in r.stderr.decode(), r.stderr.decode()
    raw = open_state(linked.home)
    try:
        raw.resume("all", "")  # what editing the database would do
        assert _wait_for(lambda: raw.kills(), 5), "the mirrored kill switch was not re-applied"
    finally:
        raw.close()

    # the server goes away: the switch stays in force
    linked.srv.proc.kill()
    linked.srv.proc.wait(10)
    assert _wait_for(lambda: not linked.status().get("online"), 40), linked.status()
    assert linked.decide({"tool_name": "Bash", "tool_input": {"command": "ls"}})["decision"] == "deny"
    doctor = run_warden("doctor", "--json", env=env)
    findings = {f["check"]: f for f in json.loads(doctor.stdout)["checks"]}
    assert findings["server.link"]["status"] == "warn" and "kills stay in force" in findings["server.link"]["summary"]


def test_resume_on_the_server_lifts_the_local_switch(linked: Linked):
    srv = linked.srv
    httpx.post(srv.url + "/v1/kill", json={"scope": "agent", "value": "claude-code", "reason": "runaway"},
               headers=h(srv.admin))
    store = open_state(linked.home)
    try:
        assert _wait_for(lambda: store.kills(), 5)
        # a developer's own switch is theirs: the server does not lift it
        run_warden("kill", "--session", "mine", "--reason", "my own", env=linked.env)
        r = httpx.post(srv.url + "/v1/resume", json={"scope": "agent", "value": "claude-code"}, headers=h(srv.admin))
        assert r.status_code == 200 and r.json()["resumed"]
        assert _wait_for(lambda: [k.scope for k in store.kills()] == ["session"], 5), store.kills()
    finally:
        store.close()


def test_the_warm_daemon_runs_the_link_and_doctor_reports_when_none_runs(tmp_path: Path):
    srv = ServerProcess(tmp_path).start()
    env = _env(tmp_path, WARDEN_HOOK_DAEMON="1", WARDEN_HOOKD_IDLE="30")
    try:
        r = run_warden("login", srv.url, "--key", srv.key("dev-1", "agent"), env=env)
        assert r.returncode == 0, r.stderr.decode()
        doctor = json.loads(run_warden("doctor", "--json", env={**env, "WARDEN_HOOK_DAEMON": "0"}).stdout)
        link = next(f for f in doctor["checks"] if f["check"] == "server.link")
        assert link["status"] == "warn" and "not running" in link["summary"]

        hook = run_warden("hook", "claude-code", input=json.dumps({"hook_event_name": "PreToolUse", "tool_name": "Bash",
                                                                   "tool_input": {"command": "ls"}, "cwd": "/"}),
                          env=env)
        assert hook.returncode == 0, hook.stderr.decode()

        def online() -> bool:
            s = json.loads(run_warden("sync", "--status", "--json", env=env).stdout)
            return bool(s.get("running") and s.get("online"))

        assert _wait_for(online, 30, 0.2), run_warden("sync", "--status", env=env).stdout.decode()
        httpx.post(srv.url + "/v1/kill", json={"scope": "all", "reason": "drill"}, headers=h(srv.admin))
        store = open_state(tmp_path / "laptop")
        try:
            assert _wait_for(lambda: store.kills(), 5)
        finally:
            store.close()
        # the daemon's link also reported this machine's health to the dashboard's table
        def reported() -> list:
            machines = httpx.get(srv.url + "/v1/dashboard", headers=h(srv.admin)).json()["machines"]
            return [m for m in machines if m["owner"] == "dev-1" and m["doctor"]]

        mine = _wait_for(reported, 60, 0.5)[0]
        report = json.loads(mine["doctor"])
        assert "healthy" in report and "findings" in report and report["link"]["online"] is True
    finally:
        sock_dir = tmp_path / "laptop" / "run"
        for lock in sock_dir.glob("*.lock"):
            subprocess.run(["fuser", "-k", str(lock)], capture_output=True)
        srv.stop()


def test_one_shot_sync_mirrors_kills_and_routes_requests(tmp_path: Path):
    srv = ServerProcess(tmp_path).start()
    env = _env(tmp_path)
    try:
        assert run_warden("login", srv.url, "--key", srv.key("alice", "agent"), env=env).returncode == 0
        v = json.loads(run_warden("decide", input=json.dumps(DEPLOY), env=env).stdout)
        assert v["decision"] == "ask"
        httpx.post(srv.url + "/v1/kill", json={"scope": "session", "value": "other", "reason": "r"}, headers=h(srv.admin))
        r = run_warden("sync", "--json", env=env)
        assert r.returncode == 0, r.stderr.decode()
        out = json.loads(r.stdout)
        assert out["kills"] == 1 and out["routed"] == 1
        assert [x["id"] for x in httpx.get(srv.url + "/v1/approvals", headers=h(srv.admin)).json()] == [
            v["approval"]["id"]]
    finally:
        srv.stop()


def test_warden_server_link_0_keeps_the_daemon_from_starting_a_link(tmp_path: Path):
    srv = ServerProcess(tmp_path).start()
    env = _env(tmp_path, WARDEN_HOOK_DAEMON="1", WARDEN_HOOKD_IDLE="20", WARDEN_SERVER_LINK="0")
    try:
        assert run_warden("login", srv.url, "--key", srv.key("dev-2", "agent"), env=env).returncode == 0
        hook = run_warden("hook", "claude-code", input=json.dumps({"hook_event_name": "PreToolUse", "tool_name": "Bash",
                                                                   "tool_input": {"command": "ls"}, "cwd": "/"}),
                          env=env)
        assert hook.returncode == 0, hook.stderr.decode()
        time.sleep(3)  # the daemon is up (it answered); a link would be online by now
        status = json.loads(run_warden("sync", "--status", "--json", env=env).stdout)
        assert status["running"] is False
    finally:
        for lock in (tmp_path / "laptop" / "run").glob("*.lock"):
            subprocess.run(["fuser", "-k", str(lock)], capture_output=True)
        srv.stop()
