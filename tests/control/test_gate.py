"""The stateful decision through the real gateway: queue, grants, SoD, kill, limits, loops, taint, audit."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from warden.core.control.approvals import ApprovalError, Principal
from warden.core.control.kill import KillSwitch
from warden.gateway import Gateway

POLICY = """
version: 1
default: ask
disable: [ask-packages, ask-network]
settings:
  loop_breaker: {repeat: 6, effect: deny}
rules:
  - id: ask-push
    effect: ask
    reason: Pushing publishes commits
    facts: [git.push]
    approval: {route: queue, expires: 5m, grant: once}
  - id: ask-deploy
    effect: ask
    reason: Deploys need two people
    program: [deploy]
    approval: {route: queue, quorum: 2, grant: session, approvers: {role: [release-manager]}}
  - id: allow-pip
    effect: allow
    reason: package installs are fine here
    facts: [pkg.install]
    limit: {max: 3/session, on_exceed: deny}
  - id: allow-fetch
    effect: allow
    reason: docs
    tool: [WebFetch]
  - id: allow-curl
    effect: allow
    reason: uploads to our API are fine
    program: [curl, echo, ls, git, deploy]
  - id: taint-ask-upload
    effect: ask
    reason: untrusted content entered the session; uploads need approval
    tainted: true
    facts: [net.upload]
"""


@pytest.fixture
def gw(tmp_path: Path, workspace: Path):
    (workspace / "warden.yaml").write_text(POLICY)
    home = tmp_path / "wh"
    # named explicitly: the user chose it, so its loosening (disable:) applies (a found warden.yaml is untrusted)
    g = Gateway(cwd=str(workspace), policy_file=str(workspace / "warden.yaml"), home=home, environ={"HOME": str(tmp_path)},
                audit=True)
    yield g
    g.close()


def bash(gw, command: str, session: str = "s1", actor: str = "alice", tool_use_id: str = "t1"):
    return gw.decide_payload({"tool_name": "Bash", "tool_input": {"command": command}, "cwd": gw.cwd,
                              "session_id": session, "tool_use_id": tool_use_id,
                              "actor": {"id": actor, "agent": "claude-code"}})


def events(gw, kind: str = "control"):
    return [e for e in gw._open_recorder().store.iter_events() if e["kind"] == kind]


def test_queued_ask_then_approval_by_another_person_allows_once(gw) -> None:
    v = bash(gw, "git push origin feature")
    assert v.decision.label == "ask" and v.approval and v.approval["status"] == "pending"
    rid = v.approval["id"]
    assert f"warden approvals approve {rid}" in v.reason and "retry after approval" in v.reason
    again = bash(gw, "git push origin feature", tool_use_id="t2")
    assert again.approval["id"] == rid  # the retry waits on the same request
    store = gw.state()
    card = store.get_request(rid).card
    assert card["command"] == "git push origin feature" and "ask-push" in [r["id"] for r in card["rules"]]
    with pytest.raises(ApprovalError, match="separation of duties"):
        store.vote(rid, Principal("alice"), True, "", time.time())
    store.vote(rid, Principal("bob"), True, "ok", time.time())
    allowed = bash(gw, "git push origin feature", tool_use_id="t3")
    assert allowed.decision.label == "allow" and "approved by bob" in allowed.reason
    assert bash(gw, "git push origin feature", tool_use_id="t4").decision.label == "ask"  # once means once
    changed = bash(gw, "git push origin other", tool_use_id="t5")
    assert changed.approval["id"] != rid  # a changed command is a new request
    ops = [e["op"] for e in events(gw)]
    assert ops.count("approval.request") == 3 and ops.count("grant.use") == 1


def test_quorum_and_roles_then_session_grant(gw) -> None:
    rid = bash(gw, "deploy web").approval["id"]
    store = gw.state()
    with pytest.raises(ApprovalError, match="not an approver"):
        store.vote(rid, Principal("bob"), True, "", time.time())
    store.vote(rid, Principal("bob", ("release-manager",)), True, "", time.time())
    assert bash(gw, "deploy web").decision.label == "ask"
    store.vote(rid, Principal("carol", ("release-manager",)), True, "", time.time())
    assert bash(gw, "deploy web --fast").decision.label == "allow"  # session grant: same shape
    assert bash(gw, "deploy web", session="s2").decision.label == "ask"


def test_kill_switch_denies_and_resume_lifts(gw) -> None:
    store = gw.state()
    store.kill(KillSwitch("agent", "claude-code", "runaway loop", "bob", time.time()))
    v = bash(gw, "ls")
    assert v.decision.label == "deny" and "runaway loop" in v.reason and v.rules[0].id == "warden.kill"
    store.resume("agent", "claude-code")
    assert bash(gw, "ls").decision.label == "allow"


def test_limit_refuses_the_fourth_install_and_alerts(gw) -> None:
    got = [bash(gw, f"pip install pkg{i}", tool_use_id=f"i{i}").decision.label for i in range(4)]
    assert got == ["allow", "allow", "allow", "deny"]
    alert = [e for e in events(gw) if e["op"] == "limit.exceeded"]
    assert alert and alert[0]["data"]["count"] == 4 and alert[0]["decision_id"]
    assert bash(gw, "pip install x", session="s2").decision.label == "allow"  # per session


def test_loop_breaker(gw) -> None:
    got = [bash(gw, "ls -la").decision.label for _ in range(6)]
    assert got == ["allow"] * 5 + ["deny"]
    assert bash(gw, "ls").decision.label == "allow"  # a different action resets the run


def test_webfetch_taints_the_session_and_upload_escalates(gw) -> None:
    assert bash(gw, "curl -d @data.json https://api.example.com/").decision.label == "allow"
    fetch = gw.decide_payload({"tool_name": "WebFetch", "tool_input": {"url": "https://evil.example/p", "prompt": "x"},
                               "cwd": gw.cwd, "session_id": "s1", "actor": {"id": "alice", "agent": "claude-code"}})
    assert fetch.decision.label == "allow"
    v = bash(gw, "curl -d @data.json https://api.example.com/")
    assert v.decision.label == "ask" and "taint-ask-upload" in [r.id for r in v.rules]
    assert "evil.example" in v.reason
    assert any(f.kind == "session.tainted" for f in v.facts)
    assert bash(gw, "curl -d @data.json https://api.example.com/", session="s9").decision.label == "allow"


def test_unreadable_state_fails_closed(gw, tmp_path: Path) -> None:
    from warden.adapters.control import UnavailableState

    gw._state = UnavailableState("state.db is corrupt")
    v = bash(gw, "ls")
    assert v.decision.label == "deny" and "kill-switch state cannot be read" in v.reason


def test_unwritable_counters_fail_closed(gw) -> None:
    class CountsBroken:
        def __init__(self, real):
            self.real = real

        def __getattr__(self, name):
            return getattr(self.real, name)

        def count(self, *a, **k):
            from warden.ports import StateError

            raise StateError("state.db is read-only")

    gw._state = CountsBroken(gw.state())
    v = bash(gw, "pip install requests")
    assert v.decision.label == "deny" and "cannot be counted" in v.reason and "read-only" in v.reason
