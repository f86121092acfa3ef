"""`warden hook cursor`, driven by fixtures of Cursor's documented hook schema (its CLI is not on
npm), and `warden install cursor`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from agent_helpers import POLICY, hook
from warden_cli import run_warden

from warden.integrations.agents import cursor_install

FIXTURES = sorted((Path(__file__).parent / "fixtures" / "cursor").glob("*.json"))


@pytest.fixture
def project(workspace: Path, warden_home: Path) -> Path:
    (workspace / "warden.yaml").write_text(POLICY)
    return workspace


def load(fixture: Path, project: Path) -> tuple[str, dict]:
    text = fixture.read_text().replace("{workspace}", str(project)).replace("{home}", str(Path.home()))
    data = json.loads(text)
    return data["expect"], data["payload"]


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.stem for f in FIXTURES])
def test_documented_payloads_get_the_documented_answers(fixture: Path, project: Path, warden_home: Path):
    expect, payload = load(fixture, project)
    proc = hook("cursor", payload, project)
    assert proc.returncode == 0, proc.stderr
    if expect in ("allow", "deny", "ask"):
        out = json.loads(proc.stdout)
        assert out["permission"] == expect, out
        assert out["user_message"] == out["userMessage"]  # both spellings Cursor has documented
        if expect != "allow":
            assert out["agent_message"].startswith("Warden")
    elif expect in ("block", "continue"):
        out = json.loads(proc.stdout)
        assert out["continue"] is (expect == "continue")
        assert "ghp_" not in proc.stdout.decode()
    else:
        assert proc.stdout == b""
        events = run_warden("audit", "query", "--json", env={"WARDEN_HOME": str(warden_home)}).stdout.decode()
        assert '"agent": "cursor"' in events.replace('":"', '": "')
        assert "9Zq4vN2Lr8Tx1Kc7Bm5H" not in events  # outputs are recorded redacted


def test_read_file_asks_become_denials_because_cursor_cannot_ask_there(project: Path):
    payload = {"hook_event_name": "beforeReadFile", "file_path": "/srv/shared/report.txt", "content": "x",
               "workspace_roots": [str(project)], "conversation_id": "c"}
    out = json.loads(hook("cursor", payload, project).stdout)
    assert out["permission"] in ("allow", "deny")  # never "ask": beforeReadFile does not support it


BAD_INPUT = [
    ("not json", b"<xml/>", "deny"),
    ("json null", b"null", "deny"),
    ("oversized", b'{"hook_event_name": "beforeShellExecution", "pad": "' + b"x" * (16 * 1024 * 1024) + b'"}', "deny"),
    ("truncated shell", b'{"hook_event_name": "beforeShellExecution", "command": "rm -rf ~', "deny"),
    ("truncated prompt", b'{"hook_event_name": "beforeSubmitPrompt", "prompt": "hi', "stop"),
    ("no event name", b'{"command": "ls"}', "deny"),
    ("unknown event", b'{"hook_event_name": "beforeEverything", "command": "ls"}', "deny"),
    ("shell without command", b'{"hook_event_name": "beforeShellExecution", "cwd": "/"}', "deny"),
    ("mcp input not json", b'{"hook_event_name": "beforeMCPExecution", "server": "s", "tool_name": "t", '
                           b'"tool_input": "{oops"}', "deny"),
    ("newer cursor", b'{"hook_event_name": "beforeShellExecution", "command": "ls", "cursor_version": "9.0.1"}',
     "deny"),
]


@pytest.mark.parametrize(("name", "raw", "form"), BAD_INPUT, ids=[b[0] for b in BAD_INPUT])
def test_bad_input_fails_closed_in_cursor_form(project: Path, name: str, raw: bytes, form: str):
    proc = hook("cursor", None, project, raw=raw)
    assert proc.returncode == 2 and b"Warden blocked this" in proc.stderr
    body = json.loads(proc.stdout)
    if form == "deny":
        assert body["permission"] == "deny" and "Warden blocked this" in body["agent_message"]
    else:
        assert body["continue"] is False


def test_install_is_idempotent_and_uninstall_restores_byte_for_byte(project: Path):
    hooks = project / ".cursor" / "hooks.json"
    hooks.parent.mkdir()
    original = '{"version": 1, "hooks": {"afterFileEdit": [{"command": "./format.sh"}]}}'
    hooks.write_text(original)
    first = json.loads(run_warden("install", "cursor", "--json", cwd=str(project)).stdout)
    assert first["changed"] is True
    data = json.loads(hooks.read_text())
    assert data["hooks"]["afterFileEdit"][1] == {"command": "./format.sh"}
    assert data["hooks"]["beforeShellExecution"][0]["command"].endswith("warden hook cursor")
    assert not [c for c in cursor_install.doctor_checks({"HOME": str(project)}, str(project)) if c.status == "error"]
    snapshot = hooks.read_bytes()
    assert json.loads(run_warden("install", "cursor", "--json", cwd=str(project)).stdout)["changed"] is False
    assert hooks.read_bytes() == snapshot
    run_warden("uninstall", "cursor", cwd=str(project))
    assert hooks.read_text() == original
    errors = {c.name for c in cursor_install.doctor_checks({"HOME": str(project)}, str(project))
              if c.status == "error"}
    assert errors == {"cursor.hooks"}
