"""`warden hook copilot` and `warden install copilot`: protocol, fail-closed table, trust, doctor."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from agent_helpers import POLICY, SECRET, hook
from warden_cli import run_warden

from warden.integrations.agents import copilot_install


@pytest.fixture
def project(workspace: Path, warden_home: Path) -> Path:
    (workspace / "warden.yaml").write_text(POLICY)
    return workspace


def event(project: Path, **fields: object) -> dict:
    return {"sessionId": "c1", "timestamp": 1796411105595, "cwd": str(project), **fields}


def run(name: str, payload: object, project: Path, **kw):
    return hook("copilot", payload, project, "--event", name, **kw)


def test_pre_tool_use_maps_tools_and_answers_in_copilot_form(project: Path):
    assert run("preToolUse", event(project, toolName="bash", toolArgs={"command": "ls"}), project).stdout == b""
    out = json.loads(run("preToolUse", event(project, toolName="bash", toolArgs={"command": "rm -rf ~"}),
                         project).stdout)
    assert out["permissionDecision"] == "deny" and out["permissionDecisionReason"].startswith("Warden denied")
    ask = json.loads(run("preToolUse", event(project, toolName="bash", toolArgs={"command": "npm i left-pad"}),
                         project).stdout)
    assert ask["permissionDecision"] == "ask"  # Copilot asks itself (and denies when it cannot, in -p)
    key = event(project, toolName="view", toolArgs={"path": str(Path.home() / ".ssh" / "id_rsa")})
    assert json.loads(run("preToolUse", key, project).stdout)["permissionDecision"] == "deny"
    patch = "*** Begin Patch\n*** Add File: /etc/cron.d/x\n+* * * * * root sh\n*** End Patch\n"
    out = json.loads(run("preToolUse", event(project, toolName="apply_patch", toolArgs={"input": patch}),
                         project).stdout)
    assert out["permissionDecision"] in ("ask", "deny")


def test_post_tool_use_replaces_secrets_in_what_the_model_sees(project: Path):
    payload = event(project, toolName="bash", toolArgs={"command": "cat .env"},
                    toolResult={"resultType": "success", "textResultForLlm": f"x\ntoken={SECRET}\n"})
    out = json.loads(run("postToolUse", payload, project).stdout)["modifiedResult"]
    assert out["resultType"] == "success" and "[REDACTED:" in out["textResultForLlm"]
    assert SECRET not in json.dumps(out)


def test_prompt_secret_is_replaced_and_permission_request_denies_what_policy_denies(project: Path):
    out = json.loads(run("userPromptSubmitted", event(project, prompt=f"use {SECRET}"), project).stdout)
    assert SECRET not in out["modifiedPrompt"] and "[REDACTED:" in out["modifiedPrompt"]
    deny = event(project, hookName="permissionRequest", toolName="bash", toolInput={"command": "rm -rf ~"},
                 permissionSuggestions=[])
    assert json.loads(run("permissionRequest", deny, project).stdout)["behavior"] == "deny"
    start = json.loads(run("sessionStart", event(project, source="new"), project).stdout)
    assert "Warden checks every tool call" in start["additionalContext"]


BAD_INPUT = [
    ("not json", "preToolUse", b"]]", "deny"),
    ("json list", "preToolUse", b"[]", "deny"),
    ("oversized", "preToolUse", b'{"toolName": "bash", "pad": "' + b"x" * (16 * 1024 * 1024) + b'"}', "deny"),
    ("truncated", "preToolUse", b'{"toolName": "bash", "toolArgs": {"comm', "deny"),
    ("missing toolName", "preToolUse", b'{"toolArgs": {"command": "ls"}}', "deny"),
    ("toolArgs not an object", "preToolUse", b'{"toolName": "bash", "toolArgs": "ls"}', "deny"),
    ("bash without command", "preToolUse", b'{"toolName": "bash", "toolArgs": {}}', "deny"),
    ("unknown event", "beforeEverything", b'{"toolName": "bash"}', "deny"),
    ("truncated postToolUse", "postToolUse", b'{"toolName": "bash", "toolResult": {"textRes', "withhold"),
    ("postToolUse without result", "postToolUse", b'{"toolName": "bash", "toolArgs": {}}', "withhold"),
    ("permissionRequest without input", "permissionRequest", b'{"toolName": "bash"}', "deny-permission"),
]


@pytest.mark.parametrize(("name", "event_name", "raw", "form"), BAD_INPUT, ids=[b[0] for b in BAD_INPUT])
def test_bad_input_fails_closed_in_copilot_form(project: Path, name: str, event_name: str, raw: bytes, form: str):
    proc = run(event_name, None, project, raw=raw)
    assert b"Warden blocked this" in proc.stderr
    body = json.loads(proc.stdout)  # never non-JSON: Copilot runs the tool when it cannot parse the answer
    if form == "deny":
        assert proc.returncode == 2 and body["permissionDecision"] == "deny"
    elif form == "withhold":
        assert proc.returncode == 0 and "withheld by Warden" in body["modifiedResult"]["textResultForLlm"]
    else:
        assert proc.returncode == 0 and body["behavior"] == "deny"


def test_missing_event_argument_and_newer_copilot_fail_closed(project: Path):
    proc = hook("copilot", event(project, toolName="bash", toolArgs={"command": "ls"}), project)
    assert proc.returncode == 2 and b"--event" in proc.stderr
    payload = event(project, toolName="bash", toolArgs={"command": "ls"})
    newer = run("preToolUse", payload, project, env={"COPILOT_CLI_BINARY_VERSION": "1.9.0"})
    assert newer.returncode == 2 and b"1.9.0 is newer than" in newer.stderr
    same = run("preToolUse", payload, project, env={"COPILOT_CLI_BINARY_VERSION": "1.0.140"})
    assert (same.returncode, same.stdout) == (0, b"")


def test_user_install_idempotent_and_byte_exact(tmp_path: Path, project: Path):
    home = tmp_path / "copilot-home"
    home.mkdir()
    original = '{\n  "model": "gpt-5.4",\n  "hooks": {"sessionStart": [{"type": "command", "bash": "echo hi"}]}\n}\n'
    (home / "settings.json").write_text(original)
    env = {"COPILOT_HOME": str(home)}
    first = json.loads(run_warden("install", "copilot", "--user", "--json", env=env, cwd=str(project)).stdout)
    assert first["changed"] is True
    data = json.loads((home / "settings.json").read_text())
    assert data["hooks"]["preToolUse"][0]["bash"].endswith("warden hook copilot --event preToolUse")
    assert data["hooks"]["sessionStart"][1] == {"type": "command", "bash": "echo hi"}
    snapshot = (home / "settings.json").read_bytes()
    again = json.loads(run_warden("install", "copilot", "--user", "--json", env=env, cwd=str(project)).stdout)
    assert again["changed"] is False and (home / "settings.json").read_bytes() == snapshot
    run_warden("uninstall", "copilot", "--user", env=env, cwd=str(project))
    assert (home / "settings.json").read_text() == original


def test_project_install_needs_trust_and_doctor_sees_untrusted_folders(tmp_path: Path, project: Path):
    home = tmp_path / "copilot-home"
    env = {"COPILOT_HOME": str(home), "PATH": "/nonexistent"}
    refused = run_warden("install", "copilot", "--project", env=env, cwd=str(project))
    assert refused.returncode != 0 and b"--trust-project" in refused.stderr
    assert not (project / ".github").exists()
    run_warden("install", "copilot", "--project", "--trust-project", env=env, cwd=str(project))
    assert not [c for c in copilot_install.doctor_checks(env, str(project)) if c.status == "error"]
    # Copilot renamed the key; the doctor reads both, and an untrusted folder is an error
    (home / "config.json").write_text('// managed\n{"trustedFolders": []}\n')
    errors = [c for c in copilot_install.doctor_checks(env, str(project)) if c.status == "error"]
    assert [c.name for c in errors] == ["copilot.folder.trusted"] and "silently skips" in errors[0].detail
    (home / "config.json").write_text(json.dumps({"trusted_folders": [str(project.parent)]}))
    assert not [c for c in copilot_install.doctor_checks(env, str(project)) if c.status == "error"]
