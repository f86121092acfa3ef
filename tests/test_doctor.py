"""`warden doctor`: every control that cannot act is a loud finding with a fix; exit 1 on any problem."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from warden_cli import WARDEN, run_warden

BIN = str(Path(WARDEN).parent)


@pytest.fixture
def setup(tmp_path: Path, warden_home: Path) -> dict:
    home = tmp_path / "home"
    home.mkdir()
    ws = tmp_path / "proj"
    (ws / ".git").mkdir(parents=True)
    env = {"HOME": str(home), "PATH": f"{BIN}:/usr/bin:/bin", "WARDEN_EXPECT_MANAGED": "0",
           "CLAUDE_CONFIG_DIR": str(home / ".claude"), "WARDEN_HOOK_DAEMON": "0"}
    assert run_warden("install", "claude-code", "--project", cwd=str(ws), env=env).returncode == 0
    return {"ws": ws, "env": env, "home": home, "warden_home": warden_home}


def doctor(setup: dict, **env: str) -> tuple[int, dict[str, dict]]:
    proc = run_warden("doctor", "--json", cwd=str(setup["ws"]), env={**setup["env"], **env}, timeout=120)
    report = json.loads(proc.stdout)
    assert report["ok"] is (proc.returncode == 0), proc.stderr
    by_check: dict[str, dict] = {}
    for c in report["checks"]:
        by_check.setdefault(c["check"], c)
    return proc.returncode, by_check


def test_healthy_setup_passes_every_check(setup: dict):
    # one real hook call first, so there is an audit log to verify
    payload = json.dumps({"hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_input": {"command": "ls"},
                          "cwd": str(setup["ws"]), "session_id": "s"})
    run_warden("hook", "claude-code", input=payload, cwd=str(setup["ws"]), env=setup["env"])
    code, checks = doctor(setup)
    assert code == 0, checks
    for check in ("policy.loads", "audit.verifies", "sandbox.works", "claude-code.hooks.project",
                  "claude-code.answers.project:PreToolUse"):
        assert checks[check]["status"] == "ok", checks[check]
    assert "1 events verify" in checks["audit.verifies"]["summary"]
    assert checks["managed.in_force"]["status"] == "skip"
    human = run_warden("doctor", cwd=str(setup["ws"]), env=setup["env"], timeout=120).stdout.decode()
    assert "all checks passed" in human and "✔ claude-code.hooks.project" in human


def test_hook_command_that_cannot_run_fails_with_a_fix(setup: dict):
    code, checks = doctor(setup, PATH="/usr/bin:/bin")  # a teammate's machine without Warden
    assert code == 1
    answers = checks["claude-code.answers.project:PreToolUse"]
    assert answers["status"] == "fail" and "not installed" in answers["summary"] and "pipx" in answers["fix"]
    human = run_warden("doctor", cwd=str(setup["ws"]), env={**setup["env"], "PATH": "/usr/bin:/bin"},
                       timeout=120).stdout.decode()
    assert "✘ claude-code.answers" in human and "fix:" in human and "problem(s)" in human


def test_hooks_missing_or_disabled_are_failures(setup: dict):
    settings = setup["ws"] / ".claude" / "settings.json"
    data = json.loads(settings.read_text())
    settings.write_text(json.dumps({**data, "disableAllHooks": True}))
    code, checks = doctor(setup)
    assert code == 1 and "disableAllHooks" in checks["claude-code.hooks.project"]["summary"]
    settings.write_text("{}")
    code, checks = doctor(setup)
    assert code == 1 and checks["claude-code.hooks"]["status"] == "fail"
    assert checks["claude-code.hooks"]["fix"].startswith("warden install claude-code")


def test_broken_policy_and_tampered_audit_log_fail(setup: dict):
    payload = json.dumps({"hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_input": {"command": "ls"},
                          "cwd": str(setup["ws"]), "session_id": "s"})
    run_warden("hook", "claude-code", input=payload, cwd=str(setup["ws"]), env=setup["env"])
    with sqlite3.connect(setup["warden_home"] / "audit.db") as c:
        c.execute("UPDATE events SET body = replace(body, '\"ls\"', '\"lz\"')")
    (setup["ws"] / "warden.yaml").write_text("rules: [ {id: x, effect: maybe} ]\n")
    code, checks = doctor(setup)
    assert code == 1
    assert checks["policy.loads"]["status"] == "fail" and "warden policy validate" in checks["policy.loads"]["fix"]
    assert checks["audit.verifies"]["status"] == "fail" and "does not verify" in checks["audit.verifies"]["summary"]


def test_untrusted_project_loosening_is_a_warning(setup: dict):
    (setup["ws"] / "warden.yaml").write_text("version: 1\ndefault: allow\n")
    code, checks = doctor(setup)
    assert code == 1 and checks["policy.untrusted"]["status"] == "warn"
    assert "warden trust" in checks["policy.untrusted"]["fix"]


def test_managed_layer_expected_but_missing_then_in_force(setup: dict, tmp_path: Path):
    code, checks = doctor(setup, WARDEN_EXPECT_MANAGED="1")
    assert code == 1 and checks["managed.in_force"]["status"] == "fail"
    managed = tmp_path / "managed.yaml"
    managed.write_text(run_warden("policy", "template", "managed").stdout.decode())
    os.chmod(managed, 0o644)
    code, checks = doctor(setup, WARDEN_EXPECT_MANAGED="1", WARDEN_MANAGED_POLICY=str(managed))
    expected = "ok" if os.getuid() == 0 else "warn"  # a file the user owns is not a control
    assert checks["managed.in_force"]["status"] == expected, checks["managed.in_force"]


def test_checks_are_a_registry_other_modules_plug_into(setup: dict):
    from warden.integrations import doctor as registry

    def mine(ctx):
        yield registry.Finding("mcp.unwrapped", registry.FAIL, "server x is not wrapped", "warden mcp wrap x")

    def crashes(ctx):
        raise RuntimeError("boom")

    ctx = registry.context(str(setup["ws"]), environ=setup["env"])
    found = registry.run(ctx, only=[("tests:mine", mine), ("tests:crashes", crashes)])
    assert [f.status for f in found] == ["fail", "fail"]
    assert "crashed: RuntimeError: boom" in found[1].summary and not registry.healthy(found)
    assert "warden.integrations.agents.claude_code_doctor:checks" in registry.PROVIDERS
