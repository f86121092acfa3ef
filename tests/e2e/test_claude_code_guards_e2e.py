"""End to end with the real Claude Code CLI: guards that really act.

* sandbox mode (``sandbox.claude_code: true``): an allowed build command that writes outside the
  workspace fails inside the sandbox, ``$WARDEN_SANDBOX`` is set there, and its output and exit
  code still reach the model;
* asks become approval events: the "human" at the permission prompt (a tiny MCP prompt tool)
  approves one ask and refuses another; the audit log says which, by whom, linked to the decision;
* the committed hook fails closed on a machine without Warden: nothing runs, the model is told
  how to install it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from model_server import Turn  # noqa: E402
from test_claude_code_e2e import Session, _claude_or_skip, _session_root  # noqa: E402

pytestmark = pytest.mark.e2e

EMAIL = "reviewer@example.com"


def _git(ws: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(ws), *args], check=True, capture_output=True,
                   env={**os.environ, "HOME": str(ws.parent / "home")})


@pytest.fixture(scope="module")
def guarded():
    claude = _claude_or_skip()
    s = Session(_session_root("guards"))
    shutil.rmtree(s.workspace / ".git")
    (s.home / ".gitconfig").write_text(f"[user]\n\temail = {EMAIL}\n\tname = Reviewer\n")
    _git(s.workspace, "init", "-q", "-b", "main")
    s.warden_home.mkdir(parents=True, exist_ok=True)
    (s.warden_home / "policy.yaml").write_text("version: 1\nsandbox: {claude_code: true}\n")
    s.escape = s.outside / "pwned-by-make"
    (s.workspace / "Makefile").write_text(
        "all:\n\t@echo \"inside-sandbox=$$WARDEN_SANDBOX\"\n\ttouch " + str(s.escape) + "\n")
    (s.workspace / "scratch").mkdir()
    (s.workspace / "scratch" / "junk.txt").write_text("junk\n")
    s.prompt_log = s.root / "prompts.jsonl"
    mcp = s.root / "mcp.json"
    mcp.write_text(json.dumps({"mcpServers": {"prompt": {
        "command": sys.executable, "args": [str(HERE / "prompt_tool.py"), str(s.prompt_log), "clean"]}}}))
    s.commands = {"build": "make", "approved": "git clean -fdx scratch", "refused": "git reset --hard"}
    script = [Turn.bash(s.commands["build"], text="Building."), Turn.bash(s.commands["approved"]),
              Turn.bash(s.commands["refused"])]
    try:
        s.result, s.server = s.run(claude, script, "Build the project and tidy up", "--mcp-config", str(mcp),
                                   "--permission-prompt-tool", "mcp__prompt__approve")
        events = s.warden("audit", "query", "--session", s.result["session_id"], "--json").stdout
        s.events = [json.loads(line) for line in events.splitlines() if line.strip()]
        yield s
    finally:
        s.stop_daemon()
        shutil.rmtree(s.root, ignore_errors=True)


def test_allowed_command_runs_in_the_sandbox_and_cannot_write_outside(guarded):
    assert guarded.result.get("is_error") is False, guarded.result
    assert not guarded.escape.exists(), "the build wrote outside the workspace"
    build = next(r for r in guarded.server.tool_results() if "inside-sandbox=" in r)
    # the command's own output and failure reach the model, with the sandbox named inside
    assert "inside-sandbox=default" in build, build
    assert "Read-only file system" in build and "Error" in build, build


def test_approved_ask_ran_and_is_recorded_as_an_approval(guarded):
    assert not (guarded.workspace / "scratch").exists(), "the approved git clean did not run"
    decisions = {(e.get("input") or {}).get("command"): e for e in guarded.events if e["kind"] == "decision"}
    ask = decisions[guarded.commands["approved"]]
    assert ask["result"]["decision"] == "ask"
    approvals = {e["decision_id"]: e for e in guarded.events if e["kind"] == "approval"}
    granted = approvals[ask["id"]]
    assert granted["granted"] is True and granted["result"]["decision"] == "allow"
    assert granted["approver"]["id"] == EMAIL and "claude-code" in granted["approver"]["via"]
    assert granted["timestamp"] >= ask["timestamp"]


def test_refused_ask_is_recorded_as_a_refusal(guarded):
    decisions = {(e.get("input") or {}).get("command"): e for e in guarded.events if e["kind"] == "decision"}
    ask = decisions[guarded.commands["refused"]]
    assert ask["result"]["decision"] == "ask"
    refused = [e for e in guarded.events if e["kind"] == "approval" and e["decision_id"] == ask["id"]]
    assert len(refused) == 1 and refused[0]["granted"] is False and refused[0]["result"]["decision"] == "deny"
    # the reviewer saw both asks; the refusal came from the reviewer, not from Warden
    seen = [json.loads(line) for line in guarded.prompt_log.read_text().splitlines()]
    assert [x["decision"]["behavior"] for x in seen] == ["allow", "deny"]
    assert guarded.warden("audit", "verify").returncode == 0


def test_committed_hook_blocks_everything_where_warden_is_missing():
    claude = _claude_or_skip()
    s = Session(_session_root("nowarden"))  # installed with warden on PATH, as by the teammate who committed it
    marker = s.workspace / "ran-without-warden.txt"
    try:
        result, server = s.run(claude, [Turn.bash(f"touch {marker}")], "Make a file",
                               env={"PATH": "/usr/bin:/bin"})  # a teammate's machine: no Warden installed
    finally:
        s.stop_daemon()
        shutil.rmtree(s.root, ignore_errors=True)
    assert not marker.exists(), "the command ran unguarded"
    assert server.main_requests() == []  # blocked before anything reached the model or ran
    told = json.dumps(result)
    assert "blocked by hook" in told and "not installed" in told and "pipx install warden" in told, told
