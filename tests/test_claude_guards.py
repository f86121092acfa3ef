"""Claude Code guards that must act: the sandbox rewrite, asks recorded as approvals, an honest
session summary. Through the real `warden hook claude-code` binary (the e2e tests drive the real CLI)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from warden_cli import run_warden


@pytest.fixture
def project(workspace: Path, warden_home: Path) -> Path:
    warden_home.mkdir(parents=True, exist_ok=True)
    return workspace


def hook(project: Path, event: str, **fields) -> dict:
    payload = {"session_id": "sess-g", "transcript_path": "/dev/null", "cwd": str(project),
               "hook_event_name": event, **fields}
    proc = run_warden("hook", "claude-code", input=json.dumps(payload), cwd=str(project),
                      env={"CLAUDE_PROJECT_DIR": str(project), "WARDEN_HOOK_DAEMON": "0", "WARDEN_ACTOR": "dev@corp"})
    assert proc.returncode == 0, proc.stderr.decode()
    return json.loads(proc.stdout) if proc.stdout.strip() else {}


def pre(project: Path, command: str, tool_use_id: str) -> dict:
    return hook(project, "PreToolUse", tool_name="Bash", tool_input={"command": command},
                tool_use_id=tool_use_id)["hookSpecificOutput"]


def events(project: Path) -> list[dict]:
    out = run_warden("audit", "query", "--session", "sess-g", "--json", cwd=str(project)).stdout.decode()
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_sandbox_mode_rewrites_allowed_and_asked_bash_but_never_a_deny(project: Path, warden_home: Path):
    (warden_home / "policy.yaml").write_text("version: 1\nsandbox: {claude_code: true}\n")
    allowed = pre(project, "ls -la", "t1")
    assert allowed["permissionDecision"] == "allow"
    rewritten = allowed["updatedInput"]["command"]
    assert " exec --profile default --workspace " in rewritten and rewritten.endswith("-- /bin/bash -c 'ls -la'")
    asked = pre(project, "git reset --hard", "t2")
    assert asked["permissionDecision"] == "ask" and "--grant " in asked["updatedInput"]["command"]
    assert "updatedInput" not in pre(project, "rm -rf ~", "t3")
    # the rewritten command runs the original inside bubblewrap, and its exit code comes back
    proc = subprocess.run(["/bin/sh", "-c", rewritten.replace("'ls -la'", "'echo in=$WARDEN_SANDBOX; exit 7'")],
                          cwd=project, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 7 and "in=default" in proc.stdout, proc.stderr


def test_without_sandbox_mode_nothing_is_rewritten(project: Path):
    assert "updatedInput" not in pre(project, "ls -la", "t1")


def test_grant_runs_an_asked_command_once_and_only_that_command(project: Path, warden_home: Path):
    (warden_home / "policy.yaml").write_text("version: 1\nsandbox: {claude_code: true}\n")
    rewritten = pre(project, "git stash drop", "t9")["updatedInput"]["command"]
    token = rewritten.split("--grant ", 1)[1].split()[0]
    other = run_warden("exec", "--grant", token, "--", "/bin/bash", "-c", "git clean -fdx", cwd=str(project))
    assert other.returncode == 126 and b"grant" in other.stderr  # another command: refused, grant spent
    again = run_warden("exec", "--grant", token, "--", "/bin/bash", "-c", "git stash drop", cwd=str(project))
    assert again.returncode == 126  # one use only


def test_permission_dialog_then_tool_run_is_an_approval(project: Path):
    pre(project, "git reset --hard", "t-yes")
    hook(project, "PermissionRequest", tool_name="Bash", tool_input={"command": "git reset --hard"},
         permission_suggestions=[])
    hook(project, "PostToolUse", tool_name="Bash", tool_input={"command": "git reset --hard"}, tool_use_id="t-yes",
         tool_response={"stdout": "HEAD is now at 123", "stderr": ""})
    evs = events(project)
    decision = next(e for e in evs if e["kind"] == "decision" and e["tool_use_id"] == "t-yes")
    approval = next(e for e in evs if e["kind"] == "approval")
    assert approval["decision_id"] == decision["id"] and approval["granted"] is True
    assert approval["approver"] == {"id": "dev@corp", "via": "claude-code permission dialog"}
    outcome = next(e for e in evs if e["kind"] == "outcome")
    assert outcome["decision_id"] == decision["id"]
    assert [e["kind"] for e in evs].index("approval") < [e["kind"] for e in evs].index("outcome")


def test_unanswered_ask_is_a_refusal_at_the_end_of_the_turn(project: Path):
    pre(project, "git clean -fdx", "t-no")
    pre(project, "ls", "t-allow")  # allows are not approvals
    hook(project, "Stop", stop_hook_active=False)
    hook(project, "Stop", stop_hook_active=False)  # recorded once
    approvals = [e for e in events(project) if e["kind"] == "approval"]
    assert len(approvals) == 1 and approvals[0]["granted"] is False
    assert approvals[0]["approver"]["via"] == "claude-code permission prompt"


def test_session_summary_does_not_call_a_context_bound_allow_unconditional(project: Path, warden_home: Path):
    (warden_home / "policy.yaml").write_text(
        "version: 1\nrules:\n  - id: allow-publish-on-ci\n    effect: allow\n    reason: Publishes packages from CI\n"
        "    command: ['npm publish']\n    context: {environment: [ci]}\n")
    context = hook(project, "SessionStart", source="startup")["hookSpecificOutput"]["additionalContext"]
    unconditional = context.split("Allowed without asking:", 1)[-1].split(".", 1)[0]
    assert "Publishes packages from CI" not in unconditional
    assert "Only for some users, agents, branches or environments" in context
    assert "allow: Publishes packages from CI" in context
    # the built-in branch-bound deny is not "always" either
    always = context.split("Always denied:", 1)[1].split(".", 1)[0]
    assert "Force-pushes the current branch while it is protected" not in always
