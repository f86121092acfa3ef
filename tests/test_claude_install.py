"""`warden install|uninstall claude-code`: merge, idempotence, backup, exact removal."""

from __future__ import annotations

import json
import subprocess
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
EVENTS = {"PreToolUse", "PermissionRequest", "PostToolUse", "UserPromptSubmit", "SessionStart", "SessionEnd", "Stop"}


def settings(project: Path) -> Path:
    return project / ".claude" / "settings.json"


def warden_entries(data: dict) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for event, groups in data.get("hooks", {}).items():
        for group in groups:
            for h in group.get("hooks", []):
                if " hook claude-code" in h.get("command", ""):
                    found.setdefault(event, []).append({**h, "matcher": group.get("matcher")})
    return found


@pytest.fixture(autouse=True)
def _warden_home(warden_home: Path) -> Path:
    return warden_home  # backups go under $WARDEN_HOME: never the real ~/.warden


def runs(entry: dict) -> str:
    """The warden program an installed hook command runs (after its is-it-installed check)."""
    import re

    return re.search(r"\}; (\S+) hook claude-code", entry["command"]).group(1)


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
        assert runs(entries[0]) == "warden"  # committed: portable, by name on PATH
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
    assert not [p.name for p in (project / ".claude").iterdir() if p.name != "settings.json"]  # nothing beside it


def test_reinstall_from_another_path_replaces_the_old_entry(project: Path):
    run_warden("install", "claude-code", "--command", "/old/venv/bin/warden", cwd=str(project))
    run_warden("install", "claude-code", cwd=str(project))
    commands = {runs(e) for es in warden_entries(json.loads(settings(project).read_text())).values() for e in es}
    assert commands == {"warden"}
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
    ours = warden_entries(json.loads((config / "settings.json").read_text()))
    assert set(ours) == EVENTS
    assert runs(ours["PreToolUse"][0]) == str(Path(WARDEN).resolve())  # stays on this machine: absolute


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


def _installed_command(project: Path, event: str = "PreToolUse") -> str:
    assert run_warden("install", "claude-code", "--project", cwd=str(project)).returncode == 0
    return warden_entries(json.loads(settings(project).read_text()))[event][0]["command"]


def _run_hook(command: str, path: str, project: Path) -> subprocess.CompletedProcess[bytes]:
    payload = {"hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_input": {"command": "ls"},
               "cwd": str(project), "session_id": "s", "tool_use_id": "t"}
    # Claude Code runs hook commands with /bin/sh -c (bash where it is sh)
    return subprocess.run(["/bin/sh", "-c", command], input=json.dumps(payload).encode(), capture_output=True,
                          env={"PATH": path, "HOME": str(project), "WARDEN_HOOK_DAEMON": "0",
                               "WARDEN_HOME": str(project / ".wh")}, cwd=str(project), timeout=60)


def test_committed_hook_fails_closed_where_warden_is_missing(project: Path):
    command = _installed_command(project)
    assert "/" not in command.split(" hook claude-code")[0].rsplit("; ", 1)[-1]
    assert str(Path(WARDEN).parent) not in settings(project).read_text()  # no machine path committed
    proc = _run_hook(command, "/usr/bin:/bin", project)
    assert proc.returncode == 2, proc
    assert b"not installed" in proc.stderr and b"pipx install warden" in proc.stderr


def test_committed_hook_fails_closed_where_warden_is_broken(project: Path, tmp_path: Path):
    command = _installed_command(project)
    broken = tmp_path / "bin"
    broken.mkdir()
    (broken / "warden").write_text("#!/bin/sh\necho 'Traceback: ModuleNotFoundError: warden' >&2\nexit 1\n")
    (broken / "warden").chmod(0o755)
    proc = _run_hook(command, f"{broken}:/usr/bin:/bin", project)
    assert proc.returncode == 2 and b"run warden doctor" in proc.stderr, proc


def test_committed_hook_answers_where_warden_is_on_path(project: Path):
    command = _installed_command(project)
    proc = _run_hook(command, f"{Path(WARDEN).parent}:/usr/bin:/bin", project)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["hookSpecificOutput"]["permissionDecision"] == "allow"


def test_stop_hook_warns_without_blocking_where_warden_is_missing(project: Path):
    command = _installed_command(project, "Stop")
    proc = _run_hook(command, "/usr/bin:/bin", project)
    assert proc.returncode == 1 and b"not installed" in proc.stderr  # exit 2 on Stop would loop the agent


def test_user_scope_absolute_path_also_fails_closed(tmp_path: Path):
    config = tmp_path / "cfg"
    run_warden("install", "claude-code", "--user", "--command", str(tmp_path / "gone" / "warden"),
               env={"CLAUDE_CONFIG_DIR": str(config)})
    command = warden_entries(json.loads((config / "settings.json").read_text()))["PreToolUse"][0]["command"]
    proc = _run_hook(command, "/usr/bin:/bin", tmp_path)
    assert proc.returncode == 2 and b"not installed" in proc.stderr
