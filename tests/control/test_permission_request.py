"""Claude Code's PermissionRequest hook waits on a queued request and answers with its outcome."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from pathlib import Path

from warden_cli import WARDEN, run_warden

POLICY = ("version: 1\nrules:\n  - id: queue-push\n    effect: ask\n    reason: pushes need a second person\n"
          "    facts: [git.push]\n    approval: {route: queue, expires: 1m}\n")


def _payloads(workspace: Path, command: str) -> tuple[dict, dict]:
    base = {"session_id": "s-perm", "cwd": str(workspace), "tool_name": "Bash",
            "tool_input": {"command": command, "description": "push"}}
    return ({**base, "hook_event_name": "PreToolUse", "tool_use_id": "toolu_1"},
            {**base, "hook_event_name": "PermissionRequest", "permission_suggestions": []})


def _hook(payload: dict, env: dict, workspace: Path) -> subprocess.CompletedProcess:
    return subprocess.run([WARDEN, "hook", "claude-code", "--no-daemon", "--deadline", "30"],
                          input=json.dumps(payload).encode(), capture_output=True, env=env, cwd=workspace, timeout=60)


def _vote_soon(env: dict, verb: str, reason: str) -> threading.Thread:
    def work() -> None:
        for _ in range(100):
            pending = json.loads(run_warden("approvals", "list", "--json", env=env).stdout or "[]")
            if pending:
                run_warden("approvals", verb, pending[0]["id"], "--reason", reason,
                           env={**env, "WARDEN_ACTOR": "bob", "CLAUDECODE": ""})
                return
            time.sleep(0.1)

    t = threading.Thread(target=work)
    t.start()
    return t


def test_permission_request_waits_then_allows(warden_home: Path, workspace: Path) -> None:
    (workspace / "warden.yaml").write_text(POLICY)
    env = {**os.environ, "WARDEN_HOME": str(warden_home)}
    pre, perm = _payloads(workspace, "git push origin feature")
    out = json.loads(_hook(pre, env, workspace).stdout)["hookSpecificOutput"]
    assert out["permissionDecision"] == "ask" and "approval request ap-" in out["permissionDecisionReason"]
    voter = _vote_soon(env, "approve", "ok")
    started = time.monotonic()
    answer = _hook(perm, env, workspace)
    voter.join()
    decision = json.loads(answer.stdout)["hookSpecificOutput"]["decision"]
    assert decision == {"behavior": "allow"} and time.monotonic() - started < 20


def test_permission_request_denied_with_the_reason(warden_home: Path, workspace: Path) -> None:
    (workspace / "warden.yaml").write_text(POLICY)
    env = {**os.environ, "WARDEN_HOME": str(warden_home)}
    pre, perm = _payloads(workspace, "git push origin main-ish")
    _hook(pre, env, workspace)
    voter = _vote_soon(env, "deny", "release freeze")
    answer = _hook(perm, env, workspace)
    voter.join()
    decision = json.loads(answer.stdout)["hookSpecificOutput"]["decision"]
    assert decision["behavior"] == "deny" and "release freeze" in decision["message"]


def test_native_asks_are_left_to_claude_codes_dialog(warden_home: Path, workspace: Path) -> None:
    env = {**os.environ, "WARDEN_HOME": str(warden_home)}
    pre, perm = _payloads(workspace, "git push origin feature")  # recommended policy: a native ask
    _hook(pre, env, workspace)
    answer = _hook(perm, env, workspace)
    assert answer.returncode == 0 and answer.stdout == b""


def test_session_start_tells_the_model_about_a_kill_switch(warden_home: Path, workspace: Path) -> None:
    env = {**os.environ, "WARDEN_HOME": str(warden_home)}
    assert run_warden("kill", "--all", "--reason", "incident 42", env=env).returncode == 0
    start = {"hook_event_name": "SessionStart", "session_id": "s-k", "cwd": str(workspace), "source": "startup"}
    context = json.loads(_hook(start, env, workspace).stdout)["hookSpecificOutput"]["additionalContext"]
    assert context.startswith("WARDEN KILL SWITCH") and "incident 42" in context


def test_a_queued_call_that_ran_anyway_is_audited_as_a_bypass(warden_home: Path, workspace: Path) -> None:
    (workspace / "warden.yaml").write_text(POLICY)
    env = {**os.environ, "WARDEN_HOME": str(warden_home)}
    pre, _ = _payloads(workspace, "git push origin bypass")
    _hook(pre, env, workspace)
    post = {**pre, "hook_event_name": "PostToolUse", "tool_response": {"stdout": "pushed", "stderr": ""}}
    assert _hook(post, env, workspace).returncode == 0
    events = [json.loads(x) for x in run_warden("audit", "query", "--kind", "control", "--json", env=env)
              .stdout.decode().splitlines()]
    assert any(e["op"] == "approval.bypassed" and e["tool_use_id"] == "toolu_1" for e in events)


def test_a_queued_call_is_not_also_recorded_as_approved_in_the_dialog(warden_home: Path, workspace: Path) -> None:
    (workspace / "warden.yaml").write_text(POLICY)
    env = {**os.environ, "WARDEN_HOME": str(warden_home)}
    pre, perm = _payloads(workspace, "git push origin feature")
    _hook(pre, env, workspace)
    voter = _vote_soon(env, "approve", "ok")
    _hook(perm, env, workspace)
    voter.join()
    post = {**pre, "hook_event_name": "PostToolUse", "tool_response": {"stdout": "pushed", "stderr": ""}}
    assert _hook(post, env, workspace).returncode == 0
    approvals = [json.loads(x) for x in run_warden("audit", "query", "--kind", "approval", "--json", env=env)
                 .stdout.decode().splitlines()]
    assert [a["approver"]["id"] for a in approvals] == ["bob"]  # the queue's approver, and no one else
