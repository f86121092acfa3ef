"""`warden hook claude-code`: every kind of bad input fails closed in Claude Code's blocking form.

(The protocol mapping itself is covered by tests/test_claude_hook.py.)
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from agent_helpers import POLICY, hook


@pytest.fixture
def project(workspace: Path, warden_home: Path) -> Path:
    (workspace / "warden.yaml").write_text(POLICY)
    return workspace


TRUNCATED_POST = json.dumps({"hook_event_name": "PostToolUse", "tool_name": "Bash",
                             "tool_response": {"stdout": "x"}}).encode()[:-8]
BAD_INPUT = [
    ("not json", b"{{{", "block"),
    ("json string", b'"PreToolUse"', "block"),
    ("oversized", b'{"hook_event_name": "PreToolUse", "pad": "' + b"x" * (16 * 1024 * 1024) + b'"}', "block"),
    ("truncated PreToolUse", b'{"hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_in', "block"),
    ("truncated PostToolUse", TRUNCATED_POST, "withhold"),
    ("no event name", b'{"tool_name": "Bash", "tool_input": {"command": "ls"}}', "block"),
    ("unknown event", b'{"hook_event_name": "PreEverything", "tool_name": "Bash"}', "block"),
    ("Bash without command", b'{"hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_input": {}}', "deny"),
    ("truncated Stop", b'{"hook_event_name": "Stop", "stop_hook_act', "warn"),
]


@pytest.mark.parametrize(("name", "raw", "form"), BAD_INPUT, ids=[b[0] for b in BAD_INPUT])
def test_bad_input_fails_closed_in_claude_code_form(project: Path, name: str, raw: bytes, form: str):
    proc = hook("claude-code", None, project, raw=raw)
    if form == "block":  # only exit 2 blocks in Claude Code; exit 1 lets the tool run
        assert proc.returncode == 2 and proc.stdout == b"" and b"Warden blocked this" in proc.stderr
    elif form == "withhold":  # the output exists already: replace what the model sees
        out = json.loads(proc.stdout)["hookSpecificOutput"]
        assert proc.returncode == 0 and "withheld by Warden" in out["updatedToolOutput"]["stdout"]
    elif form == "deny":  # a parsed event with an invalid action: a deny verdict with the reason
        out = json.loads(proc.stdout)["hookSpecificOutput"]
        assert out["permissionDecision"] == "deny" and "command" in out["permissionDecisionReason"]
    else:  # blocking Stop would keep the agent looping: warn on stderr instead
        assert proc.returncode == 1 and b"warden:" in proc.stderr


def test_events_warden_does_not_install_get_no_opinion(project: Path):
    proc = hook("claude-code", {"hook_event_name": "Notification", "message": "hi", "cwd": str(project)}, project)
    assert (proc.returncode, proc.stdout) == (0, b"")


def test_every_agent_has_a_hook_module_an_installer_and_doctor_checks():
    import importlib

    from warden.cli.hook import AGENTS as CLI_AGENTS
    from warden.integrations.agents import INSTALLERS, doctor_checks
    from warden.integrations.hook import AGENTS

    assert set(AGENTS) == set(INSTALLERS) == set(CLI_AGENTS) == {"claude-code", "codex", "copilot", "gemini", "cursor"}
    for agent, module in AGENTS.items():
        protocol = importlib.import_module(module)
        assert callable(protocol.respond) and callable(protocol.failure) and callable(protocol.event_of)
        installer = importlib.import_module(INSTALLERS[agent])
        assert "project" in installer.SCOPES and callable(installer.install) and callable(installer.uninstall)
    # the doctor entry point runs every agent's checks (Claude Code's come from `warden doctor` itself)
    checks = doctor_checks(environ={"HOME": "/nonexistent", "PATH": "/nonexistent"}, project_dir="/nonexistent",
                           probe_binary=False)
    assert {c.agent for c in checks} == {"codex", "copilot", "gemini", "cursor"}
    assert all(c.status in ("ok", "warn", "error") and (c.status == "ok" or c.fix) for c in checks)
