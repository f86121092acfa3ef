"""The default policy keeps the agent away from the hooks that guard it and from Warden's state."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from warden_cli import run_warden


@pytest.fixture
def setup(tmp_path: Path, warden_home: Path):
    home = tmp_path / "home"
    (home / ".claude").mkdir(parents=True)
    ws = tmp_path / "project"
    (ws / ".git").mkdir(parents=True)
    (ws / ".claude").mkdir()
    return ws, home, warden_home


def decide_via_hook(ws: Path, home: Path, tool: str, tool_input: dict) -> dict:
    payload = {"session_id": "s", "cwd": str(ws), "hook_event_name": "PreToolUse", "tool_name": tool,
               "tool_input": tool_input, "tool_use_id": "t"}
    proc = run_warden("hook", "claude-code", input=json.dumps(payload),
                      env={"HOME": str(home), "CLAUDE_PROJECT_DIR": str(ws), "WARDEN_HOOK_DAEMON": "0"},
                      cwd=str(ws))
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)["hookSpecificOutput"]


@pytest.mark.parametrize("target", [
    "{ws}/.claude/settings.json", "{ws}/.claude/settings.local.json", "{home}/.claude/settings.json",
    "{ws}/warden.yaml", "{ws}/.warden/policy.yaml", "{warden_home}/policy.yaml",
])
def test_file_tools_cannot_change_hooks_or_policy(setup, target: str):
    ws, home, warden_home = setup
    path = target.format(ws=ws, home=home, warden_home=warden_home)
    for tool, tool_input in (("Write", {"file_path": path, "content": "{}"}),
                             ("Edit", {"file_path": path, "old_string": "deny", "new_string": "allow"})):
        out = decide_via_hook(ws, home, tool, tool_input)
        assert out["permissionDecision"] == "deny", (tool, path, out)


@pytest.mark.parametrize("command", [
    "echo '{}' > .claude/settings.json",
    "sed -i s/warden/true/ .claude/settings.json",
    "rm -rf {warden_home}",
    "cp /dev/null warden.yaml",
    "mv ~/.claude/settings.json /dev/null",
])
def test_shell_cannot_change_hooks_or_warden_state(setup, command: str):
    ws, home, warden_home = setup
    out = decide_via_hook(ws, home, "Bash", {"command": command.replace("{warden_home}", str(warden_home))})
    assert out["permissionDecision"] == "deny", (command, out)


def test_ordinary_workspace_edits_stay_allowed(setup):
    ws, home, _ = setup
    out = decide_via_hook(ws, home, "Write", {"file_path": str(ws / "src" / "app.py"), "content": "x = 1\n"})
    assert out["permissionDecision"] == "allow", out
    out = decide_via_hook(ws, home, "Read", {"file_path": str(ws / ".claude" / "settings.json")})
    assert out["permissionDecision"] == "allow", out
