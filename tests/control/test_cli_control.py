"""`warden approvals|kill|resume|status` as a user runs them: real processes, a real state store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from warden_cli import run_warden as _run


def run_warden(*args: str, env: dict | None = None, **kw):
    # never as if inside an agent session, unless a test says so
    return _run(*args, env={"CLAUDECODE": "", "CLAUDE_CODE_ENTRYPOINT": "", **(env or {})}, **kw)


POLICY = """
version: 1
rules:
  - id: ask-push
    effect: ask
    reason: Pushing publishes commits
    facts: [git.push]
    approval: {route: queue, expires: 10m}
  - id: allow-echo
    effect: allow
    reason: harmless
    program: [echo]
"""


@pytest.fixture
def env(warden_home: Path, workspace: Path, tmp_path: Path) -> dict[str, str]:
    (workspace / "warden.yaml").write_text(POLICY)
    e = {"WARDEN_HOME": str(warden_home), "HOME": str(tmp_path), "WARDEN_MANAGED_POLICY": ""}
    return e


def decide(env, workspace, command="git push origin feature", actor="alice"):
    payload = {"tool_name": "Bash", "tool_input": {"command": command}, "cwd": str(workspace), "session_id": "s1",
               "actor": {"id": actor, "agent": "claude-code"}}
    r = run_warden("decide", input=json.dumps(payload), env=env, cwd=workspace)
    return json.loads(r.stdout)


def control_ops(env) -> list[dict]:
    r = run_warden("audit", "query", "--kind", "control", "--json", env=env)
    assert r.returncode == 0, r.stderr
    return [json.loads(line) for line in r.stdout.decode().splitlines() if line.strip()]


def test_approve_from_another_process_then_the_retry_is_allowed(env, workspace) -> None:
    v = decide(env, workspace)
    rid = v["approval"]["id"]
    listed = json.loads(run_warden("approvals", "list", "--json", env=env).stdout)
    assert [r["id"] for r in listed] == [rid]
    shown = run_warden("approvals", "show", rid, env=env)
    assert b"git push origin feature" in shown.stdout and b"ask-push" in shown.stdout
    card = json.loads(run_warden("approvals", "show", rid, "--json", env=env).stdout)
    assert card["card"]["command"] == "git push origin feature"
    selfie = run_warden("approvals", "approve", rid, env={**env, "WARDEN_ACTOR": "alice"})
    assert selfie.returncode == 1 and b"separation of duties" in selfie.stderr
    from_agent = run_warden("approvals", "approve", rid, env={**env, "WARDEN_ACTOR": "bob", "CLAUDECODE": "1"})
    assert from_agent.returncode == 1 and b"inside an agent session" in from_agent.stderr
    ok = run_warden("approvals", "approve", rid, "--reason", "reviewed", "--json", env={**env, "WARDEN_ACTOR": "bob"})
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["status"] == "approved"
    again = run_warden("approvals", "approve", rid, env={**env, "WARDEN_ACTOR": "carol"})
    assert again.returncode == 1 and b"already approved" in again.stderr
    unknown = run_warden("approvals", "deny", "ap-nope", env={**env, "WARDEN_ACTOR": "carol"})
    assert unknown.returncode == 3
    assert decide(env, workspace)["decision"] == "allow"
    ops = [(e["op"], e["data"].get("code")) for e in control_ops(env)]
    assert ("approval.request", None) in ops and ("grant.use", None) in ops
    assert {("approval.refused", "self"), ("approval.refused", "agent-session"), ("approval.refused", "approved"),
            ("approval.refused", "unknown"), ("approval.vote", None)} <= set(ops)
    approvals = run_warden("audit", "query", "--kind", "approval", "--json", env=env).stdout.decode().splitlines()
    assert json.loads(approvals[0])["approver"]["id"] == "bob"
    pack = workspace.parent / "pack.zip"
    assert run_warden("evidence", "--session", "s1", "--out", str(pack), env=env).returncode == 0
    import zipfile

    with zipfile.ZipFile(pack) as z:
        per = json.loads(z.read("approvals_by_decision.json"))
    asked = [d for d in per.values() if any(s["step"] == "approval.request" for s in d["steps"])]
    assert asked and asked[0]["decision"]["subject"] == "git push origin feature"
    steps = [(s["step"], s["approver"]) for s in asked[0]["steps"]]
    assert ("approval.vote", "bob") in steps and ("approval", "bob") in steps
    assert any(x["step"] == "grant.use" for d in per.values() for x in d["steps"])


def test_denied_request_is_not_granted(env, workspace) -> None:
    rid = decide(env, workspace)["approval"]["id"]
    r = run_warden("approvals", "deny", rid, "--reason", "no", env={**env, "WARDEN_ACTOR": "bob"})
    assert r.returncode == 0 and b"denied" in r.stdout
    v = decide(env, workspace)
    assert v["decision"] == "ask" and v["approval"]["id"] != rid


def test_changed_policy_refuses_the_approval(env, workspace) -> None:
    rid = decide(env, workspace)["approval"]["id"]
    (workspace / "warden.yaml").write_text(POLICY + "  - id: allow-ls\n    effect: allow\n    reason: x\n    program: [ls]\n")
    r = run_warden("approvals", "approve", rid, env={**env, "WARDEN_ACTOR": "bob"})
    assert r.returncode == 1 and b"policy changed" in r.stderr


def test_kill_resume_status(env, workspace) -> None:
    r = run_warden("kill", "--agent", "claude-code", "--reason", "runaway", env=env)
    assert r.returncode == 0, r.stderr
    v = decide(env, workspace, "echo hi")
    assert v["decision"] == "deny" and "runaway" in v["reason"]
    st = json.loads(run_warden("status", "--json", env=env).stdout)
    assert st["kills"][0]["reason"] == "runaway"
    assert run_warden("kill", "--agent", "a", "--all", "--reason", "x", env=env).returncode == 2
    assert run_warden("resume", "--agent", "claude-code", env=env).returncode == 0
    assert decide(env, workspace, "echo hi")["decision"] == "allow"
    assert run_warden("resume", "--agent", "claude-code", env=env).returncode == 1
    assert [e["op"] for e in control_ops(env) if e["op"] in ("kill", "resume")] == ["kill", "resume"]


def test_broken_state_store_exit_code(env, warden_home) -> None:
    warden_home.mkdir(parents=True, exist_ok=True)
    (warden_home / "state.db").write_bytes(b"garbage" * 1000)
    r = run_warden("status", env=env)
    assert r.returncode == 4 and b"not a readable Warden state store" in r.stderr
