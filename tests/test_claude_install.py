"""`warden install|uninstall claude-code`: merge, idempotence, backup, exact removal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from warden_cli import WARDEN, run_warden

ORIGINAL = (
    '{\n    "model": "claude-sonnet-4-5",\n    "permissions": {"allow": ["Bash(npm test)"], "deny": []},\n'
    '    "hooks": {\n        "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", '
    '"command": "/usr/local/bin/my-linter", "timeout": 5}]}],\n'
    '        "Notification": [{"hooks": [{"type": "command", "command": "notify-send hi"}]}]\n    },\n'
    '    "env": {"FOO": "bar"}\n}\n'
)
EVENTS = {"PreToolUse", "PostToolUse", "UserPromptSubmit", "SessionStart", "SessionEnd", "Stop"}


def settings(project: Path) -> Path:
    return project / ".claude" / "settings.json"


def warden_entries(data: dict) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for event, groups in data.get("hooks", {}).items():
        for group in groups:
            for h in group.get("hooks", []):
                if h.get("command", "").endswith(" hook claude-code"):
                    found.setdefault(event, []).append({**h, "matcher": group.get("matcher")})
    return found


@pytest.fixture
def project(tmp_path: Path) -> Path:
    p = tmp_path / "proj"
    (p / ".claude").mkdir(parents=True)
    settings(p).write_text(ORIGINAL)
    return p


def test_install_merges_and_uninstall_restores_byte_for_byte(project: Path):
    proc = run_warden("install", "claude-code", "--project", "--json", cwd=str(project))
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["changed"] is True and Path(report["backup"]).read_text() == ORIGINAL

    data = json.loads(settings(project).read_text())
    ours = warden_entries(data)
    assert set(ours) == EVENTS
    for entries in ours.values():
        assert len(entries) == 1
        assert entries[0]["command"] == f"{Path(WARDEN).resolve()} hook claude-code"
        assert entries[0]["timeout"] > 8  # above Warden's own deadline, so Warden answers first
    assert ours["PreToolUse"][0]["matcher"] == "*"
    # Unrelated settings and the user's own hooks survive untouched.
    original = json.loads(ORIGINAL)
    assert data["permissions"] == original["permissions"] and data["env"] == original["env"]
    assert original["hooks"]["PreToolUse"][0] in data["hooks"]["PreToolUse"]
    assert data["hooks"]["Notification"] == original["hooks"]["Notification"]

    proc = run_warden("uninstall", "claude-code", cwd=str(project))
    assert proc.returncode == 0, proc.stderr
    assert settings(project).read_text() == ORIGINAL


def test_install_is_idempotent(project: Path):
    assert run_warden("install", "claude-code", cwd=str(project)).returncode == 0
    first = settings(project).read_bytes()
    again = run_warden("install", "claude-code", "--json", cwd=str(project))
    assert json.loads(again.stdout)["changed"] is False
    assert settings(project).read_bytes() == first
    assert len(list((project / ".claude").glob("settings.json.warden-backup-*"))) == 1


def test_reinstall_from_another_path_replaces_the_old_entry(project: Path):
    run_warden("install", "claude-code", "--command", "/old/venv/bin/warden hook claude-code", cwd=str(project))
    run_warden("install", "claude-code", cwd=str(project))
    commands = {e["command"] for es in warden_entries(json.loads(settings(project).read_text())).values()
                for e in es}
    assert commands == {f"{Path(WARDEN).resolve()} hook claude-code"}
    run_warden("uninstall", "claude-code", cwd=str(project))
    assert settings(project).read_text() == ORIGINAL


def test_uninstall_keeps_changes_made_after_install(project: Path):
    run_warden("install", "claude-code", cwd=str(project))
    data = json.loads(settings(project).read_text())
    data["model"] = "changed-later"
    settings(project).write_text(json.dumps(data))
    assert run_warden("uninstall", "claude-code", cwd=str(project)).returncode == 0
    after = json.loads(settings(project).read_text())
    assert after["model"] == "changed-later"
    assert warden_entries(after) == {}
    assert after["hooks"]["PreToolUse"] == json.loads(ORIGINAL)["hooks"]["PreToolUse"]


def test_install_into_a_fresh_project_and_remove_again(tmp_path: Path):
    proj = tmp_path / "fresh"
    proj.mkdir()
    assert run_warden("install", "claude-code", "--dir", str(proj)).returncode == 0
    assert set(warden_entries(json.loads(settings(proj).read_text()))) == EVENTS
    proc = run_warden("uninstall", "claude-code", "--dir", str(proj), "--json")
    assert json.loads(proc.stdout)["deleted_file"] is True
    assert not settings(proj).exists()


def test_user_scope_uses_claude_config_dir(tmp_path: Path):
    config = tmp_path / "cfg"
    proc = run_warden("install", "claude-code", "--user", env={"CLAUDE_CONFIG_DIR": str(config)})
    assert proc.returncode == 0, proc.stderr
    assert set(warden_entries(json.loads((config / "settings.json").read_text()))) == EVENTS


def test_broken_settings_file_is_left_alone(project: Path):
    settings(project).write_text("{ not json")
    proc = run_warden("install", "claude-code", cwd=str(project))
    assert proc.returncode == 2
    assert b"not valid JSON" in proc.stderr
    assert settings(project).read_text() == "{ not json"
    assert not list((project / ".claude").glob("settings.json.warden-backup-*"))


def test_uninstall_without_warden_entries_changes_nothing(project: Path):
    proc = run_warden("uninstall", "claude-code", cwd=str(project))
    assert proc.returncode == 0 and b"nothing changed" in proc.stdout
    assert settings(project).read_text() == ORIGINAL
