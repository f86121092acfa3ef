"""Copilot, Gemini CLI and Cursor: their hooks, permission settings and presence markers."""

from __future__ import annotations

import json

import pytest

from tests.inventory.helpers import edge, make_repo, rules, scan

CASES = [
    ("copilot repo hook", {".github/hooks/warden.json": json.dumps(
        {"version": 1, "hooks": {"preToolUse": [{"type": "command", "bash": "warden hook copilot", "timeoutSec": 10}]}})},
     "copilot", {"push": "approval-required", "read-code": "allowed"}, set()),
    ("copilot instructions only", {".github/copilot-instructions.md": "Be brief."}, "copilot", {"push": "ungoverned"},
     {"ungoverned-agent"}),
    ("copilot coding agent", {".github/workflows/copilot-setup-steps.yml": "jobs:\n  copilot-setup-steps:\n    runs-on: x\n"},
     "copilot-coding-agent", {"open-pr": "ungoverned", "write-code": "ungoverned"}, set()),
    ("gemini BeforeTool hook on the shell", {".gemini/settings.json": json.dumps(
        {"hooks": {"BeforeTool": [{"matcher": "run_shell_command", "hooks": [{"type": "command", "command": "warden hook gemini"}]}]}})},
     "gemini", {"run-shell": "allowed", "push": "approval-required", "write-code": "ungoverned"}, set()),
    ("gemini yolo", {".gemini/settings.json": json.dumps({"general": {"defaultApprovalMode": "yolo"}})}, "gemini",
     {"push": "ungoverned"}, {"gemini-yolo"}),
    ("cursor shell hook", {".cursor/hooks.json": json.dumps(
        {"version": 1, "hooks": {"beforeShellExecution": [{"command": "warden hook cursor"}], "afterFileEdit": [{"command": "warden hook cursor"}]}})},
     "cursor", {"run-shell": "allowed", "write-code": "ungoverned"}, set()),
    ("cursorrules alone", {".cursorrules": "tabs"}, "cursor", {"run-shell": "ungoverned"}, set()),
]


@pytest.mark.parametrize("name,files,agent,paths,present", CASES, ids=[c[0] for c in CASES])
def test_agent(tmp_path, name, files, agent, paths, present):
    inv = scan(make_repo(tmp_path / "repo", files))
    for action, classification in paths.items():
        assert edge(inv, agent, action).classification == classification, action
    assert present <= rules(inv)


def test_gemini_policy_files_and_cursor_cli_permissions_are_native_rules(tmp_path):
    inv = scan(make_repo(tmp_path / "repo", {
        ".gemini/policies/team.toml": '[[rule]]\ntoolName = "run_shell_command"\ndecision = "deny"\npriority = 10\n',
        ".cursor/cli.json": json.dumps({"permissions": {"allow": ["Read(**)"], "deny": ["Shell(git push:*)"]}}),
    }))
    assert edge(inv, "gemini", "run-shell").native == "deny"
    assert inv.nodes["agent:repo:gemini"].detail["policy_rules"] == 1
    assert edge(inv, "cursor", "push").native == "deny"
    assert edge(inv, "cursor", "read-code").native == "allow"
