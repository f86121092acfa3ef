"""Claude Code settings: permissions, mode, hooks, sandbox -> agent paths, native permissions, findings."""

from __future__ import annotations

import json

import pytest

from tests.inventory.helpers import edge, make_repo, rules, scan

WARDEN_HOOK = {"PreToolUse": [{"matcher": "*", "hooks": [{"type": "command", "command": "warden hook claude-code"}]}]}

CASES = [
    # (name, files, {(action): (classification, native)}, findings present, findings absent)
    ("warden hook governs every tool", {".claude/settings.json": json.dumps(
        {"permissions": {"deny": ["Bash(git push:*)"], "allow": ["Bash(make test)"]}, "hooks": WARDEN_HOOK})},
     {"push": ("approval-required", "deny"), "run-shell": ("allowed", "allow"), "read-code": ("allowed", "allow")},
     set(), {"claude-bypass-permissions", "ungoverned-agent"}),
    ("hook on Bash only leaves the file tools ungoverned", {".claude/settings.json": json.dumps(
        {"hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "/usr/bin/warden hook claude-code"}]}]}})},
     {"run-shell": ("allowed", "ask"), "write-code": ("ungoverned", "ask"), "read-code": ("ungoverned", "allow")},
     {"ungoverned-agent"}, set()),
    ("bypassPermissions is a finding", {".claude/settings.json": json.dumps({"permissions": {"defaultMode": "bypassPermissions"}})},
     {"push": ("ungoverned", "allow")}, {"claude-bypass-permissions", "ungoverned-agent"}, set()),
    ("allow Bash is a finding", {".claude/settings.json": json.dumps({"permissions": {"allow": ["Bash"]}})},
     {"run-shell": ("ungoverned", "allow")}, {"claude-allow-any-shell"}, set()),
    ("disableAllHooks voids the Warden hook", {".claude/settings.json": json.dumps({"disableAllHooks": True, "hooks": WARDEN_HOOK})},
     {"run-shell": ("ungoverned", "ask")}, {"claude-hooks-disabled", "ungoverned-agent"}, set()),
    ("CLAUDE.md alone means Claude Code works here", {"CLAUDE.md": "# notes\n"},
     {"write-code": ("ungoverned", "ask")}, {"ungoverned-agent"}, set()),
    ("local settings add to project settings", {".claude/settings.json": json.dumps({"hooks": WARDEN_HOOK}),
                                                ".claude/settings.local.json": json.dumps({"permissions": {"defaultMode": "acceptEdits"}})},
     {"write-code": ("allowed", "allow")}, set(), {"ungoverned-agent"}),
    ("enableAllProjectMcpServers", {".claude/settings.json": json.dumps({"enableAllProjectMcpServers": True})},
     {}, {"claude-all-project-mcp"}, set()),
]


@pytest.mark.parametrize("name,files,paths,present,absent", CASES, ids=[c[0] for c in CASES])
def test_claude_settings(tmp_path, name, files, paths, present, absent):
    inv = scan(make_repo(tmp_path / "repo", files))
    for action, (classification, native) in paths.items():
        e = edge(inv, "claude-code", action)
        assert (e.classification, e.native) == (classification, native), (action, e.to_json())
    assert present <= rules(inv)
    assert not (absent & rules(inv))


def test_malformed_settings_are_reported_and_the_agent_still_mapped(tmp_path):
    inv = scan(make_repo(tmp_path / "repo", {".claude/settings.json": '{"permissions": {"allow": [', "CLAUDE.md": "x"}))
    assert [p.kind for p in inv.problems if p.path == ".claude/settings.json"] == ["malformed"]
    assert "file-malformed" in rules(inv)
    assert edge(inv, "claude-code", "run-shell").classification == "ungoverned"


def test_user_hook_governs_project_agent_only_with_user_scan(tmp_path):
    repo = make_repo(tmp_path / "repo", {"CLAUDE.md": "x"})
    home = make_repo(tmp_path / "home", {".claude/settings.json": json.dumps({"hooks": WARDEN_HOOK})}, git=False)
    assert edge(scan(repo), "claude-code", "push").classification == "ungoverned"
    inv = scan(repo, user_home=home)
    project_push = next(e for e in inv.edges.values() if e.repo == "repo" and e.action == "push")
    assert project_push.classification == "approval-required"
    assert project_push.controls == ["warden-hook:claude-code (user settings)"]
    assert not inv.meta["notes"]
